"""Binding the extensions to the app."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from csudesk import PROJECT_ROOT
from csudesk.extensions import csrf, db, limiter, login_manager, mail, migrate
from csudesk.forms import refuse_unreadable_body


def register_extensions(app: Flask) -> None:
    from csudesk import models, ratelimits  # noqa: F401 - register every table on the metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    # First of all before_request hooks: an oversized or non-form body is refused before the
    # CSRF check or a rate-limit key reads it (a key function that raised would make
    # Flask-Limiter take its storage for dead).
    app.before_request(refuse_unreadable_body)
    csrf.init_app(app)
    limiter.init_app(app)
    # The limiter is one object for every app of a process (tests build many): a new storage
    # starts healthy, whatever an earlier app's storage did.
    limiter._storage_dead = False
    ratelimits.register(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Connectez-vous pour accéder au guichet."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_agent)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)


def _load_agent(user_id: str):
    """Session id is "agent_id:session_version"; a bumped version or a disabled account fails."""
    from csudesk.agents.models import Agent

    try:
        agent_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    agent = db.session.get(Agent, agent_id)
    if agent is None or agent.session_version != version or not agent.active:
        return None
    return agent
