"""The audit trail: append-only, each entry chained to the previous one by an HMAC.

An entry is sealed when it takes its place in the chain: its position (`seal_seq`), the
previous entry's hash and its own. By default the request that writes it seals it at once
(AUDIT_SEALING "inline"); with several app processes on PostgreSQL the request only inserts it,
with the MAC of its own content, and the one sealer (`flask audit seal --watch`) chains the new
entries within seconds (csudesk/audit/sealer.py). Sealing is the one change the database lets
through: a NULL seal filled in, every other column unchanged.
"""

from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    event,
    text,
)
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
        # A ticket's entries (its supervision page), an agent account's (its admin page); also
        # what a foreign key's check reads. Most entries name neither: only those that do.
        Index(
            "ix_audit_entry_ticket",
            "ticket_id",
            "id",
            postgresql_where=text("ticket_id IS NOT NULL"),
            sqlite_where=text("ticket_id IS NOT NULL"),
        ),
        Index(
            "ix_audit_entry_target_agent",
            "target_agent_id",
            "id",
            postgresql_where=text("target_agent_id IS NOT NULL"),
            sqlite_where=text("target_agent_id IS NOT NULL"),
        ),
        Index("uq_audit_entry_seal_seq", "seal_seq", unique=True),
        # A copy of an entry carries the same MAC: refused here, never sealed.
        Index("uq_audit_entry_mac", "mac", unique=True),
        # Sealed (all three set) or waiting (none): the sealer never meets a half-sealed row.
        CheckConstraint(
            "(seal_seq IS NULL AND prev_hash IS NULL AND hash IS NULL)"
            " OR (seal_seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)",
            name="sealed_or_waiting",
        ),
        # What the sealer reads, in id order: only the entries still waiting.
        Index(
            "ix_audit_entry_unsealed",
            "id",
            postgresql_where=text("seal_seq IS NULL"),
            sqlite_where=text("seal_seq IS NULL"),
        ),
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
    # HMAC of a random nonce and the content, written with the entry: the sealer chains only
    # entries the application wrote, each once (NULL on the entries sealed before it existed).
    nonce: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))
    # The entry's place in the chain and the chain's hashes; NULL until it is sealed.
    seal_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def sealed(self) -> bool:
        return self.seal_seq is not None

    agent = relationship("Agent", foreign_keys=[agent_id])
    target_agent = relationship("Agent", foreign_keys=[target_agent_id])
    voter = relationship("Voter")


# The database itself refuses to change or remove an entry (SECURITY.md 18): the same DDL is
# applied by the migration a7c2d4e6f8b1 (production) and here by create_all (tests, demo).
# Only the table's owner can lift it (ALTER TABLE ... DISABLE TRIGGER USER on PostgreSQL):
# the application's role must not own the table. On SQLite anyone who can write the file can
# drop the triggers: there they stop mistakes and the application, the chain and its anchors
# catch the rest.
# The columns a seal leaves as they were, and the condition that lets a seal through.
CONTENT_COLUMNS = (
    "id", "at", "actor", "agent_id", "action", "voter_id", "ticket_id", "target_agent_id",
    "ip", "details", "nonce", "mac",
)  # fmt: skip
SEALING = (
    "OLD.seal_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seal_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
)
APPEND_ONLY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {SEALING}
       AND ({", ".join(f"NEW.{c}" for c in CONTENT_COLUMNS)})
           IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in CONTENT_COLUMNS)}) THEN
        RETURN NEW;
    END IF;
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
APPEND_ONLY_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry"
    f" WHEN NOT ({SEALING} AND {' AND '.join(f'NEW.{c} IS OLD.{c}' for c in CONTENT_COLUMNS)})"
    " BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry"
    " BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END",
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
