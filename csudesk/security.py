"""Response headers, session timeouts, safe redirects and cross-site refusal (SECURITY.md 10,
11, 12, 15, 16)."""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from csudesk.querystring import MAX_ID

log = logging.getLogger(__name__)

# Pages of signed-in staff: opened only from this site, never from a link on another one.
STAFF_BLUEPRINTS = frozenset({"desk", "supervision", "admin"})
# Sec-Fetch-Site values that do not come from another site ("none": typed, bookmark).
ALLOWED_FETCH_SITES = frozenset({"same-origin", "same-site", "none"})

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in every URL, capped at a database integer: a larger id is a plain 404."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_security(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_cross_site)
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_session_timeouts)
    app.after_request(set_security_headers)


def _same_origin(url: str) -> bool:
    """True when `url` (an Origin or Referer) is this site: the request's host or BASE_URL's."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null", an opaque or unreadable origin
    netloc = parts.netloc.lower()
    base = urlsplit(current_app.config["BASE_URL"]).netloc.lower()
    return netloc in (request.host.lower(), base)


def comes_from_another_site() -> bool:
    """Whether the browser says this request was started by another site.

    Sec-Fetch-Site is sent by every current browser and cannot be set by a page. A browser
    that sends none is judged on Origin and Referer: refused when one of them names another
    site, allowed when both are absent (a typed address, or a page that hides its address).
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site.strip().lower() not in ALLOWED_FETCH_SITES
    for header in ("Origin", "Referer"):
        value = request.headers.get(header)
        if value and not _same_origin(value):
            return True
    return False


def refuse_cross_site():
    """Desk, supervision and admin pages refuse requests started by another site.

    SameSite=Lax still sends the session cookie on a top-level navigation: without this, a
    link on another site could make an agent's browser open a voter file or an export, in
    the agent's name and with an audit entry (issue 10 item 8). CSRF tokens cover the POSTs;
    this covers the GETs too.
    """
    if request.blueprint not in STAFF_BLUEPRINTS or not comes_from_another_site():
        return None
    log.warning(
        "cross-site request refused: %s %s (Sec-Fetch-Site=%s)",
        request.method,
        request.path,
        request.headers.get("Sec-Fetch-Site", "-"),
    )
    return (
        render_template(
            "errors/error.html",
            code=403,
            title="Accès refusé : lien venant d'un autre site",
            text=(
                "Par sécurité, les pages du guichet, de la supervision et de l'administration ne"
                " s'ouvrent pas depuis un lien placé sur un autre site ou dans un message."
                " Ouvrez csudesk directement (favori ou adresse saisie), puis retrouvez la page"
                " depuis son menu."
            ),
        ),
        403,
    )


def refuse_nul_bytes():
    """No text column takes a NUL byte (PostgreSQL refuses it): reject it before any query.

    The public forms clean control characters themselves and give the voter back what was
    typed, so only their query strings are checked here.
    """
    values = [*request.args.values()]
    if (
        request.blueprint != "public"
        and request.method == "POST"
        and request.mimetype
        in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
    ):
        values += request.form.values()
    if any("\x00" in value for value in values):
        abort(400)


def enforce_session_timeouts():
    """Idle (30 min) and absolute (12 h) limits on desk sessions."""
    if not current_user.is_authenticated:
        return None
    now = datetime.now(UTC).timestamp()
    auth_at = session.get("auth_at", 0)
    seen_at = session.get("seen_at", 0)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]).total_seconds()
    if now - seen_at > idle or now - auth_at > absolute:
        logout_user()
        session.clear()
        flash("Votre session a expiré : reconnectez-vous.", "info")
        return redirect(url_for("auth.login", next=safe_next(request.full_path)))
    session["seen_at"] = now
    return None


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Referrer-Policy", "same-origin")
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if current_user.is_authenticated or getattr(request, "no_store", False):
        headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None) -> str | None:
    """A same-site relative path, or None: refuses '//x', '/\\\\x', '/%09/x', schemes.

    The check runs on the path as given and once percent-decoded, so an encoded tab, slash or
    backslash cannot turn it into another site's address in a browser.
    """
    if not target or len(target) > 2000:
        return None
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith(("//", "/\\")):
            return None
        if any(ord(c) < 0x20 or c in "\x7f\\" for c in form):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target
