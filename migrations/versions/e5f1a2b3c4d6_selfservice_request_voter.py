"""self-service requests: the voter the worker found, for the voter file

Revision ID: e5f1a2b3c4d6
Revises: c3d9e1f0a5b2
Create Date: 2026-11-29 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f1a2b3c4d6'
down_revision = 'c3d9e1f0a5b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('selfservice_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voter_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_selfservice_request_voter_id_voter'),
            'voter', ['voter_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_index('ix_selfservice_request_voter_id', ['voter_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('selfservice_request', schema=None) as batch_op:
        batch_op.drop_index('ix_selfservice_request_voter_id')
        batch_op.drop_constraint(batch_op.f('fk_selfservice_request_voter_id_voter'), type_='foreignkey')
        batch_op.drop_column('voter_id')
