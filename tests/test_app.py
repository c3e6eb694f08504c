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


def test_refuses_an_unknown_audit_sealing(tmp_path, monkeypatch):
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CSUDESK_AUDIT_SEALING", "later")
    with pytest.raises(RuntimeError, match="AUDIT_SEALING is 'later'"):
        create_app({"SECRET_KEY": "x" * 32})
    monkeypatch.setenv("CSUDESK_AUDIT_SEALING", "sealer")
    assert create_app({"SECRET_KEY": "x" * 32}).config["AUDIT_SEALING"] == "sealer"


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


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_plain_postgresql_uri_uses_psycopg_3(tmp_path, monkeypatch, given, used):
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CSUDESK_SECRET_KEY", "k")
    monkeypatch.setenv("CSUDESK_SQLALCHEMY_DATABASE_URI", given)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
    with app.app_context():
        assert db.engine.url.render_as_string(hide_password=False) == used  # no psycopg2 needed


def test_plain_postgresql_uri_really_connects(app_config):
    if not ON_POSTGRES:
        pytest.skip("needs CSUDESK_TEST_DATABASE_URL")
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": plain})
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        assert db.engine.dialect.driver == "psycopg"
        db.session.remove()
        db.engine.dispose()


def test_legal_details_override_key_by_key(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'k'\nLEGAL = {'dpo_email': 'dpd@academie.example'}\n"
    )
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    legal = create_app().config["LEGAL"]
    assert legal["dpo_email"] == "dpd@academie.example"
    assert legal["publisher"] == "Ministère de l'Éducation nationale"  # the default kept


def test_wsgi_module_serves_the_configured_app(tmp_path, monkeypatch):
    import importlib
    import sys

    (tmp_path / "config.py").write_text("SECRET_KEY = 'k'\nPAGE_SIZE = 11\n")
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    sys.modules.pop("wsgi", None)
    wsgi = importlib.import_module("wsgi")
    try:
        assert wsgi.app.config["PAGE_SIZE"] == 11
        assert wsgi.app.test_client().get("/nulle-part").status_code == 404
    finally:
        sys.modules.pop("wsgi", None)


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


def test_config_example_documents_every_legal_key_and_the_calendar():
    from pathlib import Path

    import csudesk.config as defaults

    example = (Path(__file__).parent.parent / "instance" / "config.py.example").read_text()
    block = example.split("# LEGAL = {")[1].split("# }")[0]
    uncommented = (
        "LEGAL = {"
        + "".join(line.removeprefix("#").split("  #")[0] + "\n" for line in block.splitlines())
        + "}"
    )
    namespace: dict = {}
    exec(uncommented, namespace)  # noqa: S102 - the committed example file
    assert set(namespace["LEGAL"]) == set(defaults.LEGAL)
    calendar = example.split("# ELECTION = {")[1].split("# }")[0]
    for key, value in defaults.ELECTION.items():
        assert f'#     "{key}": "{value}",' in calendar
    assert "09:00" in example and "17:00" in example


def test_the_tests_remembered_url_builders_build_what_werkzeug_compiles(app):
    """tests/conftest.py shares Werkzeug's URL builders between rules with the same parts."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule._compile_builder, "__wrapped__", None)
    if compile_builder is None:
        pytest.skip("this Werkzeug's builders are compiled as usual")
    rules = list(app.url_map.iter_rules())
    assert rules
    for rule in rules:
        values = {name: 7 for name in rule.arguments}
        for append_unknown in (False, True):
            compiled = compile_builder(rule, append_unknown).__get__(rule, None)
            built = rule._build_unknown if append_unknown else rule._build
            assert built(**values) == compiled(**values), rule.rule
        assert rule._build_unknown(**values, extra="a b") == compile_builder(rule, True).__get__(
            rule, None
        )(**values, extra="a b")


def test_the_tests_remembered_url_builders_keep_rules_with_defaults_apart():
    """A rule's defaults are its builder's keyword arguments: such a rule shares no builder."""
    from werkzeug.routing import Map
    from werkzeug.routing import Rule as UrlRule

    adapter = Map(
        [UrlRule("/a", endpoint="plain"), UrlRule("/a", endpoint="paged", defaults={"page": 1})]
    ).bind("csudesk.test")
    assert adapter.build("plain", {"page": 2}) == "/a?page=2"
    assert adapter.build("paged", {"page": 1}) == "/a"
