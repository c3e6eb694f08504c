"""gunicorn settings: access log without the one-time-link tokens (SECURITY.md 8)."""

import logging
import re

_TOKEN_PATH = re.compile(r"(/(?:activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/)[^ ?\"]+")

accesslog = "-"


class RedactTokens(logging.Filter):
    """Drops the token from the request line and path of link landings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            for key in ("r", "U"):
                if key in record.args and isinstance(record.args[key], str):
                    record.args[key] = _TOKEN_PATH.sub(r"\1[jeton masqué]", record.args[key])
        record.msg = _TOKEN_PATH.sub(r"\1[jeton masqué]", str(record.msg))
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
