"""Statistics of the supervision dashboard, computed in SQL over the scope and a period.

Every figure takes `csu_ids` (None: every CSU) and Paris calendar days, so a CSU supervisor
sees only its cell and a day is the day the person on the phone lived.
"""

import math
import statistics as pystats
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, func, literal, select, union_all

from csudesk.agents.models import Agent
from csudesk.audit.models import AuditEntry
from csudesk.db import UTCDateTime
from csudesk.directory.models import CSU
from csudesk.elections.calendar import Calendar, paris_day, paris_midnight
from csudesk.extensions import db
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.roll.models import VoteCodeReissue, Voter
from csudesk.tickets.models import OPEN_STATUSES, Status, Ticket

MAX_PERIOD_DAYS = 366
# The per-day series covers at most the period's last MAX_SERIES_DAYS days: a campaign
# calendar may span years, a column per day of those is unreadable, and each day is one
# term of a compound SELECT, which SQLite caps at 500.
MAX_SERIES_DAYS = 120
# Agent actions that touch a voter: the volume rule of the alerts counts these.
SENSITIVE_ACTIONS = (
    "voter.lookup",
    "voter.search",
    "voter.view",
    "link.activation",
    "link.password_reset",
    "link.vote_code",
    "challenge.check",
)
# Sign-ins, administration and supervision itself are not desk work.
NOT_DESK_WORK = ("auth.", "agent.", "audit.", "supervision.", "export.")
# How long after the vote closes the dashboard still opens on the election by default.
CAMPAIGN_GRACE_DAYS = 30
RECENT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Paris calendar days, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return paris_midnight(self.first)

    @property
    def end(self) -> datetime:
        return paris_midnight(self.last + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def default_period(calendar: Calendar, now: datetime) -> tuple[Period, bool]:
    """The election campaign (portal opening to vote closing, not past today), or the last
    RECENT_DAYS days when the configured election is not under way; True for the campaign."""
    today = paris_day(now)
    opens, closes = paris_day(calendar.portal_opens), paris_day(calendar.vote_closes)
    if opens <= today <= closes + timedelta(days=CAMPAIGN_GRACE_DAYS):
        return Period(opens, min(closes, today)), True
    return Period(today - timedelta(days=RECENT_DAYS - 1), today), False


def series_period(period: Period) -> Period:
    """The days of the per-day series: the period's last MAX_SERIES_DAYS days at most."""
    return Period(max(period.first, period.last - timedelta(days=MAX_SERIES_DAYS - 1)), period.last)


def _ticket_scope(csu_ids) -> list:
    return [] if csu_ids is None else [Ticket.csu_id.in_(csu_ids)]


def tickets_per_day(period: Period, csu_ids) -> dict[date, dict[str, int]]:
    """Tickets opened each Paris day, by category (days without tickets are absent).

    For at most MAX_SERIES_DAYS days (series_period): one SELECT per day.
    """
    if len(period.days()) > MAX_SERIES_DAYS:
        raise ValueError(f"a per-day series covers at most {MAX_SERIES_DAYS} days")
    # One row per Paris day with its UTC bounds (a UNION ALL: SQLite has no named VALUES).
    day_bounds = union_all(
        *[
            select(
                literal(d.isoformat(), String).label("day"),
                literal(paris_midnight(d), UTCDateTime).label("lo"),
                literal(paris_midnight(d + timedelta(days=1)), UTCDateTime).label("hi"),
            )
            for d in period.days()
        ]
    ).subquery("paris_day")
    rows = db.session.execute(
        select(day_bounds.c.day, Ticket.category, func.count())
        .select_from(Ticket)
        .join(
            day_bounds,
            and_(Ticket.created_at >= day_bounds.c.lo, Ticket.created_at < day_bounds.c.hi),
        )
        .where(*_ticket_scope(csu_ids))
        .group_by(day_bounds.c.day, Ticket.category)
    )
    result: dict[date, dict[str, int]] = {}
    for day, category, count in rows:
        result.setdefault(date.fromisoformat(day), {})[category] = count
    return result


def tickets_opened(period: Period, csu_ids) -> int:
    """Tickets opened in the period, whatever its length."""
    return db.session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.created_at >= period.start,
            Ticket.created_at < period.end,
            *_ticket_scope(csu_ids),
        )
    )


@dataclass(frozen=True)
class Backlog:
    code: str
    name: str
    open: int
    oldest: datetime | None


def backlog_by_csu(csu_ids) -> list[Backlog]:
    """Tickets still open now (open, waiting, transferred) per CSU, largest first."""
    rows = db.session.execute(
        select(CSU.code, CSU.name, func.count(Ticket.id), func.min(Ticket.created_at))
        .join(CSU, CSU.id == Ticket.csu_id)
        .where(Ticket.status.in_(OPEN_STATUSES), *_ticket_scope(csu_ids))
        .group_by(CSU.code, CSU.name)
        .order_by(func.count(Ticket.id).desc(), CSU.code)
    )
    return [Backlog(*row) for row in rows]


def _seconds_to_resolve():
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", Ticket.resolved_at - Ticket.created_at)
    return (func.julianday(Ticket.resolved_at) - func.julianday(Ticket.created_at)) * 86400.0


@dataclass(frozen=True)
class Resolution:
    resolved: int
    median_seconds: float | None
    p90_seconds: float | None


def resolution_times(period: Period, csu_ids) -> Resolution:
    """Median and 90th percentile of creation-to-resolution time of the tickets resolved in
    the period (linear interpolation between ranks, as PostgreSQL's percentile_cont)."""
    seconds = _seconds_to_resolve()
    where = [
        Ticket.status == Status.RESOLVED,
        Ticket.resolved_at >= period.start,
        Ticket.resolved_at < period.end,
        *_ticket_scope(csu_ids),
    ]
    n = db.session.scalar(select(func.count()).select_from(Ticket).where(*where))
    if not n:
        return Resolution(0, None, None)

    def percentile(p: float) -> float:
        rank = p * (n - 1)
        low = math.floor(rank)
        pair = [
            float(v)
            for v in db.session.scalars(
                select(seconds).where(*where).order_by(seconds).offset(low).limit(2)
            )
        ]
        upper = pair[1] if len(pair) > 1 else pair[0]
        return pair[0] + (rank - low) * (upper - pair[0])

    return Resolution(n, percentile(0.5), percentile(0.9))


def _agents_in(csu_ids):
    return select(Agent.id).where(Agent.csu_id.in_(csu_ids))


def actions_by_type(period: Period, csu_ids) -> list[tuple[str, int]]:
    """Desk actions recorded in the audit trail by agents of the scope, most frequent first."""
    where = [
        AuditEntry.actor == "agent",
        AuditEntry.at >= period.start,
        AuditEntry.at < period.end,
        *[~AuditEntry.action.startswith(prefix) for prefix in NOT_DESK_WORK],
    ]
    if csu_ids is not None:
        where.append(AuditEntry.agent_id.in_(_agents_in(csu_ids)))
    rows = db.session.execute(
        select(AuditEntry.action, func.count())
        .where(*where)
        .group_by(AuditEntry.action)
        .order_by(func.count().desc(), AuditEntry.action)
    )
    return [(action, count) for action, count in rows]


def links_by_channel(period: Period, csu_ids) -> dict[str, dict[str, int]]:
    """Voter links issued in the period per purpose: {purpose: {"desk": n, "self_service": n}}."""
    query = (
        select(OneTimeLink.purpose, OneTimeLink.channel, func.count())
        .where(
            OneTimeLink.purpose != LinkPurpose.AGENT_PASSWORD,
            OneTimeLink.created_at >= period.start,
            OneTimeLink.created_at < period.end,
        )
        .group_by(OneTimeLink.purpose, OneTimeLink.channel)
    )
    if csu_ids is not None:
        query = query.join(Voter, Voter.id == OneTimeLink.voter_id).where(Voter.csu_id.in_(csu_ids))
    result = {
        str(p): {"desk": 0, "self_service": 0}
        for p in LinkPurpose
        if p != LinkPurpose.AGENT_PASSWORD
    }
    for purpose, channel, count in db.session.execute(query):
        result.setdefault(purpose, {})[channel] = count
    return result


@dataclass(frozen=True)
class ReissueAlert:
    voter: Voter
    reissues: int
    last_at: datetime


def vote_code_alerts(since: datetime, csu_ids) -> list[ReissueAlert]:
    """Voters with at least ALERT_VOTE_CODE_REISSUES vote-code reissues since `since`."""
    threshold = current_app.config["ALERT_VOTE_CODE_REISSUES"]
    query = (
        select(Voter, func.count(VoteCodeReissue.id), func.max(VoteCodeReissue.at))
        .join(Voter, Voter.id == VoteCodeReissue.voter_id)
        .where(VoteCodeReissue.at >= since)
        .group_by(Voter.id)
        .having(func.count(VoteCodeReissue.id) >= threshold)
        .order_by(func.count(VoteCodeReissue.id).desc(), Voter.id)
        .limit(100)
    )
    if csu_ids is not None:
        query = query.where(Voter.csu_id.in_(csu_ids))
    return [ReissueAlert(*row) for row in db.session.execute(query)]


@dataclass
class AgentVolume:
    median: float | None  # over every agent who did at least one such action, all CSUs
    threshold: float | None
    agents: list[tuple[Agent, int, bool]] = field(default_factory=list)  # in scope, busiest first

    @property
    def flagged(self) -> list[tuple[Agent, int, bool]]:
        return [row for row in self.agents if row[2]]


def agent_volume(period: Period, csu_ids) -> AgentVolume:
    """Sensitive actions per agent; an agent is flagged at ALERT_AGENT_FACTOR times the median
    of all agents who acted in the period, and at least ALERT_AGENT_MIN_ACTIONS actions."""
    factor = current_app.config["ALERT_AGENT_FACTOR"]
    minimum = current_app.config["ALERT_AGENT_MIN_ACTIONS"]
    counts = dict(
        db.session.execute(
            select(AuditEntry.agent_id, func.count())
            .where(
                AuditEntry.actor == "agent",
                AuditEntry.action.in_(SENSITIVE_ACTIONS),
                AuditEntry.at >= period.start,
                AuditEntry.at < period.end,
            )
            .group_by(AuditEntry.agent_id)
        ).all()
    )
    if not counts:
        return AgentVolume(None, None)
    median = pystats.median(counts.values())
    threshold = max(factor * median, minimum)
    agents = db.session.scalars(select(Agent).where(Agent.id.in_(counts))).all()
    rows = [
        (agent, counts[agent.id], counts[agent.id] >= threshold)
        for agent in agents
        if csu_ids is None or agent.csu_id in csu_ids
    ]
    rows.sort(key=lambda row: (-row[1], row[0].name))
    return AgentVolume(median, threshold, rows)
