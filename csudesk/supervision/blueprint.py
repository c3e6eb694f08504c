"""The supervision blueprint: supervisors (and admins) only, each within its CSU scope."""

from flask import Blueprint, abort
from flask_login import current_user

from csudesk.agents.models import Agent, Role
from csudesk.agents.queries import agents_by_name
from csudesk.agents.services import scope_csus
from csudesk.auth.guards import require_role, scope, scope_covers
from csudesk.directory.services import csu_by_code
from csudesk.extensions import db
from csudesk.forms import choices
from csudesk.querystring import bounded_int

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
require_role(bp, Role.SUPERVISOR)


def chosen_csu_ids(code: str | None) -> frozenset[int] | None:
    """The CSU ids a page covers: the one picked, else the whole scope. 404 out of scope."""
    if not code:
        csu_ids = scope()
        return None if csu_ids is None else frozenset(csu_ids)
    csu = csu_by_code(code)
    if csu is None or not scope_covers(csu.id):
        abort(404)
    return frozenset({csu.id})


def chosen_agent(raw: str | None) -> Agent | None:
    """The agent picked in a filter; 404 for an unknown id or one outside the scope."""
    if not raw:
        return None
    agent_id = bounded_int(raw)
    agent = db.session.get(Agent, agent_id) if agent_id else None
    if agent is None or not scope_covers(agent.csu_id):
        abort(404)
    return agent


def set_scope_choices(form) -> None:
    """Fill the CSU and agent selects of a filter form (the CSU one only for the national)."""
    if hasattr(form, "csu"):
        form.csu.choices = choices(
            [("", "Toutes les cellules")]
            + [(c.code, f"{c.name} [{c.code}]") for c in scope_csus(current_user)]
        )
    if hasattr(form, "agent"):
        form.agent.choices = choices(
            [("", "Tous")]
            + [(str(a.id), f"{a.name} — {a.csu.code}") for a in agents_by_name(scope())]
        )
