"""Reading the audit trail for the pages that show parts of it: the journal and its scope."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import joinedload

from csudesk.audit.models import AuditEntry
from csudesk.elections.calendar import paris_midnight
from csudesk.extensions import db
from csudesk.paging import KeysetPage, keyset_page
from csudesk.roll.models import Voter


def entries_about_agent(agent_id: int, limit: int = 20) -> list[AuditEntry]:
    """The latest entries the agent made or that changed the agent's account, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.agent_id == agent_id, AuditEntry.target_agent_id == agent_id))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def entries_about_ticket(ticket_id: int) -> list[AuditEntry]:
    """Every entry about the ticket, oldest first, with its agent."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.ticket_id == ticket_id)
            .options(joinedload(AuditEntry.agent))
            .order_by(AuditEntry.id)
        )
    )


@dataclass(frozen=True)
class JournalScope:
    """What a CSU's supervisor reads: entries by or about its agents, or about its voters.

    The agents come from the caller (`agents.queries.ids_in_csus`): the agents domain sits
    above the audit trail, which records its actions.
    """

    csu_ids: Collection[int]
    agent_ids: Select | Collection[int]


@dataclass(frozen=True)
class JournalSearch:
    """The journal's filters; None or empty: not filtered on it."""

    scope: JournalScope | None  # None: the national scope, every entry
    voter_id: int | None = None
    agent_id: int | None = None  # entries by the agent or about the agent's account
    action: str | None = None  # a prefix: "auth." is every sign-in entry
    date_from: date | None = None  # Paris days, both included
    date_to: date | None = None


def _in_scope(scope: JournalScope) -> ColumnElement[bool]:
    """The entries of the scope."""
    return or_(
        AuditEntry.agent_id.in_(scope.agent_ids),
        AuditEntry.target_agent_id.in_(scope.agent_ids),
        exists().where(Voter.id == AuditEntry.voter_id, Voter.csu_id.in_(scope.csu_ids)),
    )


def _conditions(search: JournalSearch) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a journal search."""
    where = []
    if search.scope is not None:
        where.append(_in_scope(search.scope))
    if search.voter_id is not None:
        where.append(AuditEntry.voter_id == search.voter_id)
    if search.agent_id is not None:
        agent_id = search.agent_id
        where.append(or_(AuditEntry.agent_id == agent_id, AuditEntry.target_agent_id == agent_id))
    if search.action:
        where.append(AuditEntry.action.startswith(search.action, autoescape=True))
    if search.date_from:
        where.append(AuditEntry.at >= paris_midnight(search.date_from))
    if search.date_to:
        where.append(AuditEntry.at < paris_midnight(search.date_to + timedelta(days=1)))
    return where


def journal_page(
    search: JournalSearch, size: int, after: int | None = None, before: int | None = None
) -> KeysetPage[AuditEntry]:
    """One page of the search's entries, newest first, with their agent and voter.

    `after` gives the entries older than that id (the next page), `before` the newer ones.
    """
    query = (
        select(AuditEntry)
        .where(*_conditions(search))
        .options(joinedload(AuditEntry.agent), joinedload(AuditEntry.voter))
    )
    return keyset_page(
        query,
        (AuditEntry.id,),
        lambda entry: (entry.id,),
        size,
        after=(after,) if after is not None else None,
        before=(before,) if before is not None else None,
    )
