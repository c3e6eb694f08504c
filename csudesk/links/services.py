"""One-time links: issuing (with limits and revocation), drawing tokens, the session claim a
landing keeps, consuming atomically."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from csudesk.db import utcnow
from csudesk.extensions import db
from csudesk.links.models import LinkPurpose, OneTimeLink

# Landing paths of the links, under BASE_URL; the portal blueprint serves them.
LINK_PATHS = {
    LinkPurpose.ACTIVATION: "/activation/",
    LinkPurpose.PASSWORD_RESET: "/mot-de-passe/",
    LinkPurpose.VOTE_CODE: "/code-de-vote/",
    LinkPurpose.AGENT_PASSWORD: "/agent/mot-de-passe/",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(purpose: str, token: str) -> str:
    """The mailed URL, built from BASE_URL (never from a request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + LINK_PATHS[LinkPurpose(purpose)] + token


def ttl(purpose: str) -> timedelta:
    return timedelta(hours=current_app.config["LINK_TTL_HOURS"][purpose])


def recent_duplicate(voter_id: int, purpose: str, address: str) -> OneTimeLink | None:
    """A link of the same kind to the same address issued seconds ago and still usable."""
    since = utcnow() - timedelta(seconds=current_app.config["LINK_DEDUP_SECONDS"])
    return db.session.scalar(
        select(OneTimeLink)
        .where(
            OneTimeLink.voter_id == voter_id,
            OneTimeLink.purpose == purpose,
            OneTimeLink.address == address,
            OneTimeLink.created_at >= since,
            OneTimeLink.used_at.is_(None),
            OneTimeLink.revoked_at.is_(None),
        )
        .order_by(OneTimeLink.id.desc())
        .limit(1)
    )


def links_in_last_hour(voter_id: int) -> tuple[int, datetime | None]:
    """How many links this voter got in the sliding hour, and the oldest of them."""
    since = utcnow() - timedelta(hours=1)
    count, oldest = db.session.execute(
        select(func.count(), func.min(OneTimeLink.created_at)).where(
            OneTimeLink.voter_id == voter_id,
            OneTimeLink.created_at >= since,
            OneTimeLink.purpose != LinkPurpose.AGENT_PASSWORD,
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return count, oldest


def revoke_live_links(
    *, purpose: str, voter_id: int | None = None, agent_id: int | None = None
) -> int:
    """Revoke unused links of this purpose: one live link per person and purpose."""
    query = update(OneTimeLink).where(
        OneTimeLink.purpose == purpose,
        OneTimeLink.used_at.is_(None),
        OneTimeLink.revoked_at.is_(None),
    )
    if voter_id is not None:
        query = query.where(OneTimeLink.voter_id == voter_id)
    else:
        query = query.where(OneTimeLink.agent_id == agent_id)
    return db.session.execute(query.values(revoked_at=utcnow())).rowcount


def new_link(**fields) -> OneTimeLink:
    link = OneTimeLink(**fields)
    db.session.add(link)
    db.session.flush()
    return link


def draw_token(link: OneTimeLink, now: datetime) -> str:
    """Give the link a fresh token (called by the sender just before the mail leaves)."""
    token = secrets.token_urlsafe(32)
    link.token_hash = hash_token(token)
    link.expires_at = now + ttl(link.purpose)
    return token


# --- What a landing keeps in the session (issue 10 item 5) ------------------------------------
#
# The session cookie is signed, not encrypted: it must not carry the token (nor its hash, which
# is what the database matches). It keeps the link's id and a MAC of the link's token hash
# under a server key: only this server can make or check it, and it names one token of one
# link (a redrawn token no longer matches).


def _claim_mac(link: OneTimeLink) -> str:
    key = ("one-time-link-session:" + current_app.config["SECRET_KEY"]).encode()
    message = f"{link.id}:{link.purpose}:{link.token_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def session_claim(token: str, purpose: str) -> dict | None:
    """What the session keeps of a landing: the link's id and a MAC, or None (unknown token)."""
    link = db.session.scalar(
        select(OneTimeLink).where(
            OneTimeLink.token_hash == hash_token(token), OneTimeLink.purpose == purpose
        )
    )
    if link is None:
        return None
    return {"id": link.id, "mac": _claim_mac(link)}


def claimed_link(claim: object, purpose: str) -> OneTimeLink | None:
    """The link a session claim names, whatever its state, if the claim's MAC matches."""
    if not isinstance(claim, dict):
        return None
    link_id, mac = claim.get("id"), claim.get("mac")
    if not isinstance(link_id, int) or isinstance(link_id, bool) or not isinstance(mac, str):
        return None
    if not 0 < link_id < 2**31:
        return None
    link = db.session.get(OneTimeLink, link_id)
    if link is None or link.purpose != purpose or link.token_hash is None:
        return None
    if not hmac.compare_digest(mac, _claim_mac(link)):
        return None
    return link


def state_of(link: OneTimeLink) -> str:
    """'usable', 'used', 'revoked' or 'expired' (the error page names the last three)."""
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is None or link.expires_at <= utcnow():
        return "expired"
    return "usable"


def consume_claimed(link: OneTimeLink) -> OneTimeLink | None:
    """Use a claimed link in one atomic UPDATE (SECURITY.md 5): exactly one of N uses wins.

    The UPDATE matches the token hash the claim's MAC was checked against, so a token drawn
    again in between does not let the older claim through.
    """
    now = utcnow()
    result = db.session.execute(
        update(OneTimeLink)
        .where(
            OneTimeLink.id == link.id,
            OneTimeLink.token_hash == link.token_hash,
            OneTimeLink.purpose == link.purpose,
            OneTimeLink.used_at.is_(None),
            OneTimeLink.revoked_at.is_(None),
            OneTimeLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    db.session.refresh(link)
    return link
