"""The voter's side of a link: landing, use, errors, concurrency (SECURITY.md 4, 5, 6, 8)."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from csudesk import create_app
from csudesk.access.services import (
    request_vote_code_reissue,
    resend_activation_link,
    send_password_reset_link,
)
from csudesk.actor import Actor
from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import OneTimeLink
from csudesk.mail.worker import send_due
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from tests.conftest import ON_POSTGRES
from tests.fixtures.factories import VOTING


def mailed_token(smtp, path) -> str:
    send_due()
    body = smtp.wait_for(1)[-1].get_body(("plain",)).get_content()
    return re.search(rf"/{path}/([\w-]+)", body).group(1)


@pytest.fixture
def activation_token(make_voter, smtp):
    voter = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",))
    resend_activation_link(Actor.system(), voter, "marie.dupont@ac-lille.fr")
    db.session.commit()
    return voter, mailed_token(smtp, "activation")


def test_landing_moves_the_token_out_of_the_url(client, activation_token):
    _, token = activation_token
    landing = client.get(f"/activation/{token}")
    assert landing.status_code == 302
    assert landing.headers["Location"] == "/activation"
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/activation")
    assert page.status_code == 200
    assert token not in page.text
    assert "marie.dupont@ac-lille.fr" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def activate(client, **overrides):
    data = {
        "password": "une phrase de passe assez longue",
        "confirmation": "une phrase de passe assez longue",
        "question": "animal",
        "answer": "Médor",
        **overrides,
    }
    return client.post("/activation", data=data)


def test_activation_sets_password_and_challenge_once(client, activation_token):
    voter, token = activation_token
    client.get(f"/activation/{token}")
    done = activate(client)
    assert done.status_code == 200
    assert "Votre compte électeur est activé" in done.text
    db.session.expire_all()
    voter = db.session.get(Voter, voter.id)
    assert voter.account.activated_at is not None
    assert accounts.check_voter_password(voter, "une phrase de passe assez longue")
    assert accounts.verify_challenge(voter, "medor")
    # Reloading the result (the browser posts again) or opening the mail's link again in the
    # same browser says plainly that it is done (issue 11), not "Ce lien n'est pas valide".
    for again in (activate(client), client.get(client.get(f"/activation/{token}").location)):
        assert again.status_code == 200
        assert "Ce lien a déjà été utilisé : votre compte électeur est activé" in again.text
        assert "pas valide" not in again.text
    assert accounts.check_voter_password(
        db.session.get(Voter, voter.id), "une phrase de passe assez longue"
    )


def test_a_used_link_in_another_browser_points_to_this_sites_pages(app, activation_token):
    _, token = activation_token
    first = app.test_client()
    first.get(f"/activation/{token}")
    assert activate(first).status_code == 200
    other = app.test_client()
    other.get(f"/activation/{token}")
    page = other.get("/activation")
    assert page.status_code == 410
    assert "Ce lien a déjà été utilisé" in page.text
    assert "Votre compte électeur est activé" in page.text
    assert 'href="/lien-non-recu"' in page.text
    assert 'href="/mot-de-passe-refuse"' in page.text
    assert "portail élections, saisissez" not in page.text


def test_an_unused_expired_activation_link_offers_lien_non_recu(client, activation_token):
    _, token = activation_token
    db.session.execute(update(OneTimeLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    client.get(f"/activation/{token}")
    page = client.get("/activation").text
    assert 'href="/lien-non-recu"' in page and "Votre compte électeur est activé" not in page


def session_of(app, response) -> dict:
    """The session cookie a response set, decoded with the app's secret (signed, not secret)."""
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("csudesk_session=")
    )
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    return app.session_interface.get_signing_serializer(app).loads(value)


@pytest.mark.parametrize(
    "path,page", [("activation", "/activation"), ("mot-de-passe", "/mot-de-passe")]
)
def test_the_session_cookie_never_holds_the_token_nor_its_hash(
    app, client, make_voter, smtp, path, page
):
    """Issue 10 item 5: what the landing keeps cannot be replayed as the link elsewhere."""
    voter = make_voter(activated=path == "mot-de-passe")
    send = resend_activation_link if path == "activation" else send_password_reset_link
    send(Actor.system(), voter, voter.emails[0].address)
    db.session.commit()
    token = mailed_token(smtp, path)
    landing = client.get(f"/{path}/{token}")
    stored = session_of(app, landing)
    dumped = repr(stored)
    link = db.session.scalar(select(OneTimeLink))
    assert token not in dumped
    assert links.hash_token(token) == link.token_hash
    assert link.token_hash not in dumped
    assert set(stored[f"link:{link.purpose}"]) == {"id", "mac"}
    # The cookie as stored still opens the page and lets the voter finish.
    assert client.get(page).status_code == 200
    data = {"password": "une phrase de passe assez longue"}
    data["confirmation"] = data["password"]
    if path == "activation":
        data.update(question="animal", answer="Médor")
    done = client.post(page, data=data)
    assert done.status_code == 200 and "déjà été utilisé" not in done.text
    assert token not in repr(session_of(app, done))
    db.session.expire_all()
    assert db.session.get(OneTimeLink, link.id).used_at is not None


def test_a_forged_or_stale_session_claim_opens_nothing(app, client, activation_token, smtp):
    """A claim whose MAC does not match (another link's id, a token drawn again) is refused."""
    voter, token = activation_token
    landing = client.get(f"/activation/{token}")
    claim = session_of(app, landing)["link:activation"]
    with client.session_transaction() as session:
        session["link:activation"] = {"id": claim["id"], "mac": "0" * 64}
    assert client.get("/activation").status_code == 404
    with client.session_transaction() as session:
        session["link:activation"] = claim
    assert client.get("/activation").status_code == 200
    link = db.session.get(OneTimeLink, claim["id"])
    link.token_hash = links.hash_token("drawn again")
    db.session.commit()
    assert client.get("/activation").status_code == 404
    assert activate(client).status_code == 404
    db.session.expire_all()
    assert db.session.get(OneTimeLink, claim["id"]).used_at is None


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"password": "court", "confirmation": "court"}, "au moins 12 caractères"),
        ({"confirmation": "autre chose encore plus long"}, "différents"),
        ({"question": ""}, "Choisissez une question."),
        ({"answer": "!!"}, "de 3 à 100"),
    ],
)
def test_bad_input_keeps_the_link_usable(client, activation_token, overrides, message):
    voter, token = activation_token
    client.get(f"/activation/{token}")
    response = activate(client, **overrides)
    assert response.status_code == 400
    assert message in response.text
    assert activate(client).status_code == 200


def test_unknown_token(client, directory):
    client.get("/activation/not-a-real-token")
    response = client.get("/activation")
    assert response.status_code == 404
    assert "Ce lien n'est pas valide" in response.text
    assert client.get("/activation").status_code == 404  # nothing in session either


def test_expired_link(client, activation_token):
    _, token = activation_token
    db.session.execute(update(OneTimeLink).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    client.get(f"/activation/{token}")
    response = client.get("/activation")
    assert response.status_code == 410 and "Ce lien a expiré" in response.text
    assert "nouveau lien" in response.text


def test_revoked_link(client, activation_token, smtp, app):
    voter, token = activation_token
    app.config["LINK_DEDUP_SECONDS"] = 0
    resend_activation_link(
        Actor.system(), db.session.get(Voter, voter.id), "marie.dupont@ac-lille.fr"
    )
    db.session.commit()
    client.get(f"/activation/{token}")
    assert "remplacé par un plus récent" in client.get("/activation").text


def test_password_reset_link(client, make_voter, smtp):
    voter = make_voter(activated=True)
    send_password_reset_link(Actor.system(), voter, voter.emails[0].address)
    db.session.commit()
    token = mailed_token(smtp, "mot-de-passe")
    client.get(f"/mot-de-passe/{token}")
    done = client.post(
        "/mot-de-passe",
        data={"password": "nouvelle phrase de passe", "confirmation": "nouvelle phrase de passe"},
    )
    assert "Votre nouveau mot de passe est enregistré" in done.text
    db.session.expire_all()
    assert accounts.check_voter_password(
        db.session.get(Voter, voter.id), "nouvelle phrase de passe"
    )
    claim = links.session_claim(token, "password_reset")
    assert links.state_of(links.claimed_link(claim, "password_reset")) == "used"


def test_a_token_for_one_purpose_does_not_open_another(client, activation_token):
    _, token = activation_token
    client.get(f"/mot-de-passe/{token}")
    assert client.get("/mot-de-passe").status_code == 404


def test_vote_code_shown_once_and_the_previous_stops_working(client, make_voter, smtp, app, voting):
    voter = make_voter(challenge_answer="Médor")
    previous = accounts.new_vote_code(voter, None)
    db.session.commit()
    request_vote_code_reissue(Actor.system(), voter, voter.emails[0].address)
    db.session.commit()
    token = mailed_token(smtp, "code-de-vote")
    client.get(f"/code-de-vote/{token}")
    confirm = client.get("/code-de-vote")
    assert confirm.status_code == 200 and "une seule fois" in confirm.text
    assert accounts.check_vote_code(
        db.session.get(Voter, voter.id), previous
    )  # GET changes nothing
    shown = client.post("/code-de-vote")
    assert shown.headers["Cache-Control"] == "no-store"
    code = re.search(r'<p class="csu-code"[^>]*>([A-Z0-9-]+)</p>', shown.text).group(1)
    db.session.expire_all()
    voter = db.session.get(Voter, voter.id)
    assert accounts.check_vote_code(voter, code)
    assert not accounts.check_vote_code(voter, previous)
    assert voter.vote_code.reissue_count == 2
    again = client.post("/code-de-vote")  # a reload of the result
    assert again.status_code == 200 and "code de vote a été affiché" in again.text
    assert code not in again.text
    client.get(f"/code-de-vote/{token}")
    assert code not in client.get("/code-de-vote").text
    db.session.expire_all()
    assert db.session.get(Voter, voter.id).vote_code.reissue_count == 2


def test_vote_code_link_after_the_vote_closed(client, make_voter, smtp, app, voting):
    voter = make_voter(challenge_answer="Médor")
    request_vote_code_reissue(Actor.system(), voter, voter.emails[0].address)
    db.session.commit()
    token = mailed_token(smtp, "code-de-vote")
    app.config["ELECTION"] = {**VOTING, "vote_closes": "2020-01-03T00:00"}
    client.get(f"/code-de-vote/{token}")
    assert "Le vote est fermé" in client.get("/code-de-vote").text
    assert client.post("/code-de-vote").status_code == 400
    claim = links.session_claim(token, "vote_code")
    assert links.state_of(links.claimed_link(claim, "vote_code")) == "usable"


def test_concurrent_uses_exactly_one_succeeds(activation_token, app_config):
    """N threads, each with its own connection, race to consume the same claimed link."""
    _, token = activation_token
    claim = links.session_claim(token, "activation")
    db.session.commit()  # the racers' transactions wait on no lock of this one (SQLite)
    racers = 8 if ON_POSTGRES else 4
    barrier = threading.Barrier(racers)
    results: list[bool] = []
    lock = threading.Lock()
    app = create_app(app_config)

    def race():
        with app.app_context():
            barrier.wait()
            link = links.consume_claimed(links.claimed_link(claim, "activation"))
            db.session.commit()
            with lock:
                results.append(link is not None)
            db.session.remove()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with app.app_context():
        db.engine.dispose()
    assert sorted(results) == [False] * (racers - 1) + [True]
    used = db.session.scalar(select(OneTimeLink.used_at))
    assert used is not None
