"""The ticket log of the supervisor's scope, its CSV export and a ticket's whole history."""

from dataclasses import dataclass

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from csudesk import uow
from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.auth.guards import current_actor
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.elections.calendar import paris
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.reporting.export import csv_stream
from csudesk.reporting.ticket_log import Cursor, LogFilter, count, log_page
from csudesk.tickets.queries import ticket_events
from csudesk.tickets.services import get_ticket_in_scope

from . import address_filter
from .blueprint import bp, chosen_agent, chosen_csu_ids, set_scope_choices
from .forms import TicketLogForm


def _log_filter(form: TicketLogForm, args, address: str | None) -> LogFilter | None:
    """The filter of a form bound to `args` (query string or POST body); None when invalid."""
    set_scope_choices(form)
    csu_ids = chosen_csu_ids(args.get("csu"))
    agent = chosen_agent(args.get("agent"))
    if not form.validate():
        return None
    return LogFilter(
        csu_ids=csu_ids,
        agent_id=agent.id if agent else None,
        category=form.categorie.data or None,
        status=form.statut.data or None,
        channel=form.canal.data or None,
        date_from=form.du.data,
        date_to=form.au.data,
        voter_email=(address or "").strip() or None,
        text=(form.texte.data or "").strip() or None,
    )


@dataclass
class LogRequest:
    """The filter a GET asks for: the address comes from the session, by its key."""

    form: TicketLogForm
    log_filter: LogFilter | None
    address: str | None
    expired: bool  # a key this session does not (or no longer) know


def _filter_from_query() -> LogRequest:
    form = TicketLogForm(address_filter.query_without_address())
    key = request.args.get(address_filter.PARAM)
    address = address_filter.recall(key)
    form.courriel.data = address or ""
    log_filter = _log_filter(form, request.args, address)
    return LogRequest(form, log_filter, address, expired=bool(key) and address is None)


@bp.get("/tickets")
def ticket_log():
    """Every ticket of the scope, filtered, newest first, by pages of PAGE_SIZE."""
    refused = address_filter.refuse_address_in_url("supervision.ticket_log")
    if refused is not None:
        return refused
    asked = _filter_from_query()
    if asked.log_filter is None:
        return render_template("supervision/tickets.html", form=asked.form, page=None, total=0), 400
    filter_args = address_filter.link_args()
    if asked.expired:
        # Without its address the filter would show other tickets than the ones asked for.
        return render_template(
            "supervision/tickets.html",
            form=asked.form,
            page=None,
            total=0,
            expired_address=True,
            filter_args=filter_args,
        )
    size = current_app.config["PAGE_SIZE"]
    page = log_page(
        asked.log_filter,
        size,
        after=Cursor.decode(request.args.get("apres")),
        before=Cursor.decode(request.args.get("avant")),
    )
    return render_template(
        "supervision/tickets.html",
        form=asked.form,
        page=page,
        total=count(asked.log_filter),
        filter_args=filter_args,
        filtered=bool(filter_args),
    )


@bp.post("/tickets")
def filter_ticket_log():
    """The filter form, sent by POST: 303 to the log, the voter's address under a key."""
    form = TicketLogForm(request.form)
    if _log_filter(form, request.form, form.courriel.data) is None:
        return render_template("supervision/tickets.html", form=form, page=None, total=0), 400
    return address_filter.redirect_to_filter("supervision.ticket_log", form)


@bp.get("/tickets/export.csv")
def export_tickets():
    """The filtered log as CSV, streamed row by row; the export itself is audited first."""
    refused = address_filter.refuse_address_in_url("supervision.ticket_log")
    if refused is not None:
        return refused
    asked = _filter_from_query()
    if asked.log_filter is None:
        abort(400)
    if asked.expired:
        # The log page says the address is to be typed again; no export of other tickets.
        return redirect(url_for("supervision.ticket_log", **address_filter.link_args()), 303)
    # The audit entry names the address itself: the key means nothing outside the session.
    filters = {k: v for k, v in address_filter.link_args().items() if k != address_filter.PARAM}
    if asked.address:
        filters["courriel"] = asked.address
    audit.record(current_actor(), "export.tickets", filters=filters)
    # Committed before the stream starts: the export reads in a read-only unit of work.
    uow.commit_now()
    filename = f"tickets-{paris(utcnow()).strftime('%Y%m%d-%H%M')}.csv"
    return Response(
        stream_with_context(csv_stream(asked.log_filter)),
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
    events = ticket_events(ticket, with_links=True)  # with those of tickets merged into it
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
    return uow.commit_then_render(
        "supervision/ticket.html",
        ticket=ticket,
        events=events,
        mails=mails,
        entries=entries,
        csus=csus,
    )
