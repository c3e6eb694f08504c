"""The landing of a mailed one-time link, for the voters' links and the agent's (SECURITY.md 4,
5, 8, 16).

The token arrives in the URL and the browser is sent at once to a token-free address, so the
token never sits in a Referer, the history or a later log line. The session keeps neither the
token nor its hash: only the link's id and a server MAC (links.session_claim), which cannot be
replayed as a link. The page behind the redirect reads the claim back; using the link (its
POST) consumes it in one atomic UPDATE (links.consume_claimed).
"""

from flask import Blueprint, abort, redirect, session, url_for

from csudesk.links import services as links
from csudesk.links.models import OneTimeLink

MAX_TOKEN_LENGTH = 100  # a drawn token has 43 characters


def keep_private(bp: Blueprint) -> None:
    """No Referer and no cache for any page of `bp`: a landing, or a page it redirects to."""

    @bp.after_request
    def _private(response):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response


def _key(purpose: str) -> str:
    return f"link:{purpose}"


def land(purpose: str, token: str, endpoint: str):
    """Keep the link's claim in the session (never the token); redirect to `endpoint`.

    An unknown token forgets an earlier claim. A browser that already used this very link
    keeps its "done" mark, so that reloading says "already done" rather than "used".
    """
    if len(token) > MAX_TOKEN_LENGTH:
        abort(404)
    claim = links.session_claim(token, purpose)
    if claim is None:
        session.pop(_key(purpose), None)
    else:
        earlier = session.get(_key(purpose))
        if isinstance(earlier, dict) and earlier.get("id") == claim["id"] and earlier.get("done"):
            claim["done"] = True
        session[_key(purpose)] = claim
    return redirect(url_for(endpoint))


def claimed(purpose: str) -> tuple[dict | None, OneTimeLink | None]:
    """The session's claim for this purpose and the link it names (any state), if valid."""
    claim = session.get(_key(purpose))
    link = links.claimed_link(claim, purpose)
    return (claim, link) if link is not None else (None, None)


def mark_done(purpose: str, claim: dict) -> None:
    """This browser used the link: its reloads say so."""
    session[_key(purpose)] = {"id": claim["id"], "mac": claim["mac"], "done": True}


def forget(purpose: str) -> None:
    """Drop the session's claim for this purpose."""
    session.pop(_key(purpose), None)
