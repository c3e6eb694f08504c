"""One-time links without HTTP: the token drawn at sending, the session claim, one use only."""

from datetime import timedelta

import pytest

from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links import services as links
from csudesk.links.models import LinkPurpose, LinkState


@pytest.fixture
def link(make_voter):
    voter = make_voter()
    return links.new_link(
        purpose=LinkPurpose.ACTIVATION,
        voter_id=voter.id,
        address=voter.emails[0].address,
        channel="desk",
    )


def test_a_link_has_no_token_until_its_mail_leaves(link):
    assert link.token_hash is None and link.state() == LinkState.PENDING
    token = links.draw_token(link, utcnow())
    assert link.token_hash == links.hash_token(token) != token
    assert link.state() == LinkState.LIVE
    assert links.link_url(link.purpose, token).endswith("/activation/" + token)


def test_the_session_claim_names_one_token_of_one_link(link):
    token = links.draw_token(link, utcnow())
    claim = links.session_claim(token, LinkPurpose.ACTIVATION)
    assert token not in str(claim) and link.token_hash not in str(claim)
    assert links.claimed_link(claim, LinkPurpose.ACTIVATION) == link
    assert links.claimed_link(claim, LinkPurpose.PASSWORD_RESET) is None
    assert links.claimed_link({**claim, "mac": "0" * 64}, LinkPurpose.ACTIVATION) is None
    assert links.claimed_link({"id": True, "mac": claim["mac"]}, LinkPurpose.ACTIVATION) is None
    links.draw_token(link, utcnow())  # a token drawn again: the older claim names nothing
    assert links.claimed_link(claim, LinkPurpose.ACTIVATION) is None
    assert links.session_claim("not-a-token", LinkPurpose.ACTIVATION) is None


def test_a_claimed_link_is_used_once(link):
    links.draw_token(link, utcnow())
    db.session.commit()
    assert links.consume_claimed(link) is link and links.state_of(link) == "used"
    assert links.consume_claimed(link) is None


@pytest.mark.parametrize(
    ("spoil", "state"),
    [
        (lambda link: setattr(link, "revoked_at", utcnow()), "revoked"),
        (lambda link: setattr(link, "expires_at", utcnow() - timedelta(seconds=1)), "expired"),
    ],
)
def test_a_revoked_or_expired_link_cannot_be_used(link, spoil, state):
    links.draw_token(link, utcnow())
    spoil(link)
    db.session.commit()
    assert links.state_of(link) == state
    assert links.consume_claimed(link) is None


def test_a_new_link_revokes_the_live_ones_of_the_same_purpose(link):
    links.draw_token(link, utcnow())
    assert links.revoke_live_links(purpose=LinkPurpose.ACTIVATION, voter_id=link.voter_id) == 1
    db.session.refresh(link)
    assert link.state() == LinkState.REVOKED
    assert links.revoke_live_links(purpose=LinkPurpose.ACTIVATION, voter_id=link.voter_id) == 0
