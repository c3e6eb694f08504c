"""The configured election calendar, in Paris time (config ELECTION)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

PARIS = ZoneInfo("Europe/Paris")


def paris(dt: datetime | None) -> datetime | None:
    """A UTC datetime as Paris local time."""
    return dt.astimezone(PARIS) if dt is not None else None


def paris_midnight(day: date) -> datetime:
    """The UTC instant a Paris calendar day begins (23:00 or 22:00 UTC the day before)."""
    return datetime.combine(day, time(0), PARIS).astimezone(UTC)


def paris_day(dt: datetime) -> date:
    """The Paris calendar day of a UTC datetime."""
    return dt.astimezone(PARIS).date()


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Calendar:
    name: str
    portal_opens: datetime
    vote_opens: datetime
    vote_closes: datetime

    def voting_open(self, now: datetime) -> bool:
        return self.vote_opens <= now < self.vote_closes

    def phase(self, now: datetime) -> str:
        """ "before_portal", "portal_open", "voting" or "closed"."""
        if now < self.portal_opens:
            return "before_portal"
        if now < self.vote_opens:
            return "portal_open"
        if now < self.vote_closes:
            return "voting"
        return "closed"


def election() -> Calendar:
    """The calendar from config; naive times are read as Paris time."""
    cfg = current_app.config["ELECTION"]
    cal = Calendar(
        name=cfg["name"],
        portal_opens=_parse(cfg["portal_opens"]),
        vote_opens=_parse(cfg["vote_opens"]),
        vote_closes=_parse(cfg["vote_closes"]),
    )
    if not cal.portal_opens <= cal.vote_opens < cal.vote_closes:
        raise ValueError("ELECTION: portal_opens <= vote_opens < vote_closes is required")
    return cal
