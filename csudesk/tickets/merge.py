"""Merging a duplicate ticket into the ticket kept for the same voter or contact address.

The duplicate is closed as "fusionné" and points to the kept ticket; its events stay its own
and the kept ticket's history shows them beside its own (queries.ticket_events). Tickets that
had been merged into the duplicate now point to the kept ticket too, so a history never needs
more than one hop. resolved_at stays empty: a merged ticket was not resolved, and the time to
resolution is the kept ticket's.
"""

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.agents.services import in_scope
from csudesk.audit import services as audit
from csudesk.extensions import db
from csudesk.tickets.models import Status, Ticket
from csudesk.tickets.queries import same_person
from csudesk.tickets.services import MAX_NOTE_LENGTH, TicketError, add_event


def merge(actor: Actor, duplicate: Ticket, into: Ticket, reason: str) -> None:
    """Merge `duplicate` into `into`, both of the agent's scope and of one voter or address."""
    reason = (reason or "").strip()
    if actor.agent is None or not (
        in_scope(actor.agent, duplicate.csu_id) and in_scope(actor.agent, into.csu_id)
    ):
        raise TicketError("Ce ticket n'est pas dans votre périmètre.", field="into")
    if duplicate.id == into.id:
        raise TicketError("Un ticket ne peut pas être fusionné avec lui-même.", field="into")
    if duplicate.status == Status.MERGED:
        raise TicketError(f"Le ticket {duplicate.reference} est déjà fusionné.", field="into")
    if into.status == Status.MERGED:
        raise TicketError(
            f"Le ticket {into.reference} est lui-même fusionné : choisissez le ticket conservé.",
            field="into",
        )
    if duplicate.csu_id != into.csu_id:
        raise TicketError(
            "Les deux tickets relèvent de cellules différentes : transférez d'abord l'un d'eux.",
            field="into",
        )
    if not same_person(duplicate, into):
        raise TicketError(
            "Les deux tickets ne concernent ni le même électeur ni la même adresse de contact.",
            field="into",
        )
    if not reason:
        raise TicketError("Indiquez le motif de la fusion.", field="reason")
    if len(reason) > MAX_NOTE_LENGTH:
        raise TicketError(f"Le motif dépasse {MAX_NOTE_LENGTH} caractères.", field="reason")
    before = duplicate.status
    duplicate.status = Status.MERGED
    duplicate.merged_into_id = into.id
    duplicate.resolved_at = None
    moved = db.session.scalars(select(Ticket).where(Ticket.merged_into_id == duplicate.id)).all()
    for earlier in moved:
        earlier.merged_into_id = into.id
    add_event(duplicate, actor, "merged_into", f"{into.reference} — {reason}")
    add_event(into, actor, "merged_from", f"{duplicate.reference} — {reason}")
    db.session.flush()
    audit.record(
        actor,
        "ticket.merge",
        voter_id=duplicate.voter_id or into.voter_id,
        ticket_id=duplicate.id,
        into=into.reference,
        before=before,
        reason=reason,
        moved=sorted(t.reference for t in moved),
    )
