"""A ticket log at national size, written fast: bulk inserts, not the services.

Tickets over the whole campaign (portal opening to the close of the vote), each with the events
the desk writes: creation, actions and notes, status changes, some transfers. Most tickets
belong to a voter of the roll (their CSU), form tickets carry the contact details typed, phone
and counter tickets an agent of the CSU. SQLite gets `executemany`, PostgreSQL `COPY`, both
through the raw driver with the app's own datetime bind processing.
"""

import random
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import func, select

from bench.harness import Database
from csudesk.agents.models import Agent, Role
from csudesk.demo.activity import CATEGORIES, NOTES
from csudesk.directory.models import CSU
from csudesk.elections.calendar import Calendar, election
from csudesk.extensions import db
from csudesk.roll.models import Voter, VoterEmail
from csudesk.tickets.models import STATUS_LABELS, Channel, Status, Ticket, TicketEvent

AGENTS_PER_CSU = 3
AGENT_DOMAIN = "generated.csudesk.example"
VOTER_SAMPLE = 100_000
BATCH = 20_000
CHANNELS = [(Channel.PHONE, 55), (Channel.FORM, 25), (Channel.EMAIL, 15), (Channel.DESK, 5)]
STATUSES = [(Status.RESOLVED, 60), (Status.OPEN, 22), (Status.WAITING, 12), (Status.TRANSFERRED, 6)]
FORM_MESSAGES = (
    "Bonjour, je n'ai pas reçu le courriel d'activation. Pouvez-vous me le renvoyer ?",
    "Mon mot de passe est refusé depuis ce matin, je ne peux plus me connecter.",
    "Je suis affecté(e) dans un nouvel établissement et mon identifiant est inconnu.",
    "Je n'ai reçu ni ma notice de vote ni mon code de vote.",
)
TICKET_COLUMNS = [
    *("id", "reference", "csu_id", "voter_id", "assigned_agent_id", "created_by_agent_id"),
    *("category", "channel", "status", "contact_email", "contact_last_name"),
    *("contact_first_name", "contact_uai", "message", "created_at", "updated_at", "resolved_at"),
]
EVENT_COLUMNS = ["id", "ticket_id", "at", "agent_id", "kind", "text", "from_csu_id", "to_csu_id"]
_DATETIMES = {"created_at", "updated_at", "resolved_at", "at"}


def _weighted(rng: random.Random, pairs, k: int) -> list:
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs], k=k)


def _agents_by_csu() -> dict[int, list[int]]:
    """Desk agents of every CSU, created once (no password: they never sign in)."""
    csus = list(db.session.scalars(select(CSU).order_by(CSU.id)))
    existing = db.session.execute(
        select(Agent.csu_id, Agent.id).where(Agent.email.like(f"%@{AGENT_DOMAIN}"))
    ).all()
    if not existing:
        for csu in csus:
            for n in range(1, AGENTS_PER_CSU + 1):
                db.session.add(
                    Agent(
                        email=f"agent{n}.{csu.code.lower()}@{AGENT_DOMAIN}",
                        name=f"Agent {n} {csu.code}",
                        role=Role.AGENT,
                        csu_id=csu.id,
                    )
                )
        db.session.commit()
        return _agents_by_csu()
    agents: dict[int, list[int]] = {}
    for csu_id, agent_id in existing:
        agents.setdefault(csu_id, []).append(agent_id)
    return agents


def _voter_sample() -> list[tuple]:
    """(id, csu_id, address) of up to VOTER_SAMPLE voters spread across the roll."""
    voters = db.session.scalar(select(func.count()).select_from(Voter))
    step = max(1, voters // VOTER_SAMPLE)
    rows = db.session.execute(
        select(Voter.id, Voter.csu_id, func.min(VoterEmail.address))
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(Voter.id % step == 0)
        .group_by(Voter.id, Voter.csu_id)
    ).all()
    return [tuple(row) for row in rows]


def _tickets(
    start_id: int,
    count: int,
    rng: random.Random,
    voters: list[tuple],
    agents: dict[int, list[int]],
    csu_ids: list[int],
    campaign: Calendar,
) -> Iterator[tuple[dict, list[dict]]]:
    """(ticket, events) rows, ids from start_id on, in the order the desk would write them."""
    opens, span = campaign.portal_opens, (campaign.vote_closes - campaign.portal_opens)
    channels = _weighted(rng, CHANNELS, count)
    categories = _weighted(rng, CATEGORIES, count)
    statuses = _weighted(rng, STATUSES, count)
    for offset in range(count):
        ticket_id = start_id + offset
        channel, status = channels[offset], statuses[offset]
        created = opens + span * rng.random()
        voter = rng.choice(voters) if voters and rng.random() < 0.85 else None
        csu_id = voter[1] if voter else rng.choice(csu_ids)
        staff = agents.get(csu_id) or [None]
        agent = None if channel == Channel.FORM else rng.choice(staff)
        form = channel == Channel.FORM
        events = [dict(at=created, agent_id=agent, kind="created", to_csu_id=csu_id)]
        moment = created
        for _ in range(rng.choice((0, 1, 1, 2))):
            moment += timedelta(minutes=rng.uniform(1, 600))
            events.append(dict(at=moment, agent_id=rng.choice(staff), kind="note"))
            events[-1]["text"] = rng.choice(NOTES)
        if status == Status.TRANSFERRED:
            moment += timedelta(minutes=rng.uniform(5, 120))
            to_csu = rng.choice(csu_ids)
            events.append(
                dict(
                    at=moment,
                    agent_id=rng.choice(staff),
                    kind="transfer",
                    text="Électeur rattaché à une autre académie.",
                    from_csu_id=csu_id,
                    to_csu_id=to_csu,
                )
            )
            csu_id = to_csu
        resolved = None
        if status != Status.OPEN and status != Status.TRANSFERRED:
            moment += timedelta(minutes=rng.uniform(2, 2880))
            resolved = moment if status == Status.RESOLVED else None
            events.append(
                dict(
                    at=moment,
                    agent_id=rng.choice(staff),
                    kind="status",
                    text=f"{STATUS_LABELS[Status.OPEN]} → {STATUS_LABELS[status]}",
                )
            )
        ticket = dict(
            id=ticket_id,
            reference=f"{created.year}-{ticket_id:06d}",
            csu_id=csu_id,
            voter_id=voter[0] if voter else None,
            assigned_agent_id=agent,
            created_by_agent_id=agent,
            category=categories[offset],
            channel=channel,
            status=status,
            contact_email=(voter[2] if voter else f"c{ticket_id}@ac-inconnue.fr") if form else None,
            contact_last_name="Durand" if form else None,
            contact_first_name="Claire" if form else None,
            contact_uai=None,
            message=rng.choice(FORM_MESSAGES) if form else None,
            created_at=created,
            updated_at=moment,
            resolved_at=resolved,
        )
        yield ticket, events


def _insert(connection, is_sqlite: bool, table: str, columns: list[str], rows: list[tuple]):
    # table and columns are the constants above, never input.
    if is_sqlite:
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        connection.executemany(sql, rows)
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def fill_tickets(database: Database, total: int, seed: int = 6) -> int:
    """Add generated tickets until the log holds `total`; return how many were added."""
    with database.app_context():
        existing = db.session.scalar(select(func.count()).select_from(Ticket))
        if existing >= total:
            return 0
        agents = _agents_by_csu()
        voters = _voter_sample()
        csu_ids = list(db.session.scalars(select(CSU.id).order_by(CSU.id)))
        campaign = election()
        next_ticket = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
        next_event = (db.session.scalar(select(func.max(TicketEvent.id))) or 0) + 1
        dialect = db.engine.dialect
        process = {
            name: column.type.bind_processor(dialect)
            for table in (Ticket.__table__, TicketEvent.__table__)
            for name, column in table.c.items()
            if name in _DATETIMES
        }
        db.session.rollback()
    rng = random.Random(seed + existing)
    to_add = total - existing
    connection = database.raw_connect()

    def values(row: dict, columns: list[str]) -> tuple:
        return tuple(
            process[c](row.get(c)) if c in _DATETIMES and row.get(c) is not None else row.get(c)
            for c in columns
        )

    try:
        for batch_start in range(0, to_add, BATCH):
            count = min(BATCH, to_add - batch_start)
            tickets, events = [], []
            for ticket, ticket_events in _tickets(
                next_ticket, count, rng, voters, agents, csu_ids, campaign
            ):
                tickets.append(values(ticket, TICKET_COLUMNS))
                for event in ticket_events:
                    event.update(id=next_event, ticket_id=ticket["id"])
                    events.append(values(event, EVENT_COLUMNS))
                    next_event += 1
            next_ticket += count
            _insert(connection, database.is_sqlite, "ticket", TICKET_COLUMNS, tickets)
            _insert(connection, database.is_sqlite, "ticket_event", EVENT_COLUMNS, events)
            connection.commit()
        if not database.is_sqlite:
            # Explicit ids: move the sequences past them. VACUUM now rather than have autovacuum
            # wake up on the new rows in the middle of a measurement.
            for table in ("ticket", "ticket_event"):
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" (SELECT max(id) FROM {table}))"
                )
            connection.commit()
            connection.autocommit = True
            connection.execute("VACUUM (ANALYZE) ticket, ticket_event")
    finally:
        connection.close()
    return to_add
