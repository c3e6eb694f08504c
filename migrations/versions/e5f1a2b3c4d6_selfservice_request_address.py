"""self-service requests by address, for the voter file

Revision ID: e5f1a2b3c4d6
Revises: c3d9e1f0a5b2
Create Date: 2026-11-29 10:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5f1a2b3c4d6'
down_revision = 'c3d9e1f0a5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('selfservice_request', schema=None) as batch_op:
        batch_op.create_index('ix_selfservice_request_address_id', ['address', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('selfservice_request', schema=None) as batch_op:
        batch_op.drop_index('ix_selfservice_request_address_id')
