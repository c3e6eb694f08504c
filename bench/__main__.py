"""python -m bench: every figure on SQLite and PostgreSQL, one table, one results file."""

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench import contact, desk_lookup, export, fetch, name_search, outbox, roll_import
from bench.harness import ROOT, Database, Row, Run
from bench.report import text_table, write

DEFAULT_VOTERS = 1_800_000
QUICK_VOTERS = 20_000
DEFAULT_TICKETS = 1_000_000
QUICK_TICKETS = 50_000
DEFAULT_MESSAGES = 10_000
QUICK_MESSAGES = 1_000
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
# The export comes last: it tops the ticket log up to its sizes with bulk inserts, which must
# not weigh on the figures measured before it.
FIGURES = ("import", "search", "outbox", "lookup", "contact", "fetch", "export")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--voters", type=int, default=DEFAULT_VOTERS, help="roll size")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_VOTERS} voters and fewer samples; results go to bench/work/results",
    )
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures")
    parser.add_argument("--searches", type=int, default=500, help="name searches timed")
    parser.add_argument("--mails", type=int, default=2000, help="mails sent by the outbox")
    parser.add_argument(
        "--messages", type=int, default=DEFAULT_MESSAGES, help="messages read by mail fetch"
    )
    parser.add_argument(
        "--tickets",
        type=int,
        default=DEFAULT_TICKETS,
        help="ticket log exported (also measured at a fifth of it)",
    )
    parser.add_argument("--seconds", type=float, default=20, help="wrk duration per HTTP run")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a database of its own: the bench drops and recreates its tables",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work")
    args = parser.parse_args(argv)
    if args.quick:
        args.voters = min(args.voters, QUICK_VOTERS)
        args.searches = min(args.searches, 200)
        args.mails = min(args.mails, 300)
        args.tickets = min(args.tickets, QUICK_TICKETS)
        args.messages = min(args.messages, QUICK_MESSAGES)
        args.seconds = min(args.seconds, 5)
    return args


def run_figures(
    database: Database,
    work: Path,
    voters: int,
    searches: int,
    mails: int,
    seconds: float,
    only: set[str],
    tickets: int = DEFAULT_TICKETS,
    messages: int = DEFAULT_MESSAGES,
) -> list[Row]:
    """Every figure asked for, on one database; figure 1 leaves the roll the others use."""
    rows: list[Row] = []
    if "import" in only:
        rows += roll_import.run(database, work, voters)
    else:
        roll_import.load_roll(database, work, voters)
    if "search" in only:
        rows += name_search.run(database, searches)
    if "outbox" in only:
        rows += outbox.run(database, mails)
    if "lookup" in only:
        rows += desk_lookup.run(database, work, seconds)
    if "contact" in only:
        rows += contact.run(database, seconds)
    if "fetch" in only:
        rows += fetch.run(database, messages)
    if "export" in only:
        rows += export.run(database, tickets)
    return rows


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    databases = {
        "sqlite": Database.sqlite(work),
        "postgresql": Database.postgresql(args.postgres_url, work),
    }
    run = Run(voters=args.voters)
    failed = False
    for key in args.databases.split(","):
        database = databases[key]
        started = time.monotonic()
        print(f"== {database.name}: {args.voters} voters", file=sys.stderr, flush=True)
        try:
            database.ensure_exists()
            run.versions[key] = database.server_version()
            run.rows += run_figures(
                database,
                work,
                args.voters,
                args.searches,
                args.mails,
                args.seconds,
                only,
                args.tickets,
                args.messages,
            )
        except Exception as exc:  # one database down must not hide the other's figures
            traceback.print_exc()
            run.missing.append(f"{database.name}: {type(exc).__name__}: {exc}".splitlines()[0])
            failed = True
        print(f"   done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    run.load_after = os.getloadavg()
    print(text_table(run.rows))
    for item in run.missing:
        print(f"not measured: {item}")
    quick = (
        args.quick
        or args.voters < DEFAULT_VOTERS
        or args.tickets < DEFAULT_TICKETS
        or args.messages < DEFAULT_MESSAGES
    )
    folder = work / "results" if quick else ROOT / "bench" / "results"
    print(f"\nwritten to {write(run, folder)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
