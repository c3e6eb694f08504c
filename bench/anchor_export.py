"""The CSV export anchor: `csv.writer` over a plain cursor on the rows the export reads.

The same joins and order as the supervision export, through the raw driver (sqlite3, or a
psycopg server-side cursor fetching 1,000 rows at a time, as the app's `yield_per` does), values
written as the driver returns them. It imports nothing from csudesk so that its peak RSS is the
stack's floor. Prints the rows written and the seconds taken (interpreter start aside).

    python -m bench.anchor_export sqlite PATH.sqlite3
    python -m bench.anchor_export postgresql postgresql://...
"""

import csv
import os
import sqlite3
import sys
import time

SQL = (
    "SELECT t.reference, t.created_at, c.code, c.name, t.category, t.channel, t.status,"
    " v.roll_id, v.last_name, v.first_name, t.contact_email, t.contact_last_name,"
    " t.contact_first_name, creator.name, assignee.name, t.updated_at, t.resolved_at"
    " FROM ticket t JOIN csu c ON c.id = t.csu_id"
    " LEFT JOIN voter v ON v.id = t.voter_id"
    " LEFT JOIN agent creator ON creator.id = t.created_by_agent_id"
    " LEFT JOIN agent assignee ON assignee.id = t.assigned_agent_id"
    " ORDER BY t.created_at DESC, t.id DESC"
)
FETCH = 1000


def export(kind: str, target: str) -> int:
    with open(os.devnull, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        if kind == "sqlite":
            connection = sqlite3.connect(target)
            try:
                cursor = connection.execute(SQL)
                count = 0
                while rows := cursor.fetchmany(FETCH):
                    writer.writerows(rows)
                    count += len(rows)
                return count
            finally:
                connection.close()
        import psycopg

        with (
            psycopg.connect(target) as connection,
            connection.cursor(name="anchor_export") as cursor,
        ):
            cursor.itersize = FETCH
            cursor.execute(SQL)
            count = 0
            while rows := cursor.fetchmany(FETCH):
                writer.writerows(rows)
                count += len(rows)
            return count


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    started = time.perf_counter()
    rows = export(sys.argv[1], sys.argv[2])
    print(rows, f"{time.perf_counter() - started:.3f}")
