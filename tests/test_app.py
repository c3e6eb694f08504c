"""The factory, configuration precedence, headers and the schema migrations."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from csudesk import create_app
from csudesk.extensions import db
from tests.conftest import ON_POSTGRES, POSTGRES_URL, base_config


def test_refuses_to_start_without_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("CSUDESK_SECRET_KEY", raising=False)
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_config_precedence_instance_then_env_then_test_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-instance'\nBASE_URL = 'https://instance.example'\nPAGE_SIZE = 7\n"
    )
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CSUDESK_BASE_URL", "https://env.example")
    app = create_app({"PAGE_SIZE": 9})
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["BASE_URL"] == "https://env.example"
    assert app.config["PAGE_SIZE"] == 9
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/csudesk.sqlite3"


def test_database_uri_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CSUDESK_SECRET_KEY", "k")
    monkeypatch.setenv("CSUDESK_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://u@h/db")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_security_headers(client, directory):
    response = client.get("/trouver-ma-csu")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    https = client.get("/trouver-ma-csu", base_url="https://csudesk.test")
    assert "max-age" in https.headers["Strict-Transport-Security"]


def test_session_cookie_flags_by_default(smtp_server, tmp_path):
    app = create_app(
        {
            **base_config(f"sqlite:///{tmp_path}/c.sqlite3", smtp_server.port),
            "SESSION_COOKIE_SECURE": True,
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    import csudesk.config as defaults

    assert defaults.SESSION_COOKIE_SECURE is True


def test_pages_warn_when_dsfr_is_missing(app, client, directory):
    app.extensions["dsfr_available"] = False
    page = client.get("/").text
    assert "make dsfr" in page
    assert "dsfr.min.css" not in page
    app.extensions["dsfr_available"] = True
    page = client.get("/").text
    assert "make dsfr" not in page
    assert "dsfr/dsfr.min.css" in page


def test_french_error_pages(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert '<html lang="fr"' in response.text


def _schema_diff(url: str, app_config: dict) -> list:
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    return diff


def test_migrations_produce_the_models_schema(app_config, tmp_path):
    if not ON_POSTGRES:
        assert _schema_diff(f"sqlite:///{tmp_path / 'migrated.sqlite3'}", app_config) == []
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    base, test_database = POSTGRES_URL.rsplit("/", 1)
    name = f"{test_database}_migration_check"  # per test database: parallel runs do not collide
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        assert _schema_diff(f"{base}/{name}", app_config) == []
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
