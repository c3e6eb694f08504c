"""Desk forms: they validate shape; the support services decide what applies."""

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from csudesk.forms import Form, SelectField, choices
from csudesk.tickets.models import CATEGORY_LABELS, CHANNEL_LABELS, STATUS_LABELS, Status

NEW_TICKET = "nouveau"
CATEGORY_CHOICES = choices(CATEGORY_LABELS.items())
CHANNEL_CHOICES = choices((k, v) for k, v in CHANNEL_LABELS.items() if k != "formulaire")


class EmailSearchForm(Form):
    """Sent by POST (CSRF-protected): a voter's address never goes into a URL. It also takes
    a ticket reference ("2026-000116"), which opens the ticket."""

    courriel = StringField(
        "Adresse électronique professionnelle ou référence de ticket",
        validators=[DataRequired("Saisissez une adresse."), Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "email"},
    )


class NameSearchForm(Form):
    class Meta:
        csrf = False

    nom = StringField(
        "Nom",
        validators=[DataRequired("Saisissez le nom."), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    prenom = StringField(
        "Prénom (facultatif)",
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    uai = StringField(
        "UAI de l'établissement (facultatif)",
        validators=[Optional(), Length(max=12)],
        render_kw={"autocomplete": "off"},
    )


class TicketChoiceMixin:
    ticket = SelectField("Ticket", validators=[InputRequired()])
    category = SelectField("Catégorie du nouveau ticket", choices=CATEGORY_CHOICES)
    channel = SelectField("Canal de contact", choices=CHANNEL_CHOICES)


class LinkActionForm(TicketChoiceMixin, Form):
    """Resend the activation link, send a reset link or a vote-code link, to a roll address."""

    address = RadioField(
        "Adresse de la liste électorale où envoyer le lien",
        validators=[InputRequired("Choisissez l'adresse.")],
    )


class ChallengeForm(TicketChoiceMixin, Form):
    answer = PasswordField(
        "Réponse au défi donnée par l'électeur",
        validators=[DataRequired("Saisissez la réponse donnée."), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )


class NewTicketForm(Form):
    category = SelectField("Catégorie", choices=CATEGORY_CHOICES)
    channel = SelectField("Canal de contact", choices=CHANNEL_CHOICES)
    contact_email = StringField(
        "Adresse donnée par l'appelant (facultatif)", validators=[Optional(), Length(max=254)]
    )
    contact_last_name = StringField("Nom (facultatif)", validators=[Optional(), Length(max=100)])
    contact_first_name = StringField(
        "Prénom (facultatif)", validators=[Optional(), Length(max=100)]
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])


class NoteForm(Form):
    text = TextAreaField(
        "Ajouter une note", validators=[DataRequired("La note est vide."), Length(max=5000)]
    )
    # The id of the ticket's latest event when the page was loaded: a note posted after
    # another agent added an event asks to confirm first.
    derniere_activite = HiddenField(validators=[Optional()])
    # Checked on the confirmation page; its value is the latest event the agent was shown.
    confirme = IntegerField(
        "Je confirme l'envoi malgré ces changements",
        validators=[Optional(), NumberRange(min=0)],
    )


class StatusForm(Form):
    status = SelectField(
        "Statut",
        choices=choices(
            (k, v) for k, v in STATUS_LABELS.items() if k not in (Status.TRANSFERRED, Status.MERGED)
        ),
    )


class TransferForm(Form):
    csu = SelectField("CSU destinataire", validators=[InputRequired()], coerce=int)
    reason = TextAreaField(
        "Motif du transfert", validators=[DataRequired("Indiquez le motif."), Length(max=5000)]
    )


class ReplyForm(Form):
    """A reply by mail from a ticket: one of the addresses the ticket holds, never a typed one."""

    to = RadioField("Destinataire", validators=[InputRequired("Choisissez le destinataire.")])
    body = TextAreaField(
        "Votre réponse",
        validators=[DataRequired("Écrivez votre réponse."), Length(max=5000)],
        render_kw={"rows": 12},
    )
    resolve = BooleanField("Résoudre le ticket après l'envoi")
    # The newest event of the ticket when the page was loaded (another agent's since: confirm).
    derniere_activite = HiddenField()
    # The mail of the ticket this reply answers (its event), when the agent picked one.
    reponse_a = HiddenField()


class MergeForm(Form):
    into = SelectField("Ticket à conserver", validators=[InputRequired("Choisissez le ticket.")])
    reason = TextAreaField(
        "Motif de la fusion",
        validators=[DataRequired("Indiquez le motif de la fusion."), Length(max=5000)],
    )
    confirm = BooleanField(
        "Je confirme : ce ticket sera fermé et son historique rejoindra le ticket conservé",
        validators=[DataRequired("Cochez la case pour confirmer la fusion.")],
    )
