"""Figure 1: `flask --app csudesk roll import` of a generated roll, beside a bare bulk load.

The anchor (bench/anchor_load.py) and the import run as subprocesses measured the same way:
wall time, and peak RSS from wait4().
"""

import sys
from pathlib import Path

from bench import schema_floor
from bench.harness import (
    Database,
    Measured,
    Row,
    flask_command,
    fmt_seconds,
    run_measured,
)
from csudesk.roll.generator import generate_roll

FIGURE = "roll import"
TARGET_RATIO = 4.0  # first load into an empty roll (issue 14, target 6)
TARGET_AGAIN_RATIO = 2.0  # the same file again: read and compared, nothing written
TARGET_RSS_MB = 250
GENERATOR_SEED = 2026


def roll_file(work: Path, voters: int) -> Path:
    """The generated roll of this size, written once and kept in the work folder."""
    path = work / f"roll-{voters}-{GENERATOR_SEED}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with open(partial, "w", encoding="utf-8", newline="") as out:
            generate_roll(out, voters, GENERATOR_SEED)
        partial.rename(path)
    return path


def _cpu_note(measured: Measured, anchor: Measured, startup: Measured) -> str:
    """CPU time of the import process beside the anchor's (a database server's not counted),
    and the part of it that any flask command spends starting, whatever the file's size."""
    return (
        f"CPU {fmt_seconds(measured.cpu_seconds)} (anchor {fmt_seconds(anchor.cpu_seconds)}),"
        f" of which {fmt_seconds(startup.cpu_seconds)} starting the flask command"
    )


def _import_summary(stdout: str) -> str:
    return stdout.strip().splitlines()[0] if stdout.strip() else ""


def run(database: Database, work: Path, voters: int) -> list[Row]:
    """Anchor, the database's share, first import into an empty roll, the same file again."""
    path = roll_file(work, voters)
    database.reset()
    anchor = run_measured(
        [sys.executable, "-m", "bench.anchor_load", *database.raw_target, str(path)],
        database.env(),
        database.work / "anchor",
    )
    loaded = int(anchor.stdout.split()[0])
    if loaded != voters:
        raise RuntimeError(f"anchor loaded {loaded} rows, expected {voters}")
    floor = schema_floor.database_seconds(database, path)
    database.reset()
    first = run_measured(
        flask_command("roll", "import", str(path)), database.env(), database.work / "import"
    )
    again = run_measured(
        flask_command("roll", "import", str(path)), database.env(), database.work / "reimport"
    )
    startup = run_measured(
        flask_command("roll", "--help"), database.env(), database.work / "startup"
    )
    created = f"{voters} électeurs créés"
    if created not in first.stdout:
        raise RuntimeError(f"import did not create {voters} voters: {first.stdout}")
    ratio = first.seconds / anchor.seconds
    size = f"{voters:,}".replace(",", " ")
    return [
        Row(
            f"{FIGURE}, {size} voters: wall time",
            database.name,
            fmt_seconds(first.seconds),
            fmt_seconds(anchor.seconds),
            f"{ratio:.1f}×",
            f"≤ {TARGET_RATIO:.0f}× anchor",
            ratio <= TARGET_RATIO,
            _cpu_note(first, anchor, startup),
        ),
        Row(
            f"{FIGURE}: the database's share alone",
            database.name,
            fmt_seconds(floor),
            fmt_seconds(anchor.seconds),
            f"{floor / anchor.seconds:.1f}×",
            "",
            None,
            "the import's rows written raw into its tables and indexes (bench/schema_floor.py)",
        ),
        Row(
            f"{FIGURE}, {size} voters: peak RSS",
            database.name,
            f"{first.peak_rss_mb:.0f} MB",
            f"{anchor.peak_rss_mb:.0f} MB",
            f"{first.peak_rss_mb / anchor.peak_rss_mb:.1f}×",
            f"≤ {TARGET_RSS_MB} MB",
            first.peak_rss_mb <= TARGET_RSS_MB,
        ),
        Row(
            f"{FIGURE} again, same file (nothing changes)",
            database.name,
            f"{fmt_seconds(again.seconds)}, {again.peak_rss_mb:.0f} MB",
            fmt_seconds(anchor.seconds),
            f"{again.seconds / anchor.seconds:.1f}×",
            f"≤ {TARGET_AGAIN_RATIO:.0f}× anchor",
            again.seconds / anchor.seconds <= TARGET_AGAIN_RATIO,
            f"{_import_summary(again.stdout)} {_cpu_note(again, anchor, startup)}",
        ),
    ]


def load_roll(database: Database, work: Path, voters: int) -> None:
    """The roll the other figures need, loaded without measuring (when figure 1 is skipped)."""
    from csudesk.roll.import_worker import import_roll

    path = roll_file(work, voters)
    database.reset()
    with database.app_context():
        import_roll(str(path))
