"""Who else has a ticket or a voter file open: the last time each agent opened each page.

One row per (agent, ticket) and per (agent, voter), rewritten on each GET of the page by one
upsert (INSERT ... ON CONFLICT DO UPDATE, which SQLite and PostgreSQL both speak), so the table
stays as small as the number of pages agents opened and a view costs one statement.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from csudesk.agents.models import Agent
from csudesk.db import UTCDateTime, utcnow
from csudesk.extensions import db


class RecentView(db.Model):
    """An agent's latest opening of a ticket page or of a voter file."""

    __tablename__ = "recent_view"
    __table_args__ = (
        UniqueConstraint("agent_id", "ticket_id", name="uq_recent_view_agent_ticket"),
        UniqueConstraint("agent_id", "voter_id", name="uq_recent_view_agent_voter"),
        CheckConstraint("(ticket_id IS NULL) <> (voter_id IS NULL)", name="one_page"),
        Index("ix_recent_view_ticket_seen", "ticket_id", "seen_at"),
        Index("ix_recent_view_voter_seen", "voter_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("voter.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class OtherViewer:
    name: str
    seen_at: datetime

    def minutes_ago(self, now: datetime) -> int:
        return max(int((now - self.seen_at).total_seconds() // 60), 0)


# The page's two statements go to the table, not the model: Core statements skip the ORM's
# work for rows nothing loads as objects.
_VIEWS, _AGENTS = RecentView.__table__.c, Agent.__table__.c


def _upsert_statement(insert, column: str):
    return (
        insert(RecentView.__table__)
        .values(
            agent_id=bindparam("agent_id"),
            **{column: bindparam("page_id")},
            seen_at=bindparam("now"),
        )
        .on_conflict_do_update(
            index_elements=["agent_id", column], set_={"seen_at": bindparam("now")}
        )
    )


def _others_statement(column: str):
    return (
        select(_AGENTS.name, _VIEWS.seen_at)
        .join(Agent.__table__, _AGENTS.id == _VIEWS.agent_id)
        .where(
            _VIEWS[column] == bindparam("page_id"),
            _VIEWS.agent_id != bindparam("agent_id"),
            _VIEWS.seen_at >= bindparam("since"),
        )
        .order_by(_VIEWS.seen_at.desc())
    )


# Built once (every page view runs two of them): a statement object keeps its cache key.
_UPSERTS = {
    (dialect, column): _upsert_statement(insert, column)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    for column in ("ticket_id", "voter_id")
}
_OTHERS = {column: _others_statement(column) for column in ("ticket_id", "voter_id")}


def _upsert(agent_id: int, column: str, page_id: int) -> None:
    dialect = "postgresql" if db.session.get_bind().dialect.name == "postgresql" else "sqlite"
    db.session.execute(
        _UPSERTS[dialect, column], {"agent_id": agent_id, "page_id": page_id, "now": utcnow()}
    )


def _others(column: str, page_id: int, agent_id: int) -> list[OtherViewer]:
    since = utcnow() - timedelta(minutes=current_app.config["RECENT_VIEW_MINUTES"])
    rows = db.session.execute(
        _OTHERS[column], {"page_id": page_id, "agent_id": agent_id, "since": since}
    )
    return [OtherViewer(name, seen_at) for name, seen_at in rows]


def record_ticket_view(agent_id: int, ticket_id: int) -> None:
    """The agent opened the ticket page now."""
    _upsert(agent_id, "ticket_id", ticket_id)


def record_voter_view(agent_id: int, voter_id: int) -> None:
    """The agent opened the voter file now."""
    _upsert(agent_id, "voter_id", voter_id)


def ticket_viewers(ticket_id: int, agent_id: int) -> list[OtherViewer]:
    """The other agents who opened the ticket page lately, latest first."""
    return _others("ticket_id", ticket_id, agent_id)


def voter_viewers(voter_id: int, agent_id: int) -> list[OtherViewer]:
    """The other agents who opened the voter file lately, latest first."""
    return _others("voter_id", voter_id, agent_id)
