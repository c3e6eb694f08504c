"""Stored secrets are slow hashes at production cost (SECURITY.md 6 and 11).

The app is built with the production ARGON2_PROFILE (the other tests use "fast"); the voter
types the secrets through the portal pages, and the hashes are read back from the database and
parsed: argon2id, with memory and time costs at least those of the production profile and of
the floor below, so that a cheaper profile, another algorithm or a plain digest fails.
"""

import hashlib
import re

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError
from sqlalchemy import select

from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose
from csudesk.passwords import PROFILES
from csudesk.roll.models import VoteCode, VoterAccount
from tests.fixtures.factories import running_calendar
from tests.fixtures.world import new_client

# RFC 9106's second recommended option, argon2-cffi's default: 64 MiB, 3 passes.
FLOOR_MEMORY_KIB = 64 * 1024
FLOOR_TIME_COST = 3
PRODUCTION = PasswordHasher(**PROFILES["default"])


@pytest.fixture
def app_config(app_config):
    app_config.pop("ARGON2_PROFILE")  # what production runs: config.py's default
    app_config["ELECTION"] = running_calendar()
    return app_config


def assert_production_argon2(stored: str | None) -> None:
    """`stored` is an argon2id hash at least as costly as production and the floor."""
    assert stored, "nothing stored"
    try:
        parameters = extract_parameters(stored)
    except InvalidHashError as exc:
        raise AssertionError(f"not an argon2 hash: {stored[:20]}…") from exc
    assert parameters.type is Type.ID, parameters
    assert parameters.memory_cost >= max(FLOOR_MEMORY_KIB, PRODUCTION.memory_cost), parameters
    assert parameters.time_cost >= max(FLOOR_TIME_COST, PRODUCTION.time_cost), parameters
    assert parameters.salt_len >= 16 and parameters.hash_len >= 32, parameters


@pytest.mark.parametrize(
    "weak",
    [
        PasswordHasher(**PROFILES["fast"]).hash("medor"),
        PasswordHasher(memory_cost=65536, time_cost=1).hash("medor"),
        PasswordHasher(memory_cost=19456, time_cost=3).hash("medor"),
        PasswordHasher(type=Type.I).hash("medor"),
        hashlib.sha256(b"ABCDEFGHJKLMNPQR").hexdigest(),
        "$2b$12$" + "a" * 53,  # bcrypt
        None,
    ],
    ids=["fast-profile", "one-pass", "19-MiB", "argon2i", "sha256", "bcrypt", "nothing"],
)
def test_the_check_refuses_a_cheaper_hash(weak):
    with pytest.raises(AssertionError):
        assert_production_argon2(weak)


def test_the_app_hashes_at_the_production_profile(app):
    assert app.config.get("ARGON2_PROFILE", "default") == "default"


def _voter_through_the_portal(app, make_voter):
    """Activation through the link pages: the voter types a password and a challenge answer."""
    voter = make_voter("Dupont", "Marie", emails=("marie.dupont@ac-lille.fr",))
    link = links.new_link(
        purpose=LinkPurpose.ACTIVATION,
        voter_id=voter.id,
        address="marie.dupont@ac-lille.fr",
        channel="desk",
    )
    token = links.draw_token(link, utcnow())
    db.session.commit()
    browser = new_client(app)
    browser.get(f"/activation/{token}")
    password = "ma phrase de passe secrète"
    done = browser.post(
        "/activation",
        data={
            "password": password,
            "confirmation": password,
            "question": "animal",
            "answer": "Médor",
        },
    )
    assert done.status_code == 200 and "activé" in done.text
    return voter


def test_challenge_answers_and_voter_passwords_are_argon2id_at_production_cost(app, make_voter):
    voter = _voter_through_the_portal(app, make_voter)
    account = db.session.scalar(select(VoterAccount).where(VoterAccount.voter_id == voter.id))
    assert_production_argon2(account.challenge_answer_hash)
    assert_production_argon2(account.password_hash)


def test_agent_passwords_are_argon2id_at_production_cost(app, make_agent):
    agent = make_agent()
    assert_production_argon2(agent.password_hash)


def test_vote_codes_are_argon2id_at_production_cost(app, make_voter):
    voter = _voter_through_the_portal(app, make_voter)
    link = links.new_link(
        purpose=LinkPurpose.VOTE_CODE,
        voter_id=voter.id,
        address="marie.dupont@ac-lille.fr",
        channel="desk",
    )
    token = links.draw_token(link, utcnow())
    db.session.commit()
    browser = new_client(app)
    browser.get(f"/code-de-vote/{token}")
    shown = browser.post("/code-de-vote")
    assert re.search(r'<p class="csu-code"[^>]*>[A-Z0-9-]{19}</p>', shown.text), shown.text
    stored = db.session.scalar(select(VoteCode.code_hash).where(VoteCode.voter_id == voter.id))
    assert_production_argon2(stored)
