"""Lifting the audit table's append-only triggers, as an intruder with the owner's rights would."""

from sqlalchemy import text

from csudesk.extensions import db


def lift_append_only() -> None:
    """Let raw SQL edit and delete audit entries until the next test.

    PostgreSQL: ALTER TABLE as the table's owner (the tests' role owns it; the application's
    role in production must not), re-enabled by the app fixture's truncation. SQLite: anyone
    who can write the file can drop the triggers; each test has a fresh file.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
        db.session.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
    db.session.commit()
