"""The supervision ticket log: filters, keyset pagination, and the rows of the CSV export."""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import DateTime, Row, Select, exists, func, or_, select, type_coerce
from sqlalchemy.orm import aliased, joinedload

from csudesk.agents.models import Agent
from csudesk.directory.models import CSU
from csudesk.elections.calendar import paris_midnight
from csudesk.extensions import db
from csudesk.paging import keyset_page
from csudesk.roll.models import Voter
from csudesk.roll.services import voter_id_of_address
from csudesk.text import escape_like, normalize_email
from csudesk.tickets.models import Ticket, TicketEvent

# Event kinds whose text an agent wrote: searched with the ticket's own message.
NOTE_KINDS = ("note", "transfer")
MAX_SEARCH_WORDS = 6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LogFilter:
    """What the supervisor asked for; csu_ids is already the scope (None: every CSU)."""

    csu_ids: frozenset[int] | None = None
    agent_id: int | None = None
    category: str | None = None
    status: str | None = None
    channel: str | None = None
    date_from: date | None = None  # Paris days, both included
    date_to: date | None = None
    voter_email: str | None = None
    text: str | None = None


def search_words(text: str | None) -> list[str]:
    """The words of a note search (each must appear), without LIKE wildcards."""
    words = [w for w in re.split(r"\s+", (text or "").strip()) if w][:MAX_SEARCH_WORDS]
    return [escape_like(w) for w in words]


def conditions(f: LogFilter) -> list:
    """SQL conditions on Ticket for a filter (shared by the page, the count and the export)."""
    where: list = []
    if f.csu_ids is not None:
        where.append(Ticket.csu_id.in_(f.csu_ids))
    if f.agent_id is not None:
        where.append(
            or_(
                Ticket.created_by_agent_id == f.agent_id,
                Ticket.assigned_agent_id == f.agent_id,
                exists().where(
                    TicketEvent.ticket_id == Ticket.id, TicketEvent.agent_id == f.agent_id
                ),
            )
        )
    for column, value in (
        (Ticket.category, f.category),
        (Ticket.status, f.status),
        (Ticket.channel, f.channel),
    ):
        if value:
            where.append(column == value)
    if f.date_from is not None:
        where.append(Ticket.created_at >= paris_midnight(f.date_from))
    if f.date_to is not None:
        where.append(Ticket.created_at < paris_midnight(f.date_to + timedelta(days=1)))
    if f.voter_email:
        address = normalize_email(f.voter_email)
        voter_id = voter_id_of_address(address)
        by_contact = func.lower(Ticket.contact_email) == address
        where.append(or_(Ticket.voter_id == voter_id, by_contact) if voter_id else by_contact)
    for word in search_words(f.text):
        pattern = f"%{word}%"
        where.append(
            or_(
                Ticket.message.ilike(pattern, escape="\\"),
                exists().where(
                    TicketEvent.ticket_id == Ticket.id,
                    TicketEvent.kind.in_(NOTE_KINDS),
                    TicketEvent.text.ilike(pattern, escape="\\"),
                ),
            )
        )
    return where


@dataclass(frozen=True)
class Cursor:
    """A position in the log, (created_at, id) of a ticket, as it travels in the URL."""

    created_at: datetime
    id: int

    @classmethod
    def of(cls, ticket: Ticket) -> "Cursor":
        return cls(ticket.created_at, ticket.id)

    def encode(self) -> str:
        return f"{(self.created_at - _EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> "Cursor | None":
        match = re.fullmatch(r"(\d{1,18})\.(\d{1,18})", raw or "")
        if match is None:
            return None
        try:
            moment = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(moment, int(match[2]))


@dataclass
class LogPage:
    tickets: list[Ticket]
    newer: Cursor | None  # there are newer tickets: link with ?avant=
    older: Cursor | None  # there are older tickets: link with ?apres=


def count(f: LogFilter) -> int:
    return db.session.scalar(select(func.count()).select_from(Ticket).where(*conditions(f)))


def log_page(
    f: LogFilter, size: int, after: Cursor | None = None, before: Cursor | None = None
) -> LogPage:
    """One page, newest first, by keyset on (created_at, id): as fast on page 5,000 as on 1."""
    query = (
        select(Ticket)
        .where(*conditions(f))
        .options(
            joinedload(Ticket.csu),
            joinedload(Ticket.voter),
            joinedload(Ticket.assigned_agent),
            joinedload(Ticket.created_by_agent),
        )
    )
    page = keyset_page(
        query,
        (Ticket.created_at, Ticket.id),
        lambda ticket: (ticket.created_at, ticket.id),
        size,
        after=(after.created_at, after.id) if after is not None else None,
        before=(before.created_at, before.id) if before is not None else None,
    )
    return LogPage(
        page.items,
        Cursor(*page.newer) if page.newer is not None else None,
        Cursor(*page.older) if page.older is not None else None,
    )


def _naive_utc(column):
    """A UTCDateTime column read as the driver gives it (naive UTC), for bulk formatting."""
    return type_coerce(column, DateTime()).label(column.key)


def export_query(f: LogFilter) -> Select:
    """Plain columns (no ORM objects kept in the session), newest first."""
    creator = aliased(Agent)
    assignee = aliased(Agent)
    return (
        select(
            Ticket.reference,
            _naive_utc(Ticket.created_at),
            CSU.code,
            CSU.name,
            Ticket.category,
            Ticket.channel,
            Ticket.status,
            Voter.roll_id,
            Voter.last_name,
            Voter.first_name,
            Ticket.contact_email,
            Ticket.contact_last_name,
            Ticket.contact_first_name,
            creator.name,
            assignee.name,
            _naive_utc(Ticket.updated_at),
            _naive_utc(Ticket.resolved_at),
        )
        .join(CSU, CSU.id == Ticket.csu_id)
        .outerjoin(Voter, Voter.id == Ticket.voter_id)
        .outerjoin(creator, creator.id == Ticket.created_by_agent_id)
        .outerjoin(assignee, assignee.id == Ticket.assigned_agent_id)
        .where(*conditions(f))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )


def export_batches(f: LogFilter, size: int = 1000) -> Iterator[Sequence[Row]]:
    """Stream the filtered log in batches of `size` rows: a server-side cursor on PostgreSQL.

    Executed as Core on the session's connection: plain rows, no ORM loading step per row.
    """
    # On the statement, not the connection: Connection.execution_options() changes the
    # session's connection in place, and a later INSERT would go through a server-side cursor.
    query = export_query(f).execution_options(yield_per=size)
    result = db.session.connection().execute(query)
    try:
        yield from result.partitions()
    finally:
        result.close()
