"""The bench code at tiny sizes on the test database, so that `make bench` cannot rot.

No timing is asserted: only that every figure runs end to end, beside its anchor, and that
the results file carries each row. The HTTP figures need Debian's wrk (`make wrk`).
"""

import pytest

from bench import __main__ as bench_main
from bench.harness import Database, percentile
from bench.report import markdown
from tests.conftest import POSTGRES_URL

VOTERS = 300
TICKETS = 2000


@pytest.fixture
def database(tmp_path, _schema):
    if POSTGRES_URL:
        database = Database.postgresql(POSTGRES_URL, tmp_path)
    else:
        database = Database.sqlite(tmp_path)
    yield database
    if POSTGRES_URL:
        database.reset()  # leave the schema the other tests expect, empty of bench data


def test_every_figure_runs_beside_its_anchor(database, tmp_path):
    rows = bench_main.run_figures(
        database,
        tmp_path,
        VOTERS,
        searches=10,
        mails=5,
        seconds=1,
        only=set(bench_main.FIGURES),
        tickets=TICKETS,
        messages=5,
    )
    figures = [row.figure for row in rows]
    assert figures == [
        "roll import, 300 voters: wall time",
        "roll import: the database's share alone",
        "roll import, 300 voters: peak RSS",
        "roll import again, same file (nothing changes)",
        figures[4],
        "outbox sender to a local SMTP sink, mails/s",
        "outbox sender to a local SMTP sink, 2 sender processes beside 1: mails/s",
        "desk lookup by e-mail, full voter page: req/s",
        "desk lookup by e-mail, full voter page beside its same-work anchor: req/s",
        "desk lookup by e-mail, full voter page in one process: time per page",
        "desk lookup by e-mail, full voter page with 1 / 2 / 4 worker processes: req/s",
        "audit chain appends (audit.record and commit, nothing else), 1 / 2 / 4 processes:"
        " appends/s",
        "audit chain appends (audit.record and commit, nothing else) with the sealer, 1 / 2 / 4"
        " processes: appends/s",
        "desk lookup by e-mail, full voter page: p50 / p99",
        "desk lookup by e-mail, full voter page at half its maximum, open loop: p50 / p99",
        "contact form submissions/s (routing, ticket, audit)",
        "mail fetch from a local Dovecot, messages/s",
        "CSV export of the ticket log, 2 000 tickets: rows/s",
        figures[18],
    ]
    assert figures[4].startswith("name search in one académie (")
    # The small size is a fifth of the log, or what the contact figure already wrote.
    assert figures[18].startswith("CSV export of the ticket log: peak RSS at ")
    assert figures[18].endswith(" / 2 000 tickets")
    for row in rows:
        assert row.database == database.name
        assert row.measured and row.anchor and row.ratio
    assert "0 électeurs créés" in rows[3].note and "300 inchangés" in rows[3].note
    assert "starting the flask command" in rows[0].note and "CPU " in rows[3].note
    assert rows[5].note.startswith("5 activation mails; CPU of the sending process ")
    assert rows[6].note.startswith("5 fresh mails each time, sent ")
    assert " SQL queries per page; " in rows[7].note
    # The same-work anchor serves the page's own HTML, byte for byte but the CSRF tokens.
    assert "same HTML as the page: yes;" in rows[8].note
    assert "voter_file.voter_file " in rows[9].note and rows[9].measured.endswith(" ms wall")
    assert rows[10].measured.count(" / ") == 2 and rows[10].note.startswith("anchor: 1 worker;")
    assert rows[11].measured.count(" / ") == 2 and rows[11].anchor.count(" / ") == 2
    assert "every entry sealed at most " in rows[12].note
    assert " req/s offered on a clock (bench/open_loop.py)" in rows[14].note
    assert " SQL statements per submission; " in rows[15].note
    assert "limits per address and per IP raised" in rows[15].note
    assert rows[16].note.startswith("5 messages, batches of 50, a commit every 10 (")
    assert rows[18].measured.count(" MB") == 2 and rows[18].anchor.count(" MB") == 2
    run = bench_main.Run(voters=VOTERS, rows=rows, missing=["a figure not in main yet"])
    page = markdown(run)
    assert all(row.figure in page for row in rows)
    assert "- a figure not in main yet" in page
    assert "cores" in page and "commit:" in page


def test_percentile_is_a_latency_that_happened():
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    assert percentile(values, 50) == 0.3
    assert percentile(values, 95) == 0.5
    assert percentile([0.7], 95) == 0.7
