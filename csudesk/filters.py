"""The template filters, registered app-wide in one place (every blueprint's pages use them),
and the few constants the pages quote."""

from flask import Flask

from csudesk.directory.models import csu_short_name
from csudesk.elections.calendar import paris
from csudesk.passwords import MIN_PASSWORD_LENGTH


def register_filters(app: Flask) -> None:
    from csudesk.supervision.labels import action_label, actor_label, detail_items

    for name, function in (
        ("paris", paris_time),
        ("nombre", french_number),
        ("pluriel", plural),
        ("csu_court", csu_short_name),
        ("error_title", error_title),
        # The audit trail's French wording: the journal and the admin's agent page show it.
        ("action_label", action_label),
        ("actor_label", actor_label),
        ("audit_details", detail_items),
    ):
        app.add_template_filter(function, name)
    # The password hints quote the policy's own figure (csudesk/passwords.py).
    app.jinja_env.globals["MIN_PASSWORD_LENGTH"] = MIN_PASSWORD_LENGTH


def paris_time(value, fmt: str = "%d/%m/%Y à %H:%M") -> str:
    """A UTC datetime shown in Paris time."""
    return paris(value).strftime(fmt) if value else ""


def french_number(value) -> str:
    """French thousands separator (narrow no-break space)."""
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The French word for a count: 0 and 1 take the singular ('0 ticket', '2 tickets')."""
    if abs(count) < 2:
        return singular
    if plural_form is not None:
        return plural_form
    return singular if singular.endswith(("s", "x", "z")) else singular + "s"


def error_title(title: str, error_state) -> str:
    """A page title, with "Erreur — " first when the page shows errors (and does not say so)."""
    title = " ".join(title.split())
    return f"Erreur — {title}" if error_state and not title.startswith("Erreur") else title
