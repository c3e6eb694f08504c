"""challenge proofs kept server-side; desk challenge attempts counted apart from public ones

Revision ID: f2b7c9d1e3a5
Revises: a7c2d4e6f8b1
Create Date: 2026-12-01 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b7c9d1e3a5'
down_revision = 'a7c2d4e6f8b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('challenge_proof',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_challenge_proof_agent_id_agent')),
    sa.ForeignKeyConstraint(['link_id'], ['one_time_link.id'], name=op.f('fk_challenge_proof_link_id_one_time_link')),
    sa.ForeignKeyConstraint(['voter_id'], ['voter.id'], name=op.f('fk_challenge_proof_voter_id_voter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_proof'))
    )
    with op.batch_alter_table('challenge_proof', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_proof_voter_agent', ['voter_id', 'agent_id'], unique=False)
    with op.batch_alter_table('voter_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('desk_challenge_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('desk_challenge_locked_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('voter_account', schema=None) as batch_op:
        batch_op.drop_column('desk_challenge_locked_until')
        batch_op.drop_column('desk_challenge_failures')
    with op.batch_alter_table('challenge_proof', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_proof_voter_agent')
    op.drop_table('challenge_proof')
