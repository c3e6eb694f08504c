"""The voters' forms: shape and length checks only; the services hold the rules."""

import re

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from csudesk.directory.uai import InvalidUAI, is_valid_uai, validate_uai
from csudesk.forms import Form, choices
from csudesk.roll.accounts import MAX_ANSWER_LENGTH, MIN_ANSWER_LENGTH, normalize_answer
from csudesk.text import is_valid_email, normalize_email
from csudesk.tickets.models import CATEGORY_LABELS

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
MAX_MESSAGE_LENGTH = 4000
MAX_SEARCH_LENGTH = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a message may keep: tabs and line breaks; any other control character is dropped.
_MESSAGE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _clean_message(value):
    if not isinstance(value, str):
        return value
    return _MESSAGE_CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def single_line(form, field) -> None:
    """Refuse CR/LF (mail header injection) and other control characters."""
    value = field.data or ""
    if "\r" in value or "\n" in value:
        raise ValidationError("Ce champ tient sur une seule ligne : retirez le retour à la ligne.")
    if _CONTROL.search(value):
        raise ValidationError("Ce champ contient un caractère invisible non permis : retapez-le.")


def work_email(form, field) -> None:
    if not is_valid_email(normalize_email(field.data or "")):
        raise ValidationError(
            "Saisissez une adresse électronique complète, par exemple prenom.nom@ac-lille.fr."
        )


def _email_field() -> EmailField:
    return EmailField(
        "Adresse de messagerie professionnelle",
        filters=[_strip],
        validators=[
            DataRequired("Indiquez votre adresse de messagerie professionnelle."),
            Length(max=MAX_EMAIL_LENGTH, message="Une adresse compte au plus 254 caractères."),
            single_line,
            work_email,
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false", "maxlength": 254},
    )


class AddressForm(Form):
    """ "Je n'ai pas reçu mon lien" and "Mon mot de passe est refusé"."""

    email = _email_field()


class VoteCodeForm(Form):
    """Vote-code reissue: the work address, then the answer to the personal question."""

    email = _email_field()
    answer = PasswordField(
        "Réponse à votre question personnelle (défi)",
        filters=[_strip],
        validators=[
            DataRequired("Indiquez la réponse à votre question personnelle."),
            Length(max=2 * MAX_ANSWER_LENGTH, message="Cette réponse est trop longue."),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )

    def validate_answer(self, field) -> None:
        if not MIN_ANSWER_LENGTH <= len(normalize_answer(field.data)) <= MAX_ANSWER_LENGTH:
            raise ValidationError(
                f"La réponse au défi compte de {MIN_ANSWER_LENGTH} à {MAX_ANSWER_LENGTH}"
                " lettres ou chiffres."
            )


def _name_field(label: str, missing: str) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(missing),
            Length(max=MAX_NAME_LENGTH, message=f"{MAX_NAME_LENGTH} caractères au plus."),
            single_line,
        ],
        render_kw={"maxlength": MAX_NAME_LENGTH},
    )


class EstablishmentSearchForm(Form):
    """The contact form's establishment search: a GET of /nous-ecrire?recherche=..."""

    class Meta:
        csrf = False

    recherche = StringField(
        "Nom ou ville de l'établissement",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=MAX_SEARCH_LENGTH, message="Recherche trop longue."),
            single_line,
        ],
        render_kw={"maxlength": MAX_SEARCH_LENGTH},
    )


class ContactForm(Form):
    """Write to one's CSU. `website` is a honeypot, `started` the signed opening time."""

    email = _email_field()
    last_name = _name_field("Nom", "Indiquez votre nom.")
    first_name = _name_field("Prénom", "Indiquez votre prénom.")
    uai = StringField(
        "Code UAI de votre établissement d'affectation",
        filters=[_strip],
        # No Optional(): it would skip validate_uai, which requires a UAI or a choice.
        validators=[Length(max=20, message="Un code UAI compte 8 caractères."), single_line],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 20},
    )
    # The term of the last establishment search (a GET, EstablishmentSearchForm), carried so
    # that a refused submission lists the same establishments again.
    search = HiddenField(
        filters=[_strip],
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH), single_line],
    )
    chosen_uai = RadioField("Établissements trouvés", choices=[], validate_choice=False)
    category = SelectField(
        "Votre difficulté",
        choices=choices([("", "Choisissez dans la liste"), *CATEGORY_LABELS.items()]),
        validators=[InputRequired("Choisissez la difficulté qui correspond le mieux.")],
    )
    message = TextAreaField(
        "Votre message",
        filters=[_clean_message],
        validators=[
            DataRequired("Décrivez votre difficulté."),
            Length(
                max=MAX_MESSAGE_LENGTH,
                message=f"Votre message dépasse {MAX_MESSAGE_LENGTH} caractères :"
                " raccourcissez-le.",
            ),
        ],
        render_kw={"rows": 8, "maxlength": MAX_MESSAGE_LENGTH},
    )
    consent = BooleanField(
        "J'accepte d'être recontacté(e) par la cellule de soutien au sujet de cette demande.",
        validators=[DataRequired("Cochez cette case pour que la cellule puisse vous répondre.")],
    )
    website = StringField(
        "Ne remplissez pas ce champ", render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    started = HiddenField()

    def validate_category(self, field) -> None:
        if field.data not in CATEGORY_LABELS:
            raise ValidationError("Choisissez la difficulté qui correspond le mieux.")

    def validate_chosen_uai(self, field) -> None:
        if field.data and not is_valid_uai(field.data):
            raise ValidationError("Choisissez un établissement de la liste.")

    def validate_uai(self, field) -> None:
        if self.chosen_uai.data:
            return
        if not field.data:
            raise ValidationError(
                "Indiquez le code UAI de votre établissement, ou cherchez-le par son nom ou sa"
                " ville puis choisissez-le dans la liste."
            )
        try:
            validate_uai(field.data)
        except InvalidUAI as exc:
            raise ValidationError(
                f"{exc} Vous pouvez aussi chercher l'établissement par son nom ou sa ville."
            ) from exc

    @property
    def establishment_uai(self) -> str:
        """The establishment chosen in the search results, else the UAI typed."""
        return validate_uai(self.chosen_uai.data or self.uai.data)
