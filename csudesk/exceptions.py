"""The one error type the services raise when a business rule says no."""


class ServiceError(ValueError):
    """A rule refused the action: the message is French and says why.

    `field` names the form field the message belongs to (None: the whole form, shown as an
    alert); views map it back onto their form with `csudesk.forms.populate_errors`. The domain
    packages subclass it only to keep their own name for it (`TicketError`, `ActionRefused`...).
    """

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        if field is not None:
            self.field = field
