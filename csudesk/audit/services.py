"""Writing and verifying the hash-chained audit trail (SECURITY.md 18, 19).

Each entry carries the MAC of its own content (`mac`) and, once sealed, its place in the
chain (`seal_seq`) with an HMAC over the previous entry's hash and its content (`hash`). With
AUDIT_SEALING "inline" (the default) `record` seals the entry it writes, under the chain's
lock, so the chain is complete at every commit. With "sealer" it writes the entry unsealed and
takes no lock: requests of several app processes no longer queue on one lock held through
their commit, and the one sealer (csudesk/audit/sealer.py) chains the new entries in
batches, within AUDIT_SEAL_MAX_DELAY; `verify_chain` reports an entry left unsealed longer.
"""

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, text

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.db import utcnow
from csudesk.elections.calendar import paris
from csudesk.extensions import db

log = logging.getLogger("csudesk.audit")
GENESIS = "0" * 64
_CHAIN_LOCK = 7_274_201  # pg_advisory_xact_lock key serialising appends on PostgreSQL
# Built once (every desk request appends): a statement object keeps its cache key.
_TAKE_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=_CHAIN_LOCK)
# The sealed head: the entry with the highest place in the chain.
_ENTRIES = AuditEntry.__table__.c
_CHAIN_HEAD = (
    select(_ENTRIES.seal_seq, _ENTRIES.hash)
    .where(_ENTRIES.seal_seq.is_not(None))
    .order_by(_ENTRIES.seal_seq.desc())
    .limit(1)
)
# The entry goes in as one INSERT of its row (no unit-of-work flush for an object nothing
# else reads in the request); its id comes back with it.
_APPEND = insert(AuditEntry.__table__).returning(_ENTRIES.id)
_COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns if column.key != "id")
INLINE, SEALER = "inline", "sealer"


def _content(entry: AuditEntry) -> list:
    return [
        entry.at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        entry.actor,
        entry.agent_id,
        entry.action,
        entry.voter_id,
        entry.ticket_id,
        entry.target_agent_id,
        entry.ip,
        entry.details,
    ]


def _hmac(key: bytes, values: list) -> str:
    content = json.dumps(values, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def _digest(key: bytes, entry: AuditEntry) -> str:
    """The chain hash: the previous entry's hash and this entry's content."""
    return _hmac(key, [entry.prev_hash, *_content(entry)])


def entry_mac(key: bytes, entry: AuditEntry) -> str:
    """The MAC of the entry's nonce and content, under a key of its own (never a chain hash).

    The nonce makes every MAC unique (a unique index refuses a copied row) even for two
    entries of the same content at the same microsecond.
    """
    entry_key = hmac.new(key, b"csudesk audit entry key", hashlib.sha256).digest()
    return _hmac(entry_key, [entry.nonce, *_content(entry)])


def mac_is_valid(key: bytes, entry) -> bool:
    """Whether the application wrote this entry as it stands (its MAC checks out)."""
    return entry.mac is not None and hmac.compare_digest(entry.mac, entry_mac(key, entry))


@contextmanager
def _streamed(statement) -> Iterator[Iterator[AuditEntry]]:
    """The entries of `statement`, fetched 5,000 at a time; the cursor (server-side on
    PostgreSQL) is closed however the caller leaves the loop."""
    result = db.session.execute(statement.execution_options(yield_per=5000))
    try:
        yield result.scalars()
    finally:
        result.close()


def chain_key() -> bytes:
    """AUDIT_HMAC_KEY, the key of the chain hashes and of the entry MACs."""
    return current_app.config["AUDIT_HMAC_KEY"].encode()


def sealing() -> str:
    """AUDIT_SEALING: "inline" (each request seals its entry) or "sealer" (audit seal)."""
    return current_app.config["AUDIT_SEALING"]  # checked by create_app


def take_chain_lock() -> None:
    """Serialise the chain's sealing: the advisory lock on PostgreSQL, until the commit.

    On SQLite the transaction holds the database's write lock already (BEGIN IMMEDIATE).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_TAKE_CHAIN_LOCK)


def chain_head() -> tuple[int, str]:
    """(place, hash) of the sealed head; (0, GENESIS) for an empty chain. Under the lock."""
    row = db.session.execute(_CHAIN_HEAD).first()
    return (row.seal_seq, row.hash) if row else (0, GENESIS)


def seal(key: bytes, entry: AuditEntry, after: tuple[int, str]) -> tuple[int, str]:
    """Give `entry` the place after `after` (place, hash); the new head."""
    entry.seal_seq = after[0] + 1
    entry.prev_hash = after[1]
    entry.hash = _digest(key, entry)
    return entry.seal_seq, entry.hash


def record(
    actor: Actor,
    action: str,
    *,
    voter_id: int | None = None,
    ticket_id: int | None = None,
    target_agent_id: int | None = None,
    **details: Any,
) -> AuditEntry:
    """Append one entry in the caller's transaction, sealed at once unless a sealer does it.

    The chain is keyed (HMAC-SHA256 with AUDIT_HMAC_KEY, kept outside the database) so a row
    written with raw SQL cannot be given a valid hash, nor a MAC the sealer would accept.
    """
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
    )
    key = chain_key()
    entry.nonce = secrets.token_hex(16)
    entry.mac = entry_mac(key, entry)
    inline = sealing() == INLINE
    if inline:
        head = _own_head()
        if head is None:
            take_chain_lock()
            head = chain_head()
        seal(key, entry, head)
    entry.id = db.session.execute(
        _APPEND, {column: getattr(entry, column) for column in _COLUMNS}
    ).scalar_one()
    if inline:
        _remember_head(entry)
        # A copy of the head outside the database: compare it with `audit verify --head`.
        log.info("audit %s %s", entry.id, entry.hash)
    return entry


# The head this session's open transaction sealed last: a second append in the same
# transaction (a ticket opened from a mail, then the mail joined to it) needs neither the lock,
# held until the commit, nor the head, which nobody else can move meanwhile. It is kept with
# the innermost transaction (savepoint) it was written in and used only while that one is still
# the innermost: a rolled-back savepoint or transaction ends it, and with it what it wrote.
_HEAD = "csudesk.audit.head"


def _innermost_transaction():
    session = db.session()
    return session.get_nested_transaction() or session.get_transaction()


def _own_head() -> tuple[int, str] | None:
    remembered = db.session.info.get(_HEAD)
    if remembered is None or remembered[0] is not _innermost_transaction():
        return None
    return remembered[1]


def _remember_head(entry: AuditEntry) -> None:
    db.session.info[_HEAD] = (_innermost_transaction(), (entry.seal_seq, entry.hash))


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None = None
    reason: str | None = None
    head_id: int | None = None  # the last entry of an intact chain, to note down outside
    head_hash: str | None = None
    waiting: int = 0  # entries written by the application, not sealed yet (within the delay)

    @property
    def ok(self) -> bool:
        return self.broken_id is None

    @property
    def head(self) -> str | None:
        return f"{self.head_id}:{self.head_hash}" if self.head_id is not None else None


class BadHead(ValueError):
    """A head noted earlier that is not "number:fingerprint"."""


def parse_head(raw: str) -> tuple[int, str]:
    number, _, fingerprint = raw.strip().partition(":")
    fingerprint = fingerprint.strip().lower()
    if not (number.isascii() and number.isdigit() and len(number) < 19):
        raise BadHead("Indiquez la tête relevée sous la forme numéro:empreinte.")
    if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
        raise BadHead("L'empreinte relevée compte 64 caractères hexadécimaux.")
    return int(number), fingerprint


def verify_chain(
    progress: Callable[[int], None] | None = None,
    noted_head: tuple[int, str] | None = None,
    anchors: Iterable[Any] = (),
) -> ChainReport:
    """Recompute the chain in its order (seal_seq); report the first entry that does not fit.

    The chain alone cannot show that its newest entries were deleted: a head noted earlier
    (by hand, or from the "csudesk.audit" log every append writes) and the signed heads of
    csudesk.audit.anchors (`anchors`, already checked for their signature) must still be in
    the chain with the same fingerprint.
    """
    # id -> (hash, what to say when that entry is missing, what to say when it differs)
    expected: dict[int, tuple[str, str, str]] = {}
    for anchor in anchors:
        when = paris(anchor.at).strftime("%d/%m/%Y %H:%M")
        expected[anchor.entry_id] = (
            anchor.entry_hash,
            f"l'entrée ancrée le {when} n'est plus dans le journal : ses dernières entrées"
            " ont été supprimées (fin du journal tronquée)",
            f"l'entrée ancrée le {when} a été remplacée (empreinte différente de l'ancre)",
        )
    if noted_head is not None:
        expected[noted_head[0]] = (
            noted_head[1],
            "l'entrée relevée n'est plus dans le journal : des entrées ont été supprimées",
            "l'entrée relevée a été remplacée (empreinte différente)",
        )
    key = chain_key()
    # Before the walk: in SQLite's one snapshot, what waits now may be sealed by the end.
    oldest_allowed = utcnow() - timedelta(seconds=current_app.config["AUDIT_SEAL_MAX_DELAY"])
    prev = GENESIS
    checked = 0
    head_id = None
    with _streamed(
        select(AuditEntry).where(AuditEntry.seal_seq.is_not(None)).order_by(AuditEntry.seal_seq)
    ) as entries:
        for entry in entries:
            if entry.prev_hash != prev:
                return ChainReport(
                    checked, entry.id, "l'entrée précédente a été supprimée, insérée ou modifiée"
                )
            if not hmac.compare_digest(entry.hash, _digest(key, entry)):
                return ChainReport(checked, entry.id, "le contenu de l'entrée a été modifié")
            wanted = expected.pop(entry.id, None)
            if wanted is not None and not hmac.compare_digest(entry.hash, wanted[0]):
                return ChainReport(checked, entry.id, wanted[2])
            prev = entry.hash
            head_id = entry.id
            checked += 1
            if progress and checked % 10000 == 0:
                progress(checked)
    if expected:
        missing = min(expected)
        return ChainReport(checked, missing, expected[missing][1], head_id=head_id)
    report = ChainReport(checked, head_id=head_id, head_hash=prev if head_id else None)
    return _check_waiting(key, report, oldest_allowed)


def _check_waiting(key: bytes, report: ChainReport, oldest_allowed: datetime) -> ChainReport:
    """The entries not sealed yet: each written by the application, none waiting too long."""
    with _streamed(
        select(AuditEntry).where(AuditEntry.seal_seq.is_(None)).order_by(AuditEntry.id)
    ) as entries:
        for entry in entries:
            if not mac_is_valid(key, entry):
                report.broken_id = entry.id
                report.reason = (
                    "entrée ajoutée hors de l'application ou modifiée avant d'être scellée"
                    " (empreinte de l'entrée invalide)"
                )
                return report
            if entry.at < oldest_allowed:
                report.broken_id = entry.id
                report.reason = (
                    "entrée non scellée depuis plus de"
                    f" {current_app.config['AUDIT_SEAL_MAX_DELAY']} s : le scelleur"
                    " (flask --app csudesk audit seal --watch) est-il arrêté ?"
                )
                return report
            report.waiting += 1
    return report


def details_of(entry: AuditEntry) -> dict[str, Any]:
    return json.loads(entry.details or "{}")
