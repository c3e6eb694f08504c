"""Database helpers shared by every domain package: UTC timestamps, SQLite settings, read-only
units of work and reads-first requests (transactions that never take SQLite's write lock)."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import CompoundSelect, DateTime, Select, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.types import TypeDecorator

# Set only by `clock_at` (the demo's generated activity); None means the real time.
_clock: ContextVar[datetime | None] = ContextVar("csudesk_clock", default=None)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return _clock.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the real services as if it were `moment` (aware), in this context only.

    The demo uses it to date generated activity over past days: the audit chain hashes each
    entry's time, so the time must be right when the entry is written, not rewritten later.
    """
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _clock.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _clock.reset(token)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on both engines, always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" hook below emit BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN:
    # a request that reads then writes would otherwise fail with SQLITE_BUSY under concurrency.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Execution option of the connection of a read-only unit of work, read by the "begin" hook.
READ_ONLY = "csudesk_read_only"
# Set in a SQLite connection's info while its transaction may only read (refuses writes).
_REFUSING_WRITES = "csudesk_refusing_writes"
# True while a reads-first request (csudesk.uow.reads_first) has not reached its writes: on
# SQLite its transaction so far begins deferred and refuses writes, like a read-only unit of
# work.
_reading_first: ContextVar[bool] = ContextVar("csudesk_reading_first", default=False)


def _the_session(session: Session | scoped_session | None) -> Session:
    if session is None:
        from csudesk.extensions import db

        session = db.session
    return session() if isinstance(session, scoped_session) else session


def start_reads_first() -> None:
    """This request reads first and writes only at the end (its writes call `end_reads`).

    On SQLite, every other transaction takes the single write lock at its first statement
    (BEGIN IMMEDIATE), so two workers serving pages that each end with an audit append run
    one after the other for the whole of their queries. Here the request's first transaction
    is deferred and refuses writes: in WAL mode it reads a snapshot beside any writer, and the
    write lock is taken only by the short transaction `end_reads` leaves for the writes,
    where BEGIN IMMEDIATE waits for the lock (busy_timeout) instead of failing with
    SQLITE_BUSY as a deferred transaction that upgrades itself would. PostgreSQL's readers
    never block its writers: there nothing changes.
    """
    _reading_first.set(True)


def end_reads(session: Session | scoped_session | None = None) -> None:
    """The request's reads are over: end their snapshot, so its writes begin a transaction.

    Objects stay loaded (expire_on_commit is off). Only what does not depend on the snapshot
    may follow: appends (the audit entry, a page view), not a check-then-write, which must
    read again in the write transaction. A no-op outside a reads-first request.
    """
    if not _reading_first.get():
        return
    _reading_first.set(False)
    session = _the_session(session)
    if session.in_transaction() and session.connection().info.get(_REFUSING_WRITES):
        session.commit()  # nothing was written: this only closes the read snapshot


def forget_reads_first() -> None:
    """At the end of a request, whatever happened: the next one starts as an ordinary one."""
    _reading_first.set(False)


@contextmanager
def read_only(session: Session | scoped_session | None = None) -> Iterator[Session]:
    """Run a unit of work that only reads, in a transaction of its own (the session's).

    Every other transaction on SQLite starts with BEGIN IMMEDIATE: it takes the database's
    single write lock at its first statement, so that the services' check-then-write sequences
    are serialised and never fail half-way with SQLITE_BUSY. A reader holding that lock blocks
    every writer, for as long as it reads: a streamed CSV export that a slow client downloads
    made every sign-in wait 10 s and fail with "database is locked". Here the transaction is
    deferred (plain BEGIN): in WAL mode it reads a snapshot while writers go on, and any
    statement other than a read attempted inside it fails at once instead of upgrading the
    lock (`_refuse_writes_while_reading`). On PostgreSQL the transaction is READ ONLY.

    The session must have no transaction in progress (commit what the request wrote first);
    the unit of work is rolled back when the block ends, closing its snapshot. Used by the
    streamed ticket-log export, the journal and the audit commands; the desk's pages read
    the same way until their writes (`start_reads_first`).
    """
    session = _the_session(session)
    if session.in_transaction():
        raise RuntimeError("commit or roll back before a read-only unit of work")
    session.connection(execution_options={READ_ONLY: True})
    try:
        yield session
    finally:
        session.rollback()


@event.listens_for(Engine, "begin")
def _on_begin(conn: Connection) -> None:
    reading = bool(conn.get_execution_options().get(READ_ONLY))
    if conn.dialect.name == "sqlite":
        reading = reading or _reading_first.get()
        # Set at every begin, which comes before any statement: never left from the last one.
        conn.info[_REFUSING_WRITES] = False  # BEGIN itself
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
        conn.info[_REFUSING_WRITES] = reading
    elif reading and conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes_while_reading(conn, cursor, statement, parameters, context, executemany):
    """In a deferred SQLite transaction, only SELECTs run: a write fails at once.

    SQLite's own guard, `PRAGMA query_only`, is a flag pragma: setting it expires every
    prepared statement of the connection, so switching it on and off around each page's reads
    made SQLite compile all of the page's statements again, every request (about 1 ms a page).
    The guard is kept here instead, on every statement SQLAlchemy sends (not on a raw DBAPI
    connection's, which nothing uses inside such a transaction), with the class of error the
    driver's refusal would have raised. A savepoint is refused too: none is taken there.
    """
    if conn.info.get(_REFUSING_WRITES) and not _is_read(statement, context):
        refusal = sqlite3.OperationalError(
            "attempt to write in a read-only transaction (csudesk.db.read_only, or a"
            " reads-first request before end_reads)"
        )
        raise OperationalError(
            statement,
            parameters,
            refusal,
            hide_parameters=conn.engine.hide_parameters,
            ismulti=executemany,
        )


def _is_read(statement: str, context) -> bool:
    if statement.lstrip()[:6].upper() == "SELECT":
        return True
    # A SELECT or a UNION that opens with a WITH clause. Not any SelectBase: a TextualSelect
    # may hold an INSERT ... RETURNING.
    compiled = getattr(context, "compiled", None)
    return compiled is not None and isinstance(compiled.statement, Select | CompoundSelect)
