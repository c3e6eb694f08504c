"""flask --app csudesk demo ..."""

import click
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
            f" {summary.activity.links} liens, {summary.activity.replies} réponses par courriel,"
            f" {summary.activity.audit_entries} entrées d'audit."
        )
        from csudesk.demo.mailboxes import seed_demo_mailboxes

        for name, count in seed_demo_mailboxes().items():
            click.echo(f"{count} courriels de démonstration dans la boîte {name} (mail fetch).")
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
