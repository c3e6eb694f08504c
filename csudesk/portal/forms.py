from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from csudesk.forms import Form, choices
from csudesk.passwords import MAX_PASSWORD_LENGTH
from csudesk.roll.accounts import CHALLENGE_QUESTIONS


class NewPasswordForm(Form):
    password = PasswordField(
        "Nouveau mot de passe « élections »",
        validators=[DataRequired("Choisissez un mot de passe."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirmation = PasswordField(
        "Confirmez le mot de passe",
        validators=[DataRequired("Confirmez le mot de passe."), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )


class ActivationForm(NewPasswordForm):
    question = SelectField(
        "Question personnelle (défi)",
        choices=choices([("", "Choisissez une question"), *CHALLENGE_QUESTIONS.items()]),
        validators=[DataRequired("Choisissez une question.")],
    )
    answer = StringField(
        "Réponse à la question",
        validators=[DataRequired("Saisissez votre réponse."), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


class RevealForm(Form):
    """Only a button: opening the vote-code page must be a POST (no GET changes state)."""
