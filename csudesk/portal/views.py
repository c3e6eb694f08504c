"""Pages behind the voters' one-time links (SECURITY.md 4, 5, 8): activate the account,
choose a new password, see a new vote code.

csudesk.landing moves the token into the session and redirects here; the POST consumes the
link. Once used, the same browser gets a plain "already done" page on reload, not an error.
"""

from flask import Blueprint, render_template, request

from csudesk import landing
from csudesk.access import redeem
from csudesk.actor import Actor
from csudesk.db import utcnow
from csudesk.elections.calendar import election
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import populate_errors
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.net import client_ip
from csudesk.roll.models import Voter

from .forms import ActivationForm, NewPasswordForm, RevealForm

bp = Blueprint("portal", __name__)
landing.keep_private(bp)

PASSWORD_PAGES = {
    LinkPurpose.ACTIVATION: ("portal/activation.html", ActivationForm),
    LinkPurpose.PASSWORD_RESET: ("portal/password.html", NewPasswordForm),
}


def _unusable(purpose: str, claim: dict | None, link: OneTimeLink | None):
    """Why the link cannot be used: "already done" for the browser that used it, else an error."""
    state = links.state_of(link) if link is not None else "unknown"
    voter = db.session.get(Voter, link.voter_id) if link is not None and link.voter_id else None
    if state == "used" and claim and claim.get("done"):
        return render_template("portal/already_done.html", purpose=purpose, voter=voter), 200
    activated = bool(voter and voter.account and voter.account.is_activated)
    return render_template(
        "portal/invalid.html", purpose=purpose, state=state, activated=activated
    ), 410 if state in ("used", "expired", "revoked") else 404


def _voter_actor() -> Actor:
    return Actor("voter", None, client_ip())


@bp.get("/activation/<token>")
def activation_landing(token: str):
    """Keep the link's claim in the session and continue on a URL without the token."""
    return landing.land(LinkPurpose.ACTIVATION, token, "portal.activation")


@bp.get("/mot-de-passe/<token>")
def password_reset_landing(token: str):
    """Keep the link's claim in the session and continue on a URL without the token."""
    return landing.land(LinkPurpose.PASSWORD_RESET, token, "portal.password_reset")


@bp.get("/code-de-vote/<token>")
def vote_code_landing(token: str):
    """Keep the link's claim in the session and continue on a URL without the token."""
    return landing.land(LinkPurpose.VOTE_CODE, token, "portal.vote_code")


@bp.route("/activation", methods=["GET", "POST"], endpoint="activation")
def activation():
    """Create the élections password and choose the challenge question."""
    return _password_page(LinkPurpose.ACTIVATION)


@bp.route("/mot-de-passe", methods=["GET", "POST"], endpoint="password_reset")
def password_reset():
    """Choose a new élections password."""
    return _password_page(LinkPurpose.PASSWORD_RESET)


def _password_page(purpose: str):
    claim, link = landing.claimed(purpose)
    if link is None or links.state_of(link) != "usable":
        return _unusable(purpose, claim, link)
    template, form_class = PASSWORD_PAGES[purpose]
    form = form_class()
    voter = db.session.get(Voter, link.voter_id)
    if form.validate_on_submit():
        try:
            if purpose == LinkPurpose.ACTIVATION:
                voter = redeem.activate_account(
                    _voter_actor(),
                    link,
                    form.password.data,
                    form.confirmation.data,
                    form.question.data,
                    form.answer.data,
                )
            else:
                voter = redeem.reset_password_with_link(
                    _voter_actor(), link, form.password.data, form.confirmation.data
                )
        except redeem.LinkAlreadyUsed:
            return _unusable(purpose, None, db.session.get(OneTimeLink, claim["id"]))
        except ServiceError as exc:
            populate_errors(form, exc)
        else:
            landing.mark_done(purpose, claim)
            return render_template("portal/done.html", purpose=purpose, voter=voter)
    return render_template(template, form=form, voter=voter, link=link), 400 if form.errors else 200


@bp.route("/code-de-vote", methods=["GET", "POST"], endpoint="vote_code")
def vote_code():
    """Show a newly generated vote code, once; the previous code stops working now."""
    purpose = LinkPurpose.VOTE_CODE
    claim, link = landing.claimed(purpose)
    if link is None or links.state_of(link) != "usable":
        return _unusable(purpose, claim, link)
    voting_open = election().voting_open(utcnow())
    form = RevealForm()
    if voting_open and form.validate_on_submit():
        try:
            voter, code = redeem.reveal_new_vote_code(_voter_actor(), link)
        except redeem.LinkAlreadyUsed:
            return _unusable(purpose, None, db.session.get(OneTimeLink, claim["id"]))
        landing.mark_done(purpose, claim)
        return render_template("portal/vote_code_shown.html", code=code, voter=voter)
    return render_template(
        "portal/vote_code.html", form=form, link=link, voting_open=voting_open
    ), 200 if request.method == "GET" else 400
