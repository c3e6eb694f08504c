"""Blueprint-level access checks: one guard per audience, checked on every request."""

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import bindparam, select

from csudesk.actor import Actor
from csudesk.agents.models import Agent
from csudesk.agents.services import in_scope, scope_csu_ids
from csudesk.extensions import db, login_manager
from csudesk.net import client_ip


def require_role(bp: Blueprint, role: str) -> None:
    """Every view of `bp` needs a signed-in, active account of at least `role`."""

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.has_role(role):
            abort(403)
        return None


def scope() -> set[int] | None:
    """CSU ids the signed-in account may see; None for the national CSU (every CSU)."""
    return scope_csu_ids(current_user)


def scope_covers(csu_id: int | None) -> bool:
    """Whether the signed-in account's scope covers this CSU."""
    return in_scope(current_user, csu_id)


def current_actor() -> Actor:
    """The signed-in agent as the actor of a service call, with the client address."""
    return Actor.for_agent(current_user._get_current_object(), client_ip())


# Built once: every signed-in request runs it, and a statement object keeps its cache key.
_AGENT_BY_ID = select(Agent).where(Agent.id == bindparam("agent_id"))


def load_agent(user_id: str):
    """Session id is "agent_id:session_version"; a bumped version or a disabled account fails."""
    try:
        agent_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    agent = db.session.scalar(_AGENT_BY_ID, {"agent_id": agent_id})
    if agent is None or agent.session_version != version or not agent.active:
        return None
    return agent
