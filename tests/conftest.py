"""Fixtures: the app on a fresh database (a SQLite file per test, or PostgreSQL truncated).

The public blueprint's tests live in tests/public_site: a tests/public package would shadow
the `public` distribution that aiosmtpd imports.
"""

import atexit
import contextvars
import functools
import gc
import importlib.metadata
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

import email_validator
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from werkzeug.routing.rules import Rule

from csudesk import create_app
from csudesk.extensions import db

# The tests' accounts live under .test, a special-use domain email-validator refuses outside
# a test environment.
email_validator.TEST_ENVIRONMENT = True

pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.factories",
    "tests.fixtures.browser",
    "tests.fixtures.imap",
]

# An empty instance folder for the whole run, for the apps built here and the processes the
# tests start: the developer's instance/config.py (the one `make run` writes, with the demo
# calendar, mailboxes and SESSION_COOKIE_SECURE = False) is not the tests' configuration.
_INSTANCE = tempfile.mkdtemp(prefix="csudesk-tests-instance-")
atexit.register(shutil.rmtree, _INSTANCE, ignore_errors=True)
os.environ["CSUDESK_INSTANCE_PATH"] = _INSTANCE


def _remember_url_builders() -> None:
    """Each test builds its app, and Werkzeug compiles two URL builder functions per rule
    (Python code generated from an AST): 30 of create_app's 40-45 ms. A builder is a function
    of the rule's parsed parts (`_trace`, for Werkzeug 3) called with the rule itself, so the
    same parts get the same function: remembered here for the run, create_app 12-13 ms. A
    rule with defaults is compiled as usual (they become the builder's keyword arguments, and
    a converter takes part for those in the path). Other Werkzeug versions: left alone."""
    if not importlib.metadata.version("werkzeug").startswith("3."):
        return
    compile_builder = Rule._compile_builder
    builders = {}

    def remembered(self, append_unknown=True):
        if self.defaults:  # each default becomes one of the builder's keyword arguments
            return compile_builder(self, append_unknown)
        key = (tuple(self._trace), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    remembered.__wrapped__ = compile_builder
    Rule._compile_builder = remembered


_remember_url_builders()


def _interrupt_on_signals() -> None:
    """Ctrl+C and SIGTERM stop a run as KeyboardInterrupt does, so that its fixtures stop the
    servers they started (Dovecot, gunicorn, Chromium). `make test` runs its passes in the
    background, where the shell leaves SIGINT ignored, and SIGTERM would end the process
    without a teardown."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)


_interrupt_on_signals()

POSTGRES_URL = os.environ.get("CSUDESK_TEST_DATABASE_URL")
ON_POSTGRES = bool(POSTGRES_URL)

# The tests' calendar: a closed round, whatever today's date (the default, the 2026 round, is
# voting from 3 to 10 December 2026). A test that needs another phase sets its own.
PAST_ROUND = {
    "name": "Élections professionnelles 2022",
    "portal_opens": "2022-10-13T09:00",
    "vote_opens": "2022-12-01T09:00",
    "vote_closes": "2022-12-08T17:00",
}


def pytest_collection_finish(session):
    """What the imports and the collection built stays: frozen out of the garbage collector's
    reach, and its full passes made rarer. Each test's app leaves cycles that only a full pass
    frees, and a full pass walked every live object (0.3-1.4 s each); tests/desk, tickets and
    directory took 64-67 s instead of 73-77, 2 s in full passes instead of 10, RSS 255 MB
    instead of 236."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def pytest_collection_modifyitems(config, items):
    """A test driving the browser is marked `browser`. On PostgreSQL the browser tests and the
    tests marked `engine_neutral` are deselected: what they check (what a page shows and how
    it behaves under the keyboard, refusals made before any query, rate limits in Redis or
    memory) does not go through the database engine, and the SQLite pass has run them; the
    flows they drive are run on both engines by the HTTP tests."""
    for item in items:
        # The browser's `page` fixture, not a test's own parameter of that name.
        parameters = getattr(getattr(item, "callspec", None), "params", {})
        if "page" in getattr(item, "fixturenames", ()) and "page" not in parameters:
            item.add_marker(pytest.mark.browser)
    if not ON_POSTGRES:
        return
    kept, once = [], []
    for item in items:
        neutral = item.get_closest_marker("engine_neutral") or item.get_closest_marker("browser")
        (once if neutral else kept).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept


def base_config(database_uri: str, smtp_port: int) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_PROFILE": "fast",
        "SESSION_COOKIE_SECURE": False,
        "BASE_URL": "http://csudesk.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "RATELIMIT_STORAGE_URI": "memory://",
        "ELECTION": PAST_ROUND,
    }


@pytest.fixture(autouse=True)
def _csudesk_logger_as_found():
    """An app built without TESTING gives the csudesk logger a handler and the WARNING level;
    put both back, or later tests' caplog would miss csudesk's INFO records (and a test that
    asserts a secret is in no log line would pass on no line at all)."""
    logger = logging.getLogger("csudesk")
    level, handlers = logger.level, list(logger.handlers)
    yield
    logger.setLevel(level)
    logger.handlers[:] = handlers


@pytest.fixture(scope="session")
def _schema(smtp_server, tmp_path_factory):
    """Build the schema once per session: on PostgreSQL in the test database, on SQLite in a
    file each test's database starts as a copy of (a copy is 1 ms, create_all 45)."""
    uri = POSTGRES_URL or f"sqlite:///{tmp_path_factory.mktemp('schema') / 'schema.sqlite3'}"
    app = create_app(base_config(uri, smtp_server.port))
    with app.app_context():
        if ON_POSTGRES:
            db.drop_all()
        db.create_all()
        db.session.commit()
        db.engine.dispose()
    return None if ON_POSTGRES else Path(uri.removeprefix("sqlite:///"))


@pytest.fixture
def app_config(tmp_path, smtp_server, _schema) -> dict:
    """Override keys here (request the fixture and update it) before `app` is built."""
    if ON_POSTGRES:
        return base_config(POSTGRES_URL, smtp_server.port)
    database = tmp_path / "csudesk-test.sqlite3"
    shutil.copyfile(_schema, database)
    return base_config(f"sqlite:///{database}", smtp_server.port)


@functools.cache
def _emptying_statement(tables: tuple):
    deletes = " ".join(
        f"{table.delete().compile(dialect=postgresql.dialect())};" for table in reversed(tables)
    )
    return text(
        "DO $$ BEGIN ALTER TABLE audit_entry DISABLE TRIGGER USER; "
        f"{deletes} ALTER TABLE audit_entry ENABLE TRIGGER USER; "
        "PERFORM setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'; END $$"
    )


def _empty_postgres() -> None:
    """Every table emptied, every id sequence back to 1, between two tests on PostgreSQL, in
    one statement (one round trip: 10 ms, where a statement per table took 33 and TRUNCATE,
    new files for each table, 140). The audit table refuses DELETE (its append-only
    triggers): lifted here as the table's owner, in this transaction only; this also
    re-enables them after a tamper test."""
    db.session.execute(_emptying_statement(tuple(db.metadata.sorted_tables)))
    db.session.commit()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        if ON_POSTGRES:
            _empty_postgres()
        else:
            db.create_all()  # a test's own URI (another file) gets its schema; a copy has it
        yield app
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test body keeps its own app context and session: without this, requests would share
    the test's `g` (Flask-Login caches the user there) and its database session. What the test
    set up is committed first so the request, on its own connection, sees it.
    """

    def open(self, *args, **kwargs):
        if has_app_context():  # not in the follow-up request of follow_redirects
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def directory(app):
    """The built-in directory, loaded."""
    from csudesk.directory.services import load_builtin_directory

    load_builtin_directory()
    db.session.commit()
