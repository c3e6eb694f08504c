"""Desk home, voter lookup (by work address or by name) and the voter file."""

from collections.abc import Callable

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from csudesk import uow
from csudesk.audit import services as audit
from csudesk.auth.guards import current_actor, scope_covers
from csudesk.db import end_reads, utcnow
from csudesk.desk.voter_file import voter_file
from csudesk.directory.models import CSU
from csudesk.directory.services import RoutingError, route_uai
from csudesk.directory.uai import InvalidUAI, normalize_uai
from csudesk.elections.calendar import election
from csudesk.extensions import db
from csudesk.forms import choices
from csudesk.roll import accounts
from csudesk.roll.services import find_voter_by_email, search_voters_by_name
from csudesk.text import normalize_email
from csudesk.tickets.models import Status, Ticket
from csudesk.tickets.presence import record_voter_view, voter_viewers
from csudesk.tickets.queries import open_tickets_assigned_to, parse_reference, ticket_by_reference

from .blueprint import bp, scope, voter_in_scope_or_404
from .forms import (
    NEW_TICKET,
    ChallengeForm,
    EmailSearchForm,
    LinkActionForm,
    NameSearchForm,
)

# The address last searched and not found, for the "open a ticket" button (never in a URL).
NOT_FOUND_KEY = "desk_not_found"
DEFAULT_CATEGORY = {
    "activation": "lien_non_recu",
    "password_reset": "mot_de_passe_refuse",
    "vote_code": "notice_non_recue",
    "challenge": "notice_non_recue",
}


@bp.get("/")
def index():
    """The agent's home: search forms and their open tickets."""
    my_tickets = open_tickets_assigned_to(current_user.id)
    return render_template(
        "desk/index.html",
        email_form=EmailSearchForm(formdata=None),
        name_form=NameSearchForm(formdata=None),
        my_tickets=my_tickets,
    )


@bp.route("/recherche", methods=["GET", "POST"])
def search():
    """Look a voter up by work address (POST) or by name (GET) within the agent's scope.

    The address search is a POST so that no voter's address sits in a URL, a browser history
    or an access log line, and a link on another site cannot make an agent's browser run it.
    """
    if request.method == "POST":
        return _search_by_email()
    if "nom" in request.args:
        return _search_by_name()
    return _results_page()


def _search_by_email():
    form = EmailSearchForm()
    if not form.validate():
        return _results_page(email_form=form, status=400)
    reference = parse_reference(form.courriel.data)
    if reference is not None:
        return _open_ticket(form, reference)
    address = normalize_email(form.courriel.data)
    found = find_voter_by_email(address)
    actor = current_actor()
    if found is None:
        audit.record(actor, "voter.lookup", by="email", query=address[:254], found=False)
        session[NOT_FOUND_KEY] = address[:254]
        return _results_page(email_form=form, not_found=address)
    voter_id, csu_id = found
    if not scope_covers(csu_id):
        audit.record(
            actor, "voter.lookup", voter_id=voter_id, by="email", found=True, in_scope=False
        )
        # Only where to hand the caller over: nothing about the voter.
        other_csu = db.session.get(CSU, csu_id)
        return _results_page(email_form=form, other_csu=other_csu)
    audit.record(actor, "voter.lookup", voter_id=voter_id, by="email", found=True, in_scope=True)
    return redirect(url_for("desk.voter", voter_id=voter_id), 303)


def _open_ticket(form: EmailSearchForm, reference: str):
    """303 to the ticket (to the kept one for a merged ticket) if the agent's scope covers it;
    another CSU's ticket gets the same 404 answer as an unknown reference."""
    ticket = ticket_by_reference(reference)
    in_scope = ticket is not None and scope_covers(ticket.csu_id)
    audit.record(
        current_actor(),
        "ticket.lookup",
        voter_id=ticket.voter_id if in_scope else None,
        ticket_id=ticket.id if ticket is not None else None,
        by="reference",
        query=reference,
        found=ticket is not None,
        in_scope=in_scope,
    )
    if not in_scope:
        return _results_page(email_form=form, ticket_not_found=reference, status=404)
    kept = ticket.merged_into if ticket.status == Status.MERGED else None
    if kept is not None and scope_covers(kept.csu_id):
        flash(f"Le ticket {ticket.reference} a été fusionné dans {kept.reference} : le voici.")
        ticket = kept
    return redirect(url_for("desk.ticket", ticket_id=ticket.id), 303)


def _search_by_name():
    form = NameSearchForm(request.args)
    if not form.validate():
        return _results_page(name_form=form, status=400)
    establishment_id = None
    if form.uai.data:
        try:
            route = route_uai(form.uai.data)
        except (InvalidUAI, RoutingError) as exc:
            form.uai.errors.append(str(exc))
            return _results_page(name_form=form, status=400)
        if route.establishment is None:
            form.uai.errors.append(f"Aucun électeur de la liste n'est affecté à {route.uai}.")
            return _results_page(name_form=form, status=400)
        establishment_id = route.establishment.id
    matches = search_voters_by_name(
        form.nom.data, form.prenom.data or "", csu_ids=scope(), establishment_id=establishment_id
    )
    audit.record(
        current_actor(),
        "voter.search",
        by="name",
        last_name=form.nom.data[:100],
        first_name=(form.prenom.data or "")[:100],
        uai=normalize_uai(form.uai.data or "") or None,
        results=len(matches),
    )
    return _results_page(name_form=form, matches=matches, searched=True)


def _results_page(email_form=None, name_form=None, status=200, **context):
    return (
        render_template(
            "desk/search.html",
            email_form=email_form or EmailSearchForm(formdata=None),
            name_form=name_form or NameSearchForm(formdata=None),
            **context,
        ),
        status,
    )


@bp.get("/electeurs/<int:voter_id>")
@uow.reads_first
def voter(voter_id: int):
    """The voter file."""
    return voter_page(voter_in_scope_or_404(voter_id), audit_action="voter.view")


def challenge_verified(voter_id: int) -> bool:
    """True while this agent holds an unspent proof of a correct check (kept server-side)."""
    return accounts.has_challenge_proof(voter_id, current_user.id)


class ActionForms(dict):
    """The voter file's action forms by name, each built when first asked for: the page shows
    one or two of the four, and a form sent back with its errors is put in as it is."""

    def __init__(self, build: Callable[[str], object]):
        super().__init__()
        self._build = build

    def __missing__(self, name: str):
        if name not in DEFAULT_CATEGORY:
            raise KeyError(name)
        form = self[name] = self._build(name)
        return form


def action_forms(voter, open_tickets: list[Ticket]) -> ActionForms:
    """The action forms of the voter file, with the ticket and address choices filled in."""
    addresses = choices((e.address, e.address) for e in voter.emails)
    tickets = choices(
        [(NEW_TICKET, "Créer un nouveau ticket")]
        + [
            (str(t.id), f"{t.reference} — {t.category_label} ({t.status_label.lower()})")
            for t in open_tickets
        ]
    )
    default_ticket = str(open_tickets[0].id) if open_tickets else NEW_TICKET

    def build(name: str):
        form = (ChallengeForm if name == "challenge" else LinkActionForm)(
            formdata=None,
            prefix=name,
            ticket=default_ticket,
            category=DEFAULT_CATEGORY[name],
            channel="telephone",
            address=addresses[0].value if addresses else None,
        )
        form.ticket.choices = tickets
        if hasattr(form, "address"):
            form.address.choices = addresses
        return form

    return ActionForms(build)


def voter_page(
    found,
    forms: dict | None = None,
    status: int = 200,
    audit_action: str | None = None,
    audit_details: dict | None = None,
):
    """Load the voter file, audit the page when asked, end the transaction, then render.

    The audit entry is appended last, just before the commit: on PostgreSQL the lock that
    serialises appends to the chain is then held for one INSERT, not for the file's queries.
    On SQLite the GET's reads run without the write lock (`uow.reads_first`), which only the
    page view and the audit entry take. Rendering after the commit keeps the transaction as
    short as the queries themselves.
    """
    file = voter_file(found, scope())
    challenge_ok = challenge_verified(found.id)
    others = voter_viewers(found.id, current_user.id)
    end_reads()  # on a reads-first GET, the two appends below take SQLite's write lock
    if request.method == "GET":
        # A form sent back with its errors is the same visit, not a new one.
        record_voter_view(current_user.id, found.id)
    if audit_action is not None:
        audit.record(current_actor(), audit_action, voter_id=found.id, **(audit_details or {}))
    all_forms = action_forms(found, file.open_tickets)
    if forms:
        all_forms.update(forms)
    return uow.commit_then_render(
        "desk/voter.html",
        status,
        file=file,
        voter=found,
        forms=all_forms,
        voting_open=election().voting_open(utcnow()),
        challenge_ok=challenge_ok,
        challenge_locked=accounts.challenge_locked_until(found, accounts.DESK),
        others=others,
        now=utcnow(),
    )
