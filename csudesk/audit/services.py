"""Writing and verifying the hash-chained audit trail (SECURITY.md 18, 19)."""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, text

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.db import utcnow
from csudesk.extensions import db

GENESIS = "0" * 64
_CHAIN_LOCK = 7_274_201  # pg_advisory_xact_lock key serialising appends on PostgreSQL


def _digest(key: bytes, entry: AuditEntry) -> str:
    content = json.dumps(
        [
            entry.prev_hash,
            entry.at.replace(tzinfo=None).isoformat(timespec="microseconds"),
            entry.actor,
            entry.agent_id,
            entry.action,
            entry.voter_id,
            entry.ticket_id,
            entry.target_agent_id,
            entry.ip,
            entry.details,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def _key() -> bytes:
    return current_app.config["AUDIT_HMAC_KEY"].encode()


def record(
    actor: Actor,
    action: str,
    *,
    voter_id: int | None = None,
    ticket_id: int | None = None,
    target_agent_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Append one entry, chained to the last one, in the caller's transaction.

    The chain is keyed (HMAC-SHA256 with AUDIT_HMAC_KEY, kept outside the database) so a row
    written with raw SQL cannot be given a valid hash.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    prev = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        actor=actor.kind,
        agent_id=actor.agent_id,
        action=action,
        voter_id=voter_id,
        ticket_id=ticket_id,
        target_agent_id=target_agent_id,
        ip=actor.ip,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=prev or GENESIS,
    )
    entry.hash = _digest(_key(), entry)
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(progress: Callable[[int], None] | None = None) -> ChainReport:
    """Recompute the chain in id order; report the first entry that does not fit."""
    key = _key()
    prev = GENESIS
    checked = 0
    result = db.session.execute(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=5000)
    )
    try:
        for entry in result.scalars():
            if entry.prev_hash != prev:
                return ChainReport(
                    checked, entry.id, "l'entrée précédente a été supprimée, insérée ou modifiée"
                )
            if not hmac.compare_digest(entry.hash, _digest(key, entry)):
                return ChainReport(checked, entry.id, "le contenu de l'entrée a été modifié")
            prev = entry.hash
            checked += 1
            if progress and checked % 10000 == 0:
                progress(checked)
    finally:
        result.close()
    return ChainReport(checked)


def details_of(entry: AuditEntry) -> dict[str, Any]:
    return json.loads(entry.details or "{}")
