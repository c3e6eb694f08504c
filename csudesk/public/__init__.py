"""The voters' public site: help, "Trouver ma CSU", self-service, contact, legal pages."""

from csudesk.public import legal  # noqa: F401, E402 - the legal pages' routes on bp
from csudesk.public.views import bp

__all__ = ["bp"]
