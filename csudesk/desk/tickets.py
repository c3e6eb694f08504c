"""Tickets at the desk: the CSU queue, a ticket's page and its changes."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.auth.guards import current_actor, scope_covers
from csudesk.db import end_reads, utcnow
from csudesk.directory.models import CSU
from csudesk.directory.services import NATIONAL_CSU_CODE, csu_by_code, csu_choices
from csudesk.elections.calendar import paris
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import choices, populate_errors
from csudesk.querystring import bounded_int
from csudesk.tickets import queries
from csudesk.tickets import services as tickets
from csudesk.tickets.merge import merge
from csudesk.tickets.models import STATUS_LABELS, Status, Ticket
from csudesk.tickets.presence import record_ticket_view, ticket_viewers

from .blueprint import bp, scope, voter_in_scope_or_404
from .forms import MergeForm, NewTicketForm, NoteForm, StatusForm, TransferForm
from .views import NOT_FOUND_KEY


def ticket_or_404(ticket_id: int) -> Ticket:
    ticket = tickets.get_ticket_in_scope(current_actor(), ticket_id)
    if ticket is None:
        abort(404)
    return ticket


# The merge form shares the page with the transfer form: its field ids must differ.
MERGE_PREFIX = "fusion"


class MergedTicket(Exception):
    """A change posted to a ticket merged meanwhile: the page says where it went."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket


def changeable_ticket_or_404(ticket_id: int) -> Ticket:
    """The ticket a change is posted to; a merged ticket takes no more changes."""
    ticket = ticket_or_404(ticket_id)
    if ticket.status == Status.MERGED:
        raise MergedTicket(ticket)
    return ticket


@bp.errorhandler(MergedTicket)
def _merged_meanwhile(error: MergedTicket):
    """409 and the merged ticket's page, with what was typed, so that nothing is lost."""
    uow.discard()
    typed = (request.form.get("text") or "").strip()[: tickets.MAX_NOTE_LENGTH]
    return ticket_page(error.ticket, 409, refused_text=typed or None)


@bp.get("/tickets")
@uow.reads_first
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


def merge_choices(ticket: Ticket):
    return choices(
        (
            str(t.id),
            f"{t.reference} — {t.category_label} ({t.status_label.lower()}), "
            f"créé le {paris(t.created_at).strftime('%d/%m/%Y')}",
        )
        for t in queries.merge_candidates(ticket)
    )


def ticket_page(ticket: Ticket, status: int = 200, changes=None, refused_text=None, **forms):
    """The ticket page; the unit of work ends before the template renders."""
    events = queries.ticket_events(ticket)
    links = queries.ticket_links(ticket)
    csus = {c.id: c for c in csu_choices()}
    others = ticket_viewers(ticket.id, current_user.id)
    note = forms.get("note_form")
    if note is None:
        # A note form sent back keeps the moment its page was loaded at.
        note = NoteForm(formdata=None)
        note.derniere_activite.data = str(queries.latest_event_id(ticket))
    transfer = forms.get("transfer_form") or TransferForm(formdata=None)
    transfer.csu.choices = transfer_choices(ticket)
    merge_form = forms.get("merge_form") or MergeForm(formdata=None, prefix=MERGE_PREFIX)
    merge_form.into.choices = merge_choices(ticket)
    if request.method == "GET":
        # A form sent back with its errors is the same visit, not a new one.
        end_reads()
        record_ticket_view(current_user.id, ticket.id)
    return uow.commit_then_render(
        "desk/ticket.html",
        status,
        ticket=ticket,
        events=events,
        links=links,
        csus=csus,
        others=others,
        now=utcnow(),
        changes=changes,
        refused_text=refused_text,
        note_form=note,
        status_form=forms.get("status_form") or StatusForm(formdata=None, status=ticket.status),
        transfer_form=transfer,
        merge_form=merge_form,
    )


@bp.get("/tickets/<int:ticket_id>")
@uow.reads_first
def ticket(ticket_id: int):
    """A ticket with its whole history."""
    return ticket_page(ticket_or_404(ticket_id))


@bp.post("/tickets/<int:ticket_id>/note")
def add_note(ticket_id: int):
    """Add a note; if another agent changed the ticket since the page was loaded, ask first."""
    ticket = changeable_ticket_or_404(ticket_id)
    form = NoteForm()
    if not form.validate():
        return ticket_page(ticket, 400, note_form=form)
    loaded_after = bounded_int(form.derniere_activite.data)
    if loaded_after is not None:
        # A checked confirmation covers the events it was shown, not later ones.
        seen = max(loaded_after, form.confirme.data or 0)
        if queries.events_after(ticket, seen, current_user.id):
            changes = queries.events_after(ticket, loaded_after, current_user.id)
            return ticket_page(ticket, 409, changes=changes, note_form=form)
    tickets.add_note(current_actor(), ticket, form.text.data)
    flash("Note ajoutée.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id) + "#historique")


@bp.post("/tickets/<int:ticket_id>/fusion")
def merge_ticket(ticket_id: int):
    """Merge this ticket into another of the same voter or contact address; 303 to the kept one."""
    ticket = changeable_ticket_or_404(ticket_id)
    form = MergeForm(prefix=MERGE_PREFIX)
    form.into.choices = merge_choices(ticket)
    if not form.validate():
        return ticket_page(ticket, 400, merge_form=form)
    into = tickets.get_ticket_in_scope(current_actor(), int(form.into.data))
    if into is None:
        abort(404)
    try:
        merge(current_actor(), ticket, into, form.reason.data)
    except ServiceError as exc:
        uow.discard()
        populate_errors(form, exc, "into")
        return ticket_page(ticket, 400, merge_form=form)
    flash(f"Ticket {ticket.reference} fusionné dans {into.reference}.", "success")
    return redirect(url_for("desk.ticket", ticket_id=into.id), 303)


@bp.post("/tickets/<int:ticket_id>/statut")
def change_status(ticket_id: int):
    ticket = changeable_ticket_or_404(ticket_id)
    form = StatusForm()
    if not form.validate():
        return ticket_page(ticket, 400, status_form=form)
    tickets.change_status(current_actor(), ticket, form.status.data)
    flash(f"Statut : {ticket.status_label}.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/prendre")
def take(ticket_id: int):
    ticket = changeable_ticket_or_404(ticket_id)
    tickets.assign(current_actor(), ticket, current_user.id)
    flash("Le ticket vous est attribué.", "success")
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))


@bp.post("/tickets/<int:ticket_id>/transfert")
def transfer(ticket_id: int):
    ticket = changeable_ticket_or_404(ticket_id)
    form = TransferForm()
    form.csu.choices = transfer_choices(ticket)
    if not form.validate():
        return ticket_page(ticket, 400, transfer_form=form)
    to_csu = db.session.get(CSU, form.csu.data)
    try:
        tickets.transfer(current_actor(), ticket, to_csu, form.reason.data)
    except ServiceError as exc:
        uow.discard()
        populate_errors(form, exc, "reason")
        return ticket_page(ticket, 400, transfer_form=form)
    flash(f"Ticket {ticket.reference} transféré à {to_csu.name}.", "success")
    if not scope_covers(to_csu.id):
        return redirect(url_for("desk.queue"))
    return redirect(url_for("desk.ticket", ticket_id=ticket.id))
