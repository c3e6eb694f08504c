"""Response headers, session timeouts and safe redirects (SECURITY.md 10, 11, 15, 16)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from csudesk.text import is_ascii_digits

MAX_ID = 2**31 - 1

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
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_session_timeouts)
    app.after_request(set_security_headers)


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


def bounded_int(raw: str | None, default: int | None = None) -> int | None:
    """A query-string integer within 1..MAX_ID, else `default`."""
    if raw and is_ascii_digits(raw) and len(raw) < 10 and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return default


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
