"""The three actions on a voter, each one belonging to a ticket (POST only)."""

from flask import abort, flash, redirect, url_for

from csudesk import uow
from csudesk.access import services as access
from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.auth.guards import current_actor, scope_covers
from csudesk.desk.voter_file import voter_tickets
from csudesk.exceptions import ServiceError
from csudesk.links.models import LINK_PURPOSE_LABELS
from csudesk.roll.models import Voter
from csudesk.tickets.models import Ticket
from csudesk.tickets.queries import open_ticket_of_voter
from csudesk.tickets.services import TicketError, create_ticket

from .blueprint import bp, scope, voter_in_scope_or_404
from .forms import NEW_TICKET, ChallengeForm, LinkActionForm
from .views import action_forms, voter_page

LINK_ACTIONS = {
    "activation": access.resend_activation_link,
    "password_reset": access.send_password_reset_link,
    "vote_code": access.request_vote_code_reissue,
}


def _bind(voter: Voter, name: str, form_class):
    """The posted form, with the same choices as the page offered (not the whole voter file)."""
    open_tickets = [t for t in voter_tickets(voter, scope()) if t.is_open]
    offered = action_forms(voter, open_tickets)[name]
    form = form_class(prefix=name)
    form.ticket.choices = offered.ticket.choices
    if hasattr(form, "address"):
        form.address.choices = offered.address.choices
    return form


def _ticket_for(actor: Actor, voter: Voter, form, purpose: str | None = None) -> Ticket:
    """The open ticket the agent picked (this voter's, in scope) or a new one.

    "New ticket" for a link asked seconds ago (a double click) joins that click's ticket:
    one click, one ticket. The caller holds the voter's lock.
    """
    if form.ticket.data == NEW_TICKET:
        earlier = (
            access.recent_request_ticket(voter, purpose, form.address.data) if purpose else None
        )
        if earlier is not None and scope_covers(earlier.csu_id):
            return earlier
        return create_ticket(
            actor,
            csu=voter.csu,
            category=form.category.data,
            channel=form.channel.data,
            voter=voter,
        )
    ticket = open_ticket_of_voter(int(form.ticket.data), voter.id)
    if ticket is None or not scope_covers(ticket.csu_id):
        raise TicketError("Ce ticket n'est plus ouvert : choisissez-en un autre.")
    return ticket


def _refused(actor: Actor, voter: Voter, action: str, reason: str):
    """Nothing of the attempt is kept but the audit entry saying it was refused and why."""
    uow.discard()
    audit.record(actor, f"{action}.refused", voter_id=voter.id, reason=reason)
    flash(reason, "error")
    return redirect(url_for("desk.voter", voter_id=voter.id) + "#confirmation")


@bp.post("/electeurs/<int:voter_id>/liens/<action>")
def send_link(voter_id: int, action: str):
    """Send an activation, password-reset or vote-code link to a roll address."""
    if action not in LINK_ACTIONS:
        abort(404)
    voter = voter_in_scope_or_404(voter_id)
    form = _bind(voter, action, LinkActionForm)
    if not form.validate():
        return voter_page(
            voter, {action: form}, 400, "voter.view", {"invalid_form": f"link.{action}"}
        )
    actor = current_actor()
    access.lock_voter(voter)
    try:
        ticket = _ticket_for(actor, voter, form, action)
        result = LINK_ACTIONS[action](actor, voter, form.address.data, ticket)
    except ServiceError as exc:
        return _refused(actor, voter, f"link.{action}", str(exc))
    label = LINK_PURPOSE_LABELS[action]
    if result.duplicate:
        flash(
            f"Un {label} vient déjà d'être demandé pour {result.link.address} :"
            " aucun nouvel envoi (double clic).",
            "info",
        )
    else:
        flash(
            f"{label[0].upper()}{label[1:]} mis en file d'envoi vers {result.link.address}"
            f" (ticket {ticket.reference}).",
            "success",
        )
    return redirect(url_for("desk.voter", voter_id=voter.id) + "#confirmation")


@bp.post("/electeurs/<int:voter_id>/defi")
def check_challenge(voter_id: int):
    """Check the answer the caller gives to their challenge: only "correct" or "not correct"."""
    voter = voter_in_scope_or_404(voter_id)
    form = _bind(voter, "challenge", ChallengeForm)
    if not form.validate():
        return voter_page(
            voter, {"challenge": form}, 400, "voter.view", {"invalid_form": "challenge.check"}
        )
    actor = current_actor()
    access.lock_voter(voter)  # before the ticket: a double click's second POST waits here
    if form.ticket.data == NEW_TICKET:
        earlier = access.recent_check_in_new_ticket(
            actor, voter, form.category.data, form.channel.data
        )
        if earlier is not None and scope_covers(earlier.ticket.csu_id):
            access.join_recent_check(actor, voter, earlier)
            flash(
                "Cette vérification vient d'être faite (double clic) : réponse au défi "
                + ("correcte" if earlier.correct else "incorrecte")
                + f", ticket {earlier.ticket.reference}. Aucun essai de plus n'est compté."
                " Pour vérifier une autre réponse, choisissez ce ticket.",
                "info",
            )
            return redirect(url_for("desk.voter", voter_id=voter.id) + "#actions")
    try:
        ticket = _ticket_for(actor, voter, form)
        correct = access.check_challenge_answer(actor, voter, form.answer.data, ticket)
    except ServiceError as exc:
        return _refused(actor, voter, "challenge.check", str(exc))
    if correct:
        flash(
            "Réponse au défi : correcte. Vous pouvez envoyer le lien de réassort du code de vote.",
            "success",
        )
    else:
        flash("Réponse au défi : incorrecte.", "error")
    return redirect(url_for("desk.voter", voter_id=voter.id) + "#confirmation")
