"""The audit trail: append-only, each entry chained to the previous one by an HMAC."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class AuditEntry(db.Model):
    """Who did what, to which voter or ticket, when and from where."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_voter", "voter_id", "id"),
        Index("ix_audit_entry_agent", "agent_id", "id"),
        Index("ix_audit_entry_action_at", "action", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(20))  # agent, voter, public, system
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    action: Mapped[str] = mapped_column(String(50))
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    target_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    agent = relationship("Agent", foreign_keys=[agent_id])
    target_agent = relationship("Agent", foreign_keys=[target_agent_id])
    voter = relationship("Voter")
