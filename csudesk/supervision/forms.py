"""Filter forms of the supervision pages.

They are bound to the query string (no CSRF token in a URL; a GET changes nothing) and, when
sent, to a POST body that the app-wide CSRF protection checks: the POST only redirects, with
the voter's address kept out of the URL (csudesk.supervision.address_filter).
"""

from datetime import date

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from csudesk.forms import Form, choices
from csudesk.tickets.models import CATEGORY_LABELS, CHANNEL_LABELS, STATUS_LABELS


class GetForm(Form):
    class Meta:
        csrf = False


def _all(label: str, labels: dict) -> list:
    return choices([("", label), *labels.items()])


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _plausible(form, field):
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError("Choisissez une date entre 2000 et 2100.")


class PeriodMixin:
    du = DateField("Du", validators=[Optional(), _plausible], format="%Y-%m-%d")
    au = DateField("Au (inclus)", validators=[Optional(), _plausible], format="%Y-%m-%d")

    def validate_au(self, field):
        if field.data and self.du.data and field.data < self.du.data:
            raise ValidationError("La date de fin précède la date de début.")


class TicketLogForm(PeriodMixin, GetForm):
    csu = SelectField("Cellule", validate_choice=False, default="")
    agent = SelectField("Agent", validate_choice=False, default="")
    categorie = SelectField("Catégorie", choices=_all("Toutes", CATEGORY_LABELS), default="")
    statut = SelectField("Statut", choices=_all("Tous", STATUS_LABELS), default="")
    canal = SelectField("Canal", choices=_all("Tous", CHANNEL_LABELS), default="")
    courriel = StringField("Courriel de l'électeur", validators=[Optional(), Length(max=254)])
    texte = StringField("Mots dans les notes et messages", validators=[Optional(), Length(max=200)])


class PeriodForm(PeriodMixin, GetForm):
    csu = SelectField("Cellule", validate_choice=False, default="")


class AuditSearchForm(PeriodMixin, GetForm):
    courriel = StringField("Courriel de l'électeur", validators=[Optional(), Length(max=254)])
    agent = SelectField("Agent", validate_choice=False, default="")
    action = SelectField("Action", validate_choice=False, default="")


class ResponseTemplateForm(Form):
    """A réponse type (CSRF-protected: it changes rows). `owner` only when creating one."""

    owner = SelectField("Réponse type de", validate_choice=True)
    title = StringField("Titre", validators=[DataRequired("Donnez un titre."), Length(max=120)])
    category = SelectField(
        "Situation", choices=_all("Toutes les situations", CATEGORY_LABELS), default=""
    )
    body = TextAreaField(
        "Texte",
        # The service counts 5000 once line ends are one character; a browser sends CRLF.
        validators=[DataRequired("Écrivez le texte."), Length(max=10000)],
        render_kw={"rows": 14},
    )


class CellFilterForm(GetForm):
    csu = SelectField("Cellule", validate_choice=False, default="")
