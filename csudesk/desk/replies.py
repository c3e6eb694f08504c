"""Replying from a ticket: compose, preview, send; réponses types inserted into a reply or a note.

Everything works without JavaScript: the preview and the "Insérer" button are form posts that
re-render the page, and the preview keeps nothing server-side but the form's hidden fields.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.auth.guards import current_actor
from csudesk.conversation import responses
from csudesk.conversation.replies import (
    check_ticket,
    prepare_reply,
    reply_recipients,
    send_reply,
)
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import choices, populate_errors
from csudesk.querystring import bounded_int
from csudesk.tickets.models import Ticket, TicketEvent
from csudesk.tickets.queries import events_after, latest_event_id

from .blueprint import bp
from .forms import NoteForm, ReplyForm
from .tickets import ticket_or_404, ticket_page

INSERT, PREVIEW, EDIT, SEND = "inserer", "previsualiser", "modifier", "envoyer"


@bp.context_processor
def _response_picker():
    """The picker partial (templates/desk/_response_picker.html) loads its réponses types."""
    return {"response_picks": responses.filled_for}


def _insert_response(ticket: Ticket, text: str | None) -> tuple[str, bool]:
    """The text with the chosen réponse type, filled, added at its end (flashed either way)."""
    chosen = bounded_int(request.form.get("reponse_type"))
    template = next((t for t in responses.available_for(ticket.csu_id) if t.id == chosen), None)
    text = (text or "").rstrip()
    if template is None:
        flash("Choisissez une réponse type à insérer.", "error")
        return text, False
    filled = responses.fill(template.body, ticket)
    flash(f"Réponse type « {template.title} » insérée à la fin du texte : relisez-la.", "info")
    return (text + "\n\n" + filled if text else filled), True


def _answered_event(ticket: Ticket, raw: str | None) -> TicketEvent | None:
    event_id = bounded_int(raw)
    event = db.session.get(TicketEvent, event_id) if event_id else None
    return event if event is not None and event.ticket_id == ticket.id else None


def _reply_page(ticket: Ticket, form: ReplyForm, status: int = 200, **context):
    return (
        render_template(
            "desk/reply.html", ticket=ticket, form=form, recipients=form.to.choices, **context
        ),
        status,
    )


@bp.route("/tickets/<int:ticket_id>/repondre", methods=["GET", "POST"])
def reply(ticket_id: int):
    """Write a reply to the voter, preview it as it will leave, send it."""
    ticket = ticket_or_404(ticket_id)
    form = ReplyForm()
    form.to.choices = choices(reply_recipients(ticket))
    if request.method == "GET":
        form.derniere_activite.data = latest_event_id(ticket) or ""
        answered = _answered_event(ticket, request.args.get("reponse_a"))
        form.reponse_a.data = answered.id if answered else ""
        if len(form.to.choices) == 1:
            form.to.data = form.to.choices[0].value
        try:
            check_ticket(current_actor(), ticket)
        except ServiceError as exc:
            return _reply_page(ticket, form, refusal=str(exc))
        return _reply_page(ticket, form)
    step = request.form.get("etape", PREVIEW)
    if step == INSERT:
        form.body.data, inserted = _insert_response(ticket, form.body.data)
        return _reply_page(ticket, form, 200 if inserted else 400)
    if step == EDIT:
        return _reply_page(ticket, form)
    if not form.validate():
        return _reply_page(ticket, form, 400)
    actor = current_actor()
    answered = _answered_event(ticket, form.reponse_a.data)
    newer = events_after(ticket, bounded_int(form.derniere_activite.data), current_user.id)
    try:
        draft = prepare_reply(
            actor, ticket, to=form.to.data, body=form.body.data, in_reply_to_event=answered
        )
        if step != SEND:
            return _reply_page(ticket, form, draft=draft, newer=newer)
        if newer and bounded_int(request.form.get("confirmer"), 0) < newer[-1].id:
            # Someone else answered or wrote since this page was loaded: read it first.
            return _reply_page(ticket, form, 409, draft=draft, newer=newer, must_confirm=True)
        send_reply(
            actor,
            ticket,
            to=form.to.data,
            body=form.body.data,
            resolve=form.resolve.data,
            in_reply_to_event=answered,
        )
    except ServiceError as exc:
        uow.discard()
        if exc.field is None:  # the ticket's state, not the form: say it above everything
            return _reply_page(ticket, form, 400, refusal=str(exc))
        populate_errors(form, exc)
        return _reply_page(ticket, form, 400)
    flash(
        f"Réponse mise en file d'envoi vers {draft.to}. Ticket : {ticket.status_label.lower()}.",
        "success",
    )
    return redirect(url_for("desk.ticket", ticket_id=ticket.id) + "#historique", 303)


@bp.post("/tickets/<int:ticket_id>/note/reponse-type")
def insert_note_response(ticket_id: int):
    """Insert a réponse type at the end of the note being written (the no-JavaScript path)."""
    ticket = ticket_or_404(ticket_id)
    form = NoteForm()
    form.text.data, inserted = _insert_response(ticket, form.text.data)
    return ticket_page(ticket, 200 if inserted else 400, note_form=form)
