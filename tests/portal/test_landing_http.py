"""SECURITY.md line 5 through HTTP: N browsers post the same link's page at once, on served
app processes (two, as two gunicorn workers would be), SQLite and PostgreSQL alike."""

import re

from sqlalchemy import select

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.worker import send_due
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from tests.conftest import ON_POSTGRES
from tests.fixtures.appserver import app_processes
from tests.fixtures.http_browser import Browser, at_once

PASSWORDS = [f"phrase de passe numéro {n} assez longue" for n in range(8)]


def test_concurrent_posts_on_a_landing_exactly_one_succeeds(app, app_config, make_voter, smtp):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    resend_activation_link(Actor.system(), voter, "marie.dupont@ac-lille.fr")
    db.session.commit()
    send_due()
    body = smtp.wait_for(1)[0].get_body(("plain",)).get_content()
    token = re.search(r"/activation/([\w-]+)", body).group(1)
    racers = 8 if ON_POSTGRES else 4
    with app_processes(app_config, 2) as urls:
        browsers = [Browser() for _ in range(racers)]
        for n, browser in enumerate(browsers):  # each browser lands (its own session)
            landing = browser.get(urls[n % 2], f"/activation/{token}")
            assert (landing.status, landing.location) == (302, "/activation")
            assert browser.get(urls[(n + 1) % 2], "/activation").status == 200
        answers = at_once(
            [
                lambda n=n, browser=browser: browser.post(
                    urls[n % 2],
                    "/activation",
                    {
                        "password": PASSWORDS[n],
                        "confirmation": PASSWORDS[n],
                        "question": "animal",
                        "answer": f"Médor {n}",
                    },
                )
                for n, browser in enumerate(browsers)
            ]
        )
    statuses = sorted(a.status for a in answers)
    assert statuses == [200] + [410] * (racers - 1), statuses
    (winner,) = [n for n, a in enumerate(answers) if a.status == 200]
    assert "Votre compte électeur est activé" in answers[winner].text
    assert all("Ce lien a déjà été utilisé" in a.text for n, a in enumerate(answers) if n != winner)
    db.session.expire_all()
    voter = db.session.get(Voter, voter.id)
    # The account holds the winner's password and answer, and nobody else's.
    assert accounts.check_voter_password(voter, PASSWORDS[winner])
    assert accounts.verify_challenge(voter, f"Médor {winner}")
    assert db.session.scalar(select(OneTimeLink.used_at)) is not None
    uses = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "portal.activation"))
    assert len(list(uses)) == 1
