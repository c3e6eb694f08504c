"""The audit trail for supervisors: search by voter, agent, action and period; chain check."""

from dataclasses import dataclass

from flask import abort, current_app, render_template, request

from csudesk import uow
from csudesk.agents import queries as agent_queries
from csudesk.audit import queries
from csudesk.audit import services as audit
from csudesk.audit.anchors import read_anchors
from csudesk.audit.models import AuditEntry
from csudesk.auth.guards import current_actor, scope_covers
from csudesk.db import read_only
from csudesk.extensions import db
from csudesk.forms import choices
from csudesk.querystring import bounded_int
from csudesk.roll.models import Voter
from csudesk.roll.services import voter_id_of_address

from . import address_filter
from .blueprint import bp, chosen_agent, scope, set_scope_choices
from .forms import AuditSearchForm
from .labels import ACTION_LABELS


@dataclass
class VoterChoice:
    voter: Voter | None
    unknown_address: bool = False


def _voter_from_request(form: AuditSearchForm) -> VoterChoice:
    """The voter asked for, by id (links from other pages) or by roll address, in scope only."""
    raw_id = request.args.get("electeur", "")
    if raw_id:
        voter_id = bounded_int(raw_id)
        voter = db.session.get(Voter, voter_id) if voter_id else None
        if voter is None or not scope_covers(voter.csu_id):
            abort(404)
        return VoterChoice(voter)
    if form.courriel.data:
        voter_id = voter_id_of_address(form.courriel.data)
        voter = db.session.get(Voter, voter_id) if voter_id else None
        # Outside the scope reads as unknown: the page does not say who is on other rolls.
        if voter is None or not scope_covers(voter.csu_id):
            return VoterChoice(None, unknown_address=True)
        return VoterChoice(voter)
    return VoterChoice(None)


def _journal_scope(csu_ids: set[int] | None) -> queries.JournalScope | None:
    """The national scope reads every entry (None); a CSU's, those of its voters and agents."""
    if csu_ids is None:
        return None
    return queries.JournalScope(csu_ids, agent_queries.ids_in_csus(csu_ids))


def _set_choices(form: AuditSearchForm) -> None:
    set_scope_choices(form)
    form.action.choices = choices(
        [("", "Toutes")] + sorted(ACTION_LABELS.items(), key=lambda item: item[1])
    )


@bp.get("/journal")
def audit_log():
    """Audit entries of the scope, newest first: who looked at a voter, what an agent did."""
    refused = address_filter.refuse_address_in_url("supervision.audit_log")
    if refused is not None:
        return refused
    form = AuditSearchForm(address_filter.query_without_address())
    _set_choices(form)
    key = request.args.get(address_filter.PARAM)
    form.courriel.data = address_filter.recall(key) or ""
    expired_address = bool(key) and not form.courriel.data
    agent = chosen_agent(request.args.get("agent"))
    chosen = _voter_from_request(form)
    if not form.validate():
        return render_template("supervision/journal.html", form=form, entries=None), 400
    filter_args = address_filter.link_args()
    if expired_address:
        return render_template(
            "supervision/journal.html",
            form=form,
            entries=None,
            expired_address=True,
            filter_args=filter_args,
        )
    csu_ids = scope()
    entries: list[AuditEntry] = []
    newer = older = None
    if not chosen.unknown_address:
        search = queries.JournalSearch(
            scope=_journal_scope(csu_ids),
            voter_id=chosen.voter.id if chosen.voter is not None else None,
            agent_id=agent.id if agent is not None else None,
            action=form.action.data or None,
            date_from=form.du.data,
            date_to=form.au.data,
        )
        page = queries.journal_page(
            search,
            current_app.config["PAGE_SIZE"],
            after=bounded_int(request.args.get("apres")),
            before=bounded_int(request.args.get("avant")),
        )
        entries = page.items
        newer = page.newer[0] if page.newer is not None else None
        older = page.older[0] if page.older is not None else None
    if chosen.voter is not None:
        # Reading a voter's trail is looking at the voter: it leaves its own entry.
        audit.record(current_actor(), "supervision.voter_audit_view", voter_id=chosen.voter.id)
    return render_template(
        "supervision/journal.html",
        form=form,
        entries=entries,
        voter=chosen.voter,
        # An agent of this scope may have looked up another CSU's voter: name only ours.
        voter_scope=csu_ids,
        unknown_address=chosen.unknown_address,
        agent=agent,
        newer=newer,
        older=older,
        filter_args=filter_args,
        details_of=audit.details_of,
    )


@bp.post("/journal")
def filter_audit_log():
    """The search form, sent by POST: 303 to the journal, the voter's address under a key."""
    form = AuditSearchForm(request.form)
    _set_choices(form)
    chosen_agent(request.form.get("agent"))
    if not form.validate():
        return render_template("supervision/journal.html", form=form, entries=None), 400
    return address_filter.redirect_to_filter("supervision.audit_log", form)


@bp.route("/journal/integrite", methods=["GET", "POST"])
def verify():
    """Recompute the whole hash chain on demand and name the first broken entry."""
    report = entry = head_error = None
    noted = request.form.get("tete", "").strip()[:100]
    if request.method == "POST":
        try:
            noted_head = audit.parse_head(noted) if noted else None
        except audit.BadHead as exc:
            head_error = str(exc)
            return render_template(
                "supervision/verify.html",
                report=None,
                entry=None,
                noted=noted,
                head_error=head_error,
            ), 400
        # The whole chain is read without holding SQLite's write lock, then the check is audited.
        uow.commit_now()
        with read_only():
            report = audit.verify_chain(noted_head=noted_head, anchors=read_anchors().anchors)
        if not report.ok:
            entry = db.session.get(AuditEntry, report.broken_id)
        audit.record(
            current_actor(),
            "audit.verify",
            ok=report.ok,
            checked=report.checked,
            broken_id=report.broken_id,
            head=report.head,
            noted_head=noted or None,
        )
    return render_template(
        "supervision/verify.html", report=report, entry=entry, noted=noted, head_error=head_error
    )
