"""The UTC clock and its override for generated demo activity."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from csudesk.db import clock_at, utcnow


def test_clock_at_sets_and_restores_the_time():
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with clock_at(moment):
        assert utcnow() == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
        assert utcnow().tzinfo is UTC
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


def test_clock_at_refuses_naive_times():
    with pytest.raises(ValueError), clock_at(datetime(2026, 1, 1)):
        pass
