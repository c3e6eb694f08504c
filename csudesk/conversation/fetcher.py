"""Read the CSU mailboxes into InboundMessage rows, each message once (a worker: it commits).

Per mailbox: read the folder's UIDVALIDITY, ask for the UIDs above the highest one imported
under it, fetch them in batches (BODY.PEEK[]: read-only, nothing is flagged or deleted), and
for each message, in UID order: insert its row ("en cours d'import") and call
`mail_in.process`, each in a savepoint, and commit every COMMIT_EVERY messages (and before each
FETCH: no transaction waits on the network). The row's unique key (mailbox, uidvalidity, uid)
is the claim:

- a second fetcher at the same time fails to insert the same row (on PostgreSQL its insert
  waits for the first one's commit) and skips the message;
- a fetcher that dies loses its open transaction, rows and process()'s work together: the next
  pass reads those messages again (the rows committed before are a prefix in UID order, so
  none is passed over); a message whose row was committed was imported, once;
- process() raising is rolled back to its savepoint, and the row is kept "mis de côté" with the
  reason: the message is not read again and does not block the ones behind it.

A message larger than INBOUND_MAX_BYTES is not downloaded: its headers are, and its row is set
aside with its size. When a folder's UIDVALIDITY changes (the server rebuilt it), every
message is read again under the new one; those whose Message-ID was already imported from that
mailbox are set aside as such instead of opening a second ticket.

A local Maildir (make run's demo) is read the same way: uidvalidity 0, and for the uid 62
bits of the SHA-256 of the file's unique name (the part before ":", kept when a mail client
moves the file from new/ to cur/ or changes its flags).
"""

import hashlib
import imaplib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from csudesk.conversation import mail_in
from csudesk.conversation.mailboxes import Mailbox
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.db import read_only
from csudesk.directory.services import csu_by_code
from csudesk.extensions import db

log = logging.getLogger(__name__)
MAILDIR_UIDVALIDITY = 0
# How much of an oversized file is read for its headers.
HEADER_BYTES = 64 * 1024
# Messages per transaction: fewer commits, and SQLite's write lock (or the audit chain's head)
# never held for long; a crash loses at most these, which the next pass reads again.
COMMIT_EVERY = 10
# UIDs searched at once (an answer of at most about 700 KB).
SEARCH_WINDOW = 100_000
FETCH_ITEM = re.compile(rb"(UID|RFC822\.SIZE) (\d+)")


@dataclass
class FetchReport:
    """What one pass did with one mailbox."""

    mailbox: str
    fetched: int = 0  # new messages read
    imported: int = 0  # committed, with what process() made of them
    skipped: int = 0  # already taken by another fetcher
    set_aside: int = 0  # committed "mis de côté" (too large, already imported, failed)
    errors: list[str] = field(default_factory=list)


Progress = Callable[[FetchReport], None]


class MailboxError(Exception):
    """The mailbox cannot be read on this pass (connection, login, folder); the message is
    French and names no password."""


def unknown_csus(mailboxes: list[Mailbox]) -> list[str]:
    """The mailboxes whose CSU is not in the directory, as lines for the command to print."""
    return [
        f"CSU_MAILBOXES[{mailbox.name!r}] : la CSU {mailbox.csu!r} n'est pas dans l'annuaire."
        for mailbox in mailboxes
        if csu_by_code(mailbox.csu) is None
    ]


def fetch_all(mailboxes: list[Mailbox], progress: Progress | None = None) -> Iterator[FetchReport]:
    """One pass over every mailbox; one that cannot be read does not stop the others."""
    for mailbox in mailboxes:
        yield fetch_mailbox(mailbox, progress)


def fetch_mailbox(mailbox: Mailbox, progress: Progress | None = None) -> FetchReport:
    """Import the new messages of one mailbox; errors go in the report, never raised.

    A worker: it commits what the caller's session holds first, then owns its transactions.
    `progress(report)` is called after each commit, the report counting what is committed.
    """
    report = FetchReport(mailbox.name)
    try:
        db.session.commit()
        if mailbox.is_maildir:
            _fetch_maildir(mailbox, report, progress)
        else:
            _fetch_imap(mailbox, report, progress)
    except MailboxError as exc:
        report.errors.append(str(exc))
    except (OSError, imaplib.IMAP4.error) as exc:
        report.errors.append(_describe(mailbox, exc))
    except SQLAlchemyError as exc:  # the database is down: this pass stops here, nothing lost
        log.exception("mailbox %s: database error", mailbox.name)
        report.errors.append(f"base de données indisponible ({type(exc).__name__}).")
    finally:
        db.session.rollback()
    for error in report.errors:
        log.warning("mailbox %s: %s", mailbox.name, error)
    return report


def run_forever(
    mailboxes: list[Mailbox],
    every: float,
    on_report: Callable[[FetchReport], None],
    should_stop: Callable[[], bool] = lambda: False,
    progress: Progress | None = None,
) -> None:
    """Fetch every mailbox every `every` seconds until should_stop()."""
    while not should_stop():
        started = time.monotonic()
        for report in fetch_all(mailboxes, progress):
            on_report(report)
            if should_stop():
                return
        while not should_stop() and time.monotonic() - started < every:
            time.sleep(min(0.5, every))


# IMAP


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    timeout = current_app.config["INBOUND_TIMEOUT_SECONDS"]
    context = ssl.create_default_context(cafile=mailbox.ca_file)
    if mailbox.security == "tls":
        client = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=timeout)
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == "starttls":
            try:
                client.starttls(ssl_context=context)
            except imaplib.IMAP4.error as exc:
                client.shutdown()
                raise MailboxError(
                    f"{mailbox.where} : le serveur refuse STARTTLS ({_text(exc)})."
                ) from exc
    try:
        client.login(mailbox.username, mailbox.password)
    except imaplib.IMAP4.error as exc:
        client.shutdown()
        raise MailboxError(
            f"{mailbox.where} : identifiants refusés pour {mailbox.username} ({_text(exc)})."
        ) from exc
    return client


def _fetch_imap(mailbox: Mailbox, report: FetchReport, progress: Progress | None) -> None:
    client = _connect(mailbox)
    try:
        status, data = client.select(_quoted(mailbox.folder), readonly=True)
        if status != "OK":
            raise MailboxError(
                f"{mailbox.where} : dossier {mailbox.folder!r} introuvable ({_text(data)})."
            )
        uidvalidity = _selected(client, "UIDVALIDITY")
        if uidvalidity is None:
            raise MailboxError(f"{mailbox.where} : le serveur ne donne pas d'UIDVALIDITY.")
        uidnext = _selected(client, "UIDNEXT")
        with read_only() as session:
            last = session.scalar(
                select(func.max(InboundMessage.uid)).where(
                    InboundMessage.mailbox == mailbox.name,
                    InboundMessage.uidvalidity == uidvalidity,
                )
            )
            known = _ids_under_other_validities(session, mailbox.name, uidvalidity)
        importer = Importer(mailbox, uidvalidity, report, progress, known)
        for uids in _new_uids(client, mailbox, last or 0, uidnext):
            for batch in _batches(uids, current_app.config["INBOUND_FETCH_BATCH"]):
                _fetch_batch(client, batch, importer)
                importer.commit()
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            log.info("mailbox %s: LOGOUT failed", mailbox.name)


def _selected(client: imaplib.IMAP4, name: str) -> int | None:
    """UIDVALIDITY or UIDNEXT, as SELECT gave them."""
    _typ, values = client.response(name)
    try:
        return int(values[-1]) if values and values[-1] is not None else None
    except ValueError:
        return None


def _new_uids(
    client: imaplib.IMAP4, mailbox: Mailbox, last: int, uidnext: int | None
) -> Iterator[list[int]]:
    """The UIDs above `last`, in increasing order, a window of SEARCH_WINDOW UIDs at a time.

    Up to UIDNEXT as SELECT gave it: messages delivered during the pass wait for the next one,
    and no answer line grows past imaplib's limit (1 MB) on a mailbox of a million messages.
    """
    if uidnext is None:
        ranges = [f"{last + 1}:*"]
    else:
        ranges = [
            f"{start}:{min(start + SEARCH_WINDOW, uidnext) - 1}"
            for start in range(last + 1, uidnext, SEARCH_WINDOW)
        ]
    for uid_range in ranges:
        status, data = client.uid("SEARCH", f"UID {uid_range}")
        if status != "OK":
            raise MailboxError(f"{mailbox.where} : recherche refusée ({_text(data)}).")
        # "n:*" matches the highest UID even when it is below n (RFC 3501 6.4.8).
        yield sorted(uid for uid in map(int, (data[0] or b"").split()) if uid > last)


def _fetch_batch(client: imaplib.IMAP4, batch: list[int], importer: "Importer") -> None:
    """Import a batch in UID order (the next pass starts above the highest UID committed)."""
    limit = current_app.config["INBOUND_MAX_BYTES"]
    sizes = {uid: size for uid, (size, _raw) in _uid_fetch(client, batch, "RFC822.SIZE").items()}
    group: list[int] = []  # consecutive messages read in one FETCH, about `limit` bytes at most

    def flush() -> None:
        contents = _uid_fetch(client, group, "RFC822.SIZE BODY.PEEK[]")
        for uid in group:
            if uid in contents:
                size, raw = contents[uid]
                importer.add(uid, size, raw or b"", complete=True)
        importer.commit()  # no transaction stays open over the next FETCH
        group.clear()

    for uid in batch:
        if uid not in sizes:
            continue  # expunged since the search
        if sizes[uid] > limit:
            if group:
                flush()
            headers = _uid_fetch(client, [uid], "RFC822.SIZE BODY.PEEK[HEADER]").get(uid)
            if headers is not None:
                importer.add(uid, sizes[uid], headers[1] or b"", complete=False)
                importer.commit()
            continue
        if group and sum(sizes[done] for done in group) + sizes[uid] > limit:
            flush()
        group.append(uid)
    if group:
        flush()


def _uid_fetch(client: imaplib.IMAP4, uids: list[int], items: str) -> dict[int, tuple]:
    """{uid: (size, literal or None)} of a UID FETCH; messages expunged meanwhile are absent."""
    status, data = client.uid("FETCH", ",".join(map(str, uids)), f"(UID {items})")
    if status != "OK":
        raise MailboxError(f"lecture des messages refusée ({_text(data)}).")
    found: dict[int, tuple] = {}
    for part in data:
        meta, literal = (part[0], part[1]) if isinstance(part, tuple) else (part, None)
        if not isinstance(meta, bytes):
            continue
        fields = dict(FETCH_ITEM.findall(meta))
        if b"UID" in fields:
            found[int(fields[b"UID"])] = (int(fields.get(b"RFC822.SIZE", 0)), literal)
    return found


# Maildir


def maildir_uid(filename: str) -> int:
    """A stable 62-bit key for a Maildir file: its unique name, without the ":2,<flags>" part."""
    unique = filename.split(":", 1)[0]
    return int.from_bytes(hashlib.sha256(unique.encode()).digest()[:8], "big") >> 2


def _fetch_maildir(mailbox: Mailbox, report: FetchReport, progress: Progress | None) -> None:
    root = Path(mailbox.maildir)
    if not root.is_dir():
        raise MailboxError(f"{mailbox.where} : dossier introuvable.")
    limit = current_app.config["INBOUND_MAX_BYTES"]
    with read_only() as session:
        taken = set(
            session.scalars(
                select(InboundMessage.uid).where(
                    InboundMessage.mailbox == mailbox.name,
                    InboundMessage.uidvalidity == MAILDIR_UIDVALIDITY,
                )
            )
        )
    files = []
    for sub in ("new", "cur"):
        folder = root / sub
        if folder.is_dir():
            files += [path for path in folder.iterdir() if not path.name.startswith(".")]
    importer = Importer(mailbox, MAILDIR_UIDVALIDITY, report, progress)
    for path in sorted(files, key=lambda path: path.name):
        uid = maildir_uid(path.name)
        if uid in taken:
            continue
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                raw = handle.read() if size <= limit else _headers_only(handle.read(HEADER_BYTES))
        except (FileNotFoundError, IsADirectoryError):
            continue  # moved or deleted since the listing: a later pass sees it again
        importer.add(uid, size, raw, complete=size <= limit)
    importer.commit()


def _headers_only(start: bytes) -> bytes:
    """The header part of a message (up to its first empty line), or all of it."""
    ends = [
        found + len(separator)
        for separator in (b"\r\n\r\n", b"\n\n")
        if (found := start.find(separator)) != -1
    ]
    return start[: min(ends)] if ends else start


# One message


class Importer:
    """Claims and processes the messages of one mailbox, committing every COMMIT_EVERY.

    Each message has its savepoint: a row another fetcher took fails alone, and what a failed
    process() did is undone alone. The report counts a message once its commit is done: a
    fetcher that dies loses its open transaction only, whose messages the next pass reads again.
    """

    def __init__(
        self,
        mailbox: Mailbox,
        uidvalidity: int,
        report: FetchReport,
        progress: Progress | None = None,
        known: set[str] = frozenset(),
    ):
        self.mailbox = mailbox
        self.uidvalidity = uidvalidity
        self.report = report
        self.progress = progress
        self.known = known  # Message-IDs imported under an earlier UIDVALIDITY
        self.pending: list[str] = []  # statuses of the rows of the open transaction

    def add(self, uid: int, size: int, raw: bytes, complete: bool) -> None:
        """One message; `complete` is False when only its headers were read (too large)."""
        self.report.fetched += 1
        headers = _headers(raw)
        try:
            with db.session.begin_nested():
                row = InboundMessage(
                    mailbox=self.mailbox.name,
                    uidvalidity=self.uidvalidity,
                    uid=uid,
                    size=size,
                    status=InboundStatus.CLAIMED,
                    message_id=headers["message_id"],
                )
                db.session.add(row)
        except IntegrityError:
            self.report.skipped += 1
            return
        if not complete:
            limit = current_app.config["INBOUND_MAX_BYTES"]
            _set_aside(
                row,
                headers,
                f"message de {_size(size)}, au-delà de la limite de {_size(limit)} :"
                " non lu, à consulter dans la boîte elle-même",
            )
        elif headers["message_id"] and headers["message_id"] in self.known:
            _set_aside(
                row,
                headers,
                "déjà importé : le serveur a renuméroté le dossier (UIDVALIDITY changée)",
            )
        else:
            self._process(row, raw, headers)
        self.pending.append(row.status)
        if len(self.pending) >= COMMIT_EVERY:
            self.commit()

    def _process(self, row: InboundMessage, raw: bytes, headers: dict) -> None:
        try:
            with db.session.begin_nested():
                mail_in.process(raw, row, self.mailbox.csu)
                db.session.flush()
        except Exception as exc:
            # What process() did is undone with its savepoint; the row (claimed before) stays.
            db.session.expire(row)
            log.exception("mailbox %s: message %s: import failed", self.mailbox.name, row.uid)
            self.report.errors.append(f"message {row.uid} : {type(exc).__name__}")
            _set_aside(row, headers, _failure_reason(exc))
            return
        if row.status == InboundStatus.CLAIMED:
            _set_aside(row, headers, "l'import n'a rien fait de ce message")

    def commit(self) -> None:
        db.session.commit()
        if not self.pending:
            return
        for status in self.pending:
            if status == InboundStatus.SET_ASIDE:
                self.report.set_aside += 1
            else:
                self.report.imported += 1
        self.pending.clear()
        if self.progress is not None:
            self.progress(self.report)


def _failure_reason(exc: Exception) -> str:
    return f"erreur pendant l'import ({type(exc).__name__}) : {exc}"[:500]


def _set_aside(row: InboundMessage, headers: dict, reason: str) -> None:
    row.status = InboundStatus.SET_ASIDE
    row.reason = reason[:500]
    row.message_id = headers["message_id"]
    row.from_address = headers["from_address"]
    row.subject = headers["subject"]


def _headers(raw: bytes) -> dict:
    """Message-ID, sender and subject, as well as they can be read (never raises)."""
    found = {"message_id": None, "from_address": None, "subject": None}
    try:
        message = BytesHeaderParser(policy=compat32).parsebytes(_headers_only(raw))
        message_id = message.get("Message-ID")
        if message_id:
            found["message_id"] = str(message_id).strip()[:998] or None
        sender = parseaddr(str(message.get("From") or ""))[1]
        found["from_address"] = sender[:254] or None
        subject = message.get("Subject")
        if subject is not None:
            found["subject"] = str(make_header(decode_header(str(subject))))[:500]
    except Exception:  # a header no decoder understands: what was read so far is kept
        log.info("unreadable headers", exc_info=True)
    return found


def _ids_under_other_validities(session, mailbox: str, uidvalidity: int) -> set[str]:
    return set(
        session.scalars(
            select(InboundMessage.message_id).where(
                InboundMessage.mailbox == mailbox,
                InboundMessage.uidvalidity != uidvalidity,
                InboundMessage.message_id.is_not(None),
            )
        )
    )


# Small helpers


def _batches(uids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")
    return f"{-(-size // 1024)} Ko"


def _text(value) -> str:
    if isinstance(value, list | tuple):
        value = b" ".join(part for part in value if isinstance(part, bytes))
    if isinstance(value, Exception):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:200]


def _describe(mailbox: Mailbox, exc: Exception) -> str:
    """A connection or protocol error, in French, with where it happened."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        what = f"certificat TLS refusé ({exc.verify_message})"
    elif isinstance(exc, ssl.SSLError):
        what = f"échec de la négociation TLS ({exc.reason or exc})"
    elif isinstance(exc, socket.gaierror):
        what = "serveur introuvable (nom inconnu)"
    elif isinstance(exc, TimeoutError):
        what = f"pas de réponse en {current_app.config['INBOUND_TIMEOUT_SECONDS']} s"
    elif isinstance(exc, ConnectionRefusedError):
        what = "connexion refusée (aucun serveur IMAP à cette adresse ?)"
    elif isinstance(exc, imaplib.IMAP4.error):
        what = f"erreur IMAP ({_text(exc)})"
    else:
        what = f"erreur réseau ({exc.strerror or exc})"
    return f"{mailbox.where} : {what}."
