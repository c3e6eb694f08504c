"""Landings of the one-time links sent by mail (SECURITY.md 4, 5, 8).

The token arrives in the URL, is moved into the session at once and the browser is sent to a
token-free address, so it never sits in a Referer, the history or a later log line. Using the
link (the POST) consumes it in one atomic UPDATE.
"""

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.elections.calendar import election
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose
from csudesk.net import client_ip
from csudesk.roll import accounts
from csudesk.roll.models import Voter

from .forms import ActivationForm, NewPasswordForm, RevealForm

bp = Blueprint("portal", __name__)

PAGES = {
    LinkPurpose.ACTIVATION: ("activation", "portal/activation.html", ActivationForm),
    LinkPurpose.PASSWORD_RESET: ("mot-de-passe", "portal/password.html", NewPasswordForm),
    LinkPurpose.VOTE_CODE: ("code-de-vote", "portal/vote_code.html", RevealForm),
}
MAX_TOKEN_LENGTH = 100


@bp.after_request
def _private(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _land(purpose: str, token: str):
    if len(token) > MAX_TOKEN_LENGTH:
        abort(404)
    session[f"link:{purpose}"] = token
    return redirect(url_for(f"portal.{purpose}"))


def _token(purpose: str) -> str | None:
    return session.get(f"link:{purpose}")


def _invalid(purpose: str, token: str | None):
    state = links.describe_unusable(token, purpose) if token else "unknown"
    return render_template("portal/invalid.html", purpose=purpose, state=state), 410 if state in (
        "used",
        "expired",
        "revoked",
    ) else 404


def _voter_actor() -> Actor:
    return Actor("voter", None, client_ip())


@bp.get("/activation/<token>")
def activation_landing(token: str):
    return _land(LinkPurpose.ACTIVATION, token)


@bp.get("/mot-de-passe/<token>")
def password_reset_landing(token: str):
    return _land(LinkPurpose.PASSWORD_RESET, token)


@bp.get("/code-de-vote/<token>")
def vote_code_landing(token: str):
    return _land(LinkPurpose.VOTE_CODE, token)


@bp.route("/activation", methods=["GET", "POST"], endpoint="activation")
def activation():
    """Create the élections password and choose the challenge question."""
    return _password_page(LinkPurpose.ACTIVATION)


@bp.route("/mot-de-passe", methods=["GET", "POST"], endpoint="password_reset")
def password_reset():
    """Choose a new élections password."""
    return _password_page(LinkPurpose.PASSWORD_RESET)


def _password_page(purpose: str):
    token = _token(purpose)
    link = links.find_usable(token, purpose) if token else None
    if link is None:
        return _invalid(purpose, token)
    _, template, form_class = PAGES[purpose]
    form = form_class()
    voter = db.session.get(Voter, link.voter_id)
    if form.validate_on_submit():
        try:
            accounts.check_new_password(form.password.data, form.confirmation.data)
            if purpose == LinkPurpose.ACTIVATION:
                accounts.check_challenge_input(form.question.data, form.answer.data)
        except accounts.AccountError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            used = links.consume(token, purpose)
            if used is None:  # another tab or a concurrent request used it first
                db.session.rollback()
                return _invalid(purpose, token)
            if purpose == LinkPurpose.ACTIVATION:
                accounts.activate(voter, form.password.data, form.question.data, form.answer.data)
            else:
                accounts.reset_password(voter, form.password.data)
            audit.record(_voter_actor(), f"portal.{purpose}", voter_id=voter.id, link_id=used.id)
            db.session.commit()
            session.pop(f"link:{purpose}", None)
            return render_template("portal/done.html", purpose=purpose, voter=voter)
    return render_template(template, form=form, voter=voter, link=link), 400 if form.errors else 200


@bp.route("/code-de-vote", methods=["GET", "POST"], endpoint="vote_code")
def vote_code():
    """Show a newly generated vote code, once; the previous code stops working now."""
    purpose = LinkPurpose.VOTE_CODE
    token = _token(purpose)
    link = links.find_usable(token, purpose) if token else None
    if link is None:
        return _invalid(purpose, token)
    cal = election()
    voting_open = cal.voting_open(utcnow())
    form = RevealForm()
    if voting_open and form.validate_on_submit():
        used = links.consume(token, purpose)
        if used is None:
            db.session.rollback()
            return _invalid(purpose, token)
        voter = db.session.get(Voter, used.voter_id)
        code = accounts.new_vote_code(voter, used.id)
        audit.record(_voter_actor(), "portal.vote_code", voter_id=voter.id, link_id=used.id)
        db.session.commit()
        session.pop(f"link:{purpose}", None)
        return render_template("portal/vote_code_shown.html", code=code, voter=voter)
    return render_template(
        "portal/vote_code.html", form=form, link=link, voting_open=voting_open
    ), 200 if request.method == "GET" else 400
