"""The dashboard with a campaign calendar spanning years: a bounded per-day series, no 500.

Each day of the series is one term of a compound SELECT, and SQLite refuses more than 500:
the series covers the period's last MAX_SERIES_DAYS days, and the page says so.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest

from csudesk.db import utcnow
from csudesk.elections.calendar import election, paris_day
from csudesk.extensions import db
from csudesk.reporting import statistics
from csudesk.reporting.statistics import MAX_SERIES_DAYS, Period

from .conftest import ticket_at

NOW = datetime.now(UTC)
# A campaign opened four years ago and closing next year: the default period is four years.
YEARS = {
    "name": "Élections de test",
    "portal_opens": f"{NOW.year - 4}-01-01T00:00",
    "vote_opens": f"{NOW.year - 4}-01-02T00:00",
    "vote_closes": f"{NOW.year + 1}-12-31T17:00",
}


@pytest.fixture
def app_config(app_config):
    app_config["ELECTION"] = YEARS
    return app_config


@pytest.fixture
def tickets(people):
    """Three years ago, 200 days ago (both outside the series), two yesterday (inside)."""
    now = utcnow()
    for when in (now - timedelta(days=3 * 365), now - timedelta(days=200)):
        ticket_at(when, people.agent_lille, "AC-09")
    for _ in range(2):
        ticket_at(now - timedelta(days=1), people.agent_lille, "AC-09", "autre")
    db.session.commit()


def day_rows(page: str) -> list[str]:
    return re.findall(r'<th scope="row">(\d\d/\d\d/\d{4})</th>', page)


def test_series_period_keeps_the_last_days():
    long = Period(NOW.date() - timedelta(days=2000), NOW.date())
    assert statistics.series_period(long) == Period(
        NOW.date() - timedelta(days=MAX_SERIES_DAYS - 1), NOW.date()
    )
    assert len(statistics.series_period(long).days()) == MAX_SERIES_DAYS
    short = Period(NOW.date() - timedelta(days=9), NOW.date())
    assert statistics.series_period(short) == short
    with pytest.raises(ValueError, match="at most 120 days"):
        statistics.tickets_per_day(long, None)


def test_default_period_of_a_calendar_spanning_years(client, auth, people, tickets):
    today = paris_day(utcnow())
    period, campaign = statistics.default_period(election(), utcnow())
    assert campaign and (period.last - period.first).days > 4 * 365 - 10
    auth.login(people.sup_nat.email)
    page = client.get("/supervision/")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    assert f"Du 01/01/{NOW.year - 4} au {today:%d/%m/%Y}" in text
    # Every ticket of the period is counted; the series shows its last 120 days only.
    assert "4 tickets sur la période" in text
    first = today - timedelta(days=MAX_SERIES_DAYS - 1)
    note = re.search(r'<p id="serie-limitee">(.*?)</p>', text, re.S)[1]
    assert f"n'en montrent que les {MAX_SERIES_DAYS} derniers" in note
    assert f"du {first:%d/%m/%Y} au {today:%d/%m/%Y}, avec 2 tickets" in note
    yesterday = paris_day(utcnow() - timedelta(days=1))
    assert day_rows(text) == [f"{yesterday:%d/%m/%Y}", f"{today:%d/%m/%Y}"]
    assert '<figure class="csu-chart" aria-hidden="true">' in text


def test_a_chosen_period_longer_than_the_series(client, auth, people, tickets):
    auth.login(people.sup_nat.email)
    today = paris_day(utcnow())
    first = today - timedelta(days=300)
    page = client.get(f"/supervision/?du={first.isoformat()}&au={today.isoformat()}")
    assert page.status_code == 200
    assert "3 tickets sur la période" in page.text  # 200 days ago and the two of yesterday
    assert 'id="serie-limitee"' in page.text and "avec 2 tickets" in page.text
    # A period within the series' length is shown whole, without the note.
    short = client.get(f"/supervision/?du={(today - timedelta(days=30)).isoformat()}")
    assert short.status_code == 200 and 'id="serie-limitee"' not in short.text
    assert "2 tickets sur la période" in short.text
