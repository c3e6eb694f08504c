"""Statistics of the supervision dashboard, computed in SQL over the scope and a period.

Every figure takes `csu_ids` (None: every CSU) and Paris calendar days, so a CSU supervisor
sees only its cell and a day is the day the person on the phone lived.
"""

import statistics as pystats
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import String, and_, func, literal, or_, select, union_all

from csudesk.agents.models import Agent
from csudesk.audit.models import AuditEntry
from csudesk.db import UTCDateTime
from csudesk.directory.models import CSU
from csudesk.elections.calendar import Calendar, paris_day, paris_midnight
from csudesk.extensions import db
from csudesk.links.models import LinkPurpose, OneTimeLink
from csudesk.roll.models import VoteCodeReissue, Voter
from csudesk.tickets.models import OPEN_STATUSES, Status, Ticket, TicketEvent

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
# Ticket events: a reply sent from the ticket, a mail that came in (csudesk.conversation).
REPLY = "reply"
MAIL_IN = "mail_in"
EXCHANGE_KINDS = (REPLY, MAIL_IN)


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


def _count_per_day(period: Period, at, key, query) -> dict[date, dict[str, int]]:
    """Rows of `query` counted per Paris day of their `at` column and per `key` (days with
    none are absent). For at most MAX_SERIES_DAYS days (series_period): one SELECT per day."""
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
        query.add_columns(day_bounds.c.day, key, func.count())
        .join(day_bounds, and_(at >= day_bounds.c.lo, at < day_bounds.c.hi))
        .group_by(day_bounds.c.day, key)
    )
    result: dict[date, dict[str, int]] = {}
    for day, value, count in rows:
        result.setdefault(date.fromisoformat(day), {})[value] = count
    return result


def tickets_per_day(period: Period, csu_ids) -> dict[date, dict[str, int]]:
    """Tickets opened each Paris day, by category (days without tickets are absent)."""
    query = select().select_from(Ticket).where(*_ticket_scope(csu_ids))
    return _count_per_day(period, Ticket.created_at, Ticket.category, query)


def events_per_day(period: Period, csu_ids, kinds=EXCHANGE_KINDS) -> dict[date, dict[str, int]]:
    """Ticket events of these kinds each Paris day (replies sent, mails received), by kind,
    for the tickets of the scope (days without any are absent)."""
    query = (
        select()
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind.in_(kinds), *_ticket_scope(csu_ids))
    )
    return _count_per_day(period, TicketEvent.at, TicketEvent.kind, query)


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


def _seconds_between(start, end):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@dataclass(frozen=True)
class Resolution:
    resolved: int  # how many tickets the figures cover (resolved, or answered)
    median_seconds: float | None
    p90_seconds: float | None


NO_TIMES = Resolution(0, None, None)


def _interpolated(values: dict[int, float], n: int, tenths: int) -> float:
    """The tenths/10 percentile of n sorted values, given those at the ranks it needs
    (linear interpolation between ranks, as PostgreSQL's percentile_cont)."""
    low, rest = divmod(tenths * (n - 1), 10)
    upper = values.get(low + 1, values[low])
    return values[low] + rest / 10 * (upper - values[low])


def _percentiles(seconds, where: list, group=None, join=None) -> dict:
    """Count, median and 90th percentile of `seconds` over the Ticket rows of `where`, per
    `group` (one None key without): one query, whose window functions (SQLite 3.25+ and
    PostgreSQL) number the rows so that only the four ranks the percentiles need come back."""
    partition = [group] if group is not None else []
    ranked = select(
        (group if group is not None else literal(None, String)).label("g"),
        seconds.label("s"),
        (func.row_number().over(partition_by=partition, order_by=seconds) - 1).label("r"),
        func.count().over(partition_by=partition).label("n"),
    ).select_from(Ticket)
    if join is not None:
        ranked = ranked.join(*join)
    ranked = ranked.where(*where).subquery()
    median_low = (ranked.c.n - 1) // 2
    p90_low = (9 * (ranked.c.n - 1)) // 10
    rows = db.session.execute(
        select(ranked.c.g, ranked.c.n, ranked.c.r, ranked.c.s).where(
            or_(
                ranked.c.r == median_low,
                ranked.c.r == median_low + 1,
                ranked.c.r == p90_low,
                ranked.c.r == p90_low + 1,
            )
        )
    )
    found: dict = {}
    for g, n, r, value in rows:
        found.setdefault(g, (n, {}))[1][r] = float(value)
    return {
        g: Resolution(n, _interpolated(values, n, 5), _interpolated(values, n, 9))
        for g, (n, values) in found.items()
    }


def _resolved_in(period: Period, csu_ids) -> list:
    return [
        Ticket.status == Status.RESOLVED,
        Ticket.resolved_at >= period.start,
        Ticket.resolved_at < period.end,
        *_ticket_scope(csu_ids),
    ]


def _first_replies():
    """Each ticket's first reply: the first event of kind "reply" (a mail sent from it)."""
    return (
        select(TicketEvent.ticket_id, func.min(TicketEvent.at).label("first_at"))
        .where(TicketEvent.kind == REPLY)
        .group_by(TicketEvent.ticket_id)
        .subquery("first_reply")
    )


def _first_answer_query(period: Period, csu_ids):
    first = _first_replies()
    where = [first.c.first_at >= period.start, first.c.first_at < period.end]
    return (
        _seconds_between(Ticket.created_at, first.c.first_at),
        where + _ticket_scope(csu_ids),
        (first, first.c.ticket_id == Ticket.id),
    )


def resolution_times(period: Period, csu_ids) -> Resolution:
    """Median and 90th percentile of creation-to-resolution time of the tickets resolved in
    the period (linear interpolation between ranks, as PostgreSQL's percentile_cont)."""
    seconds = _seconds_between(Ticket.created_at, Ticket.resolved_at)
    return _percentiles(seconds, _resolved_in(period, csu_ids)).get(None, NO_TIMES)


def first_answer_times(period: Period, csu_ids) -> Resolution:
    """Median and 90th percentile of the time from a ticket's creation to its first reply,
    over the tickets first answered in the period. A note or an action is no answer: only a
    reply the voter received counts."""
    seconds, where, join = _first_answer_query(period, csu_ids)
    return _percentiles(seconds, where, join=join).get(None, NO_TIMES)


@dataclass(frozen=True)
class CsuTimes:
    code: str
    name: str
    first_answer: Resolution
    resolution: Resolution


def times_by_csu(period: Period, csu_ids) -> list[CsuTimes]:
    """Time to first answer and time to resolution per CSU of the scope (CSUs with neither in
    the period are left out), by CSU code."""
    seconds, where, join = _first_answer_query(period, csu_ids)
    answered = _percentiles(seconds, where, group=Ticket.csu_id, join=join)
    resolved = _percentiles(
        _seconds_between(Ticket.created_at, Ticket.resolved_at),
        _resolved_in(period, csu_ids),
        group=Ticket.csu_id,
    )
    ids = set(answered) | set(resolved)
    if not ids:
        return []
    csus = db.session.execute(select(CSU.id, CSU.code, CSU.name).where(CSU.id.in_(ids)))
    return sorted(
        (
            CsuTimes(code, name, answered.get(id_, NO_TIMES), resolved.get(id_, NO_TIMES))
            for id_, code, name in csus
        ),
        key=lambda row: row.code,
    )


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
