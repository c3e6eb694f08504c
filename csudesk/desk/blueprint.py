"""The agent desk blueprint: every view needs a signed-in agent (or higher role)."""

from flask import Blueprint, abort

from csudesk.agents.models import Role
from csudesk.auth.guards import require_role, scope
from csudesk.desk.voter_file import load_voter

bp = Blueprint("desk", __name__, url_prefix="/guichet")
require_role(bp, Role.AGENT)


def voter_in_scope_or_404(voter_id: int):
    """The voter if the agent's scope covers it; 404 otherwise (never another CSU's data)."""
    voter = load_voter(voter_id, scope())
    if voter is None:
        abort(404)
    return voter
