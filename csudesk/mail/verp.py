"""Per-mail envelope senders (VERP), so that a bounce names the mail it is about.

With MAIL_BOUNCE_ADDRESS = "retours@csudesk.example", outbox mail n° 42 leaves with the SMTP
envelope sender (MAIL FROM) "retours+42-<mac>@csudesk.example", where <mac> is the first 8
hex digits of an HMAC of the id under a key derived from SECRET_KEY: a delivery-status
notification comes back to that address, and only this server could have made it, so a
forged bounce cannot mark just any mail as rejected. The mail server must deliver
"retours+<anything>@" to the mailbox of "retours@" (Postfix's recipient_delimiter = +), and
that mailbox must be read by `flask mail fetch`.
"""

import hashlib
import hmac
import re

from flask import current_app

_OUTBOX_MESSAGE_ID = re.compile(r"^<outbox-(\d{1,12})\.")


def _mac(mail_id: int) -> str:
    key = ("outbox-verp:" + current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, str(mail_id).encode(), hashlib.sha256).hexdigest()[:8]


def bounce_address(mail_id: int) -> str | None:
    """The envelope sender of outbox mail `mail_id`, or None when MAIL_BOUNCE_ADDRESS is unset."""
    base = current_app.config.get("MAIL_BOUNCE_ADDRESS")
    if not base:
        return None
    local, _, domain = base.rpartition("@")
    return f"{local}+{mail_id}-{_mac(mail_id)}@{domain}"


def mail_id_of_bounce_address(address: str) -> int | None:
    """The outbox id a VERP address names, if its MAC is ours; None for anything else."""
    base = current_app.config.get("MAIL_BOUNCE_ADDRESS")
    if not base or not address:
        return None
    local, _, domain = base.lower().rpartition("@")
    match = re.fullmatch(
        rf"{re.escape(local)}\+(\d{{1,12}})-([0-9a-f]{{8}})@{re.escape(domain)}",
        address.strip().lower(),
    )
    if match is None:
        return None
    mail_id = int(match.group(1))
    return mail_id if hmac.compare_digest(match.group(2), _mac(mail_id)) else None


def outbox_id_of_message_id(message_id: str | None) -> int | None:
    """The outbox id in a Message-ID made by mail.services.message_id_for, if it is one."""
    match = _OUTBOX_MESSAGE_ID.match(message_id or "")
    return int(match.group(1)) if match else None
