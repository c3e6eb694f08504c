"""gunicorn settings: access log without the one-time-link tokens (SECURITY.md 8)."""

import logging
import re

_TOKEN_PATH = re.compile(r"(/(?:activation|mot-de-passe|code-de-vote|agent/mot-de-passe)/)[^ ?\"]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            for key in ("r", "U"):
                if key in record.args and isinstance(record.args[key], str):
                    record.args[key] = _TOKEN_PATH.sub(r"\1[jeton masqué]", record.args[key])
        record.msg = _TOKEN_PATH.sub(r"\1[jeton masqué]", str(record.msg))
        return True


accesslog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": RedactTokens}},
    "handlers": {
        "access": {
            "class": "logging.StreamHandler",
            "filters": ["redact"],
            "stream": "ext://sys.stdout",
        },
        "error": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
    "root": {"level": "WARNING", "handlers": ["error"]},
    "loggers": {
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
    },
}
