"""The agents' desk: voter lookup, the voter file, its actions and the CSU's tickets."""

from csudesk.desk import actions, replies, tickets, views  # noqa: F401, E402 - the routes on bp
from csudesk.desk.blueprint import bp

__all__ = ["bp"]
