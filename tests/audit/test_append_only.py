"""The database itself refuses to change or remove an audit entry (issue 10 item 13)."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from csudesk import create_app
from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import record, verify_chain
from csudesk.extensions import db
from tests.conftest import ON_POSTGRES, POSTGRES_URL

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL")


@pytest.fixture
def entries(app):
    for i in range(3):
        record(Actor.system(), "test.event", number=i)
    db.session.commit()


def refused(statement: str) -> str:
    """Run `statement` on the application's connection; the database's refusal message."""
    with pytest.raises(DBAPIError, match="append-only") as caught:
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    return str(caught.value)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET details = '{\"number\": 9}' WHERE id = 2",
        "UPDATE audit_entry SET voter_id = NULL",
        "DELETE FROM audit_entry WHERE id = 3",
        "DELETE FROM audit_entry",
    ],
)
def test_update_and_delete_are_refused(entries, statement):
    refused(statement)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3
    assert verify_chain().ok


@pytest.mark.postgres_only
@needs_postgres
def test_truncate_is_refused_on_postgresql(entries):
    assert "TRUNCATE refused" in refused("TRUNCATE audit_entry")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 3


@pytest.mark.postgres_only
@needs_postgres
def test_the_application_role_cannot_lift_the_guard_without_owning_the_table(entries):
    # What production's application role is: it may read and append, it does not own the table.
    role = "csudesk_app_test_append_only"
    db.session.execute(text(f"DROP ROLE IF EXISTS {role}"))
    db.session.execute(text(f"CREATE ROLE {role}"))
    db.session.execute(text(f"GRANT SELECT, INSERT ON audit_entry TO {role}"))
    db.session.commit()
    try:
        db.session.execute(text(f"SET LOCAL ROLE {role}"))
        with pytest.raises(DBAPIError, match="must be owner"):
            db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        db.session.rollback()
    finally:
        db.session.rollback()
        db.session.execute(text(f"REVOKE ALL ON audit_entry FROM {role}"))
        db.session.execute(text(f"DROP ROLE {role}"))
        db.session.commit()


def test_new_entries_are_still_appended(entries):
    entry = record(Actor.system(), "test.event", number=3)
    db.session.commit()
    assert entry.id == 4 and verify_chain().checked == 4


def _refusals_after_migrating(url: str, app_config: dict) -> list[str]:
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
    messages = []
    with app.app_context():
        upgrade()
        if db.engine.dialect.name == "sqlite":  # the batch rebuilds kept it: ids never reused
            schema = db.session.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'audit_entry'")
            )
            assert "AUTOINCREMENT" in schema
        record(Actor.system(), "test.event")
        db.session.commit()
        for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
            messages.append(refused(statement))
        db.session.remove()
        db.engine.dispose()
    return messages


def test_the_migration_installs_the_guard(app_config, tmp_path):
    if not ON_POSTGRES:
        messages = _refusals_after_migrating(f"sqlite:///{tmp_path / 'm.sqlite3'}", app_config)
    else:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        base, test_database = POSTGRES_URL.rsplit("/", 1)
        name = f"{test_database}_append_only_check"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            messages = _refusals_after_migrating(f"{base}/{name}", app_config)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    assert ["UPDATE refused" in messages[0], "DELETE refused" in messages[1]] == [True, True]
