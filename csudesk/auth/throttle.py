"""Sign-in throttling by progressive delays, not lock-outs (SECURITY.md 11, 14; issue 10 item 9).

Why delays and not a lock: a lock after N failures "from anywhere" lets anyone who knows an
agent's address keep that agent out during the vote week. So:

- Each account (the typed address, whether or not an account has it) counts its failures over
  `RATELIMIT_LOGIN_FAILURE_WINDOW_SECONDS`. The first `RATELIMIT_LOGIN_FREE_FAILURES` cost
  nothing; each later failure makes the next attempt wait 1, 2, 4, 8... seconds, never more
  than `RATELIMIT_LOGIN_MAX_DELAY_SECONDS`.
- That wait applies only to clients (addresses) that themselves failed on this account in the
  window. A client with no failure on the account is always checked: the real agent, at the
  office, signs in with the right password while someone elsewhere guesses; the guesser, after
  one failure, waits like everyone who failed.
- Each client address may fail `RATELIMIT_LOGIN` times (all accounts together) before its
  sign-ins are refused for the rest of that window: failures count, successes do not, so a
  whole rectorate behind one address signs in.
- A success clears that client's failures on the account; the account's own count stays, so
  a guesser elsewhere keeps waiting.

The counters live in the limiter's storage (shared Redis in production) and hold HMACs only:
neither the typed address nor, when a password is typed in the address field, the password.
"""

from flask import current_app

from csudesk.net import client_ip
from csudesk.ratelimits import counters, hashed_key
from csudesk.text import normalize_email


def _config(name: str) -> int:
    return int(current_app.config[name])


def delay_after(failures: int) -> int:
    """Seconds the next attempt of a failing client waits after `failures` failures."""
    free = _config("RATELIMIT_LOGIN_FREE_FAILURES")
    if failures <= free:
        return 0
    return min(2 ** min(failures - free - 1, 30), _config("RATELIMIT_LOGIN_MAX_DELAY_SECONDS"))


def _account(typed: str) -> str:
    return normalize_email(typed or "")[:254]


def _keys(typed: str, ip: str) -> tuple[str, str, str]:
    account = _account(typed)
    return (
        hashed_key("login-failures", account),
        hashed_key("login-wait", account),
        hashed_key("login-client-failures", account, ip),
    )


def seconds_to_wait(typed: str, ip: str | None = None) -> int:
    """How long this client must wait before trying this account again (0: try now)."""
    failures, wait, client = _keys(typed, ip or client_ip())
    if not counters.get(client):
        return 0
    return int(round(counters.seconds_left(wait) + 0.49))


def record_failure(typed: str, ip: str | None = None) -> int:
    """Count a failed sign-in; the wait it sets for this account's failing clients."""
    failures, wait, client = _keys(typed, ip or client_ip())
    window = _config("RATELIMIT_LOGIN_FAILURE_WINDOW_SECONDS")
    count = counters.incr(failures, window)
    counters.incr(client, window)
    delay = delay_after(count)
    if delay:
        counters.set_for(wait, delay)
    return delay


def record_success(typed: str, ip: str | None = None) -> None:
    counters.clear(_keys(typed, ip or client_ip())[2])
