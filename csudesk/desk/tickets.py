"""Tickets at the desk: the CSU queue, a ticket's page and its changes."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.auth.guards import current_actor, scope_covers
from csudesk.directory.models import CSU
from csudesk.directory.services import NATIONAL_CSU_CODE, csu_by_code, csu_choices
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import choices, populate_errors
from csudesk.security import bounded_int
from csudesk.tickets import queries
from csudesk.tickets import services as tickets
from csudesk.tickets.models import STATUS_LABELS, Ticket

from .blueprint import bp, scope, voter_in_scope_or_404
from .forms import NewTicketForm, NoteForm, StatusForm, TransferForm
from .views import NOT_FOUND_KEY


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = tickets.get_ticket_in_scope(current_actor(), ticket_id)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/tickets")
def queue():
    """Open tickets of the agent's CSU (the national CSU picks which CSU to look at)."""
    csu_ids = scope()
    status = request.args.get("statut", queries.OPEN)
    selected_csu = None
    if csu_ids is None:
        selected_csu = csu_by_code(request.args.get("csu", NATIONAL_CSU_CODE))
        if selected_csu is None:
            abort(404)
        csu_ids = {selected_csu.id}
    found = queries.queue_page(csu_ids, status, bounded_int(request.args.get("page"), 1))
    return render_template(
        "desk/queue.html",
        tickets=found.tickets,
        total=found.total,
        page=found.page,
        pages=found.pages,
        status=status,
        statuses=STATUS_LABELS,
        csus=csu_choices() if csu_ids is None else None,
        selected_csu=selected_csu,
    )


@bp.route("/tickets/nouveau", methods=["GET", "POST"])
def new_ticket():
    """Open a ticket, for a voter of the roll or for a caller who is not found on it."""
    voter_id = bounded_int(request.args.get("electeur"))
    voter = voter_in_scope_or_404(voter_id) if voter_id else None
    form = NewTicketForm()
    if form.validate_on_submit():
        actor = current_actor()
        ticket = tickets.create_ticket(
            actor,
            csu=voter.csu if voter else current_user.csu,
            category=form.category.data,
            channel=form.channel.data,
            voter=voter,
            contact_email=(form.contact_email.data or "").strip() or None,
            contact_last_name=(form.contact_last_name.data or "").strip() or None,
            contact_first_name=(form.contact_first_name.data or "").strip() or None,
        )
        if form.note.data and form.note.data.strip():
            tickets.add_note(actor, ticket, form.note.data)
        flash(f"Ticket {ticket.reference} créé.", "success")
        return redirect(url_for("desk.ticket", ticket_id=ticket.id))
    if request.method == "GET" and not voter and request.args.get("depuis") == "recherche":
        # The address the agent searched for and did not find: taken from the session, so
        # that it never travels in the URL.
        form.contact_email.data = session.get(NOT_FOUND_KEY, "")[:254]
    return render_template("desk/new_ticket.html", form=form, voter=voter), (
        400 if form.errors else 200
    )


def transfer_choices(ticket: Ticket):
    return choices((c.id, f"{c.name} [{c.code}]") for c in csu_choices() if c.id != ticket.csu_id)


def _ticket_page(ticket: Ticket, status: int = 200, **forms):
    events = queries.ticket_events(ticket)
    links = queries.ticket_links(ticket)
    csus = {c.id: c for c in csu_choices()}
    transfer = forms.get("transfer_form") or TransferForm(formdata=None)
    transfer.csu.choices = transfer_choices(ticket)
    return (
        render_template(
            "desk/ticket.html",
            ticket=ticket,
            events=events,
            links=links,
            csus=csus,
            note_form=forms.get("note_form") or NoteForm(formdata=None),
            status_form=forms.get("status_form") or StatusForm(formdata=None, status=ticket.status),
            transfer_form=transfer,
        ),
        status,
    )


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):
    """A ticket with its whole history."""
    return _ticket_page(_ticket_or_404(ticket_id))


@bp.post("/tickets/<int:ticket_id>/note")
def add_note(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = NoteForm()
    if not form.validate():
        return _ticket_page(ticket, 400, note_form=form)
    tickets.add_note(current_actor(), ticket, form.text.data)
    flash("Note ajoutée.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id) + "#historique")


@bp.post("/tickets/<int:ticket_id>/statut")
def change_status(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = StatusForm()
    if not form.validate():
        return _ticket_page(ticket, 400, status_form=form)
    tickets.change_status(current_actor(), ticket, form.status.data)
    flash(f"Statut : {ticket.status_label}.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/prendre")
def take(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    tickets.assign(current_actor(), ticket, current_user.id)
    flash("Le ticket vous est attribué.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/transfert")
def transfer(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = TransferForm()
    form.csu.choices = transfer_choices(ticket)
    if not form.validate():
        return _ticket_page(ticket, 400, transfer_form=form)
    to_csu = db.session.get(CSU, form.csu.data)
    try:
        tickets.transfer(current_actor(), ticket, to_csu, form.reason.data)
    except ServiceError as exc:
        uow.discard()
        populate_errors(form, exc, "reason")
        return _ticket_page(ticket, 400, transfer_form=form)
    flash(f"Ticket {ticket.reference} transféré à {to_csu.name}.", "success")
    if not scope_covers(to_csu.id):
        return redirect(url_for("desk.queue"))
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))
