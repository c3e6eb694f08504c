"""The roll-import anchor: the file bulk-loaded by the database's fastest path from Python.

One table and the unique e-mail index, created before the load as the app's indexes are:
sqlite3 `executemany` in one transaction, or PostgreSQL `COPY FROM STDIN`. It imports nothing
from csudesk so that its peak RSS is the stack's floor.

    python -m bench.anchor_load sqlite PATH.sqlite3 ROLL.csv
    python -m bench.anchor_load postgresql postgresql://... ROLL.csv
"""

import csv
import sqlite3
import sys

DDL = (
    "CREATE TABLE anchor_roll (identifiant TEXT, nom TEXT, prenom TEXT, courriels TEXT,"
    " uai TEXT, remise_notice TEXT)",
    "CREATE UNIQUE INDEX ix_anchor_roll_courriels ON anchor_roll (courriels)",
)


def load_sqlite(database: str, roll: str) -> int:
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        with connection:
            connection.execute("DROP TABLE IF EXISTS anchor_roll")
            for statement in DDL:
                connection.execute(statement)
        with open(roll, encoding="utf-8", newline="") as handle, connection:
            reader = csv.reader(handle, delimiter=";")
            next(reader)
            connection.executemany("INSERT INTO anchor_roll VALUES (?, ?, ?, ?, ?, ?)", reader)
        count = connection.execute("SELECT count(*) FROM anchor_roll").fetchone()[0]
        with connection:
            connection.execute("DROP TABLE anchor_roll")
        return count
    finally:
        connection.close()


def load_postgresql(conninfo: str, roll: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS anchor_roll")
        for statement in DDL:
            cursor.execute(statement)
        copy_sql = "COPY anchor_roll FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)"
        with open(roll, "rb") as handle, cursor.copy(copy_sql) as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        connection.commit()
        count = cursor.execute("SELECT count(*) FROM anchor_roll").fetchone()[0]
        cursor.execute("DROP TABLE anchor_roll")
        connection.commit()
        return count


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("sqlite", "postgresql"):
        sys.exit(__doc__)
    kind, target, roll_path = sys.argv[1:]
    loader = load_sqlite if kind == "sqlite" else load_postgresql
    print(loader(target, roll_path))
