"""Long passphrases for agents, and no hashing of absurd ones (SECURITY.md 11).

An administrator mails a password link; the agent chooses a 200-character passphrase through
the link and signs in with it. A 10,000-character one is refused on the link page and on the
sign-in page with a French message, without a 500 and without reaching argon2 (the hasher's
calls are counted, not replaced).
"""

import re
import time

import pytest
from argon2 import PasswordHasher

from csudesk.mail.worker import send_due
from tests.fixtures.world import new_client, sign_in

LONG = ("ma phrase de passe pour les élections professionnelles, " * 4)[:200]
ABSURD = "x" * 10_000
TOO_LONG = "Le champ ne peut pas contenir plus de 256 caractères."


@pytest.fixture
def argon2_calls(monkeypatch):
    calls = []
    for name in ("hash", "verify"):
        real = getattr(PasswordHasher, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls.append((_name, max((len(a) for a in args if isinstance(a, str)), default=0)))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, name, counted)
    return calls


def password_link(app, make_agent, smtp):
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    target = make_agent("cible@csudesk.test", "agent", "AC-09")
    assert (
        sign_in(app, admin.email).post(f"/admin/agents/{target.id}/mot-de-passe").status_code == 302
    )
    send_due()
    (message,) = smtp.wait_for(1)
    url = re.search(
        r"https?://\S+/agent/mot-de-passe/\S+", message.get_body(("plain",)).get_content()
    )
    return target, url.group(0).split("csudesk.test", 1)[1]


def choose(client, path, password):
    landed = client.get(path)
    assert landed.status_code == 302
    return client.post(landed.location, data={"password": password, "confirmation": password})


def test_a_200_character_passphrase_is_accepted_and_signs_in(app, make_agent, smtp):
    target, path = password_link(app, make_agent, smtp)
    browser = new_client(app)
    chosen = choose(browser, path, LONG)
    assert chosen.status_code == 302 and chosen.location.endswith("/connexion"), chosen.text
    signed_in = browser.post("/connexion", data={"email": target.email, "password": LONG})
    assert signed_in.status_code == 302 and "/guichet" in signed_in.location
    assert browser.get("/guichet/").status_code == 200
    # The passphrase is taken whole: its first 199 characters are not it.
    other = new_client(app)
    assert (
        other.post("/connexion", data={"email": target.email, "password": LONG[:-1]}).status_code
        == 400
    )


def test_a_10000_character_password_is_refused_in_french_without_hashing(
    app, make_agent, smtp, argon2_calls
):
    target, path = password_link(app, make_agent, smtp)
    browser = new_client(app)
    argon2_calls.clear()
    started = time.perf_counter()
    refused = choose(browser, path, ABSURD)
    elapsed = time.perf_counter() - started
    assert refused.status_code == 400
    assert '<html lang="fr"' in refused.text
    assert re.search(r"(ne peut dépasser|au plus|au maximum|caractères)", refused.text), (
        refused.text
    )
    assert ABSURD not in refused.text  # not echoed back either
    assert [c for c in argon2_calls if c[1] > 1000] == []
    assert elapsed < 2
    # The link is still usable: the refusal consumed nothing.
    assert choose(browser, path, LONG).status_code == 302

    argon2_calls.clear()
    login = new_client(app).post("/connexion", data={"email": target.email, "password": ABSURD})
    assert login.status_code == 400
    assert '<html lang="fr"' in login.text and ABSURD not in login.text
    assert TOO_LONG in login.text
    assert [c for c in argon2_calls if c[1] > 1000] == []


def test_the_voter_portal_takes_a_long_passphrase_and_refuses_an_absurd_one(
    app, make_agent, make_voter, smtp, argon2_calls
):
    """The same bounds on the voter's side (activation link), without hashing the absurd one."""
    agent = make_agent("agent.lille@csudesk.test", "agent", "AC-09")
    voter = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    sent = sign_in(app, agent.email).post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={
            "activation-address": "paul.durand@ac-lille.fr",
            "activation-ticket": "nouveau",
            "activation-category": "lien_non_recu",
            "activation-channel": "telephone",
        },
    )
    assert sent.status_code == 302
    send_due()
    (message,) = smtp.wait_for(1)
    path = re.search(r"/activation/[\w-]+", message.get_body(("plain",)).get_content()).group(0)
    browser = new_client(app)
    page = browser.get(path).location

    def activate(password):
        return browser.post(
            page,
            data={"password": password, "confirmation": password, "question": "animal",
                  "answer": "Médor"},
        )  # fmt: skip

    argon2_calls.clear()
    refused = activate(ABSURD)
    assert refused.status_code == 400 and '<html lang="fr"' in refused.text
    assert "caractères" in refused.text and ABSURD not in refused.text
    assert [c for c in argon2_calls if c[1] > 1000] == []
    assert activate(LONG).status_code == 200
