"""Desk sign-in and sign-out (SECURITY.md 10, 11, 14)."""

from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from csudesk.actor import Actor
from csudesk.agents.services import authenticate, bump_session
from csudesk.audit import services as audit
from csudesk.db import utcnow
from csudesk.extensions import db, limiter
from csudesk.net import client_ip
from csudesk.security import safe_next
from csudesk.text import normalize_email

from .forms import LoginForm

bp = Blueprint("auth", __name__)


def _login_account_key() -> str:
    return "login:" + normalize_email(request.form.get("email", ""))[:254]


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], key_func=_login_account_key, methods=["POST"]
)
def login():
    """Sign in with e-mail and password; no remember-me."""
    if current_user.is_authenticated:
        return redirect(url_for("desk.index"))
    form = LoginForm()
    if form.validate_on_submit():
        agent = authenticate(form.email.data, form.password.data)
        if agent is None:
            audit.record(
                Actor("public", None, client_ip()),
                "auth.login_failed",
                email=normalize_email(form.email.data)[:254],
            )
            db.session.commit()
            form.password.errors.append("Adresse ou mot de passe incorrect.")
        else:
            session.clear()
            login_user(agent, remember=False)
            now = datetime.now(UTC).timestamp()
            session["auth_at"] = now
            session["seen_at"] = now
            agent.last_login_at = utcnow()
            audit.record(Actor.for_agent(agent, client_ip()), "auth.login")
            db.session.commit()
            return redirect(safe_next(request.args.get("next")) or url_for("desk.index"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/deconnexion")
@login_required
def logout():
    """Sign out: every cookie of this account taken before now stops working."""
    agent = current_user._get_current_object()
    bump_session(agent)
    audit.record(Actor.for_agent(agent, client_ip()), "auth.logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))
