"""Generated desk activity for the demo: a week of tickets, actions, mails and audit entries.

Everything goes through the real services with the clock set to the moment it "happened"
(csudesk.db.clock_at), so the audit chain verifies and every page tells a consistent story:
a supervisor can answer "what happened yesterday in my CSU, and who did it".
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update

from csudesk.access.services import (
    ActionRefused,
    resend_activation_link,
    send_password_reset_link,
)
from csudesk.actor import Actor
from csudesk.agents.models import Agent, Role
from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.conversation.replies import send_reply
from csudesk.db import clock_at, utcnow
from csudesk.directory.models import CSU
from csudesk.elections.calendar import PARIS, election, paris_day
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.links.services import ttl
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.roll import accounts
from csudesk.roll.models import Voter, VoterAccount
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Category, Channel, Status, Ticket

DAYS = 7
# Tickets a desk agent handles on a working day; the "busy" agent also looks up far more voters.
TICKETS_PER_DAY = (3, 7)
BUSY_AGENT_LOOKUPS_PER_DAY = (60, 80)
CATEGORIES = [
    (Category.LINK_NOT_RECEIVED, 5),
    (Category.PASSWORD_REFUSED, 3),
    (Category.UNKNOWN_IDENTIFIER, 2),
    (Category.NOTICE_NOT_RECEIVED, 1),
    (Category.OTHER, 1),
]
CHANNELS = [(Channel.PHONE, 6), (Channel.EMAIL, 3), (Channel.DESK, 1)]
NOTES = [
    "Appel de l'électeur : le courriel d'activation n'est jamais arrivé. Nouveau lien envoyé.",
    "L'électeur avait supprimé le message par erreur ; lien renvoyé, vérifier les indésirables.",
    "Mot de passe refusé après trois essais ; lien de réassort envoyé à l'adresse de la liste.",
    "Boîte académique pleine : l'électeur fait de la place puis rappellera si besoin.",
    "Rappel de l'électeur : tout fonctionne, ticket clos.",
    "Demande transmise par le secrétariat de l'établissement.",
]


@dataclass
class ActivitySummary:
    tickets: int = 0
    links: int = 0
    replies: int = 0
    audit_entries: int = 0


def _weighted(rng: random.Random, pairs):
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


def _moment(day: date, rng: random.Random, start=time(8, 30), end=time(17, 30)) -> datetime:
    """A random instant of a Paris working day."""
    first = datetime.combine(day, start, PARIS)
    span = (datetime.combine(day, end, PARIS) - first).total_seconds()
    return first + timedelta(seconds=rng.uniform(0, span))


def _voters_by_csu(csu_ids: set[int], rng: random.Random) -> dict[int, list[Voter]]:
    pools: dict[int, list[Voter]] = {}
    for csu_id in csu_ids:
        ids = list(db.session.scalars(select(Voter.id).where(Voter.csu_id == csu_id).limit(400)))
        chosen = rng.sample(ids, min(len(ids), 120))
        pools[csu_id] = list(db.session.scalars(select(Voter).where(Voter.id.in_(chosen))))
    return pools


class Schedule:
    """Steps to run in time order, so audit ids follow time as in real life."""

    def __init__(self, now: datetime):
        self.now = now
        self.steps: list[tuple[datetime, int, Callable[[], None]]] = []

    def at(self, moment: datetime, step: Callable[[], None]) -> bool:
        if moment >= self.now:
            return False
        self.steps.append((moment, len(self.steps), step))
        return True

    def run(self) -> None:
        for moment, _, step in sorted(self.steps, key=lambda s: (s[0], s[1])):
            with clock_at(moment):
                step()
                db.session.flush()
        db.session.commit()


def _plan_call(plan: Schedule, agent: Agent, actor: Actor, voter, when, rng, summary) -> None:
    """One contact: look the voter up, open a ticket, act, note it, maybe resolve it."""
    held: dict = {}

    def open_ticket():
        if voter is not None:
            address = voter.emails[0].address
            audit.record(actor, "voter.lookup", voter_id=voter.id, by="email", query=address)
            audit.record(actor, "voter.view", voter_id=voter.id)
        held["ticket"] = tickets.create_ticket(
            actor,
            csu=agent.csu if voter is None else voter.csu,
            category=_weighted(rng, CATEGORIES),
            channel=_weighted(rng, CHANNELS),
            voter=voter,
            contact_email=None if voter else f"inconnu{rng.randrange(1000)}@example.org",
        )
        summary.tickets += 1
        if voter is not None:
            activated = voter.account is not None and voter.account.is_activated
            action = send_password_reset_link if activated else resend_activation_link
            try:
                action(actor, voter, voter.emails[0].address, held["ticket"])
                summary.links += 1
            except ActionRefused:
                pass

    if not plan.at(when, open_ticket):
        return
    note = rng.choice(NOTES)
    plan.at(
        when + timedelta(minutes=rng.randint(2, 9)),
        lambda: tickets.add_note(actor, held["ticket"], note),
    )
    outcome = rng.random()
    status = Status.RESOLVED if outcome < 0.7 else Status.WAITING if outcome < 0.82 else None
    later = when + timedelta(minutes=rng.randint(10, 300))
    if status is not None and voter is not None and rng.random() < 0.4:
        # Some calls end with a written answer: the first answers of the statistics.
        plan.at(later, lambda: _reply(actor, held["ticket"], voter, status, summary))
    elif status is not None:
        plan.at(later, lambda: tickets.change_status(actor, held["ticket"], status))


def _reply(actor: Actor, ticket: Ticket, voter: Voter, status: str, summary) -> None:
    body = (
        f"Bonjour {voter.first_name} {voter.last_name.title()},\n\n"
        "Suite à votre appel, un nouveau lien vient de partir vers votre adresse de messagerie"
        " professionnelle. Il est valable 72 heures.\n\nCordialement,"
    )
    try:
        send_reply(
            actor, ticket, to=voter.emails[0].address, body=body, resolve=status == Status.RESOLVED
        )
    except ServiceError:  # transferred meanwhile: no answer from this cell
        return
    summary.replies += 1


def _deliver_past_mail(today: date) -> None:
    """Mail of the past days is shown as handed to the SMTP server (no sender ran then);
    today's stays pending for `make run`'s sender and sink. A few bounced."""
    start_of_today = datetime.combine(today, time(0), PARIS)
    rows = db.session.execute(
        select(OutboxMail.id, OutboxMail.created_at, OutboxMail.link_id).where(
            OutboxMail.status == MailStatus.PENDING, OutboxMail.created_at < start_of_today
        )
    ).all()
    for n, (mail_id, created_at, link_id) in enumerate(rows):
        sent_at = created_at + timedelta(seconds=20)
        if n % 17 == 5:
            db.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id)
                .values(
                    status=MailStatus.FAILED,
                    attempts=1,
                    last_attempt_at=sent_at,
                    smtp_response="550 5.1.1 Boîte aux lettres inconnue (démonstration)",
                )
            )
            continue
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id)
            .values(
                status=MailStatus.SENT,
                attempts=1,
                last_attempt_at=sent_at,
                sent_at=sent_at,
                smtp_response="250 2.0.0 Ok: queued (démonstration)",
            )
        )
        if link_id is not None:
            purpose = db.session.scalar(
                select(OneTimeLink.purpose).where(OneTimeLink.id == link_id)
            )
            db.session.execute(
                update(OneTimeLink)
                .where(OneTimeLink.id == link_id, OneTimeLink.revoked_at.is_(None))
                .values(sent_at=sent_at, expires_at=sent_at + ttl(purpose))
            )


def seed_activity(seed: int = 2026, days: int = DAYS) -> ActivitySummary:
    """A week of desk work by the demo agents, ending now; alerts included."""
    rng = random.Random(seed)
    now = utcnow()
    today = paris_day(now)
    summary = ActivitySummary()
    desk_agents = list(
        db.session.scalars(select(Agent).where(Agent.role == Role.AGENT).order_by(Agent.id))
    )
    if not desk_agents:
        return summary
    busy = desk_agents[-1]  # the last demo agent is the one the volume alert flags
    pools = _voters_by_csu({a.csu_id for a in desk_agents}, rng)
    ips = {a.id: f"192.0.2.{10 + i}" for i, a in enumerate(desk_agents)}
    plan = Schedule(now)
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        if day.weekday() == 6:
            continue  # the cells are closed on Sundays
        for agent in desk_agents:
            actor = Actor.for_agent(agent, ips[agent.id])
            login = _moment(day, rng, time(8, 15), time(8, 45))
            if not plan.at(login, lambda actor=actor: audit.record(actor, "auth.login")):
                continue
            pool = pools.get(agent.csu_id) or []
            for _ in range(rng.randint(*TICKETS_PER_DAY)):
                voter = rng.choice(pool) if pool and rng.random() < 0.9 else None
                _plan_call(plan, agent, actor, voter, _moment(day, rng), rng, summary)
            if agent is busy and pool:
                for _ in range(rng.randint(*BUSY_AGENT_LOOKUPS_PER_DAY)):
                    voter = rng.choice(pool)
                    plan.at(
                        _moment(day, rng),
                        lambda actor=actor, voter=voter: audit.record(
                            actor, "voter.view", voter_id=voter.id
                        ),
                    )
        _self_service(plan, rng, pools, day, summary)
    _vote_code_alerts(plan, rng, pools, today)
    _transfer_one(plan, desk_agents, today)
    plan.run()
    _deliver_past_mail(today)
    db.session.commit()
    summary.audit_entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return summary


def _self_service(plan: Schedule, rng, pools, day: date, summary) -> None:
    """Voters who used the public forms themselves instead of calling."""
    voters = [v for pool in pools.values() for v in pool]
    for _ in range(rng.randint(2, 6) if voters else 0):
        voter = rng.choice(voters)
        actor = Actor("voter", None, f"198.51.100.{rng.randint(2, 250)}")

        def ask(voter=voter, actor=actor):
            activated = voter.account is not None and voter.account.is_activated
            action = send_password_reset_link if activated else resend_activation_link
            try:
                action(actor, voter, voter.emails[0].address)
                summary.links += 1
            except ActionRefused:
                pass

        plan.at(_moment(day, rng, time(7), time(22)), ask)


def _vote_code_alerts(plan: Schedule, rng, pools, today: date) -> None:
    """Two voters whose vote code was reissued three and four times (the alert threshold).

    Only inside the configured vote: a reissue outside it is refused in real life, so the demo
    has none when its calendar's vote is not under way.
    """
    calendar = election()
    activated = [v for pool in pools.values() for v in pool if db.session.get(VoterAccount, v.id)]
    for voter, count in zip(rng.sample(activated, min(2, len(activated))), (3, 4), strict=False):
        for n in range(count):
            moment = _moment(today - timedelta(days=1 + n % 2), rng)
            if not calendar.voting_open(moment):
                continue

            def reissue(voter=voter):
                accounts.new_vote_code(voter, None)
                audit.record(
                    Actor("voter", None, "198.51.100.77"), "portal.vote_code", voter_id=voter.id
                )

            plan.at(moment, reissue)


def _transfer_one(plan: Schedule, desk_agents, today: date) -> None:
    """A ticket that reached the wrong cell, handed over yesterday at noon."""
    first = desk_agents[0]
    other = next((a for a in desk_agents if a.csu_id != first.csu_id), None)
    if other is None:
        return

    def transfer():
        ticket = db.session.scalar(
            select(Ticket)
            .where(Ticket.csu_id == first.csu_id, Ticket.status == Status.OPEN)
            .order_by(Ticket.id)
            .limit(1)
        )
        if ticket is not None:
            tickets.transfer(
                Actor.for_agent(first, "192.0.2.10"),
                ticket,
                db.session.get(CSU, other.csu_id),
                "L'électeur est affecté dans un établissement d'une autre académie.",
            )

    plan.at(datetime.combine(today - timedelta(days=1), time(12), PARIS), transfer)
