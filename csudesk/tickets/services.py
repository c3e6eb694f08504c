"""Tickets: creation, notes, status changes, transfers, assignment; each one an event."""

from csudesk.actor import Actor
from csudesk.agents.services import in_scope
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.roll.models import Voter
from csudesk.tickets.models import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    STATUS_LABELS,
    Category,
    Channel,
    Status,
    Ticket,
    TicketEvent,
)

MAX_NOTE_LENGTH = 5000


class TicketError(ServiceError):
    """A refused ticket change; the message is French."""


def add_event(
    ticket: Ticket, actor: Actor, kind: str, text: str | None = None, **fields
) -> TicketEvent:
    now = utcnow()  # the event's time is the action's, whenever the event is flushed
    event = TicketEvent(
        ticket=ticket, at=now, agent_id=actor.agent_id, kind=kind, text=text, **fields
    )
    db.session.add(event)
    ticket.updated_at = now
    return event


def create_ticket(
    actor: Actor,
    *,
    csu: CSU,
    category: str,
    channel: str,
    voter: Voter | None = None,
    message: str | None = None,
    contact_email: str | None = None,
    contact_last_name: str | None = None,
    contact_first_name: str | None = None,
    contact_uai: str | None = None,
) -> Ticket:
    """Open a ticket for a CSU; the acting agent (if any) is its first assignee."""
    if category not in CATEGORY_LABELS:
        raise TicketError("Catégorie inconnue.")
    if channel not in CHANNEL_LABELS:
        raise TicketError("Canal inconnu.")
    ticket = Ticket(
        csu_id=csu.id,
        voter_id=voter.id if voter else None,
        assigned_agent_id=actor.agent_id,
        created_by_agent_id=actor.agent_id,
        category=category,
        channel=channel,
        status=Status.OPEN,
        message=message,
        contact_email=contact_email,
        contact_last_name=contact_last_name,
        contact_first_name=contact_first_name,
        contact_uai=contact_uai,
    )
    db.session.add(ticket)
    db.session.flush()
    ticket.reference = f"{ticket.created_at.year}-{ticket.id:06d}"
    # Written with the caller's next flush or commit: a mail that joins the ticket at once
    # (conversation/mail_in.py) adds its event and sets updated_at in the same UPDATE.
    add_event(ticket, actor, "created", to_csu_id=csu.id)
    audit.record(
        actor,
        "ticket.create",
        voter_id=ticket.voter_id,
        ticket_id=ticket.id,
        csu=csu.code,
        category=category,
        channel=channel,
    )
    return ticket


def add_note(actor: Actor, ticket: Ticket, text: str) -> TicketEvent:
    text = text.strip()
    if not text:
        raise TicketError("La note est vide.")
    if len(text) > MAX_NOTE_LENGTH:
        raise TicketError(f"La note dépasse {MAX_NOTE_LENGTH} caractères.")
    event = add_event(ticket, actor, "note", text)
    db.session.flush()
    audit.record(actor, "ticket.note", voter_id=ticket.voter_id, ticket_id=ticket.id)
    return event


def change_status(actor: Actor, ticket: Ticket, status: str) -> None:
    if status not in STATUS_LABELS or status in (Status.TRANSFERRED, Status.MERGED):
        raise TicketError(
            "Statut inconnu (le transfert se fait par « Transférer », la fusion par « Fusionner »)."
        )
    if status == ticket.status:
        return
    before = ticket.status
    ticket.status = status
    ticket.resolved_at = utcnow() if status == Status.RESOLVED else None
    add_event(ticket, actor, "status", f"{STATUS_LABELS[before]} → {STATUS_LABELS[status]}")
    db.session.flush()
    audit.record(
        actor,
        "ticket.status",
        voter_id=ticket.voter_id,
        ticket_id=ticket.id,
        before=before,
        after=status,
    )


def transfer(actor: Actor, ticket: Ticket, to_csu: CSU, reason: str) -> None:
    """Hand the ticket to another CSU, with the reason; it leaves the agent's scope."""
    reason = reason.strip()
    if not reason:
        raise TicketError("Indiquez le motif du transfert.")
    if len(reason) > MAX_NOTE_LENGTH:
        raise TicketError(f"Le motif dépasse {MAX_NOTE_LENGTH} caractères.")
    if to_csu.id == ticket.csu_id:
        raise TicketError("Le ticket est déjà dans cette CSU.")
    from_csu_id = ticket.csu_id
    ticket.csu_id = to_csu.id
    ticket.status = Status.TRANSFERRED
    ticket.assigned_agent_id = None
    add_event(ticket, actor, "transfer", reason, from_csu_id=from_csu_id, to_csu_id=to_csu.id)
    db.session.flush()
    audit.record(
        actor, "ticket.transfer", voter_id=ticket.voter_id, ticket_id=ticket.id, to_csu=to_csu.code
    )


def assign(actor: Actor, ticket: Ticket, agent_id: int | None) -> None:
    if ticket.assigned_agent_id == agent_id:
        return
    ticket.assigned_agent_id = agent_id
    add_event(ticket, actor, "assign")
    db.session.flush()
    audit.record(actor, "ticket.assign", ticket_id=ticket.id, voter_id=ticket.voter_id, to=agent_id)


def get_ticket_in_scope(actor: Actor, ticket_id: int) -> Ticket | None:
    """The ticket if the acting agent's scope covers its CSU, else None (the view answers 404)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or actor.agent is None or not in_scope(actor.agent, ticket.csu_id):
        return None
    return ticket


__all__ = ["Category", "Channel", "Status", "TicketError"]
