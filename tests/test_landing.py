"""The one landing of mailed links (csudesk/landing.py), for the voters' links and the agent's:
the token becomes a session claim, the browser continues on a token-free URL."""

import re

import pytest

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.agents.services import reset_password
from csudesk.extensions import db
from csudesk.mail.worker import send_due
from csudesk.passwords import MIN_PASSWORD_LENGTH

# Landing path, the token-free page it redirects to, the session key, a refused page's status.
LANDINGS = {
    "voter": ("/activation/", "/activation", "link:activation", 404),
    "agent": ("/agent/mot-de-passe/", "/agent/mot-de-passe", "link:agent_password", 410),
}


@pytest.fixture
def tokens(make_voter, make_agent, smtp) -> dict[str, str]:
    """A live activation link for a voter and a password link for an agent, as mailed."""
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    resend_activation_link(Actor.system(), voter, "marie.dupont@ac-lille.fr")
    reset_password(Actor.system(), make_agent("lea@csudesk.test"))
    db.session.commit()
    assert send_due().sent == 2
    found = {}
    for message in smtp.wait_for(2):
        body = message.get_body(("plain",)).get_content()
        for who, (path, *_) in LANDINGS.items():
            if match := re.search(rf"{re.escape(path)}([\w-]+)", body):
                found[who] = match.group(1)
    assert set(found) == set(LANDINGS)
    return found


@pytest.mark.parametrize("who", LANDINGS)
def test_a_token_becomes_a_claim_and_the_page_drops_it(client, tokens, who):
    path, page, key, _ = LANDINGS[who]
    landed = client.get(path + tokens[who])
    assert (landed.status_code, landed.headers["Location"]) == (302, page)
    shown = client.get(page)
    for response in (landed, shown):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    # The hint quotes the one password policy.
    assert f"Au moins {MIN_PASSWORD_LENGTH} caractères" in shown.text
    with client.session_transaction() as session:
        assert set(session[key]) == {"id", "mac"}


@pytest.mark.parametrize("who", LANDINGS)
def test_an_unknown_token_forgets_the_earlier_claim(client, tokens, who):
    path, page, key, refused = LANDINGS[who]
    client.get(path + tokens[who])
    landed = client.get(path + "x" * 43)
    assert (landed.status_code, landed.headers["Location"]) == (302, page)
    with client.session_transaction() as session:
        assert key not in session
    assert client.get(page).status_code == refused


@pytest.mark.parametrize("who", LANDINGS)
def test_an_oversized_token_is_a_plain_404_that_keeps_the_claim(client, tokens, who):
    path, page, key, _ = LANDINGS[who]
    client.get(path + tokens[who])
    assert client.get(path + "x" * 101).status_code == 404
    with client.session_transaction() as session:
        assert key in session
    assert client.get(page).status_code == 200
