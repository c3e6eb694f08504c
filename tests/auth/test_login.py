"""Sign-in, throttling, timeouts and session invalidation (SECURITY.md 10, 11, 14, 15)."""

import json
import logging
import time

import pytest

from csudesk.actor import Actor
from csudesk.agents import services as agents
from csudesk.audit.models import AuditEntry
from csudesk.auth import throttle
from csudesk.extensions import db, limiter
from tests.conftest import IsolatedClient
from tests.fixtures.factories import AuthActions, csu


@pytest.fixture
def lille_agent(make_agent):
    return make_agent("anne.agent@csudesk.test", "agent", "AC-09")


def test_login_lands_on_the_desk_and_is_audited(client, auth, lille_agent):
    response = auth.login("  Anne.Agent@csudesk.test ")
    assert response.status_code == 302 and response.headers["Location"] == "/guichet/"
    page = client.get("/guichet/")
    assert page.status_code == 200 and "<h1>Guichet — Académie de Lille</h1>" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    entry = db.session.query(AuditEntry).filter_by(action="auth.login").one()
    assert entry.agent_id == lille_agent.id and entry.ip == "127.0.0.1"


def test_wrong_password_is_refused_and_audited(client, auth, lille_agent):
    response = auth.login("anne.agent@csudesk.test", "wrong password here")
    assert response.status_code == 400
    assert "Adresse ou mot de passe incorrect" in response.text
    assert client.get("/guichet/").status_code == 302
    assert db.session.query(AuditEntry).filter_by(action="auth.login_failed").count() == 1


def test_unknown_account_gets_the_same_answer(client, auth, directory):
    response = auth.login("nobody@csudesk.test", "whatever password")
    assert response.status_code == 400
    assert "Adresse ou mot de passe incorrect" in response.text


def test_desk_requires_sign_in(client, directory):
    response = client.get("/guichet/electeurs/1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_failures_from_anywhere_never_lock_the_agent_out(client, auth, lille_agent):
    """Issue 10 item 9: ten failed sign-ins from elsewhere, then the agent signs in at once."""
    for i in range(10):
        failed = auth.login(
            "anne.agent@csudesk.test", "guessed password", **from_ip(f"192.0.2.{i}")
        )
        assert failed.status_code == 400
    assert throttle.seconds_to_wait("anne.agent@csudesk.test", "192.0.2.9") > 0
    office = auth.login("anne.agent@csudesk.test", **from_ip("198.51.100.7"))
    assert office.status_code == 302 and office.headers["Location"] == "/guichet/"
    assert db.session.query(AuditEntry).filter_by(action="auth.login").count() == 1


def test_a_failing_client_waits_longer_and_longer(client, auth, lille_agent, app):
    attacker = from_ip("192.0.2.66")
    statuses = [
        auth.login("anne.agent@csudesk.test", "bad password", **attacker).status_code
        for _ in range(4)
    ]
    assert statuses == [400] * 4  # three free failures, the fourth sets a 1 s wait
    waiting = auth.login("anne.agent@csudesk.test", **attacker)  # even the right password
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert "réessayez dans 1 seconde" in " ".join(waiting.text.split())
    assert db.session.query(AuditEntry).filter_by(action="auth.login").count() == 0
    time.sleep(1.1)
    assert auth.login("anne.agent@csudesk.test", "bad again", **attacker).status_code == 400
    again = auth.login("anne.agent@csudesk.test", "bad again", **attacker)
    assert again.status_code == 429 and "réessayez dans 2 secondes" in " ".join(again.text.split())
    assert db.session.query(AuditEntry).filter_by(action="auth.login_failed").count() == 5


def test_the_delay_grows_and_stays_bounded(app):
    delays = [throttle.delay_after(n) for n in range(200)]
    assert delays[:4] == [0, 0, 0, 0] and delays[4:8] == [1, 2, 4, 8]
    assert delays == sorted(delays)
    assert max(delays) == delays[-1] == app.config["RATELIMIT_LOGIN_MAX_DELAY_SECONDS"] == 300


def test_login_failures_are_limited_per_address(client, auth, lille_agent, app):
    app.config["RATELIMIT_LOGIN"] = "3 per 15 minutes"
    for i in range(3):
        assert auth.login(f"someone{i}@csudesk.test", "bad password").status_code == 400
    assert auth.login("anne.agent@csudesk.test").status_code == 429
    assert auth.login("anne.agent@csudesk.test", **from_ip("198.51.100.8")).status_code == 302


def test_successes_do_not_count_towards_the_address_limit(app, make_agent):
    """Issue 10 item 10: eleven agents behind one rectorate address all sign in."""
    app.config["RATELIMIT_LOGIN"] = "3 per 15 minutes"
    app.test_client_class = IsolatedClient
    agents = [make_agent(f"agent{i}@csudesk.test", "agent", "AC-09") for i in range(11)]
    for agent in agents:
        response = AuthActions(app.test_client()).login(agent.email, **from_ip("203.0.113.5"))
        assert response.status_code == 302, agent.email
    failing = AuthActions(app.test_client())
    for _ in range(3):
        assert (
            failing.login("agent0@csudesk.test", "typo", **from_ip("203.0.113.5")).status_code
            == 400
        )
    assert failing.login("agent1@csudesk.test", **from_ip("203.0.113.5")).status_code == 429


def audit_text() -> str:
    db.session.expire_all()
    rows = db.session.query(AuditEntry).all()
    return "\n".join(
        repr({c.name: getattr(row, c.name) for c in AuditEntry.__table__.columns}) for row in rows
    )


def test_a_password_typed_as_the_address_is_never_stored(client, auth, lille_agent, caplog):
    """Issue 10 item 6: the journal keeps a typed address only when it is one."""
    caplog.set_level(logging.DEBUG)
    response = auth.login("CorrectHorseBatteryStaple42", "anything at all")
    assert response.status_code == 400
    auth.login("anne.agent@csudesk.test", "Wrong-Passw0rd-Typed!")
    entries = db.session.query(AuditEntry).filter_by(action="auth.login_failed").all()
    assert [json.loads(e.details) for e in entries] == [
        {"email_malformed": True},
        {"email": "anne.agent@csudesk.test"},
    ]
    text = audit_text() + caplog.text
    for secret in ("correcthorsebatterystaple42", "Wrong-Passw0rd-Typed!", "anything at all"):
        assert secret.lower() not in text.lower()
    keys = " ".join(str(k) for k in limiter.storage.storage)  # memory:// in the tests
    assert keys and "correcthorse" not in keys.lower() and "anne.agent" not in keys


def test_logout_invalidates_a_captured_cookie(client, auth, lille_agent, app):
    auth.login("anne.agent@csudesk.test")
    cookie = client.get_cookie("csudesk_session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("csudesk_session", cookie)
    assert thief.get("/guichet/").status_code == 302


def test_disabled_account_is_refused_on_next_request(client, auth, lille_agent, admin):
    auth.login("anne.agent@csudesk.test")
    agents.set_active(Actor.for_agent(admin), lille_agent, False)
    db.session.commit()
    assert client.get("/guichet/").status_code == 302
    assert auth.login("anne.agent@csudesk.test").status_code == 400


def test_scope_change_applies_on_next_request(client, auth, lille_agent, admin):
    auth.login("anne.agent@csudesk.test")
    agents.change_role_and_scope(Actor.for_agent(admin), lille_agent, "agent", csu("AC-25"))
    db.session.commit()
    assert client.get("/guichet/").status_code == 302  # signed out by the change
    auth.login("anne.agent@csudesk.test")
    assert "Académie de Versailles" in client.get("/guichet/").text


def test_idle_timeout(client, auth, lille_agent):
    auth.login("anne.agent@csudesk.test")
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/guichet/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_absolute_timeout(client, auth, lille_agent):
    auth.login("anne.agent@csudesk.test")
    with client.session_transaction() as session:
        session["auth_at"] -= 12 * 3600 + 1
    assert client.get("/guichet/").status_code == 302


def test_session_is_cleared_before_login(client, auth, lille_agent):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login("anne.agent@csudesk.test")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_no_remember_me_cookie(client, auth, lille_agent):
    response = auth.login("anne.agent@csudesk.test")
    assert "remember_token" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "\\\\\\evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "https://evil.example/",
        "/\t/evil.example",
    ],
)
def test_next_accepts_only_same_site_paths(client, auth, lille_agent, target):
    response = auth.login("anne.agent@csudesk.test", query_string={"next": target})
    assert response.headers["Location"] == "/guichet/"


def test_next_relative_path_is_followed(client, auth, lille_agent):
    response = auth.login(
        "anne.agent@csudesk.test", query_string={"next": "/guichet/tickets?statut=resolu"}
    )
    assert response.headers["Location"] == "/guichet/tickets?statut=resolu"


def test_session_cookie_is_httponly_and_lax(client, auth, lille_agent):
    response = auth.login("anne.agent@csudesk.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
