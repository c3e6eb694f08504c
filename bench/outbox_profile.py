"""Where one outbox batch spends its time, per mail: a cProfile of `send_due` over N mails.

    python -m bench.outbox_profile [--mails 500] [--database sqlite|postgresql] [--top 25]

The roll is the one `python -m bench` left in bench/work (run `python -m bench --quick --only
outbox` once first); the mails are activation links queued by the support action, sent in one
batch to the bench's SMTP sink. Prints the phases (render, message, serialise, SMTP, database)
in ms per mail, then the top functions by own time.
"""

import argparse
import cProfile
import os
import pstats
import sys

from bench.__main__ import DEFAULT_POSTGRES_URL
from bench.harness import ROOT, Database
from bench.outbox import queue_activation_mails, smtp_sink
from csudesk.extensions import db
from csudesk.mail import worker as sender
from csudesk.mail.models import MailStatus, OutboxMail

# (label, file suffix, function name): the phases a mail goes through, by cumulative time.
PHASES = (
    ("claim (transaction)", "mail/worker.py", "_claim"),
    ("prepare (transaction, all below)", "mail/worker.py", "_prepare"),
    ("  render (Jinja)", "mail/worker.py", "render"),
    ("  draw token", "links/services.py", "draw_token"),
    ("  build message (mail/message.py)", "mail/message.py", "compose"),
    ("  flask_mail.Message()", "flask_mail/__init__.py", "__init__"),
    ("SMTP transaction (all below)", "mail/worker.py", "_smtp_send"),
    ("  serialise (flask_mail as_bytes)", "flask_mail/__init__.py", "as_bytes"),
    ("  smtplib mail/rcpt", "smtplib.py", "mail"),
    ("  smtplib data", "smtplib.py", "data"),
    ("  smtplib sendmail", "smtplib.py", "sendmail"),
    ("record + commit", "orm/session.py", "commit"),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_profile", description=__doc__)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    work = ROOT / "bench" / "work"
    database = (
        Database.sqlite(work)
        if args.database == "sqlite"
        else Database.postgresql(args.postgres_url, work)
    )
    with smtp_sink() as port, database.app_context(MAIL_PORT=port, LINK_DEDUP_SECONDS=0):
        db.session.query(OutboxMail).delete()
        db.session.commit()
        queue_activation_mails(args.mails)
        # A voter mailed seconds ago (an earlier run) gets no second mail: count the rows.
        queued = db.session.query(OutboxMail).filter_by(status=MailStatus.PENDING).count()
        profile = cProfile.Profile()
        profile.enable()
        report = sender.send_due(batch=queued)
        profile.disable()
        left = db.session.query(OutboxMail).filter_by(status=MailStatus.PENDING).count()
    if report.sent != queued or left:
        raise RuntimeError(f"queued {queued}, sent {report.sent}, {left} left")
    stats = pstats.Stats(profile)
    total = sum(row[3] for row in stats.stats.values()) and max(
        row[3] for row in stats.stats.values()
    )
    print(f"{database.name}: {queued} mails in one batch, {1000 * total / queued:.2f} ms/mail")
    for label, suffix, name in PHASES:
        cumulative = sum(
            row[3]
            for (path, _, function), row in stats.stats.items()
            if function == name and path.endswith(suffix)
        )
        if cumulative:
            print(f"  {label:<36} {1000 * cumulative / queued:6.3f} ms/mail")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
