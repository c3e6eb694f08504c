"""Public pages for voters: help, "Trouver ma CSU", self-service and the contact form.

No sign-in and no JavaScript needed. Every form answers the same way whatever the address
(SECURITY.md 13): self-service forms only store a request for the worker, the contact form's
receipt shows the CSU of the establishment the voter typed.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from csudesk.access import selfservice
from csudesk.access.models import RequestKind
from csudesk.actor import Actor
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.directory.services import RoutingError, route_uai, search_establishments
from csudesk.directory.uai import InvalidUAI, normalize_uai
from csudesk.elections.calendar import election
from csudesk.errors import error_page, guarded
from csudesk.extensions import db, limiter
from csudesk.forms import posted_form
from csudesk.net import client_ip
from csudesk.public import antiabuse
from csudesk.public.forms import AddressForm, ContactForm, EstablishmentSearchForm, VoteCodeForm
from csudesk.ratelimits import hashed_key
from csudesk.text import is_ascii_digits, normalize_email
from csudesk.tickets.intake import ContactMessage, submit_contact

bp = Blueprint("public", __name__)

MAX_QUERY_LENGTH = 120
# The contact form's establishment search: GET /nous-ecrire?recherche=...
SEARCH_PARAMETER = "recherche"
FORM_EXPIRED = (
    "La page est restée ouverte trop longtemps : vérifiez le formulaire, puis envoyez-le de"
    " nouveau."
)
# URL slug of each self-service request's confirmation page.
RECEIVED_SLUGS = {
    "lien-non-recu": RequestKind.LINK_NOT_RECEIVED,
    "mot-de-passe-refuse": RequestKind.PASSWORD_REFUSED,
    "code-de-vote": RequestKind.VOTE_CODE,
}


def _public_form_address() -> str:
    """The typed address as a key (an HMAC: the limiter's storage holds no address)."""
    try:
        typed = posted_form().get("email", "")
    except HTTPException:  # an unreadable body: the view refuses it, the key must not raise
        typed = ""
    return hashed_key("public-form-address", normalize_email(typed)[:254])


# Shared by every public form, every POST counted, whatever it carries (SECURITY.md 14): per
# typed address (strict) and per client IP (sized for a school or a rectorate behind one NAT
# address). The contact form's establishment search is a GET with its own limit.
_limit_per_address = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_PUBLIC_PER_ADDRESS"],
    scope="public-form-address",
    key_func=_public_form_address,
    methods=["POST"],
)
_limit_per_ip = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_PUBLIC_PER_IP"],
    scope="public-form-ip",
    key_func=client_ip,
    methods=["POST"],
)
_limit_search = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_SEARCH"],
    scope="establishment-search",
    key_func=client_ip,
    methods=["GET"],
    exempt_when=lambda: not (request.args.get("q") or request.args.get(SEARCH_PARAMETER)),
)


@bp.get("/")
def index():
    """Home page: the four usual situations, the calendar, what to do in each case."""
    return render_template("public/index.html", phase=election().phase(utcnow()))


def _looks_like_uai(query: str) -> bool:
    code = normalize_uai(query)
    return len(code) in (7, 8, 9) and is_ascii_digits(code[:7])


@bp.get("/trouver-ma-csu")
@_limit_search
def find_csu():
    """Search an establishment by UAI, name or city and show the CSU to contact."""
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    route, error, results = None, None, []
    if query:
        if _looks_like_uai(query):
            try:
                route = route_uai(query)
            except (InvalidUAI, RoutingError) as exc:
                error = str(exc)
        else:
            results = search_establishments(query)
    return render_template(
        "public/find_csu.html", query=query, route=route, error=error, results=results
    )


@bp.get("/trouver-ma-csu/<uai>")
def establishment_csu(uai: str):
    """The CSU of one establishment (link target of the search results)."""
    try:
        route = route_uai(uai)
    except (InvalidUAI, RoutingError):
        abort(404)
    return render_template("public/find_csu.html", query=route.uai, route=route, results=[])


# --- Self-service -------------------------------------------------------------------------


def _store_request(kind: RequestKind, address: str, answer_ok: bool | None = None):
    selfservice.submit(kind, address, client_ip(), answer_ok)
    session["selfservice_address"] = normalize_email(address)[:254]
    slug = next(slug for slug, value in RECEIVED_SLUGS.items() if value == kind)
    return redirect(url_for(".request_received", slug=slug), 303)


def _form_page(template: str, extra=None):
    """How a form page renders, fresh or sent back with what was typed."""

    def render(form, status=200, alert=None, rate_limited=False):
        context = extra(form) if extra is not None else {}
        page = render_template(
            template, form=form, alert=alert, rate_limited=rate_limited, **context
        )
        return page, status

    return render


def _address_request(kind: RequestKind, render):
    form = AddressForm()
    if form.validate_on_submit():
        return _store_request(kind, form.email.data)
    return render(form, 400 if form.errors else 200)


_render_link_not_received = _form_page("public/link_not_received.html")
_render_password_refused = _form_page("public/password_refused.html")
_render_vote_code = _form_page(
    "public/vote_code.html", lambda form: {"phase": election().phase(utcnow())}
)


@bp.route("/lien-non-recu", methods=["GET", "POST"])
@_limit_per_address
@_limit_per_ip
def link_not_received():
    """ "Je n'ai pas reçu mon lien": a new activation link (or a reset link if activated)."""
    return _address_request(RequestKind.LINK_NOT_RECEIVED, _render_link_not_received)


@bp.route("/mot-de-passe-refuse", methods=["GET", "POST"])
@_limit_per_address
@_limit_per_ip
def password_refused():
    """ "Mon mot de passe est refusé": a password-reset link to the roll address."""
    return _address_request(RequestKind.PASSWORD_REFUSED, _render_password_refused)


@bp.route("/reassort-code-de-vote", methods=["GET", "POST"])
@_limit_per_address
@_limit_per_ip
def vote_code():
    """Vote-code reissue while the vote is open: work address and challenge answer."""
    form = VoteCodeForm()
    if not election().voting_open(utcnow()):
        return _render_vote_code(form)
    if form.validate_on_submit():
        answer_ok = selfservice.vote_code_answer_ok(form.email.data, form.answer.data)
        return _store_request(RequestKind.VOTE_CODE, form.email.data, answer_ok)
    return _render_vote_code(form, 400 if form.errors else 200)


@bp.get("/demande-enregistree/<slug>")
def request_received(slug: str):
    """The same confirmation for every address: the worker decides what to send."""
    kind = RECEIVED_SLUGS.get(slug)
    if kind is None:
        abort(404)
    request.no_store = True
    return render_template(
        "public/request_received.html",
        kind=kind,
        address=session.get("selfservice_address"),
        ttl_hours=current_app.config["LINK_TTL_HOURS"],
    )


# --- Contact form -------------------------------------------------------------------------


def _contact_context(form: ContactForm) -> dict:
    """The establishment search: typed in the GET form, or carried by a refused submission."""
    if request.method == "GET":
        search = EstablishmentSearchForm(formdata=request.args)
        valid = search.validate()
        form.search.data = (search.recherche.data or "") if valid else ""
    else:
        search = EstablishmentSearchForm(formdata=None, recherche=form.search.data)
        valid = not form.search.errors
    term = search.recherche.data or ""
    searched = bool(term) and valid
    results = search_establishments(term) if searched else []
    return {"search_form": search, "results": results, "searched": searched, "term": term}


_render_contact = _form_page("public/contact.html", _contact_context)


def _trap_message(form: ContactForm) -> str | None:
    """Why the submission looks automated (honeypot filled, sent too fast), or None."""
    if form.website.data:
        form.website.data = ""
        return (
            "Votre message n'a pas pu être envoyé. Vérifiez le formulaire puis envoyez-le de"
            " nouveau."
        )
    elapsed = antiabuse.seconds_since_opened(form.started.data)
    if elapsed is None:
        form.started.data = antiabuse.opened_token()
    if elapsed is None or elapsed < current_app.config["CONTACT_MIN_FILL_SECONDS"]:
        return (
            "Le formulaire a été envoyé trop vite après son ouverture. Relisez votre message"
            " puis envoyez-le de nouveau."
        )
    return None


@bp.route("/nous-ecrire", methods=["GET", "POST"])
@_limit_search
@_limit_per_address
@_limit_per_ip
def contact():
    """Write to one's CSU: a ticket routed by the roll or by the establishment given.

    GET ?recherche=... lists the establishments matching a name or a city (the search is a
    page of its own, first on the page, so that nothing typed in the form is lost by it).
    """
    form = ContactForm()
    if request.method == "GET":
        form.started.data = antiabuse.opened_token()
        return _render_contact(form)
    if not form.validate_on_submit():
        return _render_contact(form, 400)
    alert = _trap_message(form)
    if alert is not None:
        return _render_contact(form, 400, alert=alert)
    receipt = submit_contact(
        Actor("public", None, client_ip()),
        ContactMessage(
            email=form.email.data,
            last_name=form.last_name.data,
            first_name=form.first_name.data,
            uai=form.establishment_uai,
            category=form.category.data,
            message=form.message.data,
        ),
    )
    session["contact_receipt"] = {
        "reference": receipt.reference,
        "uai": receipt.uai,
        "establishment_name": receipt.establishment_name,
        "csu_id": receipt.csu_id,
    }
    return redirect(url_for(".contact_sent"), 303)


@bp.get("/nous-ecrire/envoye")
def contact_sent():
    """The receipt: reference and the contact of the CSU of the establishment given."""
    receipt = session.get("contact_receipt")
    if not receipt:
        return redirect(url_for(".contact"))
    request.no_store = True
    csu = db.session.get(CSU, receipt["csu_id"])
    if csu is None:
        abort(404)
    return render_template("public/contact_sent.html", receipt=receipt, csu=csu)


# --- Refusals that must not lose what the voter typed ------------------------------------

_FORM_RENDERERS = {
    "public.link_not_received": (AddressForm, _render_link_not_received),
    "public.password_refused": (AddressForm, _render_password_refused),
    "public.vote_code": (VoteCodeForm, _render_vote_code),
    "public.contact": (ContactForm, _render_contact),
}


@bp.errorhandler(429)
def too_many_requests(error):
    """Keep what the voter typed and say when to try again, in French."""
    renderer = _FORM_RENDERERS.get(request.endpoint or "")
    if renderer is None or request.method != "POST":
        return error_page(429)
    form_class, render = renderer
    return guarded(lambda: render(form_class(), 429, rate_limited=True), 429)


@bp.errorhandler(CSRFError)
def form_expired(error):
    """A page left open past the CSRF lifetime: the form comes back filled, with a new token."""
    renderer = _FORM_RENDERERS.get(request.endpoint or "")
    if renderer is None or request.method != "POST":
        return error_page(400, FORM_EXPIRED)
    form_class, render = renderer

    def page():
        form = form_class()
        if isinstance(form, ContactForm):
            form.started.data = antiabuse.opened_token(0)
        return render(form, 400, alert=FORM_EXPIRED)

    return guarded(page, 400, FORM_EXPIRED)
