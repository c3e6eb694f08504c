"""The one sealer: chains the entries that requests wrote unsealed (AUDIT_SEALING "sealer").

    flask --app csudesk audit seal [--watch] [--every 1]

With several app processes on PostgreSQL, appending under the chain's lock serialises every
desk request through its commit (bench/audit_chain.py measures the ceiling). There the
requests only insert their entry, with the MAC of its content, and this worker gives the
committed entries their places in the chain, a batch per transaction, under the same lock
(so a second sealer started by mistake, or an inline append, waits its turn). An entry whose
MAC is wrong (a row inserted with raw SQL, or changed before its seal) is never sealed: it is
logged here and `audit verify` names it. As a Certificate Transparency log merges within its
maximum merge delay, `audit verify` reports an entry left unsealed beyond AUDIT_SEAL_MAX_DELAY.
"""

import logging
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

from sqlalchemy import bindparam, select, update

from csudesk.audit.models import AuditEntry
from csudesk.audit.services import chain_head, chain_key, mac_is_valid, seal, take_chain_lock
from csudesk.extensions import db

log = logging.getLogger("csudesk.audit")
BATCH = 1000
_TABLE = AuditEntry.__table__
_SEAL = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("entry_id"), _TABLE.c.seal_seq.is_(None))
    .values(seal_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest"))
)


@dataclass
class SealReport:
    sealed: int = 0
    refused: list[int] = field(default_factory=list)  # ids whose MAC is wrong, left unsealed


def seal_waiting(batch: int = BATCH, skip: frozenset[int] = frozenset()) -> SealReport:
    """Seal up to `batch` committed, unsealed entries in id order, in one transaction.

    `skip`: ids already refused, so that forged rows cannot keep the batch full.
    """
    take_chain_lock()
    # Locked as read (FOR UPDATE on PostgreSQL; SQLite's write lock is already held): nobody
    # changes them before they are sealed. The refused ones are read again and left out here,
    # which a NOT IN of thousands of ids could not do on SQLite.
    rows = [
        row
        for row in db.session.execute(
            select(_TABLE)
            .where(_TABLE.c.seal_seq.is_(None))
            .order_by(_TABLE.c.id)
            .limit(batch + len(skip))
            .with_for_update()
        )
        if row.id not in skip
    ][:batch]
    key = chain_key()
    head = chain_head()
    report = SealReport()
    seals = []
    for row in rows:
        entry = SimpleNamespace(**row._mapping)
        if not mac_is_valid(key, entry):
            log.error(
                "audit entry %s not sealed: its MAC is wrong (not written by csudesk)", row.id
            )
            report.refused.append(row.id)
            continue
        head = seal(key, entry, head)
        seals.append(
            {"entry_id": row.id, "seq": head[0], "prev": entry.prev_hash, "digest": head[1]}
        )
    if seals:
        db.session.execute(_SEAL, seals)
    db.session.commit()
    if seals:
        report.sealed = len(seals)
        # A copy of the head outside the database: compare it with `audit verify --head`.
        log.info("audit %s %s", seals[-1]["entry_id"], seals[-1]["digest"])
    return report


def seal_all(skip: set[int] | None = None) -> SealReport:
    """Seal every entry waiting now, batch after batch."""
    total = SealReport()
    skip = skip if skip is not None else set()
    while True:
        report = seal_waiting(skip=frozenset(skip))
        skip.update(report.refused)
        total.sealed += report.sealed
        total.refused += report.refused
        if report.sealed + len(report.refused) < BATCH:
            return total


def watch(every: float, stop: threading.Event) -> None:
    """Seal every `every` seconds until `stop` is set; a failed round is logged, not fatal."""
    refused: set[int] = set()
    while not stop.is_set():
        try:
            seal_all(refused)
        except Exception:
            db.session.rollback()
            log.exception("audit seal failed; trying again in %s s", every)
        finally:
            db.session.remove()
        stop.wait(every)
