"""voter.row_digest: a re-import skips the roll lines stored unchanged

Revision ID: bf1c79d4a9fd
Revises: 5f916bcb18a4
Create Date: 2026-12-01 11:03:20.751541

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bf1c79d4a9fd'
down_revision = '5f916bcb18a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_digest', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('voter', schema=None) as batch_op:
        batch_op.drop_column('row_digest')
