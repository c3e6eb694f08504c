"""The ticket log of the supervisor's scope, its CSV export and a ticket's whole history."""

from flask import Response, abort, current_app, render_template, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.auth.guards import current_actor
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.elections.calendar import paris
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.tickets.models import TicketEvent
from csudesk.tickets.services import get_ticket_in_scope

from .blueprint import bp, chosen_agent, chosen_csu_ids, set_scope_choices
from .export import csv_stream
from .forms import TicketLogForm
from .ticket_log import Cursor, LogFilter, count, log_page


def _filter_from_request() -> tuple[TicketLogForm, LogFilter | None]:
    """The filter form bound to the query string and, when it is valid, the filter."""
    form = TicketLogForm(request.args)
    set_scope_choices(form)
    csu_ids = chosen_csu_ids(request.args.get("csu"))
    agent = chosen_agent(request.args.get("agent"))
    if not form.validate():
        return form, None
    return form, LogFilter(
        csu_ids=csu_ids,
        agent_id=agent.id if agent else None,
        category=form.categorie.data or None,
        status=form.statut.data or None,
        channel=form.canal.data or None,
        date_from=form.du.data,
        date_to=form.au.data,
        voter_email=(form.courriel.data or "").strip() or None,
        text=(form.texte.data or "").strip() or None,
    )


def _filter_args() -> dict[str, str]:
    """The filter part of the query string, to carry into pagination and export links."""
    return {k: v for k, v in request.args.items() if k not in ("apres", "avant") and v}


@bp.get("/tickets")
def ticket_log():
    """Every ticket of the scope, filtered, newest first, by pages of PAGE_SIZE."""
    form, log_filter = _filter_from_request()
    if log_filter is None:
        return render_template("supervision/tickets.html", form=form, page=None, total=0), 400
    size = current_app.config["PAGE_SIZE"]
    page = log_page(
        log_filter,
        size,
        after=Cursor.decode(request.args.get("apres")),
        before=Cursor.decode(request.args.get("avant")),
    )
    return render_template(
        "supervision/tickets.html",
        form=form,
        page=page,
        total=count(log_filter),
        filter_args=_filter_args(),
        filtered=bool(_filter_args()),
    )


@bp.get("/tickets/export.csv")
def export_tickets():
    """The filtered log as CSV, streamed row by row; the export itself is audited first."""
    form, log_filter = _filter_from_request()
    if log_filter is None:
        abort(400)
    audit.record(current_actor(), "export.tickets", filters=_filter_args())
    db.session.commit()
    filename = f"tickets-{paris(utcnow()).strftime('%Y%m%d-%H%M')}.csv"
    return Response(
        stream_with_context(csv_stream(log_filter)),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):
    """A ticket with every event, link, mail and its delivery state, and its audit entries."""
    actor = current_actor()
    ticket = get_ticket_in_scope(actor, ticket_id)
    if ticket is None:
        abort(404)
    events = db.session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .options(joinedload(TicketEvent.agent), joinedload(TicketEvent.link))
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    mails = db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.ticket_id == ticket.id)
        .options(joinedload(OutboxMail.link))
        .order_by(OutboxMail.id)
    ).all()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.ticket_id == ticket.id)
        .options(joinedload(AuditEntry.agent))
        .order_by(AuditEntry.id)
    ).all()
    csu_ids = {e.from_csu_id for e in events} | {e.to_csu_id for e in events}
    csus = {c.id: c for c in db.session.scalars(select(CSU).where(CSU.id.in_(csu_ids)))}
    audit.record(actor, "supervision.ticket_view", voter_id=ticket.voter_id, ticket_id=ticket.id)
    db.session.commit()
    return render_template(
        "supervision/ticket.html",
        ticket=ticket,
        events=events,
        mails=mails,
        entries=entries,
        csus=csus,
    )
