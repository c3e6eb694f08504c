"""gunicorn settings: access log without one-time-link tokens (SECURITY.md 8) or voters'
addresses (issue 10, item 8)."""

import logging
import re
from urllib.parse import unquote_plus

_TOKEN_PATH = re.compile(r"(/(?:activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/)[^ ?\"]+")
# A query parameter (after "?", "&", ";" or at the start of a bare query string), its value.
_QUERY_PARAM = re.compile(r"((?:^|[?&;])([^=&;#\s\"?]*)=)([^&;#\s\"]*)")
# Parameters whose value is a voter's address: the app no longer reads one from a URL, but an
# old bookmark or a forged link still sends it, in the request line or the Referer.
_ADDRESS_PARAMS = frozenset({"courriel"})

accesslog = "-"


def _has_address_param(text: str) -> bool:
    return any(
        unquote_plus(m[2]).strip().lower() in _ADDRESS_PARAMS for m in _QUERY_PARAM.finditer(text)
    )


def _redact_address(match: re.Match) -> str:
    if unquote_plus(match[2]).strip().lower() in _ADDRESS_PARAMS:
        return match[1] + "[adresse masquée]"
    # A URL inside a parameter, encoded once or more: the sign-in page's
    # ?next=/supervision/journal%3Fcourriel%3D... The whole value goes.
    value = match[3]
    for _ in range(3):
        decoded = unquote_plus(value)
        if decoded == value:
            break
        if _has_address_param(decoded):
            return match[1] + "[adresse masquée]"
        value = decoded
    return match[0]


def redact(text: str) -> str:
    """A log value without link tokens and without the value of a courriel= parameter."""
    return _QUERY_PARAM.sub(_redact_address, _TOKEN_PATH.sub(r"\1[jeton masqué]", text))


class RedactTokens(logging.Filter):
    """Drops link tokens and voters' addresses from every value of an access log line
    (request line, path, query string, Referer and other headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            # In place: gunicorn's dict (SafeAtoms) answers "-" for the atoms it lacks.
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = redact(value)
        record.msg = redact(str(record.msg))
        return True


def post_fork(server, worker):
    """Workers write the access log: filter it there, whatever file --access-logfile names.

    They also log the head of the audit chain after each entry they append ("audit ID HASH"),
    a copy outside the database for `flask --app csudesk audit verify --head`. The signed
    heads that `audit verify` reads by default come from a worker of their own,
    `flask --app csudesk audit anchor --watch` (README, "Audit trail").
    """
    logging.getLogger("gunicorn.access").addFilter(RedactTokens())
    logging.getLogger("csudesk.audit").setLevel(logging.INFO)


# A streamed export of a large ticket log takes tens of seconds; a sync worker busy that long
# must not be taken for a stuck one (default: 30 s).
timeout = 300
