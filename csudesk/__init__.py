"""csudesk: the desk tool of the elections' user-support cells (CSU)."""

import logging
import os
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, instance/config.py, CSUDESK_* variables, test_config."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("CSUDESK_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object("csudesk.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CSUDESK")
    if test_config is not None:
        app.config.from_mapping(test_config)
    _finish_config(app)
    _configure_logging(app)

    from csudesk import blueprints, cli, errors, filters, security, uow

    register_extensions(app)
    security.register_security(app)
    blueprints.register_blueprints(app)
    uow.register_unit_of_work(app)
    filters.register_filters(app)
    errors.register_errorhandlers(app)
    cli.register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extensions of csudesk/extensions.py to the app."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from csudesk import ratelimits, schema  # noqa: F401 - every table on the metadata
    from csudesk.auth.guards import load_agent
    from csudesk.extensions import csrf, db, limiter, login_manager, mail, migrate
    from csudesk.forms import refuse_unreadable_body

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
    login_manager.user_loader(load_agent)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)


def _configure_logging(app: Flask) -> None:
    """csudesk's own warnings and errors go to stderr (gunicorn also logs the audit heads)."""
    logger = logging.getLogger("csudesk")
    if app.testing or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)


def database_uri(uri: str) -> str:
    """`postgresql://` and `postgres://`, the forms everyone writes, use psycopg 3.

    SQLAlchemy maps a bare `postgresql://` to psycopg2, which csudesk does not install.
    """
    for scheme in ("postgresql://", "postgres://"):
        if uri.startswith(scheme):
            return "postgresql+psycopg://" + uri[len(scheme) :]
    return uri


def _finish_config(app: Flask) -> None:
    from csudesk import config as defaults

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "csudesk.sqlite3"
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["SQLALCHEMY_DATABASE_URI"])
    # An instance LEGAL names only what differs from the defaults.
    app.config["LEGAL"] = {**defaults.LEGAL, **(app.config.get("LEGAL") or {})}
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing):
            raise RuntimeError(
                "SECRET_KEY is not set: put it in instance/config.py or CSUDESK_SECRET_KEY"
                " (make run writes a random one for the demo)."
            )
        app.config["SECRET_KEY"] = "dev-only-not-secret"  # noqa: S105
    if not app.config.get("AUDIT_HMAC_KEY"):
        app.config["AUDIT_HMAC_KEY"] = "audit:" + app.config["SECRET_KEY"]
    if app.config.get("AUDIT_SEALING") not in ("inline", "sealer"):
        raise RuntimeError(
            f"AUDIT_SEALING is {app.config.get('AUDIT_SEALING')!r}: 'inline' (the default)"
            " or 'sealer' (with one `flask --app csudesk audit seal --watch`)"
        )
