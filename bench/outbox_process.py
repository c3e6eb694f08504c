"""One outbox sender process of the outbox figure's "1 and 2 processes" rows.

    python -m bench.outbox_process     # configured by CSUDESK_* (database, MAIL_PORT)

Starts the app, warms up (mappers, one empty sending pass, the mail templates compiled),
prints "ready", waits for a line on stdin, then drains the outbox as `flask --app csudesk mail send`
does (`send_due` until a pass handles nothing) and prints how many mails it sent. Several of
them share one outbox: claims skip the rows another sender holds (FOR UPDATE SKIP LOCKED on
PostgreSQL; on SQLite a claim runs under the database's write lock).
"""

import sys

from sqlalchemy.orm import configure_mappers

from csudesk import create_app
from csudesk.extensions import db
from csudesk.mail import worker as sender


def main() -> int:
    app = create_app()
    with app.app_context():
        configure_mappers()
        if sender.send_due().handled:
            raise RuntimeError("mail was due before the start signal")
        for name in ("activation.txt", "activation.html", "_layout.html", "_contact.txt"):
            app.jinja_env.get_template(f"mail/{name}")
        print("ready", flush=True)
        sys.stdin.readline()
        sent = 0
        while True:
            report = sender.send_due()
            sent += report.sent
            if report.handled == 0 or report.failed or report.retried:
                break
        db.session.remove()
    print(sent, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
