"""A few French messages in the demo CSUs' mailboxes, for `mail fetch --watch` to bring in.

make run's instance/config.py gives two CSUs a local Maildir (CSU_MAILBOXES); `demo seed`
drops into each one: a voter answering one of the cell's tickets, a voter's new request, an
out-of-office auto-reply, and a request from an address that is not on the roll. The files
have fixed names: seeding again rewrites the same messages, it does not add more.
"""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from csudesk.conversation.mailboxes import MailboxConfigError, parse_mailbox
from csudesk.db import utcnow
from csudesk.directory.models import CSU
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import Voter, VoterEmail
from csudesk.tickets.models import Ticket


def seed_demo_mailboxes() -> dict[str, int]:
    """Write the demo messages into every Maildir of CSU_MAILBOXES; {mailbox: messages}."""
    written = {}
    for name, entry in (current_app.config.get("CSU_MAILBOXES") or {}).items():
        if not isinstance(entry, dict) or "maildir" not in entry:
            continue
        try:
            mailbox = parse_mailbox(name, entry, Path(current_app.instance_path), {})
        except MailboxConfigError:
            continue  # `mail fetch` says what is wrong with it
        csu = db.session.scalar(select(CSU).where(CSU.code == mailbox.csu))
        if csu is None:
            continue
        messages = demo_messages(csu)
        new = mailbox.maildir / "new"
        for sub in ("new", "cur", "tmp"):
            (mailbox.maildir / sub).mkdir(parents=True, exist_ok=True)
        for number, message in enumerate(messages, 1):
            (new / f"demo-{number}.csudesk").write_bytes(bytes(message))
        written[name] = len(messages)
    return written


def demo_messages(csu: CSU) -> list[EmailMessage]:
    """The messages a CSU's mailbox holds in the demo, built from its tickets and roll."""
    to = csu.email or "csu-elections@demo.example"
    voters = db.session.execute(
        select(Voter.first_name, Voter.last_name, VoterEmail.address)
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(Voter.csu_id == csu.id, VoterEmail.position == 0)
        .order_by(Voter.id)
        .limit(2)
    ).all()
    ticket = db.session.scalar(
        select(Ticket)
        .where(
            Ticket.csu_id == csu.id,
            Ticket.reference.is_not(None),
            Ticket.contact_email.is_not(None),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    messages = []
    if ticket is not None:
        answered = db.session.scalar(
            select(OutboxMail.message_id)
            .where(OutboxMail.ticket_id == ticket.id, OutboxMail.message_id.is_not(None))
            .order_by(OutboxMail.id.desc())
            .limit(1)
        )
        reply = _message(
            f"{ticket.contact_first_name or ''} {ticket.contact_last_name or ''}".strip(),
            ticket.contact_email,
            to,
            f"Re: [CSU {ticket.reference}] Votre demande d'assistance",
            "Bonjour,\n\nMerci pour votre réponse. J'ai bien reçu le nouveau lien, mais la page"
            " me dit qu'il a expiré. Pouvez-vous m'en envoyer un autre ?\n\nCordialement,\n"
            f"{ticket.contact_first_name or ''} {ticket.contact_last_name or ''}".rstrip(),
        )
        if answered:
            reply["In-Reply-To"] = answered
            reply["References"] = answered
        messages.append(reply)
    if voters:
        first, last, address = voters[0]
        messages.append(
            _message(
                f"{first} {last}",
                address,
                to,
                "Je n'arrive pas à voter",
                "Bonjour,\n\nJe n'ai jamais reçu le courriel pour activer mon compte électeur."
                " J'ai regardé dans les indésirables. Mon établissement m'a dit de vous"
                f" écrire.\n\nMerci d'avance,\n{first} {last}",
            )
        )
    if len(voters) > 1:
        first, last, address = voters[1]
        auto = _message(
            f"{first} {last}",
            address,
            to,
            "Absence du bureau : Élections professionnelles",
            "Je suis absent(e) jusqu'au lundi inclus et ne consulte pas ma messagerie.\n"
            "Pour toute urgence, contactez le secrétariat de l'établissement.",
        )
        auto["Auto-Submitted"] = "auto-replied"
        auto["X-Autoreply"] = "yes"
        messages.append(auto)
    messages.append(
        _message(
            "Jean Martin",
            "jean.martin.perso@demo.example",
            to,
            "Question sur le vote",
            "Bonjour,\n\nJe change d'établissement le mois prochain : sur quelle liste serai-je"
            " inscrit pour voter ?\n\nJean Martin",
        )
    )
    return messages


def _message(name: str, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(body)
    return message
