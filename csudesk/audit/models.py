"""The audit trail: append-only, each entry chained to the previous one by an HMAC."""

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, Text, event
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


# The database itself refuses to change or remove an entry (SECURITY.md 18): the same DDL is
# applied by the migration a7c2d4e6f8b1 (production) and here by create_all (tests, demo).
# Only the table's owner can lift it (ALTER TABLE ... DISABLE TRIGGER USER on PostgreSQL):
# the application's role must not own the table. On SQLite anyone who can write the file can
# drop the triggers: there they stop mistakes and the application, the chain and its anchors
# catch the rest.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_entry is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$
"""
APPEND_ONLY_PG_TRIGGERS = (
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry"
    " FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
)
APPEND_ONLY_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER audit_entry_no_{op.lower()} BEFORE {op} ON audit_entry"
    f" BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: {op} refused'); END"
    for op in ("UPDATE", "DELETE")
)

for _statement in (APPEND_ONLY_FUNCTION, *APPEND_ONLY_PG_TRIGGERS):
    event.listen(
        AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
for _statement in APPEND_ONLY_SQLITE_TRIGGERS:
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(
    AuditEntry.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS audit_entry_append_only()").execute_if(dialect="postgresql"),
)
