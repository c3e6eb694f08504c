"""Agent administration forms."""

from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from csudesk.agents.models import ROLE_LABELS
from csudesk.forms import Form, choices

ROLE_CHOICES = choices((role.value, label) for role, label in ROLE_LABELS.items())


class RoleForm(Form):
    role = SelectField("Rôle", choices=ROLE_CHOICES)
    csu = SelectField("Cellule (périmètre)", coerce=int)


class NewAgentForm(RoleForm):
    email = EmailField(
        "Adresse électronique professionnelle",
        validators=[DataRequired("Indiquez l'adresse."), Length(max=254)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(
        "Nom et prénom", validators=[DataRequired("Indiquez le nom."), Length(max=120)]
    )
