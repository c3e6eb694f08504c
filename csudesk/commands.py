"""CLI groups: flask --app csudesk <group> <command>."""

import click
from flask import Flask
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data for make run.")


@demo_cli.command("seed")
@click.option("--voters", type=click.IntRange(1, 2_000_000), default=20_000, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when the roll already has voters.")
def seed(voters: int, if_empty: bool):
    """Load the directory, a generated roll and demo accounts."""
    from csudesk import demo

    if if_empty and not demo.database_is_empty():
        click.echo(
            "La base contient déjà une liste électorale : données de démonstration conservées."
        )
    else:
        summary = demo.seed_demo(voters)
        click.echo(f"{summary.voters} électeurs générés, {summary.activated} comptes activés.")
        click.echo(
            f"Activité de démonstration sur 7 jours : {summary.activity.tickets} tickets,"
            f" {summary.activity.links} liens, {summary.activity.audit_entries} entrées d'audit."
        )
    _print_sign_in()


def _print_sign_in() -> None:
    from csudesk import demo

    click.echo("\nComptes de démonstration (mot de passe : " + demo.DEMO_PASSWORD + ") :")
    for email, _name, role, csu in demo.DEMO_ACCOUNTS:
        click.echo(f"  {email:42} {role:11} {csu}")
    examples = demo.example_addresses()
    click.echo("\nÉlecteurs de l'académie de Lille pour essayer :")
    click.echo(f"  compte non activé : {examples['not_activated']}")
    click.echo(
        f"  compte activé     : {examples['activated']}"
        f" (réponse au défi : {demo.DEMO_CHALLENGE_ANSWER})"
    )


def register_commands(app: Flask) -> None:
    from csudesk.agents.cli import agents_cli
    from csudesk.audit.cli import audit_cli
    from csudesk.directory.cli import directory_cli
    from csudesk.mail.cli import mail_cli
    from csudesk.roll.cli import roll_cli

    for group in (directory_cli, roll_cli, mail_cli, audit_cli, agents_cli, demo_cli):
        app.cli.add_command(group)
