"""Supervision: the dashboard, the ticket log and its export, the audit journal."""

from csudesk.supervision import dashboard, journal, tickets  # noqa: F401, E402 - the routes on bp
from csudesk.supervision.blueprint import bp

__all__ = ["bp"]
