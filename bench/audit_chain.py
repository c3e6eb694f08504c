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

    python -m bench.audit_chain    # one appending process, configured by CSUDESK_*, reading
                                   # "MODE SECONDS" then "go" on its input
"""

import subprocess
import sys
import time

from bench.harness import ROOT, Database, Row, bench_process, flask_command, fmt_int, per

FIGURE = "audit chain appends (audit.record and commit, nothing else)"
PROCESSES = (1, 2, 4)
SEALER_EVERY = 0.2


class Appenders:
    """As many appending processes as the largest run needs, started once: a run tells the
    first `n` of them its sealing mode, waits until each is ready, then starts them at once.
    (Fourteen process starts, each importing csudesk, took most of the figure's time.)"""

    def __init__(self, database: Database, count: int = max(PROCESSES)):
        self.children = [bench_process("bench.audit_chain", database.env()) for _ in range(count)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for child in self.children:
            child.stdin.close()  # end of input: the child leaves its loop
        for child in self.children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            child.stdout.close()

    def appends_per_second(self, processes: int, seconds: float, sealing: str) -> float:
        """Total appends/s of `processes` processes told to start at once, for `seconds`."""
        children = self.children[:processes]
        for child in children:
            child.stdin.write(f"{sealing} {seconds}\n")
            child.stdin.flush()
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("an appending process did not start")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        return sum(int(child.stdout.readline()) for child in children) / seconds


def _waiting(database: Database) -> int:
    from sqlalchemy import func, select

    from csudesk.audit.models import AuditEntry
    from csudesk.extensions import db

    with database.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seal_seq.is_(None))
        )


def with_sealer(
    database: Database, appenders: Appenders, seconds: float
) -> tuple[dict[int, float], float]:
    """Appends/s in "sealer" mode with a sealer running; the longest lag after a run."""
    sealer = subprocess.Popen(
        flask_command("audit", "seal", "--watch", "--every", str(SEALER_EVERY)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=database.env(AUDIT_SEALING="sealer"),
    )

    def sealed_after() -> float:
        """Seconds until no entry waits for its seal."""
        ended = time.monotonic()
        while _waiting(database):
            if sealer.poll() is not None or time.monotonic() - ended > 60:
                raise RuntimeError("the sealer did not seal the appended entries")
            time.sleep(0.05)
        return time.monotonic() - ended

    rates: dict[int, float] = {}
    lag = 0.0
    try:
        # A few appends first, sealed: the sealer has started, so its start is not a lag.
        appenders.appends_per_second(1, 0.1, "sealer")
        sealed_after()
        for n in PROCESSES:
            rates[n] = appenders.appends_per_second(n, seconds, "sealer")
            lag = max(lag, sealed_after())
    finally:
        sealer.terminate()
        sealer.wait(timeout=30)
    return rates, lag


def run(database: Database, seconds: float, page_rates: dict[int, float]) -> list[Row]:
    """The chain's appends/s, sealed inline then by the sealer, beside the voter page."""
    with Appenders(database) as appenders:
        inline = {n: appenders.appends_per_second(n, seconds, "inline") for n in PROCESSES}
        sealed, lag = with_sealer(database, appenders, seconds)
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


def _append_on_demand() -> None:
    """Read "MODE SECONDS" lines: build the app for that sealing mode (once per mode), warm
    it, say "ready", wait for "go", append for that long and print how many; until end of
    input."""
    import os

    from csudesk import create_app
    from csudesk.actor import Actor
    from csudesk.audit import services as audit
    from csudesk.extensions import db

    apps = {}
    for line in sys.stdin:
        sealing, seconds = line.split()
        if sealing not in apps:
            os.environ["CSUDESK_AUDIT_SEALING"] = sealing
            apps[sealing] = create_app()
        with apps[sealing].app_context():
            audit.record(Actor.system(), "bench.append", warm=True)  # connect, compile
            db.session.commit()
            print("ready", flush=True)
            sys.stdin.readline()
            appended = 0
            deadline = time.monotonic() + float(seconds)
            while time.monotonic() < deadline:
                audit.record(Actor.system(), "bench.append", n=appended)
                db.session.commit()
                appended += 1
            db.session.remove()
            db.engine.dispose()  # no connection left idle between two runs
        print(appended, flush=True)


if __name__ == "__main__":
    _append_on_demand()
