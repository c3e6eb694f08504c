"""Mailed links, attacked through HTTP (SECURITY.md 3 and 4).

Line 3: every kind of mail that carries a link is asked for while the request carries a forged
`Host`, `X-Forwarded-Host` and `Forwarded` header, behind a trusted proxy; the outbox sender
then runs inside a request context with the same forged host. Every link of every captured
mail starts with BASE_URL.

Line 4: tokens are read from the mails as a voter gets them: length and alphabet, distinct,
stored only as an independent SHA-256 of the token, and bound to one voter.
"""

import hashlib
import re

import pytest
from sqlalchemy import select, text

from csudesk.access import worker
from csudesk.directory.models import CSU
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail.worker import send_due
from csudesk.roll.models import Voter
from tests.fixtures.factories import AGENT_PASSWORD, VOTING, csu
from tests.fixtures.world import new_client, sign_in

BASE_URL = "https://csudesk.test"
EVIL = "evil.example"
FORGED = {
    "base_url": f"http://{EVIL}",  # the Host header
    "headers": {
        "X-Forwarded-Host": EVIL,
        "X-Forwarded-Server": EVIL,
        "X-Forwarded-Proto": "https",
        "X-Original-Host": EVIL,
        "Forwarded": f"host={EVIL};proto=https",
    },
}
URL = re.compile(r"""https?://[^\s"'<>]+""")
TOKEN_URL = re.compile(
    r"/(?:activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/([A-Za-z0-9_-]+)"
)


@pytest.fixture
def app_config(app_config):
    app_config.update(BASE_URL=BASE_URL, TRUSTED_PROXIES=1, ELECTION=VOTING)
    return app_config


def bodies(message) -> list[str]:
    return [message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()]


def send_with_forged_host(app) -> None:
    """The sender, run as if inside a request with the forged host (it must not care)."""
    with app.test_request_context("/", **FORGED):
        send_due()


def forged_sign_in(app, email: str):
    """Signed in through the login form over the forged host (the cookie is the host's)."""
    client = new_client(app)
    response = client.post(
        "/connexion", data={"email": email, "password": AGENT_PASSWORD}, **FORGED
    )
    assert response.status_code == 302 and "/connexion" not in response.location
    return client


def done(response) -> bool:
    """A desk or admin action that went through (not bounced to the sign-in page)."""
    return response.status_code == 302 and "/connexion" not in response.location


def link_post(client, voter, action, ticket="nouveau", address=None):
    return client.post(
        f"/guichet/electeurs/{voter.id}/liens/{action}",
        data={
            f"{action}-address": address or voter.emails[0].address,
            f"{action}-ticket": ticket,
            f"{action}-category": "lien_non_recu",
            f"{action}-channel": "telephone",
        },
        **FORGED,
    )


def test_every_mail_with_a_link_uses_base_url_whatever_the_host(app, make_agent, make_voter, smtp):
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    other = make_agent("autre@csudesk.test", "agent", "AC-09")
    fresh = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    active = make_voter("Martin", "Léa", emails=("lea.martin@ac-lille.fr",), activated=True)
    coded = make_voter("Petit", "Jean", emails=("jean.petit@ac-lille.fr",), challenge_answer="Rex")
    self_fresh = make_voter("Blanc", "Anne", emails=("anne.blanc@ac-lille.fr",))
    self_active = make_voter("Noir", "Luc", emails=("luc.noir@ac-lille.fr",), activated=True)
    self_coded = make_voter("Roux", "Eva", emails=("eva.roux@ac-lille.fr",), challenge_answer="Rex")
    desk, admin_client = forged_sign_in(app, agent.email), forged_sign_in(app, admin.email)

    # Desk: activation, password reset, and a vote code after a correct challenge check.
    assert done(link_post(desk, fresh, "activation"))
    assert done(link_post(desk, active, "password_reset"))
    checked = desk.post(
        f"/guichet/electeurs/{coded.id}/defi",
        data={
            "challenge-answer": "rex",
            "challenge-ticket": "nouveau",
            "challenge-category": "notice_non_recue",
            "challenge-channel": "telephone",
        },
        **FORGED,
    )
    assert done(checked)
    ticket_id = db.session.scalar(
        text("SELECT max(id) FROM ticket WHERE voter_id = :v"), {"v": coded.id}
    )
    assert done(link_post(desk, coded, "vote_code", ticket=str(ticket_id)))
    # Admin: a new account's first password link, and a reset of an existing account.
    created = admin_client.post(
        "/admin/agents/nouveau",
        data={
            "email": "nouvel.agent@csudesk.test",
            "name": "Nouvel Agent",
            "role": "agent",
            "csu": csu("AC-09").id,
        },
        **FORGED,
    )
    assert done(created), created.text
    reset = admin_client.post(f"/admin/agents/{other.id}/mot-de-passe", **FORGED)
    assert done(reset)
    # Self-service: the three public forms, processed later by the worker.
    public = new_client(app)
    for url, data in (
        ("/lien-non-recu", {"email": self_fresh.emails[0].address}),
        ("/mot-de-passe-refuse", {"email": self_active.emails[0].address}),
        ("/reassort-code-de-vote", {"email": self_coded.emails[0].address, "answer": "Rex"}),
    ):
        assert public.post(url, data=data, **FORGED).status_code == 303, url
    with app.test_request_context("/", **FORGED):
        assert worker.process_pending().processed == 3

    send_with_forged_host(app)
    messages = smtp.wait_for(8)
    assert len(messages) == 8
    by_recipient = {str(m["To"]): m for m in messages}
    expected = {
        "paul.durand@ac-lille.fr": "/activation/",
        "lea.martin@ac-lille.fr": "/mot-de-passe/",
        "jean.petit@ac-lille.fr": "/code-de-vote/",
        "nouvel.agent@csudesk.test": "/agent/mot-de-passe/",
        "autre@csudesk.test": "/agent/mot-de-passe/",
        "anne.blanc@ac-lille.fr": "/activation/",
        "luc.noir@ac-lille.fr": "/mot-de-passe/",
        "eva.roux@ac-lille.fr": "/code-de-vote/",
    }
    assert set(by_recipient) == set(expected)
    # CSU web pages in the mail's help footer are the directory's own addresses, not ours.
    directory_pages = {c.web_url for c in db.session.scalars(select(CSU))}
    for recipient, path in expected.items():
        message = by_recipient[recipient]
        raw = message.as_string()
        assert EVIL not in raw, recipient
        for body in bodies(message):
            urls = [u for u in URL.findall(body) if u not in directory_pages]
            assert any(u.startswith(BASE_URL + path) for u in urls), (recipient, urls)
            assert all(u.startswith(BASE_URL + "/") for u in urls), (recipient, urls)


# --- Line 4: the tokens themselves -------------------------------------------------------------


def mailed_tokens(smtp, count: int) -> list[str]:
    tokens = []
    for message in smtp.wait_for(count):
        (found,) = set(TOKEN_URL.findall(message.get_body(("plain",)).get_content()))
        tokens.append(found)
    return tokens


def test_mailed_tokens_are_long_random_distinct_and_stored_as_plain_sha256(app, make_agent, smtp):
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    targets = [make_agent(f"cible{i}@csudesk.test", "agent", "AC-09") for i in range(24)]
    admin_client = sign_in(app, admin.email)
    for target in targets:
        assert admin_client.post(f"/admin/agents/{target.id}/mot-de-passe").status_code == 302
    send_due()
    tokens = mailed_tokens(smtp, len(targets))
    assert len(tokens) == len(targets)
    # secrets.token_urlsafe(32): 32 random bytes, 43 url-safe characters, no padding.
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", t) for t in tokens), tokens
    assert len(set(tokens)) == len(tokens)
    assert len({t[:8] for t in tokens}) == len(tokens)  # no shared prefix (no counter, no time)
    alphabet = set("".join(tokens))
    assert len(alphabet) >= 55, sorted(alphabet)  # 24 x 43 draws cover most of the 64 symbols
    # Stored as SHA-256 of the token, computed here independently of the app, and never clear.
    stored = dict(
        db.session.execute(text("SELECT token_hash, agent_id FROM one_time_link")).tuples().all()
    )
    for token, target in zip(tokens, targets, strict=True):
        digest = hashlib.sha256(token.encode("ascii")).hexdigest()
        assert stored[digest] == target.id
    dump = repr(db.session.execute(text("SELECT * FROM one_time_link")).all())
    dump += repr(db.session.execute(text("SELECT * FROM outbox_mail")).all())
    dump += repr(db.session.execute(text("SELECT * FROM audit_entry")).all())
    assert not any(token in dump for token in tokens)


def test_a_token_acts_on_its_own_voter_only(app, make_agent, make_voter, smtp):
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    voter_a = make_voter("Alpha", "Alice", emails=("alice.alpha@ac-lille.fr",))
    voter_b = make_voter("Bravo", "Bruno", emails=("bruno.bravo@ac-lille.fr",))
    desk = forged_sign_in(app, agent.email)
    for voter in (voter_a, voter_b):
        assert done(link_post(desk, voter, "activation"))
    send_due()
    messages = smtp.wait_for(2)
    token_of = {
        str(m["To"]): TOKEN_URL.search(m.get_body(("plain",)).get_content()).group(1)
        for m in messages
    }
    token_a = token_of["alice.alpha@ac-lille.fr"]
    link_b = db.session.scalar(select(OneTimeLink).where(OneTimeLink.voter_id == voter_b.id))
    browser = new_client(app)
    landed = browser.get(f"/activation/{token_a}")
    assert landed.status_code == 302 and token_a not in landed.location
    page = browser.get(landed.location).text
    assert "Alice" in page and "Alpha" in page
    assert "Bruno" not in page and "Bravo" not in page
    # The session's claim names A's link; pointing it at B's link (MAC kept) is refused.
    with browser.session_transaction() as session:
        claim = dict(session["link:activation"])
        session["link:activation"] = {**claim, "id": link_b.id}
    tampered = browser.get("/activation")
    assert tampered.status_code == 404 and "Bruno" not in tampered.text
    with browser.session_transaction() as session:
        session["link:activation"] = claim
    activated = browser.post(
        "/activation",
        data={
            "password": "un mot de passe très long pour voter",
            "confirmation": "un mot de passe très long pour voter",
            "question": "animal",
            "answer": "Médor",
        },
    )
    assert activated.status_code == 200, activated.text
    db.session.expire_all()
    a, b = db.session.get(Voter, voter_a.id), db.session.get(Voter, voter_b.id)
    assert a.account is not None and a.account.is_activated
    assert b.account is None or not b.account.is_activated
    link_b = db.session.get(OneTimeLink, link_b.id)
    assert link_b.used_at is None and link_b.revoked_at is None
