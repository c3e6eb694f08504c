"""The agent desk: home page."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from csudesk.agents.models import Role
from csudesk.auth.guards import require_role
from csudesk.extensions import db
from csudesk.tickets.models import OPEN_STATUSES, Ticket

bp = Blueprint("desk", __name__, url_prefix="/guichet")
require_role(bp, Role.AGENT)


@bp.get("/")
def index():
    """The agent's home: their open tickets."""
    my_tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.assigned_agent_id == current_user.id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.updated_at.desc())
        .limit(50)
    ).all()
    return render_template("desk/index.html", my_tickets=my_tickets)
