"""What one message read from a CSU mailbox does: join its ticket, open one, or mark a bounce.

The fetcher (csudesk/conversation/fetcher.py) inserts the message's InboundMessage row first,
then calls process() in the same transaction and commits; process() never commits and does not
raise on bad input: a message is imported as well as it can be (parsing.py says how: safe
text, masked secrets, attachments named and dropped), or set aside with its reason.

In this order:
1. Unreadable (empty, no header at all), a second copy of a message already imported (same
   Message-ID) or a copy of one of our own mails: set aside, with the reason.
2. A delivery-status notification: bounces.py (never a ticket).
3. Auto-replies and bulk mail (Auto-Submitted other than "no", Precedence bulk/junk/list/
   auto_reply, X-Autoreply, X-Autorespond, List-Id, List-Unsubscribe, an out-of-office
   subject): status AUTOMATIC. Kept in its ticket's history when it threads to one, without
   reopening it; never opens a ticket. Nothing in csudesk answers incoming mail automatically
   (no acknowledgement), so no mail loop can start here.
4. A reply: In-Reply-To/References naming one of our mails (OutboxMail.message_id) or a
   message already on a ticket, else "[CSU 2026-000116]" in the subject. A merged ticket
   leads to the ticket it was merged into. The sender must be plausible for that ticket: its
   contact address, one of its voter's roll addresses, an address we wrote to or received
   from on it. Both a reference and our Message-IDs (<outbox-<id>.<time>@...>) can be guessed;
   without this check anyone could write into any ticket. A reply from another address opens
   a new ticket instead (nothing is lost; an agent can merge). The reply joins: a "mail_in"
   event, and the ticket goes back to "ouvert" (a waiting or resolved one) in its assigned
   agent's list; a transferred ticket stays in the receiving cell's queue.
5. Anything else opens a ticket (channel courriel, category autre) routed as the contact form
   routes: a sender on the roll → that voter's CSU, linked to the voter; else the mailbox's CSU.
"""

import re

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.conversation import bounces
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.conversation.parsing import ParsedMail, parse
from csudesk.directory.services import RoutingError, csu_by_code, national_csu
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import VoterEmail
from csudesk.roll.services import voter_by_address
from csudesk.text import is_valid_email, normalize_email
from csudesk.tickets.models import Category, Channel, Status, Ticket
from csudesk.tickets.services import add_event, change_status, create_ticket

_REFERENCE = re.compile(r"(?i)\[\s*CSU\s+(\d{4}-\d{6})\s*\]")
_AUTO_SUBJECT = re.compile(
    r"(?i)^\s*(?:r[ée]ponse\s+automatique|automatic\s+reply|auto[- ]?reply|autoreply"
    r"|out\s+of\s+(?:the\s+)?office|absent(?:e)?\s+du\s+bureau|absence\s+du\s+bureau"
    r"|message\s+d['’]absence|absence\s*(?::|$)|absent\s*(?::|$))"
)
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_MERGE_HOPS = 10


def process(raw: bytes, inbound: InboundMessage, mailbox_csu_code: str) -> None:
    """Import `raw` (the message as read from IMAP), filling `inbound`'s fields and status."""
    actor = Actor.system()
    if inbound.id is None:
        db.session.add(inbound)
        db.session.flush()
    if not raw or not raw.strip():
        _set_aside(inbound, "message vide")
        return
    mail = parse(raw)
    inbound.message_id = mail.message_id[:998] if mail.message_id else None
    inbound.from_address = mail.from_address
    inbound.subject = mail.subject[:500] or None
    inbound.sent_at = mail.sent_at
    if not mail.has_headers:
        _set_aside(inbound, "message illisible : aucun en-tête de courriel")
        return
    earlier = _earlier_copy(mail, inbound)
    if earlier is not None:
        _set_aside(inbound, f"déjà importé (même Message-ID que le message reçu n° {earlier})")
        return
    if inbound.message_id and db.session.scalar(
        select(OutboxMail.id).where(OutboxMail.message_id == inbound.message_id)
    ):
        _set_aside(inbound, "copie d'un courriel envoyé par csudesk")
        return
    if bounces.handle(actor, mail, inbound):
        return
    automatic = automatic_reason(mail)
    ticket = thread_ticket(mail)
    if automatic is not None:
        inbound.status = InboundStatus.AUTOMATIC
        _note(inbound, automatic, *mail.problems)
        if ticket is not None:
            _add_to_history(actor, ticket, mail, inbound)
        else:
            _note(inbound, "aucun ticket ouvert")
        return
    if ticket is not None:
        inbound.status = InboundStatus.JOINED
        _note(inbound, *mail.problems)
        _add_to_history(actor, ticket, mail, inbound)
        if ticket.status in (Status.WAITING, Status.RESOLVED):
            change_status(actor, ticket, Status.OPEN)
        return
    _open_ticket(actor, mail, inbound, mailbox_csu_code)


def _set_aside(inbound: InboundMessage, reason: str) -> None:
    inbound.status = InboundStatus.SET_ASIDE
    inbound.reason = reason[:500]


def _note(inbound: InboundMessage, *notes: str) -> None:
    """Add what is worth knowing about the import to the row's reason."""
    parts = [p for p in [inbound.reason, *notes] if p]
    inbound.reason = " ; ".join(parts)[:500] or None


def _earlier_copy(mail: ParsedMail, inbound: InboundMessage) -> int | None:
    if not mail.message_id:
        return None
    return db.session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.message_id == inbound.message_id,
            InboundMessage.id != inbound.id,
            InboundMessage.status != InboundStatus.SET_ASIDE,
            InboundMessage.status != InboundStatus.CLAIMED,
        )
        .order_by(InboundMessage.id)
        .limit(1)
    )


def automatic_reason(mail: ParsedMail) -> str | None:
    """Why this message is an auto-reply or bulk mail (French), or None for a person's mail."""
    submitted = (mail.header("Auto-Submitted") or "").strip().lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"réponse automatique (Auto-Submitted: {submitted[:40]})"
    precedence = (mail.header("Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"envoi automatique ou en nombre (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond"):
        if mail.header(name) is not None:
            return f"réponse automatique ({name})"
    for name in ("List-Id", "List-Unsubscribe"):
        if mail.header(name) is not None:
            return f"liste de diffusion ({name})"
    if _AUTO_SUBJECT.match(mail.subject):
        return "réponse automatique (objet)"
    return None


# --- Threading -------------------------------------------------------------------------------


def thread_ticket(mail: ParsedMail) -> Ticket | None:
    """The ticket this message answers, if any and if its sender is plausible for it."""
    for ticket in _header_candidates(mail) + _subject_candidates(mail):
        kept = _kept_ticket(ticket)
        if kept is not None and _plausible_sender(mail.from_address, ticket, kept):
            return kept
    return None


def _header_candidates(mail: ParsedMail) -> list[Ticket]:
    ids = mail.thread_ids
    if not ids:
        return []
    ticket_of: dict[str, int] = {}
    for message_id, ticket_id in db.session.execute(
        select(OutboxMail.message_id, OutboxMail.ticket_id).where(
            OutboxMail.message_id.in_(ids), OutboxMail.ticket_id.is_not(None)
        )
    ):
        ticket_of.setdefault(message_id, ticket_id)
    for message_id, ticket_id in db.session.execute(
        select(InboundMessage.message_id, InboundMessage.ticket_id)
        .where(InboundMessage.message_id.in_(ids), InboundMessage.ticket_id.is_not(None))
        .order_by(InboundMessage.id)
    ):
        ticket_of.setdefault(message_id, ticket_id)
    found = []
    for message_id in ids:
        if message_id in ticket_of:
            ticket = db.session.get(Ticket, ticket_of[message_id])
            if ticket is not None and ticket not in found:
                found.append(ticket)
    return found


def _subject_candidates(mail: ParsedMail) -> list[Ticket]:
    references = list(dict.fromkeys(_REFERENCE.findall(mail.subject)))[:5]
    if not references:
        return []
    return list(db.session.scalars(select(Ticket).where(Ticket.reference.in_(references))))


def _kept_ticket(ticket: Ticket) -> Ticket | None:
    """The ticket itself, or the one it was merged into (followed through merges)."""
    for _ in range(_MERGE_HOPS):
        if ticket.status != Status.MERGED or ticket.merged_into_id is None:
            return ticket
        following = db.session.get(Ticket, ticket.merged_into_id)
        if following is None:
            return ticket
        ticket = following
    return None


def _plausible_sender(sender: str | None, *tickets: Ticket) -> bool:
    if not sender:
        return False
    return normalize_email(sender) in _ticket_addresses({t.id: t for t in tickets}.values())


def _ticket_addresses(tickets) -> set[str]:
    """Who may write into these tickets: contact address, their voters' roll addresses, the
    addresses we wrote to and received from on them."""
    tickets = list(tickets)
    ticket_ids = [t.id for t in tickets]
    voter_ids = [t.voter_id for t in tickets if t.voter_id is not None]
    addresses = {t.contact_email for t in tickets if t.contact_email}
    if voter_ids:
        addresses.update(
            db.session.scalars(select(VoterEmail.address).where(VoterEmail.voter_id.in_(voter_ids)))
        )
    addresses.update(
        db.session.scalars(
            select(OutboxMail.to_address).where(OutboxMail.ticket_id.in_(ticket_ids))
        )
    )
    addresses.update(
        db.session.scalars(
            select(InboundMessage.from_address).where(
                InboundMessage.ticket_id.in_(ticket_ids),
                InboundMessage.status.in_((InboundStatus.NEW_TICKET, InboundStatus.JOINED)),
            )
        )
    )
    return {normalize_email(a) for a in addresses if a}


# --- Tickets ---------------------------------------------------------------------------------


def _add_to_history(actor: Actor, ticket: Ticket, mail: ParsedMail, inbound: InboundMessage):
    inbound.ticket_id = ticket.id
    add_event(ticket, actor, "mail_in", mail.text or None, inbound_message_id=inbound.id)
    db.session.flush()
    audit.record(
        actor,
        "ticket.mail_in",
        voter_id=ticket.voter_id,
        ticket_id=ticket.id,
        inbound_id=inbound.id,
        mailbox=inbound.mailbox,
        result=inbound.status,
    )


def _open_ticket(
    actor: Actor, mail: ParsedMail, inbound: InboundMessage, mailbox_csu_code: str
) -> None:
    sender = mail.from_address
    contact = sender if sender and is_valid_email(sender) else None
    if sender and contact is None:
        mail.problems.append("adresse d'expéditeur invalide : aucune réponse possible")
    voter = voter_by_address(contact) if contact else None
    csu = voter.csu if voter is not None else csu_by_code(mailbox_csu_code)
    if csu is None:
        try:
            csu = national_csu()
        except RoutingError:
            _set_aside(inbound, f"cellule inconnue pour la boîte {mailbox_csu_code!r}")
            return
        mail.problems.append(f"boîte {mailbox_csu_code!r} sans cellule : cellule nationale")
    ticket = create_ticket(
        actor,
        csu=csu,
        category=Category.OTHER,
        channel=Channel.EMAIL,
        voter=voter,
        message=mail.text or None,
        contact_email=contact,
    )
    inbound.status = InboundStatus.NEW_TICKET
    _note(inbound, *mail.problems)
    _add_to_history(actor, ticket, mail, inbound)
