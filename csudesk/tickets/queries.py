"""Reading tickets: the agent's own, a CSU's queue, one ticket's history (desk and supervision)."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.models import OutboxMail
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
    """The ticket's history, oldest first, with the agent of each event."""
    options = [joinedload(TicketEvent.agent)]
    if with_links:
        options.append(joinedload(TicketEvent.link))
    return list(
        db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
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


def events_after(
    ticket: Ticket, event_id: int | None, exclude_agent_id: int | None
) -> list[TicketEvent]:
    """The ticket's events newer than `event_id` not made by `exclude_agent_id` (another
    agent's note or reply, a mail that came in) since a page showed the ticket, oldest first.

    `event_id` None (a page that did not say what it showed) finds nothing: there is nothing to
    compare with.
    """
    if event_id is None:
        return []
    query = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.id > event_id)
        .options(joinedload(TicketEvent.agent))
        .order_by(TicketEvent.id)
    )
    if exclude_agent_id is not None:
        query = query.where(
            (TicketEvent.agent_id.is_(None)) | (TicketEvent.agent_id != exclude_agent_id)
        )
    return list(db.session.scalars(query))


def latest_event_id(ticket: Ticket) -> int | None:
    """The id of the ticket's newest event (what a page shows it was loaded with)."""
    return db.session.scalar(
        select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)
    )
