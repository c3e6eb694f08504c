"""Delivery-status notifications (RFC 3464) for our mails: the mail is marked "rejetée".

A DSN is a multipart/report whose message/delivery-status part says, per recipient, what
became of the mail (Action, Status, Diagnostic-Code, Final-Recipient). It is matched to the
outbox mail it reports on by
(a) the envelope recipient it came back to: the mail's own VERP address (mail/verp.py), found
    in Delivered-To, X-Original-To or To, whose MAC must be ours (a guessed or forged address
    matches nothing); else
(b) the Message-ID of the returned message (its message/rfc822 or text/rfc822-headers part).
    Weaker: whoever received the mail knows its Message-ID; the worst a forged one does is mark
    that mail rejected.

Action "failed" marks the mail BOUNCED with a French reason from the status code; "delayed"
is noted on the message row only (the server still tries). A bounce never opens, reopens or
answers a ticket: it adds a "bounce" event to the mail's ticket, if any. A notice that
matches nothing, or a mailer-daemon message that is no RFC 3464 report, is kept with status
BOUNCE and its reason, for a person to read in the mailbox.
"""

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.conversation.parsing import ParsedMail, clean, header_text
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.mail.verp import mail_id_of_bounce_address
from csudesk.tickets.models import Ticket
from csudesk.tickets.services import add_event

UNMATCHED = "avis de non-remise sans correspondance"
NOT_STANDARD = "avis de non-remise hors norme (pas un rapport RFC 3464), sans correspondance"
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
# Where an envelope recipient shows in the headers, as the delivering servers write it.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
DIAGNOSTIC_SHOWN = 150
_MARKABLE = (MailStatus.SENT, MailStatus.UNCERTAIN)


@dataclass
class Report:
    action: str  # failed, delayed, delivered, relayed, expanded ("" when missing)
    status: str | None  # "5.1.1"
    diagnostic: str | None
    final_recipient: str | None
    original_message_id: str | None


def reason_for(status: str | None, diagnostic: str | None) -> str:
    """The French reason a bounce gives, from its status code (and the server's words)."""
    code = status or ""
    if code in ("4.2.2", "5.2.2"):
        return "boîte pleine"
    if code == "5.1.1":
        return "adresse inconnue"
    short = short_diagnostic(diagnostic)
    detail = " ; ".join(part for part in (code, short) if part)
    return "refusé par le serveur destinataire" + (f" ({detail})" if detail else "")


def short_diagnostic(diagnostic: str | None) -> str:
    """The server's words without the "smtp;" type, on one line, truncated."""
    if not diagnostic:
        return ""
    text = diagnostic.split(";", 1)[1] if ";" in diagnostic[:20] else diagnostic
    text = " ".join(clean(text).split())
    return text if len(text) <= DIAGNOSTIC_SHOWN else text[: DIAGNOSTIC_SHOWN - 1] + "…"


def delivery_report(message: Message) -> Report | None:
    """The report of a multipart/report DSN (the first failed recipient first), else None."""
    if message.get_content_type() != "multipart/report":
        return None
    parts = [p for p in _children(message) if isinstance(p, Message)]
    status_part = next(
        (
            p
            for p in parts
            if p.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
        ),
        None,
    )
    if status_part is None:
        return None
    blocks = _status_blocks(status_part)
    recipients = [b for b in blocks[1:] if b.get("action") or b.get("status")] or blocks[-1:]
    if not recipients:
        return None
    order = {"failed": 0, "delayed": 1}
    chosen = min(recipients, key=lambda b: order.get((b.get("action") or "").lower(), 2))
    status = _STATUS.search(chosen.get("status") or "")
    action = (chosen.get("action") or "").strip().lower()
    if not action and status and status.group(1) == "5":
        action = "failed"
    final = chosen.get("final-recipient") or ""
    return Report(
        action=action,
        status=status.group(0) if status else None,
        diagnostic=chosen.get("diagnostic-code"),
        final_recipient=clean(final.split(";", 1)[-1]).strip()[:254] or None,
        original_message_id=_returned_message_id(parts),
    )


def _children(message: Message) -> list:
    try:
        payload = message.get_payload()
    except Exception:
        return []
    return payload if isinstance(payload, list) else []


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The delivery-status field blocks (per message, then per recipient), lower-case keys."""
    payload = _children(part)
    if payload:
        blocks = payload
    else:
        try:
            text = part.get_payload(decode=True) or b""
        except Exception:
            text = b""
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        blocks = [HeaderParser().parsestr(block) for block in re.split(r"\n\s*\n", raw.strip())]
    out = []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        fields = {}
        for key, value in block.raw_items():
            fields.setdefault(key.lower(), " ".join(clean(str(value)).split())[:1000])
        out.append(fields)
    return out


def _returned_message_id(parts: list[Message]) -> str | None:
    for part in parts[1:]:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = next((m for m in _children(part) if isinstance(m, Message)), None)
            headers = inner
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            try:
                data = part.get_payload(decode=True) or b""
            except Exception:
                data = b""
            headers = HeaderParser().parsestr(data.decode("utf-8", "replace"))
        else:
            continue
        if headers is None:
            continue
        found = re.search(r"<[^<>\s]{1,240}>", header_text(headers, "Message-ID") or "")
        if found:
            return found.group(0)
    return None


def from_daemon(mail: ParsedMail) -> bool:
    """Sent by a mail server's bounce robot (MAILER-DAEMON@, postmaster@)."""
    return (mail.from_address or "").partition("@")[0].startswith(_DAEMONS)


def _verp_mail(mail: ParsedMail) -> OutboxMail | None:
    for name in _RECIPIENT_HEADERS:
        for value in mail.headers(name):
            for _, address in getaddresses([value]):
                mail_id = mail_id_of_bounce_address(address)
                if mail_id is not None:
                    found = db.session.get(OutboxMail, mail_id)
                    if found is not None:
                        return found
    return None


def matched_mail(mail: ParsedMail, report: Report | None) -> OutboxMail | None:
    """Our outbox mail this notice is about: by its VERP address, else its Message-ID."""
    found = _verp_mail(mail)
    if found is not None or report is None or not report.original_message_id:
        return found
    return db.session.scalar(
        select(OutboxMail).where(OutboxMail.message_id == report.original_message_id)
    )


def handle(actor: Actor, mail: ParsedMail, inbound: InboundMessage) -> bool:
    """If `mail` is a delivery-status notification, record what it says and return True."""
    report = delivery_report(mail.message)
    if report is None and not from_daemon(mail):
        return False
    inbound.status = InboundStatus.BOUNCE
    outbox = matched_mail(mail, report)
    if outbox is None:
        inbound.reason = UNMATCHED if report is not None else NOT_STANDARD
        return True
    inbound.outbox_mail_id = outbox.id
    inbound.ticket_id = outbox.ticket_id
    if report is None:
        inbound.reason = (
            f"avis de non-remise hors norme pour le courriel n° {outbox.id} : sans code d'état,"
            " courriel non marqué rejeté"
        )
    elif report.action == "delayed":
        inbound.reason = (
            f"remise retardée du courriel n° {outbox.id} ({report.status or 'sans code'}) :"
            " le serveur destinataire réessaie, courriel non marqué rejeté"
        )
    elif report.action != "failed":
        inbound.reason = f"avis de remise ({report.action or 'sans action'}), pas un rejet"
    elif outbox.status == MailStatus.BOUNCED:
        inbound.reason = f"courriel n° {outbox.id} déjà marqué rejeté"
    elif outbox.status not in _MARKABLE:
        inbound.reason = f"courriel n° {outbox.id} jamais remis au serveur : avis ignoré"
    else:
        _mark_bounced(actor, outbox, report, inbound)
    return True


def _mark_bounced(
    actor: Actor, outbox: OutboxMail, report: Report, inbound: InboundMessage
) -> None:
    reason = reason_for(report.status, report.diagnostic)[:500]
    outbox.status = MailStatus.BOUNCED
    outbox.bounced_at = utcnow()
    outbox.bounce_reason = reason
    inbound.reason = f"courriel n° {outbox.id} rejeté : {reason}"[:500]
    ticket = db.session.get(Ticket, outbox.ticket_id) if outbox.ticket_id else None
    if ticket is not None:
        diagnostic = short_diagnostic(report.diagnostic)
        add_event(
            ticket,
            actor,
            "bounce",
            f"Courriel à {outbox.to_address} rejeté : {reason}"
            + (f"\nRéponse du serveur : {diagnostic}" if diagnostic else ""),
            mail_id=outbox.id,
            inbound_message_id=inbound.id,
        )
        db.session.flush()
    audit.record(
        actor,
        "mail.bounce",
        voter_id=outbox.voter_id,
        ticket_id=outbox.ticket_id,
        mail_id=outbox.id,
        inbound_id=inbound.id,
        status_code=report.status,
        reason=reason,
    )
