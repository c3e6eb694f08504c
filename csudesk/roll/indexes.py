"""The roll's secondary indexes, set aside while a first load fills an empty roll.

Filling a B-tree one random key at a time costs several times more than sorting the keys once
at the end, so a first load drops the non-unique indexes of the voter tables and builds them
after the rows. The unique ones stay: the import reads through them to find duplicates.
Nothing but the models says which indexes exist, so that the schema after a load is the
migrations' (tests/roll/test_indexes.py compares them).
"""

from sqlalchemy import Index

from csudesk.extensions import db
from csudesk.roll.models import Voter, VoterEmail

ROLL_TABLES = (Voter.__table__, VoterEmail.__table__)


def secondary_indexes() -> list[Index]:
    """The non-unique indexes of the voter tables, as the models declare them."""
    return [
        index
        for table in ROLL_TABLES
        for index in sorted(table.indexes, key=lambda index: index.name)
        if not index.unique
    ]


def drop_secondary_indexes() -> None:
    """Drop them, in a transaction of their own (ensure_indexes puts them back)."""
    connection = db.session.connection()
    for index in secondary_indexes():
        index.drop(connection, checkfirst=True)
    db.session.commit()


def ensure_indexes() -> list[str]:
    """Create whichever is missing, in a transaction of its own; return their names.

    Idempotent: every import runs it first, so a first load killed before it could build its
    indexes again (SIGKILL, power cut) leaves them missing only until the next import.
    """
    connection = db.session.connection()
    missing = [
        index
        for index in secondary_indexes()
        if not connection.dialect.has_index(connection, index.table.name, index.name)
    ]
    for index in missing:
        index.create(connection)
    db.session.commit()
    return [index.name for index in missing]
