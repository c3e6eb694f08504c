"""Figure 3: the outbox sender's mails/s to a local SMTP sink, beside bare smtplib.

The mail is queued by the real support action (activation links to voters of the roll), then
`mail.worker.send_due` drains it as `flask --app csudesk mail send` does: claim, draw the token,
render, build the message, SMTP, mark sent. The anchor hands the same messages (rendered and
built by the same functions beforehand, untimed) to the same sink process with smtplib over
one connection. Then fresh mail is drained by 1 and by 2 sender processes sharing the outbox
(bench/outbox_process.py, each with a sink of its own), timed from the moment they are all
told to start.
"""

import smtplib
import subprocess
import sys
import time
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bench.harness import ROOT, Database, Row, bench_process, fmt_int, free_port
from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.mail import worker as sender
from csudesk.mail.message import compose
from csudesk.mail.models import MailStatus, OutboxMail
from csudesk.roll.models import Voter

FIGURE = "outbox sender to a local SMTP sink"
TARGET_SHARE = 0.4  # issue 14 target 7: at least 40 % of the smtplib anchor
TARGET_TWO_PROCESSES = 1.6  # two sender processes against one, on the same outbox
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


def queue_activation_mails(count: int, offset: int = 0) -> int:
    """Queue `count` activation mails through the support action, as agents would, to the
    voters from the `offset`-th on (a voter mailed seconds ago would get no second mail)."""
    voters = db.session.scalars(
        select(Voter)
        .options(selectinload(Voter.emails))
        .order_by(Voter.id)
        .offset(offset)
        .limit(count)
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
    site_sender = sender.default_sender()
    for row in db.session.scalars(
        select(OutboxMail).where(OutboxMail.status == MailStatus.PENDING).order_by(OutboxMail.id)
    ):
        subject, body, html = sender.render(row, SAMPLE_LINK)
        message = compose(
            sender=site_sender,
            to=row.to_address,
            subject=subject,
            text=body,
            html=html,
            message_id=row.message_id,
        )
        messages.append((message.from_address, row.to_address, message.content))
    db.session.rollback()
    return messages


def send_with_smtplib(port: int, messages: list[tuple[str, str, bytes]]) -> tuple[float, float]:
    """Seconds taken, wall and this process's CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for from_address, to_address, content in messages:
            client.sendmail(from_address, [to_address], content)
    return time.perf_counter() - started, time.process_time() - cpu


def drain_outbox() -> tuple[float, float, int]:
    """Run the sender until nothing is due; seconds taken (wall, this process's CPU) and
    mails sent."""
    sent = 0
    started, cpu = time.perf_counter(), time.process_time()
    while True:
        report = sender.send_due()
        sent += report.sent
        if report.handled == 0 or report.failed or report.retried:
            break
    return time.perf_counter() - started, time.process_time() - cpu, sent


def drain_with_processes(
    database: Database, ports: list[int], mails: int, offset: int
) -> tuple[float, int, list[int]]:
    """Start one sender process per SMTP sink port; once they are ready, queue `mails`
    activation mails (to voters from the `offset`-th on) and let the processes drain the
    outbox together. Returns the seconds from the start signal to the last one's end, the
    mails queued and the mails each process sent.

    Each sender has a sink of its own: one aiosmtpd process (a single Python thread) accepts
    fewer mails a second than two senders hand it, and would be what is measured.
    """
    processes = [
        bench_process("bench.outbox_process", database.env(MAIL_PORT=port)) for port in ports
    ]
    try:
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("an outbox sender process did not start")
        queued = queue_activation_mails(mails, offset)
        db.session.remove()  # no connection of ours open while the processes work
        started = time.perf_counter()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        sent = [int(process.stdout.readline()) for process in processes]
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.stdin.close()
            if process.wait(timeout=60) != 0:
                raise RuntimeError(f"an outbox sender process exited with {process.returncode}")
            process.stdout.close()
    return seconds, queued, sent


def run(database: Database, mails: int) -> list[Row]:
    """Queue `mails` activation mails on the roll already loaded, then send them twice; then
    drain as many fresh mails with one sender process, and with two."""
    rates, shares = {}, {}
    with smtp_sink() as port, database.app_context(MAIL_PORT=port):
        queued = queue_activation_mails(mails)
        messages = rendered_messages()
        anchor_seconds, anchor_cpu = send_with_smtplib(port, messages)
        seconds, cpu, sent = drain_outbox()
        if sent != queued or len(messages) != queued:
            raise RuntimeError(f"queued {queued}, rendered {len(messages)}, sent {sent}")
        with smtp_sink() as second_port:
            for count, ports in ((1, [port]), (2, [port, second_port])):
                process_seconds, fresh, process_sent = drain_with_processes(
                    database, ports, mails, offset=count * mails
                )
                if sum(process_sent) != fresh:
                    raise RuntimeError(f"{count} processes: queued {fresh}, sent {process_sent}")
                rates[count] = fresh / process_seconds
                shares[count] = " + ".join(map(str, process_sent))
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
            f"{sent} activation mails; CPU of the sending process"
            f" {1000 * cpu / sent:.2f} ms a mail, anchor {1000 * anchor_cpu / sent:.2f} ms",
        ),
        Row(
            f"{FIGURE}, 2 sender processes beside 1: mails/s",
            database.name,
            fmt_int(rates[2]),
            fmt_int(rates[1]),
            f"{rates[2] / rates[1]:.2f}×",
            f"≥ {TARGET_TWO_PROCESSES}× one process",
            rates[2] >= TARGET_TWO_PROCESSES * rates[1],
            f"{mails} fresh mails each time, sent {shares[2]}; a sink per sender process",
        ),
    ]
