"""make run's demo: a generated week of activity that the supervision pages can explain."""

import html
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from csudesk import create_app, demo
from csudesk.audit.services import verify_chain
from csudesk.conversation.models import ResponseTemplate
from csudesk.conversation.response_templates import NATIONAL_SEED
from csudesk.db import utcnow
from csudesk.demo.calendar import demo_election
from csudesk.directory.models import CSU, Establishment
from csudesk.directory.services import search_establishments
from csudesk.directory.uai import is_valid_uai
from csudesk.elections.calendar import election, paris_day
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.reporting import statistics
from csudesk.roll.models import Voter, VoterEmail
from csudesk.tickets.models import Ticket


def test_demo_activity_is_consistent_and_raises_the_alerts(app, client, auth):
    app.config["ELECTION"] = demo_election()  # what make run's instance/config.py sets
    summary = demo.seed_demo(voters=3000, seed=7)
    assert summary.activity.tickets > 40 and summary.activity.links > 20
    templates = db.session.scalar(select(func.count()).select_from(ResponseTemplate))
    assert templates == len(NATIONAL_SEED)  # the national réponses types come with the demo
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
    # Some calls end with a written reply: the dashboard has first answers to show.
    assert summary.activity.replies > 5
    assert statistics.first_answer_times(period, None).resolved == summary.activity.replies

    # "What happened yesterday in my CSU, and who did it": one filter on the log.
    auth.login("superviseur.lille@csudesk.example", demo.DEMO_PASSWORD)
    yesterday = today - timedelta(days=1 if today.weekday() != 0 else 2)
    page = client.get(f"/supervision/tickets?du={yesterday:%Y-%m-%d}&au={yesterday:%Y-%m-%d}")
    assert page.status_code == 200
    assert "Anne Agent" in page.text or "Bruno Lefort" in page.text
    assert "Victor Versailles" not in page.text
    dashboard = client.get("/supervision/")
    assert "Bruno Lefort" in dashboard.text


def test_make_run_config_puts_the_vote_under_way(tmp_path, monkeypatch):
    """The lines make run writes into instance/config.py give a vote open today."""
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    recipe = makefile.split("instance/config.py:\n")[1].split("\n\n")[0]
    lines = [
        line.split('@echo "', 1)[1].rsplit('" >> $@', 1)[0]
        for line in recipe.splitlines()
        if "demo_election" in line
    ]
    assert lines == [
        "from csudesk.demo.calendar import demo_election",
        "ELECTION = demo_election()",
    ]
    (tmp_path / "config.py").write_text("SECRET_KEY = 'k'\n" + "\n".join(lines) + "\n")
    monkeypatch.setenv("CSUDESK_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    with app.app_context():
        calendar = election()
        now = utcnow()
        assert calendar.phase(now) == "voting"
        assert calendar.vote_opens < now - timedelta(days=2)  # the demo week spans the vote
        assert calendar.vote_closes > now + timedelta(days=3)
        assert calendar.portal_opens < calendar.vote_opens - timedelta(days=40)
        assert calendar.name == "Élections professionnelles 2026 (démonstration)"


def test_demo_calendar_keeps_the_rounds_hours():
    cal = demo_election(date(2026, 12, 1))
    assert cal == {
        "name": "Élections professionnelles 2026 (démonstration)",
        "portal_opens": "2026-10-10T09:00",
        "vote_opens": "2026-11-28T09:00",
        "vote_closes": "2026-12-05T17:00",
    }


def test_demo_directory_contacts_and_vote_code_reissue(app, client, auth):
    """Search finds named schools, "Autre cellule" has a contact, the reissue can be tried."""
    app.config["ELECTION"] = demo_election()
    demo.seed_demo(voters=3000, seed=7)
    for query in ("Roubaix", "lycée", "collège lille", "Versailles", "lycée marseille"):
        found = search_establishments(query)
        assert found, query
        assert all(e.name and e.city for e in found), query
    roubaix = {e.name for e in search_establishments("Roubaix")}
    assert {"Lycée Jean Moulin", "Collège Anne Frank"} <= roubaix
    for e in db.session.scalars(select(Establishment)):
        assert is_valid_uai(e.uai)
        assert e.name, e.uai  # the roll's schools are named too, as after import-annuaire
    unnamed_contacts = db.session.scalars(
        select(CSU.code).where((CSU.email.is_(None)) | (CSU.phone.is_(None)) | CSU.hours.is_(None))
    ).all()
    assert unnamed_contacts == ["ESR-0751717J"]  # the demo's one cell without a phone line
    academies = {e.csu.academie_code for e in search_establishments("lycée")}
    assert len(academies) >= 5

    # The public search works as after `directory import-annuaire`.
    page = client.get("/trouver-ma-csu", query_string={"q": "Roubaix"})
    assert "Lycée Jean Moulin" in page.text and "Roubaix" in page.text

    # "Autre cellule": the Versailles agent has a phone number and an address to pass on.
    lille_voter = db.session.scalars(
        select(Voter).join(CSU, CSU.id == Voter.csu_id).where(CSU.code == "AC-09").limit(1)
    ).one()
    auth.login("agent.versailles@csudesk.example", demo.DEMO_PASSWORD)
    searched = client.post("/guichet/recherche", data={"courriel": lille_voter.emails[0].address})
    assert searched.status_code == 200  # another cell's voter: no file, only where to send them
    answer = searched.text
    assert "Cet électeur relève d'une autre cellule" in answer
    assert "03 20 00 00 00" in answer and "csu-elections@ac-lille.example" in answer
    auth.logout()

    activated = demo.example_addresses()["activated"]
    voter_id = db.session.scalar(select(VoterEmail.voter_id).where(VoterEmail.address == activated))
    auth.login("agent.lille@csudesk.example", demo.DEMO_PASSWORD)
    found = client.post("/guichet/recherche", data={"courriel": activated})
    assert (found.status_code, found.headers["Location"]) == (303, f"/guichet/electeurs/{voter_id}")
    page = html.unescape(client.get(found.headers["Location"]).text)
    assert "Le vote est ouvert jusqu'au" in page
    assert "Vérifier la réponse" in page  # step 1 of the reissue, open to the agent
