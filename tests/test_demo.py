"""make run's demo: a generated week of activity that the supervision pages can explain."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from csudesk import demo
from csudesk.audit.services import verify_chain
from csudesk.db import utcnow
from csudesk.elections.calendar import paris_day
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.supervision import statistics
from csudesk.tickets.models import Ticket


def test_demo_activity_is_consistent_and_raises_the_alerts(app, client, auth):
    summary = demo.seed_demo(voters=3000, seed=7)
    assert summary.activity.tickets > 40 and summary.activity.links > 20
    assert verify_chain().ok
    times = db.session.execute(text("SELECT at FROM audit_entry ORDER BY id")).scalars().all()
    assert times == sorted(times)  # ids follow time, as they do in real life
    csus = db.session.scalars(select(func.count(func.distinct(Ticket.csu_id)))).one()
    assert csus >= 3
    today = paris_day(utcnow())
    statuses = dict(
        db.session.execute(
            select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
        ).all()
    )
    assert statuses.get("sent", 0) > 20 and statuses.get("failed", 0) >= 1

    period = statistics.Period(today - timedelta(days=29), today)
    flagged = [a.email for a, _, flag in statistics.agent_volume(period, None).agents if flag]
    assert flagged == ["agent2.lille@csudesk.example"]
    assert len(statistics.vote_code_alerts(datetime(2000, 1, 1, tzinfo=UTC), None)) == 2

    # "What happened yesterday in my CSU, and who did it": one filter on the log.
    auth.login("superviseur.lille@csudesk.example", demo.DEMO_PASSWORD)
    yesterday = today - timedelta(days=1 if today.weekday() != 0 else 2)
    page = client.get(f"/supervision/tickets?du={yesterday:%Y-%m-%d}&au={yesterday:%Y-%m-%d}")
    assert page.status_code == 200
    assert "Anne Agent" in page.text or "Bruno Lefort" in page.text
    assert "Victor Versailles" not in page.text
    dashboard = client.get("/supervision/")
    assert "Bruno Lefort" in dashboard.text
