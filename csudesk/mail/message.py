"""A mail's bytes, built once: multipart/alternative (plain text, HTML), UTF-8, CRLF lines.

The sender used to build a Flask-Mail `Message` whose `as_bytes()` makes compat32 MIME
objects, encodes their headers, then has the SMTP policy parse and fold every header again:
2.9 ms a mail, more than the SMTP transaction. Here the message is written out directly, in
the form the standard library's `EmailMessage` (policy SMTP) gives the same parts:

- a header that is short printable ASCII is written as is; any other (accents, a long
  References) is folded and RFC 2047-encoded by the standard library's header classes, with
  a cache, since the sender and most subjects are the same for every mail of a campaign;
- a line break inside a header value becomes a space: no header can be injected;
- each part is UTF-8, "8bit" as Flask-Mail sent it, or base64 when a line passes the
  998 octets SMTP allows (an agent's long paragraph);
- the boundary is random and checked against the parts.
"""

import base64
import secrets
from dataclasses import dataclass
from email.policy import SMTP
from email.utils import formataddr, formatdate
from functools import lru_cache

CRLF = b"\r\n"
MAX_HEADER_LINE = 78  # RFC 5322's recommended limit, as the SMTP policy folds
MAX_BODY_LINE = 998  # RFC 5322's hard limit for an "8bit" line, CRLF excluded


@dataclass(frozen=True)
class OutgoingMail:
    """What the SMTP transaction needs: the From address, the recipients, the DATA bytes."""

    message_id: str
    from_address: str
    recipients: tuple[str, ...]
    content: bytes


def compose(
    *,
    sender: tuple[str, str],
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: float | None = None,
) -> OutgoingMail:
    """The whole message, serialised once. `sender` is (display name, address)."""
    plain = _part("plain", text)
    rich = _part("html", html)
    boundary = _boundary(plain, rich)
    headers = [
        _header("From", formataddr(sender, charset="utf-8")),
        _header("To", to),
        _header("Subject", subject),
        _header("Date", formatdate(date, localtime=True)),
        _header("Message-ID", message_id),
    ]
    if reply_to:
        headers.append(_header("Reply-To", reply_to))
    if in_reply_to:
        headers.append(_header("In-Reply-To", in_reply_to))
        headers.append(_header("References", references or in_reply_to))
    headers.append(b"MIME-Version: 1.0\r\n")
    headers.append(b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n')
    delimiter = b"--" + boundary
    content = b"".join(
        (
            *headers,
            CRLF,
            delimiter,
            CRLF,
            plain,
            CRLF,
            delimiter,
            CRLF,
            rich,
            CRLF,
            delimiter,
            b"--\r\n",
        )
    )
    return OutgoingMail(message_id, sender[1], (to,), content)


def _header(name: str, value: str) -> bytes:
    value = " ".join(value.splitlines())
    if value.isascii() and value.isprintable() and len(name) + 2 + len(value) <= MAX_HEADER_LINE:
        return f"{name}: {value}\r\n".encode("ascii")
    return _folded(name, value)


@lru_cache(maxsize=256)
def _folded(name: str, value: str) -> bytes:
    """The header as EmailMessage writes it under the SMTP policy: parsed, encoded, folded."""
    return SMTP.header_factory(name, value).fold(policy=SMTP).encode("ascii")


def _part(subtype: str, text: str) -> bytes:
    """One text part, its headers and body; the body keeps the text's own last line break."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    content_type = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'.encode("ascii")
    if b"\0" in body or max(map(len, body.split(b"\n"))) > MAX_BODY_LINE:
        encoded = base64.encodebytes(body.replace(b"\n", CRLF)).replace(b"\n", CRLF)
        return content_type + b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded.rstrip()
    return content_type + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace(b"\n", CRLF)


def _boundary(*parts: bytes) -> bytes:
    while True:
        boundary = f"=_{secrets.token_hex(12)}".encode("ascii")
        if not any(boundary in part for part in parts):
            return boundary
