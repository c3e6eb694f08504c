from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from csudesk.forms import Form


class LoginForm(Form):
    email = EmailField(
        "Adresse électronique professionnelle",
        validators=[DataRequired("Indiquez votre adresse."), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Indiquez votre mot de passe."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
