"""audit entries: entry MAC and seal (place in the chain), sealed later by `audit seal`

Revision ID: 9d3e5a7c1b24
Revises: bf1c79d4a9fd
Create Date: 2026-12-01 14:40:00

Every entry gets `nonce` and `mac` (the MAC of both and its content, unique: a copied row is
refused) and `seal_seq` (its place in the chain); the chain's `prev_hash` and `hash` may be
NULL until the entry is sealed, all three set or none. The entries already
there keep their hashes, and their place is their id (the chain was in id order). The
append-only guard now lets one change through, the seal of an unsealed entry; the triggers
are frozen here as csudesk/audit/models.py writes them (SQLite's batch rebuild drops them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d3e5a7c1b24'
down_revision = 'bf1c79d4a9fd'
branch_labels = None
depends_on = None

CONTENT = (
    "id", "at", "actor", "agent_id", "action", "voter_id", "ticket_id", "target_agent_id",
    "ip", "details", "nonce", "mac",
)
SEALING = (
    "OLD.seal_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL"
    " AND NEW.seal_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
)
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {SEALING}
       AND ({", ".join(f"NEW.{c}" for c in CONTENT)})
           IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in CONTENT)}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit_entry is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$
"""
OLD_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_entry is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$
"""
SQLITE_UPDATE = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry"
    f" WHEN NOT ({SEALING} AND {' AND '.join(f'NEW.{c} IS OLD.{c}' for c in CONTENT)})"
    " BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END"
)
SQLITE_DELETE = (
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry"
    " BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END"
)


def _drop_sqlite_triggers():
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    else:
        _drop_sqlite_triggers()
    # SQLite rebuilds the table: it keeps AUTOINCREMENT (ids never reused) only when told.
    with op.batch_alter_table(
        'audit_entry', schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('seal_seq', sa.BigInteger(), nullable=True))
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
    op.execute("UPDATE audit_entry SET seal_seq = id")
    with op.batch_alter_table(
        'audit_entry', schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.create_check_constraint(
            'ck_audit_entry_sealed_or_waiting',
            "(seal_seq IS NULL AND prev_hash IS NULL AND hash IS NULL)"
            " OR (seal_seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)",
        )
    op.create_index('uq_audit_entry_seal_seq', 'audit_entry', ['seal_seq'], unique=True)
    op.create_index('uq_audit_entry_mac', 'audit_entry', ['mac'], unique=True)
    op.create_index(
        'ix_audit_entry_unsealed',
        'audit_entry',
        ['id'],
        postgresql_where=sa.text('seal_seq IS NULL'),
        sqlite_where=sa.text('seal_seq IS NULL'),
    )
    if postgresql:
        op.execute(PG_FUNCTION)
        op.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
    else:
        op.execute(SQLITE_UPDATE)
        op.execute(SQLITE_DELETE)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    waiting = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_entry WHERE seal_seq IS NULL")
    ).scalar()
    if waiting:
        raise RuntimeError(
            f"{waiting} audit entries are not sealed: run `flask --app csudesk audit seal` first"
        )
    # The earlier code walks the chain in id order: after a sealer ran, ids and places may
    # differ, and its `audit verify` would report a break that is not one.
    if postgresql:
        op.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    else:
        _drop_sqlite_triggers()
    op.drop_index('ix_audit_entry_unsealed', table_name='audit_entry')
    op.drop_index('uq_audit_entry_mac', table_name='audit_entry')
    op.drop_index('uq_audit_entry_seal_seq', table_name='audit_entry')
    with op.batch_alter_table(
        'audit_entry', schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_constraint('ck_audit_entry_sealed_or_waiting', type_='check')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('seal_seq')
        batch_op.drop_column('mac')
        batch_op.drop_column('nonce')
    if postgresql:
        op.execute(OLD_PG_FUNCTION)
        op.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
    else:
        for operation in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{operation.lower()} BEFORE {operation}"
                " ON audit_entry BEGIN SELECT RAISE(ABORT,"
                f" 'audit_entry is append-only: {operation} refused'); END"
            )
