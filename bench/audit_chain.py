"""The audit chain's own ceiling: appends per second with 1, 2 and 4 processes appending.

Every desk request appends one entry to one chain under one lock (on PostgreSQL an advisory
transaction lock held from the chain head's read to the commit; on SQLite the write lock).
If that lock were the desk's ceiling, several app processes would queue on it: the voter
page's req/s with 1, 2 and 4 worker processes (bench/desk_lookup.py) would stop growing at the
chain's rate. Here processes do nothing but append (`audit.record`, then commit, as a request
does), so their total rate is the most the chain lets through; the lookup figure shows the
page's rate beside it.

    python -m bench.audit_chain SECONDS    # one appending process, configured by CSUDESK_*
"""

import subprocess
import sys
import time

from bench.harness import ROOT, Database, Row, fmt_int

FIGURE = "audit chain appends (audit.record and commit, nothing else)"
PROCESSES = (1, 2, 4)


def appends_per_second(database: Database, processes: int, seconds: float) -> float:
    """Total appends/s of `processes` processes told to start at once, for `seconds`."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.audit_chain", str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=database.env(),
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("an appending process did not start")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        counts = [int(child.stdout.readline()) for child in children]
    finally:
        for child in children:
            child.stdin.close()
            child.wait(timeout=60)
            child.stdout.close()
    return sum(counts) / seconds


def run(database: Database, seconds: float, page_rates: dict[int, float]) -> Row:
    """The chain's appends/s with 1, 2 and 4 processes, beside the voter page's req/s."""
    rates = {n: appends_per_second(database, n, seconds) for n in PROCESSES}
    page = " / ".join(fmt_int(page_rates[n]) for n in PROCESSES if n in page_rates)
    lowest = min(rates.values())
    busiest_page = max(page_rates.values())
    return Row(
        f"{FIGURE}, {' / '.join(map(str, PROCESSES))} processes: appends/s",
        database.name,
        " / ".join(fmt_int(rates[n]) for n in PROCESSES),
        page,
        f"{lowest / busiest_page:.1f}×",
        "",
        None,
        f"anchor: the voter page's req/s with {' / '.join(map(str, PROCESSES))} worker"
        f" processes; ratio: the chain's lowest rate over the page's highest, how far the page"
        f" is from queueing on the chain",
    )


def _append_for(seconds: float) -> int:
    from csudesk import create_app
    from csudesk.actor import Actor
    from csudesk.audit import services as audit
    from csudesk.extensions import db

    app = create_app()
    with app.app_context():
        audit.record(Actor.system(), "bench.append", warm=True)  # connect, compile
        db.session.commit()
        print("ready", flush=True)
        sys.stdin.readline()
        appended = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            audit.record(Actor.system(), "bench.append", n=appended)
            db.session.commit()
            appended += 1
        db.session.remove()
    return appended


if __name__ == "__main__":
    print(_append_for(float(sys.argv[1])), flush=True)
