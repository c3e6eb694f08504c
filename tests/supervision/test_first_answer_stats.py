"""Time to first answer beside time to resolution, and replies and mails received per day.

Figures computed by hand on a fixed data set; the events are written directly (a reply event
without its outbox mail is enough for the statistics).
"""

from datetime import date, datetime

import pytest

from csudesk.actor import Actor
from csudesk.db import clock_at
from csudesk.extensions import db
from csudesk.reporting import statistics
from csudesk.reporting.statistics import Period
from csudesk.tickets import services as tickets
from tests.fixtures.factories import csu

from .conftest import OCTOBER_ELECTION, actor_of, note_at, status_at, ticket_at, utc

PERIOD = Period(date(2026, 10, 24), date(2026, 10, 28))


@pytest.fixture
def app_config(app_config):
    app_config["ELECTION"] = OCTOBER_ELECTION
    return app_config


def event_at(when: datetime, agent, ticket, kind: str) -> None:
    """An event of `kind` on the ticket at `when`, by the agent (None: the system, as mail in)."""
    with clock_at(when):
        tickets.add_event(ticket, actor_of(agent) if agent else Actor.system(), kind, "…")
        db.session.flush()


@pytest.fixture
def data(people):
    lille, versailles = people.agent_lille, people.agent_versailles
    t1 = ticket_at(utc(24, 8), lille, "AC-09")
    note_at(utc(24, 8, 10), lille, t1, "Une note n'est pas une réponse.")
    event_at(utc(24, 8, 30), lille, t1, "reply")  # 30 min
    event_at(utc(24, 10), lille, t1, "reply")  # a second reply: not the first answer
    event_at(utc(25, 9), None, t1, "mail_in")
    t2 = ticket_at(utc(24, 21, 30), lille, "AC-09")
    event_at(utc(25, 0, 30), lille, t2, "reply")  # 3 h, on the 25th in Paris
    status_at(utc(25, 1), lille, t2, "resolu")
    t3 = ticket_at(utc(25, 9), lille, "AC-09")
    event_at(utc(25, 10), lille, t3, "reply")  # 1 h
    t4 = ticket_at(utc(25, 9), lille, "AC-09")  # a note and an action, no reply: no answer
    note_at(utc(25, 9, 5), lille, t4, "Rappel.")
    event_at(utc(25, 9, 6), lille, t4, "action")
    status_at(utc(25, 12), lille, t4, "resolu")
    old = ticket_at(utc(10, 9), lille, "AC-09")  # first answered before the period
    event_at(utc(10, 11), lille, old, "reply")
    event_at(utc(26, 8), lille, old, "reply")
    t6 = ticket_at(utc(25, 10), versailles, "AC-25")
    event_at(utc(26, 10), versailles, t6, "reply")  # 1 day
    event_at(utc(26, 12), None, t6, "mail_in")
    db.session.commit()


def ids(*codes):
    return frozenset(csu(c).id for c in codes)


def test_first_answer_is_the_first_reply_only(data):
    # Lille, first answered in the period: 1800, 3600, 10800 s. Median 3600; P90: rank
    # 0.9 × 2 = 1.8 → 3600 + 0.8 × 7200.
    lille = statistics.first_answer_times(PERIOD, ids("AC-09"))
    assert lille.resolved == 3
    assert lille.median_seconds == pytest.approx(3600, abs=0.01)
    assert lille.p90_seconds == pytest.approx(9360, abs=0.01)
    # Everywhere: 1800, 3600, 10800, 86400. Median rank 1.5, P90 rank 2.7.
    national = statistics.first_answer_times(PERIOD, None)
    assert national.resolved == 4
    assert national.median_seconds == pytest.approx(7200, abs=0.01)
    assert national.p90_seconds == pytest.approx(10800 + 0.7 * 75600, abs=0.01)
    versailles = statistics.first_answer_times(PERIOD, ids("AC-25"))
    assert (versailles.resolved, versailles.median_seconds, versailles.p90_seconds) == (
        1,
        pytest.approx(86400, abs=0.01),
        pytest.approx(86400, abs=0.01),
    )
    # A day with no reply that is a first one: nothing, not zero.
    assert statistics.first_answer_times(Period(date(2026, 10, 27), date(2026, 10, 28)), None) == (
        statistics.NO_TIMES
    )


def test_per_csu_first_answer_beside_resolution(data):
    rows = statistics.times_by_csu(PERIOD, None)
    assert [row.code for row in rows] == ["AC-09", "AC-25"]
    lille, versailles = rows
    assert lille.first_answer == statistics.first_answer_times(PERIOD, ids("AC-09"))
    # Resolved in Lille: t2 after 3 h 30, t4 after 3 h.
    assert lille.resolution.resolved == 2
    assert lille.resolution.median_seconds == pytest.approx(11700, abs=0.01)
    assert versailles.resolution == statistics.NO_TIMES
    assert versailles.first_answer.resolved == 1
    assert [row.code for row in statistics.times_by_csu(PERIOD, ids("AC-25"))] == ["AC-25"]
    assert statistics.times_by_csu(Period(date(2026, 9, 1), date(2026, 9, 2)), None) == []


def test_replies_and_mails_in_per_paris_day(data):
    assert statistics.events_per_day(PERIOD, ids("AC-09")) == {
        date(2026, 10, 24): {"reply": 2},
        date(2026, 10, 25): {"reply": 2, "mail_in": 1},
        date(2026, 10, 26): {"reply": 1},
    }
    national = statistics.events_per_day(PERIOD, None)
    assert national[date(2026, 10, 26)] == {"reply": 2, "mail_in": 1}


def test_the_dashboard_shows_both_delays_per_csu_and_the_exchanges(client, auth, people, data):
    auth.login(people.sup_nat.email)
    page = client.get("/supervision/?du=2026-10-24&au=2026-10-28").text
    flat = " ".join(page.split())
    assert 'id="reponse-mediane">2 h 00<' in flat
    assert "9 tickets sur 10 reçoivent une première réponse en moins de" in flat
    table = flat.split('id="tableau-delais"', 1)[1].split("</table>", 1)[0]
    lille, versailles = table.split("<tbody>", 1)[1].split("</tr>")[:2]
    assert "AC-09" in lille and "<td>3</td><td>1 h 00</td><td>2 h 36</td>" in lille
    assert "<td>2</td><td>3 h 15</td>" in lille
    # Versailles: answered, never resolved.
    assert "AC-25" in versailles and "<td>0</td><td>—</td><td>—</td>" in versailles
    exchanges = flat.split('id="tableau-echanges"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col">Réponses envoyées</th><th scope="col">Courriels reçus</th>' in (
        exchanges
    )
    assert '<th scope="row">26/10/2026</th><td>2</td><td>1</td>' in exchanges
    # The period before any exchange: a sentence, no empty table.
    quiet = client.get("/supervision/?du=2026-10-01&au=2026-10-05").text
    assert "Aucune réponse envoyée ni aucun courriel reçu" in quiet
    assert "Aucune première réponse sur la période : —" in quiet
