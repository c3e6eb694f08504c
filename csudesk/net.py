"""Client address, as seen through the configured number of trusted proxies only."""

from flask import request


def client_ip() -> str:
    """Return the client IP; ProxyFix (set up from TRUSTED_PROXIES) already rewrote it."""
    return request.remote_addr or "0.0.0.0"  # noqa: S104 - a label, not a bind address
