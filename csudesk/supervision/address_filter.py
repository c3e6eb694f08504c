"""A voter's address as a supervision filter, kept out of URLs (issue 10, item 8).

The filter forms are sent by POST; the address they carry is kept in the session under a
short random key and the page redirects to a URL with that key only (`?adresse=<key>`), so
no voter address sits in a URL, a browser history, a Referer or an access log line. A key
means something only in the session that typed the address: a link forged on another site
cannot make a supervisor's browser look a voter up.
"""

import secrets

from flask import flash, redirect, request, session, url_for
from werkzeug.datastructures import MultiDict

from csudesk.text import normalize_email

PARAM = "adresse"  # the query parameter holding the key
LEGACY_PARAM = "courriel"  # where the address itself used to travel
SESSION_KEY = "supervision_addresses"
# The addresses a session remembers, oldest dropped first: the session is a signed cookie.
MAX_KEPT = 12
# The query parameters of a page that are not filters (positions in the pagination).
POSITION_PARAMS = ("apres", "avant")


def remember(raw: str) -> str:
    """The key of a typed address (normalised), the same key if it is already remembered."""
    address = normalize_email(raw)[:254]
    pairs = session.get(SESSION_KEY) or []
    key = next((k for k, known in pairs if known == address), None) or secrets.token_urlsafe(6)
    others = [pair for pair in pairs if pair[1] != address]
    session[SESSION_KEY] = [*others, [key, address]][-MAX_KEPT:]
    return key


def recall(key: str | None) -> str | None:
    """The address remembered under `key` in this session; None for an unknown or old key."""
    if not key:
        return None
    return dict(session.get(SESSION_KEY) or []).get(key)


def query_without_address() -> MultiDict:
    """The query string without any address in clear, to bind a filter form to."""
    return MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != LEGACY_PARAM])


def link_args() -> dict[str, str]:
    """The filters of the current page (the key, not the address) for pagination and export."""
    return {
        k: v
        for k, v in request.args.items()
        if k not in POSITION_PARAMS and k != LEGACY_PARAM and v
    }


def refuse_address_in_url(endpoint: str):
    """A 303 to `endpoint` without the address when a URL still carries one, else None.

    The address of an old bookmark or a forged link is not searched: the page says to type
    it in the form, which sends it by POST.
    """
    if LEGACY_PARAM not in request.args:
        return None
    flash(
        "Par confidentialité, une adresse électronique placée dans l'adresse de la page n'est "
        "plus utilisée comme filtre : saisissez-la dans le champ « Courriel de l'électeur ».",
        "warning",
    )
    return redirect(url_for(endpoint, **link_args()), 303)


def redirect_to_filter(endpoint: str, form, address_field: str = "courriel"):
    """After a valid filter form sent by POST: 303 to the page with the other filters in
    the query string and the address under its key."""
    args = {
        field.name: request.form.get(field.name)
        for field in form
        if field.name not in (address_field, "csrf_token") and request.form.get(field.name)
    }
    address = (form[address_field].data or "").strip()
    if address:
        args[PARAM] = remember(address)
    return redirect(url_for(endpoint, **args), 303)
