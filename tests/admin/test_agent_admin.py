"""Agent administration: pages, effects on the agent's next request, the password link."""

import re

import pytest
from sqlalchemy import select

from csudesk.agents.models import Agent
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.mail.worker import send_due
from tests.fixtures.factories import AGENT_PASSWORD, AuthActions, csu
from tests.fixtures.smtp import text_of

NEW_PASSWORD = "une phrase de passe assez longue"


def second_client(app, email: str, password: str = AGENT_PASSWORD):
    """Another browser, signed in as `email`."""
    other = app.test_client()
    response = AuthActions(other).login(email, password)
    assert response.status_code == 302, response.text
    return other


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def link_token(message) -> str:
    return re.search(r"/agent/mot-de-passe/([A-Za-z0-9_-]+)", text_of(message)).group(1)


def test_only_admins_reach_the_pages(client, auth, make_agent, admin):
    make_agent("sup@csudesk.test", "supervisor", "NATIONAL")
    auth.login("sup@csudesk.test")
    assert client.get("/admin/agents").status_code == 403
    auth.logout()
    auth.login(admin.email)
    page = client.get("/admin/agents")
    assert page.status_code == 200 and "sup@csudesk.test" in page.text


def test_create_then_the_agent_sets_a_password_through_the_link_once(
    app, client, auth, admin, smtp
):
    auth.login(admin.email)
    response = client.post(
        "/admin/agents/nouveau",
        data={
            "email": "Nouvel.Agent@AC-Lille.fr",
            "name": "Nouvel Agent",
            "role": "agent",
            "csu": csu("AC-09").id,
        },
    )
    assert response.status_code == 302
    agent = db.session.scalar(select(Agent).where(Agent.email == "nouvel.agent@ac-lille.fr"))
    assert agent.password_hash is None and agent.csu.code == "AC-09"
    assert actions()[-2:] == ["agent.create", "agent.password_reset"]
    assert db.session.scalar(select(OutboxMail.template)) == "agent_password"

    assert send_due().sent == 1
    (message,) = smtp.wait_for(1)
    assert message["To"] == "nouvel.agent@ac-lille.fr"
    token = link_token(message)
    assert text_of(message).count("http://csudesk.test/agent/mot-de-passe/") == 1

    visitor = app.test_client()
    landing = visitor.get(f"/agent/mot-de-passe/{token}")
    assert landing.status_code == 302
    assert landing.headers["Location"] == "/agent/mot-de-passe"
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    assert landing.headers["Cache-Control"] == "no-store"
    form = visitor.get("/agent/mot-de-passe")
    assert form.status_code == 200 and "nouvel.agent@ac-lille.fr" in form.text
    assert token not in form.text and form.headers["Referrer-Policy"] == "no-referrer"
    weak = visitor.post("/agent/mot-de-passe", data={"password": "court", "confirmation": "court"})
    assert weak.status_code == 400 and "au moins 12 caractères" in weak.text
    done = visitor.post(
        "/agent/mot-de-passe", data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/connexion"
    assert actions()[-1] == "agent.password_set"

    second_client(app, agent.email, NEW_PASSWORD)
    again = app.test_client()
    again.get(f"/agent/mot-de-passe/{token}")
    used = again.get("/agent/mot-de-passe")
    assert used.status_code == 410 and "déjà servi" in used.text
    assert app.test_client().get("/agent/mot-de-passe").status_code == 410


def test_disabled_agent_is_refused_on_its_next_request(app, client, auth, admin, make_agent):
    agent = make_agent("luc@csudesk.test", "supervisor", "AC-09")
    theirs = second_client(app, agent.email)
    assert theirs.get("/supervision/").status_code == 200
    auth.login(admin.email)
    assert (
        client.post(f"/admin/agents/{agent.id}/activation", data={"actif": "0"}).status_code == 302
    )
    refused = theirs.get("/supervision/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/connexion")
    assert AuthActions(app.test_client()).login(agent.email).status_code == 400
    client.post(f"/admin/agents/{agent.id}/activation", data={"actif": "1"})
    assert second_client(app, agent.email).get("/supervision/").status_code == 200
    assert actions().count("agent.disable") == 1 and actions().count("agent.enable") == 1


def test_role_and_scope_changes_apply_at_once(app, client, auth, admin, make_agent):
    agent = make_agent("sam@csudesk.test", "supervisor", "AC-09")
    theirs = second_client(app, agent.email)
    assert theirs.get("/supervision/tickets").status_code == 200
    auth.login(admin.email)
    client.post(f"/admin/agents/{agent.id}/role", data={"role": "agent", "csu": csu("AC-25").id})
    assert theirs.get("/supervision/tickets").status_code == 302
    again = second_client(app, agent.email)
    assert again.get("/supervision/tickets").status_code == 403
    db.session.refresh(agent)
    assert (agent.role, agent.csu.code) == ("agent", "AC-25")
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.change"))
    assert entry.agent_id == admin.id and entry.target_agent_id == agent.id


def test_reset_ends_the_old_password_and_sessions(app, client, auth, admin, make_agent, smtp):
    agent = make_agent("rose@csudesk.test", "agent", "AC-09")
    theirs = second_client(app, agent.email)
    auth.login(admin.email)
    assert client.post(f"/admin/agents/{agent.id}/mot-de-passe").status_code == 302
    assert theirs.get("/guichet/").status_code == 302
    assert AuthActions(app.test_client()).login(agent.email).status_code == 400
    send_due()
    (message,) = smtp.wait_for(1)
    visitor = app.test_client()
    visitor.get(f"/agent/mot-de-passe/{link_token(message)}")
    visitor.post(
        "/agent/mot-de-passe", data={"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    )
    second_client(app, agent.email, NEW_PASSWORD)


def test_a_newer_link_or_disabling_kills_the_older_link(app, client, auth, admin, make_agent, smtp):
    agent = make_agent("tom@csudesk.test", "agent", "AC-09")
    auth.login(admin.email)
    client.post(f"/admin/agents/{agent.id}/mot-de-passe")
    send_due()
    first = link_token(smtp.wait_for(1)[0])
    client.post(f"/admin/agents/{agent.id}/mot-de-passe")
    send_due()
    second = link_token(smtp.wait_for(2)[1])
    visitor = app.test_client()
    visitor.get(f"/agent/mot-de-passe/{first}")
    assert "remplacé" in visitor.get("/agent/mot-de-passe").text
    client.post(f"/admin/agents/{agent.id}/activation", data={"actif": "0"})
    visitor.get(f"/agent/mot-de-passe/{second}")
    assert visitor.get("/agent/mot-de-passe").status_code == 410


def test_admin_cannot_lock_itself_out(client, auth, admin):
    auth.login(admin.email)
    client.post(f"/admin/agents/{admin.id}/activation", data={"actif": "0"})
    assert "propre compte" in client.get(f"/admin/agents/{admin.id}").text
    refused = client.post(
        f"/admin/agents/{admin.id}/role", data={"role": "agent", "csu": admin.csu_id}
    )
    assert refused.status_code == 400 and "propre rôle" in refused.text
    db.session.refresh(admin)
    assert admin.active and admin.role == "admin"


def test_a_csu_admin_manages_its_csu_only(client, auth, make_agent):
    make_agent("admin.lille@csudesk.test", "admin", "AC-09")
    other = make_agent("nat@csudesk.test", "agent", "NATIONAL")
    mine = make_agent("mine@csudesk.test", "agent", "AC-09")
    auth.login("admin.lille@csudesk.test")
    assert "nat@csudesk.test" not in client.get("/admin/agents").text
    assert client.get(f"/admin/agents/{other.id}").status_code == 404
    assert (
        client.post(f"/admin/agents/{other.id}/activation", data={"actif": "0"}).status_code == 404
    )
    grant = client.post(
        f"/admin/agents/{mine.id}/role", data={"role": "agent", "csu": csu("NATIONAL").id}
    )
    assert grant.status_code == 400
    db.session.refresh(mine)
    assert mine.csu.code == "AC-09"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"email": "pas-une-adresse", "name": "X", "role": "agent"},
            "Adresse électronique invalide",
        ),
        ({"email": "admin@csudesk.test", "name": "X", "role": "agent"}, "Un compte existe déjà"),
        ({"email": "a@b.fr", "name": "", "role": "agent"}, "Indiquez le nom"),
        ({"email": "a@b.fr", "name": "X", "role": "roi"}, "choix valide"),
        ({"email": "a@b.fr", "name": "X" * 121, "role": "agent"}, "120"),
    ],
)
def test_create_validation(client, auth, admin, data, message):
    auth.login(admin.email)
    response = client.post("/admin/agents/nouveau", data={**data, "csu": csu("AC-09").id})
    assert response.status_code == 400
    assert message in response.text
