"""The outbox worker: hands mail to SMTP, retries with backoff.

A mail accepted by the SMTP server is never sent again: a row is marked "sending" (committed)
before the SMTP transaction, and a row found still "sending" after OUTBOX_LEASE_SECONDS (its
sender died between the server's acceptance and the commit) becomes "uncertain", not pending.
"""

import json
import logging
import smtplib
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.extensions import db, mail
from csudesk.links import services as links
from csudesk.mail.message import OutgoingMail, compose
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.services import message_id_for
from csudesk.mail.verp import bounce_address, outbox_id_of_message_id
from csudesk.roll.models import VoterEmail

log = logging.getLogger(__name__)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    uncertain: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


def backoff(attempts: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    )


def render(row: OutboxMail, link_url: str | None) -> tuple[str, str, str]:
    """Render subject, text and HTML bodies of mail/<template>.txt and .html."""
    context = json.loads(row.context_json or "{}")
    context["link_url"] = link_url
    env = current_app.jinja_env
    text_module = env.get_template(f"mail/{row.template}.txt").make_module(context)
    html = env.get_template(f"mail/{row.template}.html").render(context)
    return str(getattr(text_module, "subject", "")).strip(), str(text_module), html


def mark_stale_uncertain() -> int:
    """Rows left "sending" past the lease: the server may have accepted them; never resend."""
    limit = utcnow() - timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    count = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == MailStatus.SENDING, OutboxMail.last_attempt_at < limit)
        .values(status=MailStatus.UNCERTAIN)
    ).rowcount
    db.session.commit()
    return count


def _claim(batch: int) -> list[int]:
    now = utcnow()
    ids = list(
        db.session.scalars(
            select(OutboxMail.id)
            .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(ids))
            .values(status=MailStatus.SENDING, last_attempt_at=now)
        )
    db.session.commit()
    return ids


def _undeliverable(rows: list[OutboxMail]) -> dict[int, str]:
    """Why some of these mails must not leave any more (link replaced, address off the roll)."""
    reasons: dict[int, str] = {}
    voter_rows = [row for row in rows if row.voter_id is not None]
    owners = (
        dict(
            db.session.execute(
                select(VoterEmail.address, VoterEmail.voter_id).where(
                    VoterEmail.address.in_({row.to_address for row in voter_rows})
                )
            )
            .tuples()
            .all()
        )
        if voter_rows
        else {}
    )
    for row in rows:
        link = row.link
        if link is not None and (link.revoked_at is not None or link.used_at is not None):
            reasons[row.id] = "lien remplacé ou déjà utilisé avant l'envoi"
        elif row.voter_id is not None and owners.get(row.to_address) != row.voter_id:
            reasons[row.id] = "adresse retirée de la liste électorale"
    return reasons


def default_sender() -> tuple[str, str]:
    """MAIL_DEFAULT_SENDER as (display name, address), whether configured as a pair or a string."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, tuple | list):
        return sender[0] or "", sender[1]
    return parseaddr(sender)


def _prepare(ids: list[int], report: SendReport) -> list[tuple[OutboxMail, OutgoingMail]]:
    """Draw the link tokens of a batch in one transaction, then render and build its messages.

    The tokens' hashes are committed before any mail leaves; rendering and building need no
    database, so they run after that commit (on SQLite, outside the write lock that another
    sender process may be waiting for). Each message is serialised here, once
    (mail/message.py); the SMTP transaction sends these bytes as they are.
    """
    rows = list(
        db.session.scalars(
            select(OutboxMail)
            .where(OutboxMail.id.in_(ids))
            .options(joinedload(OutboxMail.link))
            .order_by(OutboxMail.id)
        )
    )
    reasons = _undeliverable(rows)
    now = utcnow()
    site_sender = default_sender()
    drafts = []
    for row in rows:
        if row.id in reasons:
            row.status = MailStatus.CANCELLED
            row.smtp_response = reasons[row.id]
            report.cancelled += 1
            continue
        link = row.link
        url = links.link_url(link.purpose, links.draw_token(link, now)) if link else None
        # A reply speaks for its CSU: its own address as sender and for the answer, when set.
        csu = db.session.get(CSU, row.sender_csu_id) if row.sender_csu_id else None
        if csu is not None and csu.email:
            drafts.append((row, url, (csu.name, csu.email), csu.email))
        else:
            drafts.append((row, url, site_sender, None))
    db.session.commit()
    prepared = []
    for row, url, sender, reply_to in drafts:
        subject, text, html = render(row, url)
        message = compose(
            sender=sender,
            to=row.to_address,
            subject=subject,
            text=text,
            html=html,
            message_id=row.message_id or message_id_for(row),
            reply_to=reply_to,
            in_reply_to=row.in_reply_to,
            references=row.references,
        )
        prepared.append((row, message))
    return prepared


class AnswerLost(Exception):
    """The connection broke during DATA: the server may have accepted the mail."""


def _envelope_sender(message: OutgoingMail) -> str:
    """MAIL FROM: the mail's own bounce address (VERP) when MAIL_BOUNCE_ADDRESS is set, else
    the From address."""
    mail_id = outbox_id_of_message_id(message.message_id)
    verp = bounce_address(mail_id) if mail_id is not None else None
    return verp or current_app.config["MAIL_BOUNCE_ADDRESS"] or message.from_address


def _smtp_send(connection, message: OutgoingMail) -> str:
    """One SMTP transaction; returns the server's final reply to DATA."""
    host = connection.host
    host.ehlo_or_helo_if_needed()
    sender = _envelope_sender(message)
    code, reply = host.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    for recipient in message.recipients:
        code, reply = host.rcpt(recipient)
        if code not in (250, 251):
            host.rset()
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    try:
        code, reply = host.data(message.content)
    except (OSError, smtplib.SMTPServerDisconnected) as exc:
        # The message may have reached the server before the connection broke.
        raise AnswerLost(str(exc)) from exc
    if code != 250:
        host.rset()
        raise smtplib.SMTPDataError(code, reply)
    return f"{code} {reply.decode(errors='replace')}"


def _record(row: OutboxMail, sent: bool, response: str, permanent: bool = False) -> str:
    """Note one attempt on the row (committed with the batch); returns the outcome."""
    now = utcnow()
    row.smtp_response = response[:500]
    row.attempts += 1
    if sent:
        row.status = MailStatus.SENT
        row.sent_at = now
        if row.link is not None:
            row.link.sent_at = now
        return "sent"
    if permanent or row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        row.status = MailStatus.FAILED
        return "failed"
    row.status = MailStatus.PENDING
    row.next_attempt_at = now + backoff(row.attempts)
    return "retried"


def send_due(batch: int | None = None) -> SendReport:
    """Send what is due now, once; returns what happened to each claimed mail.

    Per batch: one transaction claims the rows ("sending"), one draws tokens and renders, the
    SMTP transactions run over one connection, and one transaction records the results. A
    sender that dies before that last commit leaves its rows "sending": they become uncertain,
    never resent (mark_stale_uncertain).
    """
    report = SendReport()
    report.uncertain = mark_stale_uncertain()
    ids = _claim(batch or current_app.config["OUTBOX_BATCH"])
    if not ids:
        return report
    prepared = _prepare(ids, report)
    connection = None
    for position, (row, message) in enumerate(prepared):
        try:
            if connection is None:
                connection = mail.connect()
                connection.__enter__()
                connection.host.sock.settimeout(current_app.config["MAIL_TIMEOUT_SECONDS"])
            response = _smtp_send(connection, message)
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            outcome = _record(row, False, f"{exc.smtp_code} {exc.smtp_error!r}", permanent)
            report.errors.append(f"{row.id}: {exc.smtp_code}")
        except AnswerLost as exc:
            # Never resent: a second copy would carry a second token (SECURITY.md 20).
            row.status = MailStatus.UNCERTAIN
            row.attempts += 1
            row.smtp_response = f"réponse du serveur perdue après l'envoi : {exc}"[:500]
            report.uncertain += 1
            report.errors.append(f"{row.id}: {exc}")
            for waiting, _ in prepared[position + 1 :]:
                waiting.status = MailStatus.PENDING
            connection = None
            break
        except smtplib.SMTPRecipientsRefused as exc:
            ((code, reply),) = exc.recipients.values()
            outcome = _record(row, False, f"{code} {reply!r}", 500 <= code < 600)
            report.errors.append(f"{row.id}: {code}")
        except (OSError, smtplib.SMTPException) as exc:
            # Server unreachable or connection lost: this and the rest of the batch wait.
            _count(report, _record(row, False, f"serveur injoignable : {exc}"))
            report.errors.append(f"{row.id}: {exc}")
            for waiting, _ in prepared[position + 1 :]:
                waiting.status = MailStatus.PENDING
            connection = None
            break
        else:
            outcome = _record(row, True, response)
        _count(report, outcome)
    db.session.commit()
    if connection is not None:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            log.warning("SMTP QUIT failed", exc_info=True)
    return report


def _count(report: SendReport, outcome: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)


def run_forever(
    interval: float = 2.0, on_report=None, should_stop=lambda: False, before_pass=None
) -> None:
    """Loop until should_stop(): run before_pass() (it returns how many jobs it did), send due
    mail, then sleep `interval` when both were idle."""
    while not should_stop():
        busy = 0
        try:
            if before_pass is not None:
                busy = before_pass()
            report = send_due()
        except Exception:  # keep the worker alive; the rows stay in the outbox
            db.session.rollback()
            log.exception("outbox pass failed")
            report = SendReport()
        if on_report is not None:
            on_report(report)
        if report.handled == 0 and not busy:
            time.sleep(interval)
