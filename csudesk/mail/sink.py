"""A local SMTP sink for the demo (aiosmtpd): shows who got what, with the links to open."""

import email
import email.policy
import os
import re
import time

import click
from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class PrintingHandler:
    def __init__(self, maildir: str | None):
        self.maildir = maildir
        if maildir:
            os.makedirs(maildir, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        click.echo(f"\n[courrier de démonstration] à {', '.join(envelope.rcpt_tos)}")
        click.echo(f"  objet : {message['subject']}")
        for url in dict.fromkeys(LINK.findall(text)):
            click.echo(f"  lien  : {url}")
        if self.maildir:
            name = f"{time.time_ns()}.eml"
            with open(os.path.join(self.maildir, name), "wb") as handle:
                handle.write(envelope.content)
        return "250 Message accepted for delivery"


def serve(host: str, port: int, maildir: str | None) -> None:
    controller = Controller(PrintingHandler(maildir), hostname=host, port=port)
    controller.start()
    click.echo(f"Serveur SMTP de démonstration sur {host}:{port} (Ctrl+C pour arrêter).")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
