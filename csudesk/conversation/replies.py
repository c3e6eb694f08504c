"""Answering the voter by mail from a ticket (SECURITY.md 2).

A reply goes to an address the ticket already holds, never to one typed at the desk: one of
its voter's roll addresses, the address given on the public contact form, or the address a
mail that came in on the ticket was sent from (`reply_recipients`). It carries the agent's text
only, checked by `check_body`, leaves through the outbox in the ticket's thread (Message-ID,
In-Reply-To, References, `[CSU <reference>]` in the subject) and puts the ticket in "en
attente" (or resolves it).
"""

import json
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.agents.services import in_scope
from csudesk.audit import services as audit
from csudesk.conversation.responses import site_url, unfilled
from csudesk.db import utcnow
from csudesk.elections.calendar import election, paris
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.links.services import LINK_PATHS
from csudesk.mail.models import OutboxMail
from csudesk.mail.services import enqueue_reply
from csudesk.mail.worker import render
from csudesk.roll.models import Voter, VoterEmail
from csudesk.text import is_valid_email, normalize_email
from csudesk.tickets.masking import CODE_MASK, mask_secrets
from csudesk.tickets.models import Channel, Status, Ticket, TicketEvent
from csudesk.tickets.services import MAX_NOTE_LENGTH, add_event, change_status

DEFAULT_SUBJECT = "Votre demande d'assistance"
SUBJECT_MAX = 150
# RFC 5322 keeps the first and the last few: enough for any client to thread.
REFERENCES_KEPT = 10
# A second "Envoyer" this soon with the same text to the same address is the same reply.
DUPLICATE_SECONDS = 60
THREAD_KINDS = ("mail_in", "reply")

# A one-time link's landing path followed by what could be its token.
_LINK_WITH_TOKEN = re.compile(
    "(?:" + "|".join(re.escape(path) for path in LINK_PATHS.values()) + r")[A-Za-z0-9_\-]{8,}"
)
# secrets.token_urlsafe(32) gives 43 such characters; ordinary words and references do not
# run this long with letters and digits mixed.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-]{32,}")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|r[ée]p|tr|fwd?|aw|wg)\s*:\s*|\[CSU [^\]]*\]\s*)+", re.I)


class ReplyRefused(ServiceError):
    """The reply cannot leave as it is; the message is French and says why."""


@dataclass(frozen=True)
class Draft:
    """A reply as it will leave: what the preview shows and what send_reply queues."""

    to: str
    voter: Voter | None  # set when `to` is one of the voter's roll addresses
    body: str
    subject: str
    text: str
    html: str
    context: dict
    in_reply_to: str | None
    references: str | None


def _roll_addresses(ticket: Ticket) -> list[str]:
    if ticket.voter_id is None:
        return []
    return list(
        db.session.scalars(
            select(VoterEmail.address)
            .where(VoterEmail.voter_id == ticket.voter_id)
            .order_by(VoterEmail.position, VoterEmail.id)
        )
    )


def _thread_events(ticket: Ticket) -> list[TicketEvent]:
    """The ticket's mails both ways (incoming, our replies), oldest first."""
    return [
        e
        for e in db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(THREAD_KINDS))
            .order_by(TicketEvent.id)
        )
        if (e.kind == "mail_in" and e.inbound_message is not None)
        or (e.kind == "reply" and e.mail is not None)
    ]


def reply_recipients(ticket: Ticket) -> list[tuple[str, str]]:
    """(address, label) of every address a reply on this ticket may go to, the roll's first.

    The contact form's address counts only on a ticket the form opened: an address an agent
    noted on a phone ticket was typed at the desk, and a reply never goes to a typed address.
    """
    found: dict[str, str] = {}

    def offer(raw: str | None, label: str) -> None:
        address = normalize_email(raw or "")
        if is_valid_email(address) and address not in found:
            found[address] = label

    for address in _roll_addresses(ticket):
        offer(address, "adresse de la liste électorale")
    if ticket.channel == Channel.FORM and ticket.created_by_agent_id is None:
        offer(ticket.contact_email, "adresse donnée sur le formulaire de contact")
    for event in reversed(_thread_events(ticket)):
        if event.kind == "mail_in":
            when = paris(event.inbound_message.sent_at or event.at).strftime("%d/%m/%Y à %H:%M")
            offer(
                event.inbound_message.from_address, f"adresse d'où est venu le courriel du {when}"
            )
    return list(found.items())


def check_ticket(actor: Actor, ticket: Ticket) -> None:
    """Refuse a reply on a ticket out of scope, merged into another, or just transferred."""
    if actor.agent is None or not in_scope(actor.agent, ticket.csu_id):
        raise ReplyRefused("Ce ticket n'est pas dans votre périmètre.")
    if ticket.status == Status.MERGED:
        kept = ticket.merged_into.reference if ticket.merged_into else "conservé"
        raise ReplyRefused(
            f"Ce ticket a été fusionné dans le ticket {kept} : répondez depuis celui-ci."
        )
    if ticket.status == Status.TRANSFERRED:
        raise ReplyRefused(
            "Ce ticket vient d'être transféré : passez-le au statut « Ouvert » pour le prendre"
            " en charge, puis répondez."
        )


def check_body(body: str) -> str:
    """The reply's text, trimmed, or ReplyRefused (field "body").

    A reply carries the agent's words only (SECURITY.md 1 and 2). Refused:
    - an empty text, or one longer than a note (MAX_NOTE_LENGTH);
    - a placeholder of a réponse type still unfilled ("{prenom}"): the ticket did not hold it;
    - the address of a one-time link with its token (the portal's landings, links/services.py
      LINK_PATHS), or any long run of letters and digits that looks like a token: links go
      from the voter file's actions, to roll addresses, never in a reply;
    - a vote code, and any word the contact form would mask as password-like
      (tickets/masking.py): mask_secrets is run on the whole text for vote codes, and word by
      word for the rest. Its rules that follow a cue ("mot de passe : ...") are left out here:
      on a voter's message they rightly mask the rest of the sentence, but in an agent's
      explanation ("pour changer votre mot de passe : ouvrez la page...") they would refuse
      ordinary help; a password pasted after such a cue is still a password-like word.
    """
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ReplyRefused("Écrivez votre réponse.", field="body")
    if len(body) > MAX_NOTE_LENGTH:
        raise ReplyRefused(
            f"La réponse dépasse {MAX_NOTE_LENGTH} caractères ({len(body)} saisis).", field="body"
        )
    left = unfilled(body)
    if left:
        raise ReplyRefused(
            f"Complétez ou retirez {', '.join(left)} : le ticket ne contient pas cette"
            " information.",
            field="body",
        )
    if _LINK_WITH_TOKEN.search(body) or any(_mixed(m.group(0)) for m in _TOKEN_LIKE.finditer(body)):
        raise ReplyRefused(
            "La réponse contient un lien à usage unique ou ce qui ressemble à un jeton : un"
            " lien part seulement depuis la fiche de l'électeur, vers son adresse de la liste"
            " électorale.",
            field="body",
        )
    if mask_secrets(body).count(CODE_MASK) > body.count(CODE_MASK):
        raise ReplyRefused(
            "La réponse contient ce qui ressemble à un code de vote : une réponse ne transmet"
            " jamais de code.",
            field="body",
        )
    for word in body.split():
        if mask_secrets(word) != word:
            raise ReplyRefused(
                f"« {word[:40]} » ressemble à un mot de passe ou à un code : une réponse ne"
                " transmet jamais de secret. Reformulez ce mot (en séparant lettres et"
                " chiffres, par exemple).",
                field="body",
            )
    return body


def _mixed(run: str) -> bool:
    return any(c.isalpha() for c in run) and any(c.isdigit() for c in run)


def _one_line(text: str) -> str:
    """Header-safe text: no CR/LF, no run of spaces."""
    return " ".join(text.split())


def _reply_subject(subject: str | None) -> str:
    bare = _REPLY_PREFIX.sub("", _one_line(subject or ""))
    if not bare:
        return "Re: " + DEFAULT_SUBJECT
    return ("Re: " + bare)[:SUBJECT_MAX]


def _message_id_of(event: TicketEvent) -> str | None:
    raw = event.inbound_message.message_id if event.kind == "mail_in" else event.mail.message_id
    value = _one_line(raw or "")
    return value if value.startswith("<") and value.endswith(">") and " " not in value else None


def thread(
    ticket: Ticket, in_reply_to_event: TicketEvent | None = None
) -> tuple[str, str | None, str | None]:
    """(subject, In-Reply-To, References) of a reply on this ticket.

    It answers `in_reply_to_event` (a mail of the ticket, either way) when given, else the
    last mail that came in, else our last reply; with no mail yet, it starts the thread.
    """
    events = _thread_events(ticket)
    if in_reply_to_event is not None:
        if in_reply_to_event not in events:
            raise ReplyRefused("Le message auquel répondre n'est pas un courriel de ce ticket.")
        parent = in_reply_to_event
    else:
        incoming = [e for e in events if e.kind == "mail_in"]
        parent = incoming[-1] if incoming else (events[-1] if events else None)
    if parent is None:
        return DEFAULT_SUBJECT, None, None
    if parent.kind == "mail_in":
        subject = _reply_subject(parent.inbound_message.subject)
    else:
        subject = json.loads(parent.mail.context_json or "{}").get("topic") or DEFAULT_SUBJECT
    ids = [i for i in (_message_id_of(e) for e in events[: events.index(parent) + 1]) if i]
    ids = list(dict.fromkeys(ids))
    if len(ids) > REFERENCES_KEPT:
        ids = ids[:1] + ids[-(REFERENCES_KEPT - 1) :]
    in_reply_to = _message_id_of(parent)
    return subject, in_reply_to, " ".join(ids) or None


def _context(ticket: Ticket, subject: str, body: str) -> dict:
    csu = ticket.csu
    return {
        "election": election().name,
        "reference": ticket.reference,
        "topic": subject,
        "body": body,
        "csu": {
            "name": csu.name,
            "email": csu.email,
            "phone": csu.phone,
            "hours": csu.hours,
            "web_url": csu.web_url,
        },
        "contact_url": site_url("public.contact"),
    }


def prepare_reply(
    actor: Actor,
    ticket: Ticket,
    *,
    to: str,
    body: str,
    in_reply_to_event: TicketEvent | None = None,
) -> Draft:
    """Check a reply and render it as it will leave (the preview), without queuing it."""
    check_ticket(actor, ticket)
    address = normalize_email(to or "")
    offered = dict(reply_recipients(ticket))
    if address not in offered:
        raise ReplyRefused(
            "Choisissez l'un des destinataires proposés : une réponse ne part que vers une"
            " adresse de l'électeur sur la liste électorale ou vers celle d'où il a écrit.",
            field="to",
        )
    voter = ticket.voter if address in _roll_addresses(ticket) else None
    body = check_body(body)
    subject, in_reply_to, references = thread(ticket, in_reply_to_event)
    context = _context(ticket, subject, body)
    preview = OutboxMail(template="reply", context_json=json.dumps(context, ensure_ascii=False))
    full_subject, text, html = render(preview, None)
    return Draft(address, voter, body, full_subject, text, html, context, in_reply_to, references)


def _same_reply_just_sent(actor: Actor, ticket: Ticket, draft: Draft) -> TicketEvent | None:
    since = utcnow() - timedelta(seconds=DUPLICATE_SECONDS)
    for event in db.session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind == "reply",
            TicketEvent.agent_id == actor.agent_id,
            TicketEvent.at >= since,
        )
    ):
        if (
            event.text == draft.body
            and event.mail is not None
            and event.mail.to_address == draft.to
        ):
            return event
    return None


def _lock_ticket(ticket: Ticket) -> None:
    """Serialise replies on one ticket (PostgreSQL row lock; SQLite runs one writer)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Ticket.id).where(Ticket.id == ticket.id).with_for_update(key_share=True)
        )


def send_reply(
    actor: Actor,
    ticket: Ticket,
    *,
    to: str,
    body: str,
    resolve: bool,
    in_reply_to_event: TicketEvent | None = None,
) -> TicketEvent:
    """Queue the reply, note it on the ticket, audit it; the ticket then waits on the voter
    ("en attente"), or is resolved with `resolve`. A double click sends one mail."""
    _lock_ticket(ticket)
    draft = prepare_reply(actor, ticket, to=to, body=body, in_reply_to_event=in_reply_to_event)
    already = _same_reply_just_sent(actor, ticket, draft)
    if already is not None:
        return already
    mail = enqueue_reply(
        to_address=draft.to,
        context=draft.context,
        ticket_id=ticket.id,
        sender_csu_id=ticket.csu_id,
        voter=draft.voter,
        in_reply_to=draft.in_reply_to,
        references=draft.references,
    )
    event = add_event(ticket, actor, "reply", draft.body, mail_id=mail.id)
    db.session.flush()
    audit.record(
        actor, "ticket.reply", voter_id=ticket.voter_id, ticket_id=ticket.id, mail_id=mail.id
    )
    change_status(actor, ticket, Status.RESOLVED if resolve else Status.WAITING)
    return event
