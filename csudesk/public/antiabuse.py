"""Anti-abuse for the public forms without third parties: a signed opening time."""

import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

_SALT = "csudesk.public.form-opened"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def opened_token(at: float | None = None) -> str:
    """A signed token holding the moment the form was shown (now, unless given)."""
    return _serializer().dumps(int(time.time() if at is None else at))


def seconds_since_opened(token: str | None) -> float | None:
    """How long ago the form was shown; None when the token is missing or forged."""
    if not token or len(token) > 200:
        return None
    try:
        opened = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(opened, int):
        return None
    return time.time() - opened
