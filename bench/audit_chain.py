"""The audit chain's own ceiling: appends per second with 1, 2 and 4 processes appending.

Every desk request appends one entry. Sealed inline (AUDIT_SEALING "inline"), the append
holds the chain's lock (on PostgreSQL an advisory transaction lock, from the head's read to
the commit; on SQLite the write lock) through the commit, so the appends of every process
run one after the other: if that were the desk's ceiling, more app processes would serve no
more pages. Here processes do nothing but append (`audit.record`, then commit, as a request
does), so their total rate is the most the chain lets through, beside the voter page's rate
(bench/desk_lookup.py). Then the same with AUDIT_SEALING "sealer": the processes insert
without the lock while one `flask audit seal --watch` chains their entries; its lag is how
long after the last append the chain was complete.

    python -m bench.audit_chain SECONDS    # one appending process, configured by CSUDESK_*
"""

import subprocess
import sys
import time

from bench.harness import ROOT, Database, Row, flask_command, fmt_int, per

FIGURE = "audit chain appends (audit.record and commit, nothing else)"
PROCESSES = (1, 2, 4)
SEALER_EVERY = 0.2


def appends_per_second(database: Database, processes: int, seconds: float, sealing: str) -> float:
    """Total appends/s of `processes` processes told to start at once, for `seconds`."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.audit_chain", str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=database.env(AUDIT_SEALING=sealing),
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


def _waiting(database: Database) -> int:
    from sqlalchemy import func, select

    from csudesk.audit.models import AuditEntry
    from csudesk.extensions import db

    with database.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seal_seq.is_(None))
        )


def with_sealer(database: Database, seconds: float) -> tuple[dict[int, float], float]:
    """Appends/s in "sealer" mode with a sealer running; the longest lag after a run."""
    sealer = subprocess.Popen(
        flask_command("audit", "seal", "--watch", "--every", str(SEALER_EVERY)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=database.env(AUDIT_SEALING="sealer"),
    )
    rates: dict[int, float] = {}
    lag = 0.0
    try:
        for n in PROCESSES:
            rates[n] = appends_per_second(database, n, seconds, "sealer")
            ended = time.monotonic()
            while _waiting(database):
                if sealer.poll() is not None or time.monotonic() - ended > 60:
                    raise RuntimeError("the sealer did not seal the appended entries")
                time.sleep(0.05)
            lag = max(lag, time.monotonic() - ended)
    finally:
        sealer.terminate()
        sealer.wait(timeout=30)
    return rates, lag


def run(database: Database, seconds: float, page_rates: dict[int, float]) -> list[Row]:
    """The chain's appends/s, sealed inline then by the sealer, beside the voter page."""
    inline = {n: appends_per_second(database, n, seconds, "inline") for n in PROCESSES}
    sealed, lag = with_sealer(database, seconds)
    counts = " / ".join(map(str, PROCESSES))
    most = PROCESSES[-1]
    return [
        Row(
            f"{FIGURE}, {counts} processes: appends/s",
            database.name,
            " / ".join(fmt_int(inline[n]) for n in PROCESSES),
            " / ".join(fmt_int(page_rates[n]) for n in PROCESSES if n in page_rates),
            f"{per(min(inline.values()), max(page_rates.values())):.1f}×",
            "",
            None,
            f"sealed inline, under the chain's lock; anchor: the voter page's req/s with"
            f" {counts} worker processes; ratio: the chain's lowest rate over the page's"
            f" highest, how far the page is from queueing on the chain",
        ),
        Row(
            f"{FIGURE} with the sealer, {counts} processes: appends/s",
            database.name,
            " / ".join(fmt_int(sealed[n]) for n in PROCESSES),
            " / ".join(fmt_int(inline[n]) for n in PROCESSES),
            f"{per(sealed[most], inline[most]):.1f}× with {most}",
            "",
            None,
            f"AUDIT_SEALING=sealer: inserted without the lock, chained by one `audit seal"
            f" --watch --every {SEALER_EVERY:g}`; anchor: the same sealed inline; every entry"
            f" sealed at most {lag:.1f} s after the last append",
        ),
    ]


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
