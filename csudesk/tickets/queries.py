"""Reading tickets: the agent's own, a CSU's queue, one ticket's history (desk and supervision)."""

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import OutboxMail
from csudesk.text import normalize_email
from csudesk.tickets.models import OPEN_STATUSES, STATUS_LABELS, Ticket, TicketEvent

OPEN = "ouverts"  # the queue's filter for every open status


def open_tickets_assigned_to(agent_id: int, limit: int = 50) -> list[Ticket]:
    """The agent's open tickets, last changed first (the desk's home)."""
    return list(
        db.session.scalars(
            select(Ticket)
            .where(Ticket.assigned_agent_id == agent_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.updated_at.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int


def queue_page(csu_ids: set[int], status: str, page: int, size: int = 50) -> QueuePage:
    """One page of the tickets of these CSUs, newest first, open ones or of one status."""
    query = (
        select(Ticket)
        .options(joinedload(Ticket.voter), joinedload(Ticket.assigned_agent))
        .where(Ticket.csu_id.in_(csu_ids))
    )
    if status == OPEN:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif status in STATUS_LABELS:
        query = query.where(Ticket.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return QueuePage(list(rows), total, page, max((total + size - 1) // size, 1))


def ticket_events(ticket: Ticket, with_links: bool = False) -> list[TicketEvent]:
    """The ticket's history, oldest first, with the agent of each event: its own events and
    those of the tickets merged into it (each event's `ticket` names where it comes from)."""
    options = [joinedload(TicketEvent.agent), joinedload(TicketEvent.ticket)]
    if with_links:
        options.append(joinedload(TicketEvent.link))
    merged = select(Ticket.id).where(Ticket.merged_into_id == ticket.id)
    return list(
        db.session.scalars(
            select(TicketEvent)
            .where(or_(TicketEvent.ticket_id == ticket.id, TicketEvent.ticket_id.in_(merged)))
            .options(*options)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )


def ticket_links(ticket: Ticket) -> list[OneTimeLink]:
    """The links sent for the ticket, with their mail."""
    return list(
        db.session.scalars(
            select(OneTimeLink)
            .where(OneTimeLink.ticket_id == ticket.id)
            .options(joinedload(OneTimeLink.mail))
            .order_by(OneTimeLink.id)
        )
    )


def open_ticket_of_voter(ticket_id: int, voter_id: int) -> Ticket | None:
    """This open ticket if it is about this voter (the ticket an action joins)."""
    return db.session.scalar(
        select(Ticket).where(
            Ticket.id == ticket_id, Ticket.voter_id == voter_id, Ticket.status.in_(OPEN_STATUSES)
        )
    )


def ticket_mails(ticket: Ticket) -> list[OutboxMail]:
    """Every mail queued for the ticket, with its link if it carries one, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMail)
            .where(OutboxMail.ticket_id == ticket.id)
            .options(joinedload(OutboxMail.link))
            .order_by(OutboxMail.id)
        )
    )


# What a voter copies from the receipt or a mail subject: "2026-000116", "CSU 2026-000116",
# "[CSU 2026-000116]", with spaces or an en dash around the hyphen.
_REFERENCE = re.compile(
    r"\[?\s*(?:CSU\s*)?(?P<year>\d{4})\s*[-\u2010\u2011\u2013]?\s*(?P<number>\d{6})\s*\]?",
    re.IGNORECASE,
)


def parse_reference(text: str) -> str | None:
    """The ticket reference typed in `text` ("2026-000116"), or None if it is not one."""
    found = _REFERENCE.fullmatch(text.strip())
    if found is None:
        return None
    return f"{found['year']}-{found['number']}"


def ticket_by_reference(reference: str) -> Ticket | None:
    """The ticket with this reference, whatever its CSU (the caller checks the scope)."""
    return db.session.scalar(select(Ticket).where(Ticket.reference == reference))


def latest_event_id(ticket: Ticket) -> int:
    """The id of the ticket's latest event (0 if none): what a page was loaded after."""
    return db.session.scalar(
        select(func.coalesce(func.max(TicketEvent.id), 0)).where(TicketEvent.ticket_id == ticket.id)
    )


def merge_candidates(ticket: Ticket) -> list[Ticket]:
    """Open tickets of the same CSU that this one may be merged into: same voter or same
    contact address (normalised), newest first."""
    same = []
    if ticket.voter_id is not None:
        same.append(Ticket.voter_id == ticket.voter_id)
    address = normalize_email(ticket.contact_email or "")
    if address:
        # lower() narrows in SQL; the exact comparison is normalize_email's, below.
        same.append(func.lower(func.trim(Ticket.contact_email)) == address)
    if not same:
        return []
    rows = db.session.scalars(
        select(Ticket)
        .where(
            Ticket.id != ticket.id,
            Ticket.csu_id == ticket.csu_id,
            Ticket.status.in_(OPEN_STATUSES),
            or_(*same),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(50)
    )
    return [t for t in rows if same_person(t, ticket)]


def same_person(one: Ticket, other: Ticket) -> bool:
    """Whether two tickets are about the same voter or came from the same contact address."""
    if one.voter_id is not None and one.voter_id == other.voter_id:
        return True
    address = normalize_email(one.contact_email or "")
    return bool(address) and address == normalize_email(other.contact_email or "")


def events_after(
    ticket: Ticket, event_id: int | None, exclude_agent_id: int | None
) -> list[TicketEvent]:
    """Events of this ticket with id > event_id not by exclude_agent_id (another agent's note
    or reply, a mail that came in) since a page showed the ticket, oldest first.

    `event_id` None (a page that did not say what it showed) finds nothing to compare with.
    """
    if event_id is None:
        return []
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.id > event_id)
    if exclude_agent_id is not None:
        query = query.where(
            or_(TicketEvent.agent_id.is_(None), TicketEvent.agent_id != exclude_agent_id)
        )
    return list(
        db.session.scalars(query.options(joinedload(TicketEvent.agent)).order_by(TicketEvent.id))
    )
