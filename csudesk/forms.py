"""The base form and helpers shared by the forms of every blueprint."""

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import SelectChoice


class Form(FlaskForm):
    """Every csudesk form: WTForms' own messages in French (config WTF_I18N_ENABLED = False)."""

    class Meta:
        locales = ("fr",)


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
