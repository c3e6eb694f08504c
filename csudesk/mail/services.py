"""Putting mail in the outbox, in the same transaction as the action that needs it."""

import json
from email.utils import parseaddr
from typing import Any

from flask import current_app

from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import Voter
from csudesk.roll.services import voter_id_of_address
from csudesk.text import normalize_email


class NotOnRoll(ServiceError):
    """Refused: voter mail goes only to an address stored on the roll for that voter."""


def roll_address_of(voter: Voter, raw: str) -> str:
    """The roll address of this voter equal to `raw` after normalisation, or NotOnRoll."""
    address = normalize_email(raw)
    if voter_id_of_address(address) != voter.id:
        raise NotOnRoll(
            "Cette adresse n'est pas une adresse de l'électeur sur la liste électorale."
        )
    return address


def message_id_for(mail: OutboxMail) -> str:
    """The Message-ID a queued mail leaves with, known before it is sent (threads, bounces)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    address = sender[1] if isinstance(sender, tuple | list) else parseaddr(sender)[1]
    domain = address.rsplit("@", 1)[-1]
    return f"<outbox-{mail.id}.{int(mail.created_at.timestamp())}@{domain}>"


def _queued(mail: OutboxMail) -> OutboxMail:
    db.session.add(mail)
    db.session.flush()
    mail.message_id = message_id_for(mail)
    return mail


def enqueue_voter_mail(
    voter: Voter,
    address: str,
    template: str,
    context: dict[str, Any],
    *,
    link_id: int | None = None,
    ticket_id: int | None = None,
) -> OutboxMail:
    """Queue a mail to one of the voter's roll addresses (checked here, again at send time)."""
    mail = OutboxMail(
        to_address=roll_address_of(voter, address),
        template=template,
        context_json=json.dumps(context, ensure_ascii=False, default=str),
        voter_id=voter.id,
        link_id=link_id,
        ticket_id=ticket_id,
    )
    return _queued(mail)


def enqueue_agent_mail(
    agent_id: int, address: str, template: str, context: dict[str, Any], *, link_id: int | None
) -> OutboxMail:
    """Queue a mail to a desk account's own address."""
    mail = OutboxMail(
        to_address=address,
        template=template,
        context_json=json.dumps(context, ensure_ascii=False, default=str),
        agent_id=agent_id,
        link_id=link_id,
    )
    return _queued(mail)


def enqueue_reply(
    *,
    to_address: str,
    context: dict[str, Any],
    ticket_id: int,
    sender_csu_id: int,
    voter: Voter | None,
    in_reply_to: str | None,
    references: str | None,
) -> OutboxMail:
    """Queue an agent's reply from a ticket (template "reply"), in the ticket's thread.

    With `voter`, the address is one of that voter's roll addresses (checked here, and again at
    send time: off the roll by then, the mail is cancelled). Without, it is the address the
    person wrote from, which the caller took from the ticket, never from a form.
    """
    mail = OutboxMail(
        to_address=roll_address_of(voter, to_address) if voter else normalize_email(to_address),
        template="reply",
        context_json=json.dumps(context, ensure_ascii=False, default=str),
        voter_id=voter.id if voter else None,
        ticket_id=ticket_id,
        sender_csu_id=sender_csu_id,
        in_reply_to=in_reply_to,
        references=references,
    )
    return _queued(mail)
