"""Desk sign-in and sign-out (SECURITY.md 10, 11, 14).

Throttling (csudesk/auth/throttle.py): progressive delays per account for the clients that
failed on it, and a limit of failed sign-ins per client address. Successes never count.
"""

from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from csudesk.actor import Actor
from csudesk.agents.services import authenticate, record_sign_in, record_sign_out
from csudesk.audit import services as audit
from csudesk.auth import throttle
from csudesk.extensions import limiter
from csudesk.net import client_ip
from csudesk.security import safe_next
from csudesk.text import is_valid_email, normalize_email

from .forms import LoginForm

bp = Blueprint("auth", __name__)
BAD_CREDENTIALS = "Adresse ou mot de passe incorrect."


def _sign_in_failed(response) -> bool:
    return bool(g.get("sign_in_failed"))


def failed_sign_in_details(typed: str) -> dict:
    """What the audit keeps of a failed sign-in: the address only when it is one.

    Text that is not a well-formed address may be a password typed in the wrong field; it is
    never stored, not even folded (the journal can never be purged).
    """
    address = normalize_email(typed or "")[:254]
    if is_valid_email(address):
        return {"email": address}
    return {"email_malformed": True}


def _wait_message(seconds: int) -> str:
    unit = "seconde" if seconds < 2 else "secondes"
    return (
        "Trop de tentatives ont échoué pour ce compte depuis votre connexion :"
        f" réessayez dans {seconds} {unit}. Une autre connexion n'est pas retardée."
    )


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"], deduct_when=_sign_in_failed
)
def login():
    """Sign in with e-mail and password; no remember-me."""
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        wait = throttle.seconds_to_wait(form.email.data)
        if wait:
            form.password.errors.append(_wait_message(wait))
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        agent = authenticate(form.email.data, form.password.data)
        if agent is None:
            g.sign_in_failed = True
            throttle.record_failure(form.email.data)
            audit.record(
                Actor("public", None, client_ip()),
                "auth.login_failed",
                **failed_sign_in_details(form.email.data),
            )
            form.password.errors.append(BAD_CREDENTIALS)
        else:
            throttle.record_success(form.email.data)
            session.clear()
            login_user(agent, remember=False)
            now = datetime.now(UTC).timestamp()
            session["auth_at"] = now
            session["seen_at"] = now
            record_sign_in(agent, client_ip())
            return redirect(safe_next(request.args.get("next")) or url_for("desk.index"))
    if form.errors:
        status = 400
        g.sign_in_failed = True
    return render_template("auth/login.html", form=form), status


@bp.post("/deconnexion")
@login_required
def logout():
    """Sign out: every cookie of this account taken before now stops working."""
    agent = current_user._get_current_object()
    record_sign_out(agent, client_ip())
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
