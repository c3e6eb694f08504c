"""supervision indexes: keyset pagination of the ticket log, events by agent

Revision ID: c3d9e1f0a5b2
Revises: 7b8c71a7595d
Create Date: 2026-11-29 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d9e1f0a5b2'
down_revision = '7b8c71a7595d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_created_at')
        batch_op.create_index('ix_ticket_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_csu_created_id', ['csu_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_event_agent_at', ['agent_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_event_agent_at')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_csu_created_id')
        batch_op.drop_index('ix_ticket_created_id')
        batch_op.create_index('ix_ticket_created_at', ['created_at'], unique=False)
