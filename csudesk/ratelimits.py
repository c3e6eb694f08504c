"""Rate-limit keys and counters on the limiter's storage, and that storage's health.

Keys never hold what was typed: an address (or a password typed in the address field) becomes
an HMAC, so a shared Redis holds no personal data (SECURITY.md 1, 14).

With `RATELIMIT_STORAGE_URI=redis://...` every process shares the counters. If Redis is lost,
Flask-Limiter keeps serving and counts in each process's memory (the limits are then multiplied
by the number of processes). That fallback used to be silent; now the first request that sees
it logs a warning on the `csudesk.ratelimits` logger, and supervisors see a notice on the
supervision dashboard (`storage_state()`) until Redis answers again.
"""

import hashlib
import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from limits.storage import MemoryStorage

from csudesk.extensions import limiter

log = logging.getLogger(__name__)


def hashed_key(label: str, *parts: str) -> str:
    """`label:` and an HMAC of `parts`: stable across processes, reveals nothing typed."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, "\x1f".join(parts).encode("utf-8", "replace"), hashlib.sha256)
    return f"{label}:{digest.hexdigest()[:32]}"


@dataclass
class StorageState:
    shared: bool  # the configured storage is shared by every process (redis://...)
    degraded_since: datetime | None  # when this process fell back to counting on its own


class _Health:
    """What this process knows about the limiter's storage."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.degraded_since: datetime | None = None
        self.own_failure = False  # our own counters could not reach the storage

    def mark(self, degraded: bool) -> None:
        with self.lock:
            if degraded and self.degraded_since is None:
                self.degraded_since = datetime.now(UTC)
                log.warning(
                    "rate-limit storage %s unreachable: each process now counts on its own"
                    " (limits multiplied by the number of processes) until it answers again",
                    _storage_label(),
                )
            elif not degraded and self.degraded_since is not None:
                self.degraded_since = None
                self.own_failure = False
                log.warning("rate-limit storage %s answers again: limits shared", _storage_label())


_health = _Health()
_fallback = MemoryStorage()
_last_recheck = 0.0


def _storage_label() -> str:
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    scheme, _, rest = uri.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"  # never the password of a redis URI


def _limiter_fell_back() -> bool:
    # Flask-Limiter (4.1) has no public flag for its in-memory fallback: read its own.
    return bool(getattr(limiter, "_storage_dead", False))


def _recheck() -> None:
    """Degraded: ask the shared storage again every RATELIMIT_RECHECK_SECONDS.

    When it answers, our counters and Flask-Limiter both go back to it at once (Flask-Limiter's
    own retry backs off up to half a minute after a few failed tries).
    """
    global _last_recheck
    if not (_health.own_failure or _limiter_fell_back()):
        return
    now = time.monotonic()
    if now - _last_recheck < float(current_app.config.get("RATELIMIT_RECHECK_SECONDS", 5)):
        return
    _last_recheck = now
    if _answers():
        _health.own_failure = False
        limiter._storage_dead = False


def refresh_state() -> None:
    """After each request: log (once) a fall-back to per-process counting, and the recovery."""
    _recheck()
    _health.mark(_limiter_fell_back() or _health.own_failure)


def _answers() -> bool:
    try:
        return bool(limiter.storage.check())
    except Exception:
        return False


def storage_state() -> StorageState:
    """For the supervision pages: a process that served no limited request yet asks Redis too."""
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith("memory://") and not _answers():
        _health.own_failure = True  # our counters go to memory too, rechecked every few seconds
    refresh_state()
    return StorageState(
        shared=not uri.startswith("memory://"), degraded_since=_health.degraded_since
    )


class Counters:
    """Plain counters with an expiry, on the limiter's storage (memory when it is down)."""

    def _run(self, operation, *args):
        if not _health.own_failure and not _limiter_fell_back():
            try:
                return operation(limiter.storage, *args)
            except Exception:
                log.debug("rate-limit storage failed", exc_info=True)
                _health.own_failure = True
                _health.mark(True)
        return operation(_fallback, *args)

    def _key(self, key: str) -> str:
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
        return f"{prefix}/{key}" if prefix else key

    def incr(self, key: str, expiry: float) -> int:
        return self._run(lambda s, k: s.incr(k, math.ceil(expiry)), self._key(key))

    def get(self, key: str) -> int:
        return int(self._run(lambda s, k: s.get(k), self._key(key)) or 0)

    def seconds_left(self, key: str) -> float:
        """Seconds until `key` expires (0 when it does not exist)."""
        key = self._key(key)
        if not self._run(lambda s, k: s.get(k), key):
            return 0.0
        return max(0.0, self._run(lambda s, k: s.get_expiry(k), key) - time.time())

    def set_for(self, key: str, seconds: float) -> None:
        """A key that exists for `seconds` from now (a wait)."""
        key = self._key(key)
        self._run(lambda s, k: s.clear(k), key)
        self._run(lambda s, k: s.incr(k, math.ceil(seconds)), key)

    def clear(self, *keys: str) -> None:
        for key in keys:
            self._run(lambda s, k: s.clear(k), self._key(key))


counters = Counters()


def register(app: Flask) -> None:
    """Watch the storage after every request; templates get `rate_limit_storage()`."""
    _health.degraded_since = None
    _health.own_failure = False

    @app.after_request
    def _watch_storage(response):
        refresh_state()
        return response

    @app.context_processor
    def _rate_limit_state():
        return {"rate_limit_storage": storage_state}
