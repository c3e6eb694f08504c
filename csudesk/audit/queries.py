"""Reading the audit trail for the pages that show parts of it."""

from sqlalchemy import or_, select

from csudesk.audit.models import AuditEntry
from csudesk.extensions import db


def entries_about_agent(agent_id: int, limit: int = 20) -> list[AuditEntry]:
    """The latest entries the agent made or that changed the agent's account, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.agent_id == agent_id, AuditEntry.target_agent_id == agent_id))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )
