"""Signed heads of the audit chain kept outside the database, so a truncated tail shows.

The chain alone cannot show that its newest entries were deleted. `flask --app csudesk audit
anchor --watch` notes the head (entry id, entry hash, time) every minute, signed with an HMAC
of the audit key, as one line appended to AUDIT_ANCHOR_PATH (and sent to syslog when
AUDIT_ANCHOR_SYSLOG is set). `audit verify` reads that file by default: every anchored entry
must still be in the chain with the same hash, and every line must carry a valid signature.
"""

import hashlib
import hmac
import logging
import logging.handlers
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from csudesk.audit.models import AuditEntry
from csudesk.db import read_only, utcnow
from csudesk.extensions import db

log = logging.getLogger("csudesk.audit.anchors")
MARKER = "csudesk-audit-anchor/1"
_TAIL_BYTES = 4096  # the last anchor is in the last lines: a line is about 190 bytes


@dataclass(frozen=True)
class Anchor:
    entry_id: int
    entry_hash: str
    at: datetime  # aware UTC: when the head was noted


@dataclass
class AnchorFile:
    """The anchors of a file with a valid signature, and the numbers of the lines without one."""

    path: Path
    exists: bool = False
    anchors: list[Anchor] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)

    @property
    def latest(self) -> Anchor | None:
        return max(self.anchors, key=lambda a: a.entry_id, default=None)


def _key() -> bytes:
    # A key of its own, derived from the audit key: an anchor's MAC is never a chain hash.
    audit_key = current_app.config["AUDIT_HMAC_KEY"].encode()
    return hmac.new(audit_key, b"csudesk audit anchor key", hashlib.sha256).digest()


def _signed_part(anchor: Anchor) -> str:
    moment = anchor.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{MARKER} {moment} {anchor.entry_id} {anchor.entry_hash}"


def sign(anchor: Anchor) -> str:
    """One anchor line: marker, UTC time, entry id, entry hash, HMAC of all four."""
    signed = _signed_part(anchor)
    return f"{signed} {hmac.new(_key(), signed.encode(), hashlib.sha256).hexdigest()}"


def parse(line: str) -> Anchor | None:
    """The anchor of a line, or None if it is malformed or its signature is wrong.

    Text before the marker is allowed: a syslog copy of the line starts with its own header.
    """
    start = line.find(MARKER)
    if start < 0:
        return None
    parts = line[start:].split()
    if len(parts) != 5:
        return None
    _, moment, entry_id, entry_hash, mac = parts
    try:
        at = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        anchor = Anchor(int(entry_id), entry_hash, at)
    except ValueError:
        return None
    if _signed_part(anchor) != " ".join(parts[:4]):
        return None  # not in canonical form (e.g. leading zeros): not a line this code wrote
    expected = hmac.new(_key(), " ".join(parts[:4]).encode(), hashlib.sha256).hexdigest()
    return anchor if hmac.compare_digest(mac, expected) else None


def anchor_path() -> Path:
    """AUDIT_ANCHOR_PATH, by default audit-anchors.log in the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_PATH")
    return Path(configured or os.path.join(current_app.instance_path, "audit-anchors.log"))


def read_anchors(path: Path | None = None) -> AnchorFile:
    path = path or anchor_path()
    result = AnchorFile(path)
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return result
    result.exists = True
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            anchor = parse(line)
            if anchor is None:
                result.bad_lines.append(number)
            else:
                result.anchors.append(anchor)
    return result


def last_anchor(path: Path) -> Anchor | None:
    """The last valid anchor at the end of the file, reading only its tail."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - _TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    for line in reversed(tail.splitlines()):
        anchor = parse(line)
        if anchor is not None:
            return anchor
    return None


def current_head() -> Anchor | None:
    """The newest sealed entry of the chain, read without SQLite's write lock."""
    with read_only() as session:
        row = session.execute(
            select(AuditEntry.id, AuditEntry.hash)
            .where(AuditEntry.seal_seq.is_not(None))
            .order_by(AuditEntry.seal_seq.desc())
            .limit(1)
        ).first()
    return Anchor(row.id, row.hash, utcnow()) if row else None


def _syslog_handler(address: str) -> logging.Handler:
    """AUDIT_ANCHOR_SYSLOG: a local socket ("/dev/log") or "host:port" (UDP)."""
    if address.startswith("/"):
        target: str | tuple[str, int] = address
    else:
        host, _, port = address.rpartition(":")
        target = (host, int(port))
    handler = logging.handlers.SysLogHandler(
        target, facility=logging.handlers.SysLogHandler.LOG_AUTH
    )
    handler.ident = "csudesk: "
    return handler


class AnchorWriter:
    """Appends a signed head when the chain has grown since the last one written."""

    def __init__(self, path: Path | None = None, syslog: str | None = None):
        self.path = path or anchor_path()
        syslog = syslog if syslog is not None else current_app.config.get("AUDIT_ANCHOR_SYSLOG")
        self._syslog = _syslog_handler(syslog) if syslog else None
        self._last = last_anchor(self.path)

    def write(self) -> Anchor | None:
        """Anchor the current head; None when there is no entry or the head is unchanged."""
        head = current_head()
        if head is None or (
            self._last is not None
            and (self._last.entry_id, self._last.entry_hash) == (head.entry_id, head.entry_hash)
        ):
            return None
        line = sign(head)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: each line goes at the end, whatever another writer did meanwhile.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if self._syslog:
            self._syslog.handle(
                logging.LogRecord(log.name, logging.INFO, __file__, 0, line, None, None)
            )
        self._last = head
        return head

    def close(self) -> None:
        if self._syslog:
            self._syslog.close()


def watch(writer: AnchorWriter, every: float, stop: threading.Event) -> None:
    """Anchor every `every` seconds until `stop` is set; a failed round is logged, not fatal."""
    while not stop.is_set():
        try:
            writer.write()
        except Exception:
            log.exception("audit anchor failed; trying again in %s s", every)
        finally:
            db.session.remove()
        stop.wait(every)
