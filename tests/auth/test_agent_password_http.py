"""The agent-password link (issue 10 item 5 for agents, SECURITY.md 1, 4, 5, 8) through HTTP.

The landing keeps only the link's id and a server MAC in the session, never the token nor its
SHA-256 hash; the POST consumes the claimed link in one atomic UPDATE: of N concurrent uses
exactly one sets the password. Served app processes, SQLite and PostgreSQL alike.
"""

import re

from sqlalchemy import func, select

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.agents.models import Agent
from csudesk.agents.services import reset_password
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import OneTimeLink
from csudesk.mail.worker import send_due
from csudesk.passwords import verify_secret
from tests.conftest import ON_POSTGRES
from tests.fixtures.appserver import app_processes
from tests.fixtures.http_browser import Browser, at_once

KEY = "link:agent_password"
PAGE = "/agent/mot-de-passe"
PASSWORDS = [f"phrase de passe d'agent numéro {n}" for n in range(8)]


def mailed_token(smtp, count: int) -> str:
    assert send_due().sent == 1
    body = smtp.wait_for(count)[count - 1].get_body(("plain",)).get_content()
    return re.search(r"/agent/mot-de-passe/([\w-]+)", body).group(1)


def issue_link(agent: Agent, smtp, count: int = 1) -> str:
    reset_password(Actor.system(), agent)
    db.session.commit()
    return mailed_token(smtp, count)


def decoded(app, cookie: str) -> dict:
    """The session as the app's own serializer reads it (signed, not encrypted)."""
    return app.session_interface.get_signing_serializer(app).loads(cookie)


def password_sets() -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "agent.password_set")
    )


def test_the_session_cookie_holds_neither_the_token_nor_its_hash(app, app_config, make_agent, smtp):
    agent = make_agent("lea@csudesk.test", "agent", "AC-09")
    token = issue_link(agent, smtp)
    link_id, token_hash = db.session.execute(select(OneTimeLink.id, OneTimeLink.token_hash)).one()
    assert token_hash == links.hash_token(token)
    # On SQLite every transaction takes the write lock: the test holds none while they serve.
    db.session.rollback()
    with app_processes(app_config, 2) as urls:
        browser = Browser()
        landing = browser.get(urls[0], f"{PAGE}/{token}")
        assert (landing.status, landing.location) == (302, PAGE)
        stored = decoded(app, browser.cookie)
        dumped = repr(stored) + browser.cookie
        assert token not in dumped and token_hash not in dumped
        assert set(stored[KEY]) == {"id", "mac"} and stored[KEY]["id"] == link_id
        # The other process reads the same claim: the form opens, a weak password is refused.
        form = browser.get(urls[1], PAGE)
        assert form.status == 200 and "lea@csudesk.test" in form.text and token not in form.text
        weak = browser.post(urls[1], PAGE, {"password": "court", "confirmation": "court"})
        assert weak.status == 400 and "au moins 12 caractères" in weak.text
        done = browser.post(urls[0], PAGE, {"password": PASSWORDS[0], "confirmation": PASSWORDS[0]})
        assert (done.status, done.location) == (302, "/connexion")
        assert token not in repr(decoded(app, browser.cookie))
        # Once: the same browser, a new landing and a fresh browser all get the "used" page.
        assert browser.get(urls[1], PAGE).status == 410
        again = Browser()
        again.get(urls[1], f"{PAGE}/{token}")
        used = again.get(urls[0], PAGE)
        assert used.status == 410 and "déjà servi" in used.text
        assert again.post(
            urls[0], PAGE, {"password": PASSWORDS[1], "confirmation": PASSWORDS[1]}
        ).status in (400, 410)
    db.session.expire_all()
    agent = db.session.get(Agent, agent.id)
    assert verify_secret(agent.password_hash, PASSWORDS[0])
    assert not verify_secret(agent.password_hash, PASSWORDS[1])
    assert password_sets() == 1


def test_a_forged_claim_opens_nothing(app, client, make_agent, make_voter, smtp):
    """Another link's id with one's own MAC, a voter link's claim, a stale or mangled claim."""
    mine = make_agent("moi@csudesk.test", "agent", "AC-09")
    victim = make_agent("cible@csudesk.test", "agent", "AC-09")
    my_token = issue_link(mine, smtp, 1)
    issue_link(victim, smtp, 2)
    my_link, victim_link = db.session.scalars(select(OneTimeLink).order_by(OneTimeLink.id))
    client.get(f"{PAGE}/{my_token}")
    own = decoded(app, client.get_cookie("csudesk_session").value)[KEY]
    assert client.get(PAGE).status_code == 200  # the genuine claim works

    voter = make_voter()
    resend_activation_link(Actor.system(), voter, voter.emails[0].address)
    db.session.commit()
    assert send_due().sent == 1 and smtp.wait_for(3)
    voter_link = db.session.scalar(select(OneTimeLink).where(OneTimeLink.voter_id == voter.id))
    forged_claims = [
        {"id": victim_link.id, "mac": own["mac"]},  # someone else's link, my MAC
        {"id": own["id"], "mac": own["mac"][:-1] + ("0" if own["mac"][-1] != "0" else "1")},
        {"id": victim_link.id, "mac": victim_link.token_hash},  # the hash is not the MAC
        {"id": str(victim_link.id), "mac": own["mac"]},
        {"id": True, "mac": own["mac"]},
        {"id": victim_link.id},
        # A voter's link claimed with its genuine MAC: the purpose is not this page's.
        {"id": voter_link.id, "mac": links._claim_mac(voter_link)},
        my_token,  # the old format: a raw token in the session opens nothing either
    ]
    for forged in forged_claims:
        attacker = app.test_client()
        with attacker.session_transaction() as session:
            session[KEY] = forged
        assert attacker.get(PAGE).status_code == 410, forged
        post = attacker.post(PAGE, data={"password": PASSWORDS[2], "confirmation": PASSWORDS[2]})
        assert post.status_code == 410, forged
    # A stale claim: a newer link for the same agent revokes the one the claim names.
    issue_link(mine, smtp, 4)
    stale = client.get(PAGE)
    assert stale.status_code == 410 and "remplacé" in stale.text
    db.session.expire_all()
    assert db.session.get(Agent, victim.id).password_hash is None
    assert db.session.get(Agent, mine.id).password_hash is None
    assert db.session.get(OneTimeLink, victim_link.id).used_at is None
    assert password_sets() == 0


def test_concurrent_posts_exactly_one_sets_the_password(app, app_config, make_agent, smtp):
    agent = make_agent("paul@csudesk.test", "agent", "AC-09")
    token = issue_link(agent, smtp)
    racers = 8 if ON_POSTGRES else 4
    with app_processes(app_config, 2) as urls:
        browsers = [Browser() for _ in range(racers)]
        for n, browser in enumerate(browsers):  # each its own session, as N tabs or thieves
            assert browser.get(urls[n % 2], f"{PAGE}/{token}").status == 302
            assert browser.get(urls[(n + 1) % 2], PAGE).status == 200
        answers = at_once(
            [
                lambda n=n, browser=browser: browser.post(
                    urls[n % 2], PAGE, {"password": PASSWORDS[n], "confirmation": PASSWORDS[n]}
                )
                for n, browser in enumerate(browsers)
            ]
        )
    statuses = sorted(a.status for a in answers)
    assert statuses == [302] + [410] * (racers - 1), statuses
    (winner,) = [n for n, a in enumerate(answers) if a.status == 302]
    assert all("déjà servi" in a.text for n, a in enumerate(answers) if n != winner)
    db.session.expire_all()
    agent = db.session.get(Agent, agent.id)
    assert verify_secret(agent.password_hash, PASSWORDS[winner])
    assert not any(
        verify_secret(agent.password_hash, p) for p in PASSWORDS[:racers] if p != PASSWORDS[winner]
    )
    assert db.session.scalar(select(OneTimeLink.used_at)) is not None
    assert password_sets() == 1
