"""Figure: `mail fetch` from a local Dovecot, messages/s, beside imaplib alone.

The messages are APPENDed to a Dovecot started as the tests start theirs (the runner is
csudesk/devtools/dovecot.py, which both import: bench/ and tests/ never import each other),
most from addresses of the roll already loaded, some from unknown senders. The anchor logs in,
selects the folder read-only, searches the UIDs and reads them in batches of
INBOUND_FETCH_BATCH with `UID FETCH (UID RFC822.SIZE BODY.PEEK[])`, as the fetcher does, and
keeps nothing. Then `conversation.fetcher.fetch_mailbox` imports them as `flask mail fetch`
does: per batch a size check, then per message its row inserted and `mail_in.process` (the
real one, whatever it does in this commit), a commit every COMMIT_EVERY messages.

The table already holds EARLIER_SHARE times as many messages read from other mailboxes, as in
the middle of a vote: a lookup that reads the whole table (the Message-ID of an earlier copy,
before it had an index) shows in the figure instead of hiding behind an empty table.
"""

import random
import time
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from sqlalchemy import delete, insert, select, update

from bench.harness import Database, Row, fmt_int
from csudesk.conversation import fetcher
from csudesk.conversation.mailboxes import parse_mailbox
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.db import utcnow
from csudesk.devtools.dovecot import Dovecot
from csudesk.extensions import db
from csudesk.roll.models import Voter, VoterEmail
from csudesk.tickets.models import TicketEvent

FIGURE = "mail fetch from a local Dovecot"
MAILBOX = "BENCH"
EARLIER_MAILBOX = "BENCH-EARLIER"
EARLIER_SHARE = 10  # messages already in the table, per message fetched
CSU = "AC-09"
# The anchor writes nothing: no fetcher that records each message reaches a share of it worth
# a target. The target is the rate a backlog needs: 10 000 messages in under three minutes.
TARGET_RATE = 60
UNKNOWN_SHARE = 0.2
SUBJECTS = [
    "Je n'ai pas reçu mon lien d'activation",
    "Mot de passe refusé",
    "Identifiant inconnu",
    "Question sur le vote",
]
BODY = (
    "Bonjour,\n\nJe n'arrive pas à me connecter au portail des élections : le lien reçu hier"
    " ne fonctionne plus et la page indique qu'il a expiré. J'ai vérifié mes courriers"
    " indésirables. Pouvez-vous m'en renvoyer un ?\n\nMerci d'avance,\n{name}\n"
)


def messages(count: int, seed: int = 2026) -> list[bytes]:
    """`count` French requests, most from roll addresses of the CSU (in an app context)."""
    rng = random.Random(seed)
    senders = db.session.execute(
        select(Voter.first_name, Voter.last_name, VoterEmail.address)
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(VoterEmail.position == 0)
        .order_by(Voter.id)
        .limit(count)
    ).all()
    db.session.rollback()
    raws = []
    for number in range(count):
        if senders and rng.random() >= UNKNOWN_SHARE:
            first, last, address = senders[number % len(senders)]
        else:
            first, last, address = "Camille", f"Inconnu{number}", f"camille{number}@perso.example"
        message = EmailMessage()
        message["From"] = f"{first} {last} <{address}>"
        message["To"] = "csu-elections@ac-lille.example"
        message["Subject"] = rng.choice(SUBJECTS)
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = f"<bench-{seed}-{number}@perso.example>"
        message.set_content(BODY.format(name=f"{first} {last}"))
        raws.append(bytes(message).replace(b"\n", b"\r\n"))
    return raws


def _fill_earlier(count: int) -> int:
    """Empty the bench's mailboxes of a previous run, then write `count` earlier messages."""
    ours = select(InboundMessage.id).where(InboundMessage.mailbox.in_((MAILBOX, EARLIER_MAILBOX)))
    # A ticket's history names the message it came with: forget it, the tickets stay.
    db.session.execute(
        update(TicketEvent)
        .where(TicketEvent.inbound_message_id.in_(ours))
        .values(inbound_message_id=None)
    )
    db.session.execute(delete(InboundMessage).where(InboundMessage.id.in_(ours)))
    now = utcnow()
    for start in range(0, count, 10_000):
        db.session.execute(
            insert(InboundMessage),
            [
                {
                    "mailbox": EARLIER_MAILBOX,
                    "uidvalidity": 1,
                    "uid": uid,
                    "message_id": f"<earlier-{uid}@perso.example>",
                    "from_address": f"agent{uid}@perso.example",
                    "subject": "Question sur le vote",
                    "fetched_at": now,
                    "size": 1200,
                    "status": InboundStatus.SET_ASIDE,
                }
                for uid in range(start + 1, min(count, start + 10_000) + 1)
            ],
        )
    db.session.commit()
    return count


def fetch_with_imaplib(server: Dovecot, user: str, batch: int) -> tuple[float, int]:
    """Seconds taken and messages read by imaplib alone, batch by batch."""
    started = time.perf_counter()
    client = server.connect(user)
    client.select("INBOX", readonly=True)
    _status, data = client.uid("SEARCH", "UID 1:*")
    uids = data[0].split()
    read = 0
    for start in range(0, len(uids), batch):
        chunk = b",".join(uids[start : start + batch]).decode()
        _status, parts = client.uid("FETCH", chunk, "(UID RFC822.SIZE BODY.PEEK[])")
        read += sum(1 for part in parts if isinstance(part, tuple))
    client.logout()
    return time.perf_counter() - started, read


def run(database: Database, count: int) -> list[Row]:
    """APPEND `count` messages to a fresh Dovecot, read them with imaplib, then import them."""
    with Dovecot() as server, database.app_context():
        raws = messages(count)
        server.append("csu", raws)
        earlier = _fill_earlier(count * EARLIER_SHARE)
        batch = current_app.config["INBOUND_FETCH_BATCH"]
        anchor_seconds, read = fetch_with_imaplib(server, "csu", batch)
        mailbox = parse_mailbox(
            MAILBOX,
            {
                "csu": CSU,
                "host": server.host,
                "port": server.port,
                "security": "plain",
                "username": "csu",
                "password": server.password,
            },
            None,
            {},
        )
        started = time.perf_counter()
        report = fetcher.fetch_mailbox(mailbox)
        seconds = time.perf_counter() - started
        statuses = Counter(
            db.session.scalars(
                select(InboundMessage.status).where(InboundMessage.mailbox == MAILBOX)
            )
        )
        db.session.rollback()
    done = report.imported + report.set_aside
    if report.errors or done != count or read != count:
        raise RuntimeError(f"appended {count}, read {read}, fetched {report}")
    rate, anchor_rate = done / seconds, read / anchor_seconds
    outcomes = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return [
        Row(
            f"{FIGURE}, messages/s",
            database.name,
            fmt_int(rate),
            fmt_int(anchor_rate),
            f"{rate / anchor_rate:.0%}",
            f"≥ {TARGET_RATE} messages/s",
            rate >= TARGET_RATE,
            f"{count} messages, batches of {batch}, a commit every {fetcher.COMMIT_EVERY}"
            f" ({outcomes}), {earlier} earlier messages in the table",
        )
    ]
