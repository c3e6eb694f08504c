"""The database's own share of a roll import: the app's rows and schema, written raw.

The file is parsed and validated by the importer itself (not timed); only the writes are timed:
the same voter and address rows, in the same batches, each batch one transaction, into the
app's tables with all their indexes, through the raw driver (sqlite3 executemany, psycopg COPY).
No import can beat this without a different schema or indexes, whatever its Python costs.
"""

import time
from pathlib import Path

from bench.harness import Database
from csudesk.csvio import open_csv
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.roll import import_worker as importer
from csudesk.roll.models import Voter

VOTER_COLUMNS = [column.name for column in Voter.__table__.c]
# Column names come from the model, never from input.
INSERT_VOTER = (
    f"INSERT INTO voter ({', '.join(VOTER_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join('?' * len(VOTER_COLUMNS))})"
)
COPY_VOTER = f"COPY voter ({', '.join(VOTER_COLUMNS)}) FROM STDIN"


def _write_sqlite(connection, voters: list[tuple], emails: list[tuple]) -> None:
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(INSERT_VOTER, voters)
    connection.executemany(
        "INSERT INTO voter_email (voter_id, address, position) VALUES (?, ?, ?)", emails
    )
    connection.execute("COMMIT")


def _write_postgresql(connection, voters: list[tuple], emails: list[tuple]) -> None:
    with connection.cursor() as cursor:
        with cursor.copy(COPY_VOTER) as copy:
            for row in voters:
                copy.write_row(row)
        with cursor.copy("COPY voter_email (voter_id, address, position) FROM STDIN") as copy:
            for row in emails:
                copy.write_row(row)
    connection.commit()


def database_seconds(database: Database, path: Path) -> float:
    """Seconds the database spends storing the roll file's voters, on an empty roll."""
    database.reset()
    with database.app_context():
        parser = importer.RollImporter()
        connection = database.raw_connect()
        if database.is_sqlite:
            connection.isolation_level = None  # explicit BEGIN IMMEDIATE, as the app's
        write = _write_sqlite if database.is_sqlite else _write_postgresql
        now = utcnow().replace(tzinfo=None)
        stamp = now.isoformat(" ") if database.is_sqlite else now
        next_id, seconds, batch = 1, 0.0, []
        source = open_csv(str(path), importer.ROLL_COLUMNS, required=("roll_id",))

        def store(rows) -> None:
            nonlocal next_id, seconds
            parser._create_missing_establishments(rows)
            db.session.commit()
            voters, emails = [], []
            for row in rows:
                fields = {
                    "id": next_id,
                    "roll_id": row.roll_id,
                    **parser._voter_fields(row),
                    "row_digest": row.digest,
                    "import_run": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                voters.append(tuple(fields[name] for name in VOTER_COLUMNS))
                emails.extend((next_id, address, n) for n, address in enumerate(row.emails))
                next_id += 1
            started = time.perf_counter()
            write(connection, voters, emails)
            seconds += time.perf_counter() - started

        try:
            for line, raw in source.rows():
                row = parser._parse(line, raw)
                if row is not None:
                    batch.append(row)
                if len(batch) >= importer.BATCH:
                    store(batch)
                    batch = []
            if batch:
                store(batch)
        finally:
            source.close()
            connection.close()
    return seconds
