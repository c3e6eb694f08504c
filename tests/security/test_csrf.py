"""CSRF protection on every POST, with the real token flow (SECURITY.md 12)."""

import re

import pytest

from tests.fixtures.factories import AGENT_PASSWORD


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_without_token_is_refused_in_french(client, make_agent):
    agent = make_agent()
    response = client.post("/connexion", data={"email": agent.email, "password": AGENT_PASSWORD})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.text


def test_desk_action_needs_the_token(client, make_agent, make_voter):
    agent = make_agent()
    voter = make_voter()
    login_page = client.get("/connexion").text
    client.post(
        "/connexion",
        data={"email": agent.email, "password": AGENT_PASSWORD, "csrf_token": token_of(login_page)},
    )
    data = {
        "activation-address": voter.emails[0].address,
        "activation-ticket": "nouveau",
        "activation-category": "lien_non_recu",
        "activation-channel": "telephone",
    }
    forged = client.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=data)
    assert forged.status_code == 400
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    token = re.search(r'name="activation-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    done = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={**data, "activation-csrf_token": token},
    )
    assert done.status_code == 302


def test_logout_needs_the_token(client, make_agent):
    agent = make_agent()
    login_page = client.get("/connexion").text
    client.post(
        "/connexion",
        data={"email": agent.email, "password": AGENT_PASSWORD, "csrf_token": token_of(login_page)},
    )
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/guichet/").status_code == 200


def test_no_get_changes_state(app):
    """Routes that change something accept POST only (link landings only fill the session)."""
    landings = {
        "portal.activation_landing",
        "portal.password_reset_landing",
        "portal.vote_code_landing",
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint in landings or rule.endpoint == "static":
            continue
        name = rule.endpoint.rsplit(".", 1)[-1]
        changing = any(
            word in rule.rule
            for word in (
                "/liens/",
                "/defi",
                "/note",
                "/statut",
                "/transfert",
                "/prendre",
                "/deconnexion",
            )
        )
        if changing:
            assert rule.methods - {"HEAD", "OPTIONS"} == {"POST"}, (rule.rule, name)
