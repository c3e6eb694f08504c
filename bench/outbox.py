"""Figure 3: the outbox sender's mails/s to a local SMTP sink, beside bare smtplib.

The mail is queued by the real support action (activation links to voters of the roll), then
`mail.worker.send_due` drains it as `flask --app csudesk mail send` does: claim, draw the token,
render, SMTP, mark sent. The anchor hands the same rendered messages to the same sink process
with smtplib over one connection.
"""

import smtplib
import subprocess
import sys
import time
from contextlib import contextmanager
from email.utils import parseaddr

from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bench.harness import ROOT, Database, Row, fmt_int, free_port
from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.mail import worker as sender
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.roll.models import Voter

FIGURE = "outbox sender to a local SMTP sink"
TARGET_SHARE = 0.5
# A link URL as long as a real one: the anchor's messages weigh what the sender's weigh.
SAMPLE_LINK = "http://127.0.0.1:5000/activation/" + "x" * 43


@contextmanager
def smtp_sink():
    """A counting aiosmtpd server in another process; yields its port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.smtp_sink", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def queue_activation_mails(count: int) -> int:
    """Queue `count` activation mails through the support action, as agents would."""
    voters = db.session.scalars(
        select(Voter).options(selectinload(Voter.emails)).order_by(Voter.id).limit(count)
    ).all()
    system = Actor.system()
    for index, voter in enumerate(voters, 1):
        resend_activation_link(system, voter, voter.emails[0].address)
        if index % 500 == 0:
            db.session.commit()
    db.session.commit()
    return len(voters)


def rendered_messages() -> list[tuple[str, str, bytes]]:
    """The pending mail as the sender would build it, ready for smtplib."""
    messages = []
    for row in db.session.scalars(
        select(OutboxMail).where(OutboxMail.status == MailStatus.PENDING).order_by(OutboxMail.id)
    ):
        subject, body, html = sender.render(row, SAMPLE_LINK)
        message = Message(subject=subject, recipients=[row.to_address], body=body, html=html)
        messages.append((parseaddr(message.sender)[1], row.to_address, message.as_bytes()))
    db.session.rollback()
    return messages


def send_with_smtplib(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for from_address, to_address, content in messages:
            client.sendmail(from_address, [to_address], content)
    return time.perf_counter() - started


def drain_outbox() -> tuple[float, int]:
    """Run the sender until nothing is due; seconds taken and mails sent."""
    sent = 0
    started = time.perf_counter()
    while True:
        report = sender.send_due()
        sent += report.sent
        if report.handled == 0 or report.failed or report.retried:
            break
    return time.perf_counter() - started, sent


def run(database: Database, mails: int) -> list[Row]:
    """Queue `mails` activation mails on the roll already loaded, then send them twice."""
    with smtp_sink() as port, database.app_context(MAIL_PORT=port):
        queued = queue_activation_mails(mails)
        messages = rendered_messages()
        anchor_seconds = send_with_smtplib(port, messages)
        seconds, sent = drain_outbox()
    if sent != queued or len(messages) != queued:
        raise RuntimeError(f"queued {queued}, rendered {len(messages)}, sent {sent}")
    rate, anchor_rate = sent / seconds, len(messages) / anchor_seconds
    return [
        Row(
            f"{FIGURE}, mails/s",
            database.name,
            fmt_int(rate),
            fmt_int(anchor_rate),
            f"{rate / anchor_rate:.0%}",
            f"≥ {TARGET_SHARE:.0%} of anchor",
            rate >= TARGET_SHARE * anchor_rate,
            f"{sent} activation mails",
        )
    ]
