"""an index on the Message-ID of the mail read from the CSU mailboxes

Revision ID: e7a1c3f5b9d2
Revises: d4e8f1a2b6c9
Create Date: 2026-12-02 13:20:00

Importing a message looks for an earlier copy of it by its Message-ID, and a reply for the
message it answers: each lookup read the whole inbound_message table, so a backlog's import
grew with the square of the mail received. A hash index on PostgreSQL (equality only, and no
limit on the length of the value, which a B-tree entry has).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e7a1c3f5b9d2'
down_revision = 'd4e8f1a2b6c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_inbound_message_message_id',
        'inbound_message',
        ['message_id'],
        postgresql_using='hash',
    )


def downgrade():
    op.drop_index('ix_inbound_message_message_id', table_name='inbound_message')
