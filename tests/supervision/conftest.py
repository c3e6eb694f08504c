"""Accounts of two CSUs and the national one, and tickets dated through the real services."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from csudesk.actor import Actor
from csudesk.db import clock_at
from csudesk.extensions import db
from csudesk.tickets import services as tickets
from tests.fixtures.factories import csu

LILLE_UAI = "0590001F"  # AC-09
VERSAILLES_UAI = "0781234T"  # AC-25
# The statistics tests' calendar, and their days of October 2026.
OCTOBER_ELECTION = {
    "name": "Élections de test",
    "portal_opens": "2026-10-01T09:00",
    "vote_opens": "2026-10-20T08:00",
    "vote_closes": "2026-11-05T17:00",
}


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """That time of that October 2026 day, in UTC."""
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def people(make_agent):
    """Supervisors of Lille and of the national CSU, an agent of each academy, an admin."""
    return SimpleNamespace(
        sup_lille=make_agent("sup.lille@csudesk.test", "supervisor", "AC-09", "Sophie Lille"),
        sup_nat=make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National"),
        agent_lille=make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille"),
        agent_versailles=make_agent(
            "agent.versailles@csudesk.test", "agent", "AC-25", "Vera Versailles"
        ),
        admin=make_agent("admin@csudesk.test", "admin", "NATIONAL", "Ada Admin"),
    )


def actor_of(agent) -> Actor:
    return Actor.for_agent(agent, "192.0.2.10")


def ticket_at(when: datetime, agent, csu_code: str, category="lien_non_recu", **fields):
    """Open a ticket through the service as `agent`, at `when` (aware)."""
    with clock_at(when):
        ticket = tickets.create_ticket(
            actor_of(agent),
            csu=csu(csu_code),
            category=category,
            channel=fields.pop("channel", "telephone"),
            **fields,
        )
        db.session.flush()
    return ticket


def status_at(when: datetime, agent, ticket, status: str) -> None:
    with clock_at(when):
        tickets.change_status(actor_of(agent), ticket, status)
        db.session.flush()


def note_at(when: datetime, agent, ticket, text: str) -> None:
    with clock_at(when):
        tickets.add_note(actor_of(agent), ticket, text)
        db.session.flush()


def filter_by_post(client, path: str, data: dict):
    """Send a filter form as the browser does: a POST, then a GET of where its 303 points."""
    sent = client.post(path, data=data)
    assert sent.status_code == 303, (sent.status_code, sent.text[:300])
    return client.get(sent.location)
