"""An agent chooses a password through the one-time link an administrator had mailed.

csudesk.landing moves the token into the session (the link's id and a server MAC, never the
token: a stolen cookie cannot be turned into a link) and redirects here; the POST consumes the
claimed link atomically (SECURITY.md 5, 8, 16).
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import logout_user
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from csudesk import landing, uow
from csudesk.agents.services import (
    LinkSpent,
    agent_of_link,
    set_password_with_link,
)
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.forms import Form, populate_errors
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.net import client_ip
from csudesk.passwords import MAX_PASSWORD_LENGTH

bp = Blueprint("agent_password", __name__, url_prefix="/agent/mot-de-passe")
landing.keep_private(bp)
PURPOSE = LinkPurpose.AGENT_PASSWORD
UNUSABLE = {
    "used": "Ce lien a déjà servi : un lien ne fonctionne qu'une fois.",
    "expired": "Ce lien a expiré.",
    "revoked": "Ce lien a été remplacé par un lien plus récent ou le compte a été désactivé.",
    "unknown": "Ce lien n'est pas valable.",
}


class AgentPasswordForm(Form):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired("Choisissez un mot de passe."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirmation = PasswordField(
        "Confirmation",
        validators=[
            DataRequired("Saisissez de nouveau le mot de passe."),
            EqualTo("password", "Les deux saisies diffèrent."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


@bp.get("/<token>")
def land(token: str):
    """Keep the link's claim in the session and continue on a URL without the token."""
    return landing.land(PURPOSE, token, "agent_password.choose")


def _refuse(message: str):
    landing.forget(PURPOSE)
    return render_template("auth/agent_password_invalid.html", message=message), 410


@bp.route("", methods=["GET", "POST"])
def choose():
    """Choose the password; the link is consumed in the same transaction."""
    _, link = landing.claimed(PURPOSE)
    state = links.state_of(link) if link is not None else "unknown"
    if state != "usable":
        return _refuse(UNUSABLE[state])
    agent = agent_of_link(link)
    if agent is None:
        return _refuse("Ce compte est désactivé : adressez-vous à un administrateur.")
    form = AgentPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_with_link(link, form.password.data, client_ip())
        except LinkSpent:  # another tab or a concurrent request used it first
            uow.discard()
            spent = db.session.get(OneTimeLink, link.id)
            return _refuse(UNUSABLE[links.state_of(spent) if spent is not None else "unknown"])
        except ServiceError as exc:
            uow.discard()
            populate_errors(form, exc, "password")
        else:
            landing.forget(PURPOSE)
            logout_user()
            flash("Mot de passe enregistré : connectez-vous.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/agent_password.html", form=form, agent=agent), (
        400 if form.errors else 200
    )
