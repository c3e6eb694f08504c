"""Sign-in, throttling, timeouts and session invalidation (SECURITY.md 10, 11, 14, 15)."""

import pytest

from csudesk.actor import Actor
from csudesk.agents import services as agents
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from tests.fixtures.factories import csu


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


def test_login_is_throttled_per_account(client, auth, lille_agent, app):
    app.config["RATELIMIT_LOGIN"] = "3 per 15 minutes"
    for _ in range(3):
        auth.login(
            "anne.agent@csudesk.test", "bad password", environ_base={"REMOTE_ADDR": "192.0.2.10"}
        )
    # another address, same account: still refused
    blocked = auth.login("anne.agent@csudesk.test", environ_base={"REMOTE_ADDR": "192.0.2.11"})
    assert blocked.status_code == 429
    assert "Trop de demandes" in blocked.text


def test_login_is_throttled_per_address(client, auth, lille_agent, app):
    app.config["RATELIMIT_LOGIN"] = "3 per 15 minutes"
    for i in range(3):
        auth.login(f"someone{i}@csudesk.test", "bad password")
    assert auth.login("anne.agent@csudesk.test").status_code == 429


def test_logout_invalidates_a_captured_cookie(client, auth, lille_agent, app):
    auth.login("anne.agent@csudesk.test")
    cookie = client.get_cookie("csudesk_session").value
    assert auth.logout().status_code == 302
    thief = app.test_client()
    thief.set_cookie("csudesk_session", cookie)
    assert thief.get("/guichet/").status_code == 302


def test_disabled_account_is_refused_on_next_request(client, auth, lille_agent, make_agent):
    auth.login("anne.agent@csudesk.test")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    agents.set_active(Actor.for_agent(admin), lille_agent, False)
    db.session.commit()
    assert client.get("/guichet/").status_code == 302
    assert auth.login("anne.agent@csudesk.test").status_code == 400


def test_scope_change_applies_on_next_request(client, auth, lille_agent, make_agent):
    auth.login("anne.agent@csudesk.test")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
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
