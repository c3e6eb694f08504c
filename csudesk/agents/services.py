"""Desk accounts: creation, sign-in checks, scope, and administrative changes."""

from flask import current_app
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.agents.models import Agent, Role
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.elections.calendar import election
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.mail.services import enqueue_agent_mail
from csudesk.passwords import check_password_policy, hash_secret, verify_secret
from csudesk.text import is_valid_email, normalize_email


class AgentError(ServiceError):
    """A refused administrative change; the message is French."""


class LinkSpent(AgentError):
    """The agent-password link was used, revoked or expired before this request could use it."""


def find_agent_by_email(raw: str) -> Agent | None:
    return db.session.scalar(select(Agent).where(Agent.email == normalize_email(raw)))


def create_agent(
    actor: Actor,
    *,
    email: str,
    name: str,
    role: str,
    csu: CSU,
    password: str | None = None,
) -> Agent:
    """Create a desk account; without a password the agent sets one through a link."""
    address = normalize_email(email)
    if not is_valid_email(address):
        raise AgentError(f"Adresse électronique invalide : « {email} ».")
    if find_agent_by_email(address) is not None:
        raise AgentError(f"Un compte existe déjà pour {address}.")
    if role not in set(Role):
        raise AgentError(f"Rôle inconnu : {role}.")
    name = name.strip()
    if not name or len(name) > 120:
        raise AgentError("Le nom est obligatoire (120 caractères au plus).")
    agent = Agent(email=address, name=name, role=role, csu_id=csu.id, csu=csu, active=True)
    if password is not None:
        check_password_policy(password)
        agent.password_hash = hash_secret(password)
        agent.password_changed_at = utcnow()
    db.session.add(agent)
    db.session.flush()
    audit.record(
        actor, "agent.create", target_agent_id=agent.id, role=role, csu=csu.code, email=address
    )
    return agent


def authenticate(email: str, password: str) -> Agent | None:
    """The active agent with this e-mail and password, or None (same cost either way)."""
    agent = find_agent_by_email(email)
    ok = verify_secret(agent.password_hash if agent else None, password)
    if agent is None or not ok or not agent.active:
        return None
    return agent


def record_sign_in(agent: Agent, ip: str | None) -> None:
    """The agent signed in: the time it last did, and the audit entry."""
    agent.last_login_at = utcnow()
    audit.record(Actor.for_agent(agent, ip), "auth.login")


def record_sign_out(agent: Agent, ip: str | None) -> None:
    """The agent signed out: every session of the account stops working; audited."""
    agent.session_version += 1
    db.session.flush()
    audit.record(Actor.for_agent(agent, ip), "auth.logout")


def set_password(actor: Actor, agent: Agent, password: str) -> None:
    check_password_policy(password)
    agent.password_hash = hash_secret(password)
    agent.password_changed_at = utcnow()
    agent.session_version += 1
    db.session.flush()
    audit.record(actor, "agent.password_set", target_agent_id=agent.id)


def set_active(actor: Actor, agent: Agent, active: bool) -> None:
    if actor.agent_id == agent.id and not active:
        raise AgentError("Vous ne pouvez pas désactiver votre propre compte.")
    if agent.active == active:
        return
    agent.active = active
    agent.session_version += 1
    if not active:
        links.revoke_live_links(purpose=LinkPurpose.AGENT_PASSWORD, agent_id=agent.id)
    db.session.flush()
    audit.record(actor, "agent.enable" if active else "agent.disable", target_agent_id=agent.id)


def change_role_and_scope(actor: Actor, agent: Agent, role: str, csu: CSU) -> None:
    if role not in set(Role):
        raise AgentError(f"Rôle inconnu : {role}.")
    if actor.agent_id == agent.id and role != agent.role:
        raise AgentError("Vous ne pouvez pas changer votre propre rôle.")
    if (agent.role, agent.csu_id) == (role, csu.id):
        return
    before = {"role": agent.role, "csu": agent.csu.code}
    agent.role = role
    agent.csu_id = csu.id
    agent.csu = csu
    agent.session_version += 1
    db.session.flush()
    audit.record(
        actor,
        "agent.change",
        target_agent_id=agent.id,
        before=before,
        after={"role": role, "csu": csu.code},
    )


def reset_password(actor: Actor, agent: Agent) -> OneTimeLink:
    """End the agent's password and sessions now, and mail a one-time link to choose a new one.

    Also how a new account gets its first password. An earlier unused link stops working.
    """
    if not agent.active:
        raise AgentError("Le compte est désactivé : réactivez-le avant d'envoyer un lien.")
    agent.password_hash = None
    agent.session_version += 1
    links.revoke_live_links(purpose=LinkPurpose.AGENT_PASSWORD, agent_id=agent.id)
    link = links.new_link(
        purpose=LinkPurpose.AGENT_PASSWORD,
        agent_id=agent.id,
        address=agent.email,
        requested_by_agent_id=actor.agent_id,
        channel="admin",
    )
    enqueue_agent_mail(
        agent.id,
        agent.email,
        "agent_password",
        {
            "name": agent.name,
            "election": election().name,
            "ttl_hours": current_app.config["LINK_TTL_HOURS"][LinkPurpose.AGENT_PASSWORD],
            "login_url": current_app.config["BASE_URL"].rstrip("/") + "/connexion",
        },
        link_id=link.id,
    )
    audit.record(actor, "agent.password_reset", target_agent_id=agent.id, link_id=link.id)
    return link


def agent_of_link(link: OneTimeLink | None) -> Agent | None:
    """The active account an agent-password link belongs to, or None."""
    if link is None or link.agent_id is None:
        return None
    agent = db.session.get(Agent, link.agent_id)
    return agent if agent is not None and agent.active else None


def set_password_with_link(link: OneTimeLink, password: str, ip: str | None) -> Agent:
    """Use a claimed agent-password link (atomically, once) to set the account's new password.

    `link` is what links.claimed_link returned for the session's claim; the one UPDATE of
    links.consume_claimed decides which of N concurrent uses wins (SECURITY.md 5).
    """
    check_password_policy(password)
    if link.purpose != LinkPurpose.AGENT_PASSWORD:
        raise AgentError("Ce lien n'est pas valable.")
    used = links.consume_claimed(link)
    if used is None:
        raise LinkSpent("Ce lien n'est plus valable : demandez-en un nouveau à un administrateur.")
    agent = agent_of_link(used)
    if agent is None:
        raise AgentError("Ce lien n'est plus valable : demandez-en un nouveau à un administrateur.")
    set_password(Actor.for_agent(agent, ip), agent, password)
    return agent


def scope_csu_ids(agent: Agent) -> set[int] | None:
    """CSU ids the agent may see; None means all (national CSU)."""
    return None if agent.is_national else {agent.csu_id}


def scope_csus(agent: Agent) -> list[CSU]:
    """The CSUs the agent may see or assign, by kind and name (all for the national CSU)."""
    csu_ids = scope_csu_ids(agent)
    query = select(CSU).order_by(CSU.kind, CSU.name)
    if csu_ids is not None:
        query = query.where(CSU.id.in_(csu_ids))
    return list(db.session.scalars(query))


def in_scope(agent: Agent, csu_id: int | None) -> bool:
    scope = scope_csu_ids(agent)
    return scope is None or csu_id in scope
