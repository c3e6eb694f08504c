"""The demo's calendar: a round placed around today, so every desk action can be tried.

`make run` writes `ELECTION = demo_election()` into the instance/config.py it creates: the
calendar is computed when the app starts, so the demo's vote is under way whatever the day
`make run` is started. Same shape and hours as the real round (portal open seven weeks before
the vote, vote from 09:00 on a first day to 17:00 seven days later), shifted in time.
"""

from datetime import date, datetime, timedelta

from csudesk.elections.calendar import PARIS

# The vote opened this many days ago: the demo's generated week of desk activity spans days
# before and during the vote (its vote-code reissues fall inside the vote).
VOTE_OPENED_DAYS_AGO = 3
VOTE_DAYS = 7
PORTAL_WEEKS_BEFORE_VOTE = 7


def demo_election(today: date | None = None) -> dict:
    """An ELECTION value whose vote opened three days ago and closes four days from now."""
    today = today or datetime.now(PARIS).date()
    vote_opens = today - timedelta(days=VOTE_OPENED_DAYS_AGO)
    return {
        "name": "Élections professionnelles 2026 (démonstration)",
        "portal_opens": f"{vote_opens - timedelta(weeks=PORTAL_WEEKS_BEFORE_VOTE)}T09:00",
        "vote_opens": f"{vote_opens}T09:00",
        "vote_closes": f"{vote_opens + timedelta(days=VOTE_DAYS)}T17:00",
    }
