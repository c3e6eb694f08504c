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

    from csudesk import cli, errors, extensions_setup, security, uow, views

    extensions_setup.register_extensions(app)
    security.register_security(app)
    views.register_blueprints(app)
    uow.register_unit_of_work(app)
    errors.register_errorhandlers(app)
    cli.register_commands(app)
    return app


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
