"""indexes on the foreign keys pages read by: a ticket's audit entries, an agent account's,
the tickets merged into one

Revision ID: d4e8f1a2b6c9
Revises: 9d3e5a7c1b24
Create Date: 2026-12-01 23:30:00

The supervision ticket page read every audit entry for one ticket's, the admin agent page
every entry for one account's, the ticket page every ticket for those merged into it; each
check of these foreign keys on a deleted ticket did the same. Partial: only the rows that
name one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8f1a2b6c9'
down_revision = '9d3e5a7c1b24'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_audit_entry_ticket', 'audit_entry', ['ticket_id', 'id'], 'ticket_id IS NOT NULL'),
    (
        'ix_audit_entry_target_agent',
        'audit_entry',
        ['target_agent_id', 'id'],
        'target_agent_id IS NOT NULL',
    ),
    ('ix_ticket_merged_into', 'ticket', ['merged_into_id'], 'merged_into_id IS NOT NULL'),
]


def upgrade():
    for name, table, columns, where in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def downgrade():
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
