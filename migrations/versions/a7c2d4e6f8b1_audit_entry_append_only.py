"""audit entries: the database refuses UPDATE, DELETE and TRUNCATE

Revision ID: a7c2d4e6f8b1
Revises: e5f1a2b3c4d6
Create Date: 2026-12-01 08:30:00

The same triggers as csudesk/audit/models.py installs on create_all (frozen here, as a
migration must be). Only the table's owner can lift them (ALTER TABLE audit_entry DISABLE
TRIGGER USER): run migrations as the owner role, the application as another role that has
SELECT and INSERT only. A later batch_alter_table of audit_entry on SQLite rebuilds the table
and must create the SQLite triggers again.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c2d4e6f8b1'
down_revision = 'e5f1a2b3c4d6'
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_entry is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry"
            " FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )
    else:
        for operation in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{operation.lower()} BEFORE {operation}"
                " ON audit_entry BEGIN SELECT RAISE(ABORT,"
                f" 'audit_entry is append-only: {operation} refused'); END"
            )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION audit_entry_append_only()")
    else:
        op.execute("DROP TRIGGER audit_entry_no_delete")
        op.execute("DROP TRIGGER audit_entry_no_update")
