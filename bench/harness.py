"""What every figure shares: the databases under test, timing, peak RSS, the results table."""

import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, make_url, select, text

from csudesk import create_app

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET_KEY = "bench-only-not-a-secret"
ANCHOR_TABLES = ("anchor_roll",)


@dataclass(frozen=True)
class Database:
    """One database under test: the app's SQLAlchemy URL and how to reach it without the app."""

    name: str  # "SQLite" or "PostgreSQL", as printed in the table
    url: str
    work: Path  # scratch folder for this database (instance folder, sink files)

    @classmethod
    def sqlite(cls, work: Path) -> "Database":
        return cls("SQLite", f"sqlite:///{work / 'sqlite' / 'bench.sqlite3'}", work / "sqlite")

    @classmethod
    def postgresql(cls, url: str, work: Path) -> "Database":
        return cls("PostgreSQL", url, work / "postgresql")

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        return make_url(self.url).database

    @property
    def libpq_url(self) -> str:
        """The URL psycopg understands (no SQLAlchemy driver suffix)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def raw_target(self) -> tuple[str, str]:
        """How the anchors reach the database: ("sqlite", path) or ("postgresql", libpq URL)."""
        if self.is_sqlite:
            return "sqlite", self.sqlite_path
        return "postgresql", self.libpq_url

    def anchor_env(self) -> dict[str, str]:
        """Environment of bench.anchor_app under gunicorn, on this database."""
        kind, target = self.raw_target
        return {**self.env(), "BENCH_ANCHOR_KIND": kind, "BENCH_ANCHOR_TARGET": target}

    def config(self, **extra) -> dict:
        return {
            "SECRET_KEY": BENCH_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SESSION_COOKIE_SECURE": False,
            "BASE_URL": "http://127.0.0.1:5000",
            **extra,
        }

    def app(self, **extra) -> Flask:
        return create_app(self.config(**extra))

    @contextmanager
    def app_context(self, **extra) -> Iterator[Flask]:
        """The app on this database, in context; its connections are closed on the way out."""
        from csudesk.extensions import db

        app = self.app(**extra)
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()

    def env(self, **extra) -> dict[str, str]:
        """Environment of an app subprocess (flask CLI, gunicorn) on this database."""
        instance = self.work / "instance"  # empty: a developer's instance/config.py is not read
        instance.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "CSUDESK_INSTANCE_PATH": str(instance),
            "CSUDESK_SECRET_KEY": BENCH_SECRET_KEY,
            "CSUDESK_SQLALCHEMY_DATABASE_URI": self.url,
            "CSUDESK_SESSION_COOKIE_SECURE": "false",
            "PYTHONPATH": str(ROOT),
        }
        env.update({f"CSUDESK_{key}": str(value) for key, value in extra.items()})
        return env

    def raw_connect(self):
        """A plain DB-API connection (sqlite3 or psycopg), as the anchors use."""
        if self.is_sqlite:
            connection = sqlite3.connect(self.sqlite_path)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            return connection
        import psycopg

        return psycopg.connect(self.libpq_url)

    def ensure_exists(self) -> None:
        """Create the folder (SQLite) or the database (PostgreSQL) when missing."""
        self.work.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite:
            return
        url = make_url(self.url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": url.database},
                )
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        finally:
            admin.dispose()

    def reset(self) -> None:
        """An empty schema with the built-in directory and the demo Creps establishments."""
        from csudesk.directory import services as directory
        from csudesk.extensions import db
        from csudesk.roll.generator import demo_creps_uais

        self.ensure_exists()
        if self.is_sqlite:
            for suffix in ("", "-wal", "-shm"):
                Path(self.sqlite_path + suffix).unlink(missing_ok=True)
        with self.app_context():
            if not self.is_sqlite:
                with db.engine.begin() as connection:
                    for table in ANCHOR_TABLES:
                        connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
                db.drop_all()
            db.create_all()
            directory.load_builtin_directory()
            for csu_code, uai in demo_creps_uais().items():
                directory.attach_establishment(uai, csu_code)
            db.session.commit()

    def server_version(self) -> str:
        if self.is_sqlite:
            return f"SQLite {sqlite3.sqlite_version}"
        with self.raw_connect() as connection:
            return "PostgreSQL " + connection.execute("SHOW server_version").fetchone()[0]


def ensure_account(email: str, name: str, role: str, csu, password: str) -> None:
    """A desk account the bench signs in with, created once (in an app context)."""
    from csudesk.actor import Actor
    from csudesk.agents.models import Agent
    from csudesk.agents.services import create_agent
    from csudesk.extensions import db

    if db.session.scalar(select(Agent.id).where(Agent.email == email)) is None:
        create_agent(Actor.system(), email=email, name=name, role=role, csu=csu, password=password)
    db.session.commit()


@dataclass
class Row:
    """One line of the results table: a figure on one database beside its anchor."""

    figure: str
    database: str
    measured: str
    anchor: str
    ratio: str
    target: str
    met: bool | None  # None: no target on this line
    note: str = ""


@dataclass
class Run:
    voters: int
    rows: list[Row] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    load_after: tuple[float, float, float] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    # The code measured is the one imported at the start: a commit made during the run is not.
    commit_id: str = field(default_factory=lambda: commit())  # defined below


@dataclass(frozen=True)
class Measured:
    """Wall time, peak resident memory and output of a finished subprocess."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    # User + system time of the process itself (not of a database server): on a loaded
    # machine the wall time also counts the waits for a core.
    cpu_seconds: float = 0.0


def run_measured(command: Sequence[str], env: dict[str, str], work: Path) -> Measured:
    """Run a command to completion through bench.measure; raise if it fails."""
    work.mkdir(parents=True, exist_ok=True)
    out_path, err_path, report = work / "stdout.txt", work / "stderr.txt", work / "measure.json"
    report.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.run(
            [sys.executable, "-m", "bench.measure", str(report), *command],
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {process.returncode}:\n{stderr[-2000:]}"
        )
    measured = json.loads(report.read_text(encoding="utf-8"))
    return Measured(
        measured["seconds"],
        measured["peak_rss_kb"] / 1024,
        stdout,
        stderr,
        measured.get("cpu_seconds", 0.0),
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def count_queries(engine=None) -> Iterator[list[str]]:
    """The SQL statements an engine runs inside the block (default: the app's, in context)."""
    from sqlalchemy import event

    from csudesk.extensions import db

    engine = engine if engine is not None else db.engine
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def per(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when nothing was measured below (a run that served no
    request on a loaded machine): the row then says nan and its target is not met."""
    return numerator / denominator if denominator else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a reported p95 is a latency that happened)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def bench_process(module: str, env: dict[str, str]) -> subprocess.Popen:
    """`python -m module` from the project root, spoken to in lines on its stdin and stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "csudesk", *args]


def machine() -> dict[str, str]:
    """CPU model, cores and RAM of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as handle:
            total_kb = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
        ram = f"{total_kb / 1024 / 1024:.1f} GiB"
    except OSError:
        ram = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def commit() -> str:
    """Short commit id of the working tree, marked when files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}" if head else "unknown"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed (make bench installs it with apt-get)")
    return path


def fmt_seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def fmt_ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def fmt_int(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")
