"""flask --app csudesk agents ...: desk accounts for the first administrator and for scripts."""

import click
from flask.cli import AppGroup

from csudesk.actor import Actor
from csudesk.agents import queries as agent_queries
from csudesk.agents import services as agents
from csudesk.agents.models import Agent, Role
from csudesk.directory.models import CSU
from csudesk.directory.services import csu_by_code
from csudesk.exceptions import ServiceError
from csudesk.extensions import db

agents_cli = AppGroup("agents", help="Desk accounts (agents, supervisors, administrators).")
ROLES = click.Choice([r.value for r in Role])


def _csu(code: str) -> CSU:
    csu = csu_by_code(code.strip().upper())
    if csu is None:
        raise click.ClickException(
            f"Cellule inconnue : {code} (voir « flask --app csudesk directory list »)."
        )
    return csu


def _agent(email: str) -> Agent:
    agent = agents.find_agent_by_email(email)
    if agent is None:
        raise click.ClickException(f"Aucun compte pour {email}.")
    return agent


def _commit(action):
    """Run a service call as the system actor; a refusal is a clean error, exit status 1."""
    try:
        result = action(Actor.system())
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    return result


@agents_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Nom et prénom.")
@click.option("--role", type=ROLES, default="agent", show_default=True)
@click.option("--csu", "csu_code", required=True, help="Code de la cellule, ex. AC-09, NATIONAL.")
@click.option(
    "--send-link",
    is_flag=True,
    help="Envoyer un lien pour choisir le mot de passe au lieu de le saisir ici.",
)
def create(email: str, name: str, role: str, csu_code: str, send_link: bool):
    """Create an account (the first administrator too): password typed here, or a mailed link."""
    csu = _csu(csu_code)
    password = None
    if not send_link:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)

    def action(actor):
        agent = agents.create_agent(
            actor, email=email, name=name, role=role, csu=csu, password=password
        )
        if send_link:
            agents.reset_password(actor, agent)
        return agent

    agent = _commit(action)
    click.echo(f"Compte créé : {agent.email} ({agent.role_label}, {csu.code}).")
    if send_link:
        click.echo("Lien mis dans la file d'envoi (flask --app csudesk mail send).")


@agents_cli.command("list")
@click.option("--csu", "csu_code", help="Seulement cette cellule.")
def list_agents(csu_code: str | None):
    """List the accounts: e-mail, role, CSU, state."""
    csu_ids = [_csu(csu_code).id] if csu_code else None
    for agent in agent_queries.list_agents(csu_ids, by_code=True):
        state = "actif" if agent.active else "désactivé"
        click.echo(f"{agent.email:42} {agent.role:10} {agent.csu.code:16} {state}")


@agents_cli.command("disable")
@click.argument("email")
def disable(email: str):
    """Disable an account: refused from its next request on."""
    agent = _agent(email)
    _commit(lambda actor: agents.set_active(actor, agent, False))
    click.echo(f"Compte désactivé : {agent.email}.")


@agents_cli.command("enable")
@click.argument("email")
def enable(email: str):
    """Re-enable a disabled account."""
    agent = _agent(email)
    _commit(lambda actor: agents.set_active(actor, agent, True))
    click.echo(f"Compte réactivé : {agent.email}.")


@agents_cli.command("set-role")
@click.argument("email")
@click.option("--role", type=ROLES, required=True)
@click.option("--csu", "csu_code", help="Nouvelle cellule (sinon inchangée).")
def set_role(email: str, role: str, csu_code: str | None):
    """Change an account's role and CSU scope; its sessions end."""
    agent = _agent(email)
    csu = _csu(csu_code) if csu_code else agent.csu
    _commit(lambda actor: agents.change_role_and_scope(actor, agent, role, csu))
    click.echo(f"{agent.email} : {agent.role_label}, {agent.csu.code}.")


@agents_cli.command("reset-password")
@click.argument("email")
def reset_password(email: str):
    """End the account's password and sessions; mail a one-time link to choose a new one."""
    agent = _agent(email)
    _commit(lambda actor: agents.reset_password(actor, agent))
    click.echo(
        f"Mot de passe de {agent.email} réinitialisé ; lien mis dans la file d'envoi"
        " (flask --app csudesk mail send)."
    )
