"""Dashboard figures against figures computed by hand on a fixed data set.

The days straddle the end of summer time (25 October 2026, 03:00 → 02:00 in Paris), so a
ticket at 22:30 UTC falls on the next Paris day before the change and on the same day after.
"""

from datetime import UTC, date, datetime

import pytest

from csudesk.access.services import resend_activation_link, send_password_reset_link
from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.db import clock_at
from csudesk.extensions import db
from csudesk.reporting import statistics
from csudesk.reporting.statistics import Period
from csudesk.roll import accounts
from tests.fixtures.factories import csu

from .conftest import (
    LILLE_UAI,
    OCTOBER_ELECTION,
    VERSAILLES_UAI,
    actor_of,
    status_at,
    ticket_at,
    utc,
)

PERIOD = Period(date(2026, 10, 24), date(2026, 10, 28))


@pytest.fixture
def app_config(app_config):
    app_config["ELECTION"] = OCTOBER_ELECTION
    return app_config


@pytest.fixture
def data(people, make_agent, make_voter):
    lille, versailles = people.agent_lille, people.agent_versailles
    heavy = make_agent("heavy@csudesk.test", "agent", "AC-09", "Hugo Heavy")
    marie = make_voter("Dupont", "Marie", ("marie@ac-lille.fr",), LILLE_UAI)
    jean = make_voter("Petit", "Jean", ("jean@ac-lille.fr",), LILLE_UAI, activated=True)
    paul = make_voter("Martin", "Paul", ("paul@ac-versailles.fr",), VERSAILLES_UAI)
    t1 = ticket_at(utc(24, 8), lille, "AC-09")  # Paris 24th, resolved after 1 h
    status_at(utc(24, 9), lille, t1, "resolu")
    t2 = ticket_at(utc(24, 21, 30), lille, "AC-09", "mot_de_passe_refuse")  # 23:30, 24th
    status_at(utc(25, 0, 30), lille, t2, "resolu")  # 3 h
    t3 = ticket_at(utc(24, 22, 30), lille, "AC-09")  # 00:30 on the 25th (summer time)
    status_at(utc(24, 23), lille, t3, "resolu")  # 30 min
    ticket_at(utc(25, 22, 30), lille, "AC-09", "autre")  # 23:30 on the 25th (winter): open
    t5 = ticket_at(utc(26, 9), lille, "AC-09")  # 26th, resolved two days later
    status_at(utc(28, 9), lille, t5, "resolu")
    t6 = ticket_at(utc(25, 10), versailles, "AC-25")  # Versailles, waiting
    status_at(utc(25, 11), versailles, t6, "en_attente")
    old = ticket_at(utc(10, 10), lille, "AC-09")  # before the period, resolved in it: 14 days
    status_at(utc(24, 10), lille, old, "resolu")
    # Links: one from the desk, two asked by voters themselves.
    with clock_at(utc(24, 8, 5)):
        resend_activation_link(actor_of(lille), marie, "marie@ac-lille.fr", t1)
        send_password_reset_link(Actor("voter", None, "198.51.100.7"), jean, "jean@ac-lille.fr")
        resend_activation_link(Actor("voter", None, "198.51.100.8"), paul, "paul@ac-versailles.fr")
    # Lookups: Hugo 40, Luc 6 (+ 1 link above), Vera 5.
    with clock_at(utc(26, 14)):
        for agent, count in ((heavy, 40), (lille, 6), (versailles, 5)):
            for _ in range(count):
                audit.record(actor_of(agent), "voter.lookup", voter_id=marie.id)
    # Vote codes: Jean 3 reissues, Marie 2.
    for n, voter in enumerate((jean, jean, jean, marie, marie)):
        with clock_at(utc(27, 10 + n)):
            accounts.new_vote_code(voter, None)
    db.session.commit()
    return {"heavy": heavy, "jean": jean, "marie": marie}


LILLE = frozenset({"AC-09"})


def ids(codes):
    return None if codes is None else frozenset(csu(c).id for c in codes)


def test_tickets_per_paris_day_by_category(data):
    assert statistics.tickets_per_day(PERIOD, ids(LILLE)) == {
        date(2026, 10, 24): {"lien_non_recu": 1, "mot_de_passe_refuse": 1},
        date(2026, 10, 25): {"lien_non_recu": 1, "autre": 1},
        date(2026, 10, 26): {"lien_non_recu": 1},
    }
    national = statistics.tickets_per_day(PERIOD, None)
    assert national[date(2026, 10, 25)] == {"lien_non_recu": 2, "autre": 1}
    assert sum(sum(d.values()) for d in national.values()) == 6


def test_backlog_by_csu(data):
    national = [(b.code, b.open) for b in statistics.backlog_by_csu(None)]
    assert national == [("AC-09", 1), ("AC-25", 1)]
    (lille,) = statistics.backlog_by_csu(ids(LILLE))
    assert (lille.code, lille.open, lille.oldest) == ("AC-09", 1, utc(25, 22, 30))


def test_median_and_90th_percentile_of_resolution(data):
    # Resolved in the period, in seconds: 1800, 3600, 10800, 172800, 1209600 (14 days).
    # Median: the 3rd of 5 = 10800. P90: rank 0.9 × 4 = 3.6 → 172800 + 0.6 × 1036800.
    result = statistics.resolution_times(PERIOD, ids(LILLE))
    assert result.resolved == 5
    assert result.median_seconds == pytest.approx(10800, abs=0.01)
    assert result.p90_seconds == pytest.approx(794880, abs=0.01)
    # Without the 14-day ticket (resolved on the 24th): 1800, 3600, 10800, 172800.
    later = statistics.resolution_times(Period(date(2026, 10, 25), date(2026, 10, 28)), None)
    assert later.resolved == 3
    assert later.median_seconds == pytest.approx(10800, abs=0.01)
    assert later.p90_seconds == pytest.approx(10800 + 0.8 * (172800 - 10800), abs=0.01)
    empty = statistics.resolution_times(Period(date(2026, 9, 1), date(2026, 9, 2)), None)
    assert (empty.resolved, empty.median_seconds) == (0, None)


def test_actions_by_type(data):
    # Lille agents: 6 tickets created (t1-t5 and the old one, whose creation is before the
    # period: 5 inside), 5 status changes, 1 activation link, 46 lookups.
    assert statistics.actions_by_type(PERIOD, ids(LILLE)) == [
        ("voter.lookup", 46),
        ("ticket.create", 5),
        ("ticket.status", 5),
        ("link.activation", 1),
    ]
    national = dict(statistics.actions_by_type(PERIOD, None))
    assert (national["voter.lookup"], national["ticket.create"]) == (51, 6)


def test_self_service_versus_desk(data):
    assert statistics.links_by_channel(PERIOD, ids(LILLE)) == {
        "activation": {"desk": 1, "self_service": 0},
        "password_reset": {"desk": 0, "self_service": 1},
        "vote_code": {"desk": 0, "self_service": 0},
    }
    national = statistics.links_by_channel(PERIOD, None)
    assert national["activation"] == {"desk": 1, "self_service": 1}


def test_alerts(app, data):
    since = datetime(2026, 10, 1, tzinfo=UTC)
    (alert,) = statistics.vote_code_alerts(since, None)
    assert (alert.voter.id, alert.reissues, alert.last_at) == (data["jean"].id, 3, utc(27, 12))
    assert statistics.vote_code_alerts(since, ids({"AC-25"})) == []
    app.config["ALERT_VOTE_CODE_REISSUES"] = 2
    assert len(statistics.vote_code_alerts(since, None)) == 2

    # Counts 40, 7 and 5: median 7, threshold max(3 × 7, 30) = 30, only Hugo is flagged.
    volume = statistics.agent_volume(PERIOD, None)
    assert (volume.median, volume.threshold) == (7, 30)
    assert [(a.name, n, flag) for a, n, flag in volume.agents] == [
        ("Hugo Heavy", 40, True),
        ("Luc Lille", 7, False),
        ("Vera Versailles", 5, False),
    ]
    lille = statistics.agent_volume(PERIOD, ids(LILLE))
    assert [a.name for a, _, _ in lille.agents] == ["Hugo Heavy", "Luc Lille"]
    app.config["ALERT_AGENT_MIN_ACTIONS"] = 50
    assert statistics.agent_volume(PERIOD, None).flagged == []


def test_default_period(app):
    from csudesk.elections.calendar import election

    cal = election()
    during = statistics.default_period(cal, utc(15, 10))
    assert during == (Period(date(2026, 10, 1), date(2026, 10, 15)), True)
    after = statistics.default_period(cal, datetime(2026, 11, 20, tzinfo=UTC))
    assert after == (Period(date(2026, 10, 1), date(2026, 11, 5)), True)
    long_after = statistics.default_period(cal, datetime(2027, 3, 1, tzinfo=UTC))
    assert long_after == (Period(date(2027, 1, 31), date(2027, 3, 1)), False)


def test_dashboard_page_shows_tables_charts_and_alerts(client, auth, people, data):
    auth.login(people.sup_nat.email)
    page = client.get("/supervision/?du=2026-10-24&au=2026-10-28")
    assert page.status_code == 200
    text = page.text
    assert "Du 24/10/2026 au 28/10/2026" in text
    # The same figures as tables, and charts hidden from screen readers.
    assert (
        '<th scope="row">25/10/2026</th>'
        "<td>2</td><td>0</td><td>0</td><td>0</td><td>1</td><td>3</td>" in text
    )
    assert text.count('<figure class="csu-chart" aria-hidden="true">') == 4
    assert 'data-bars="' in text and "<script" not in text.split("</main>")[0]
    assert "3 h 00" in text  # median of the resolution times
    assert "Hugo Heavy" in text and "Petit Jean" in text
    assert "(médiane : 7)" in text and "seuil de 30 actions" in text
    lille = client.get("/supervision/?du=2026-10-24&au=2026-10-28&csu=AC-25").text
    assert "Hugo Heavy</a> (AC-09)" not in lille and "Petit Jean" not in lille
    assert client.get("/supervision/?du=2026-10-28&au=2026-10-24").status_code == 400
    assert client.get("/supervision/?du=2025-01-01&au=2026-10-24").status_code == 400
