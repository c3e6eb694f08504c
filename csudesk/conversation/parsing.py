"""Reading a message from a CSU mailbox into what a ticket may hold: safe, masked text.

Nothing here trusts the message. It is parsed with `email.policy.default` (compat32 when that
parser gives up), every header is read on its own and falls back to its raw value decoded with
replacement, so an unknown charset, 8-bit headers, broken base64 or garbage bytes give text with
"\ufffd" in it, never an exception.

The body becomes plain text, the only form a voter's message is ever shown to an agent in:
- the text/plain parts when there are any, else the text/html parts through a strict
  converter (html.parser: script, style and head dropped, line breaks kept for block
  elements, entities unescaped, no markup kept at all); the ticket page renders it escaped;
- cut at the first quoted-reply header ("Le … a écrit :", "On … wrote:", "-----Message
  d'origine-----"): what follows is our own earlier answer, already on the ticket, and the
  line says so;
- capped at MAX_TEXT characters (a note says how much was left out);
- masked with `tickets.masking.mask_secrets`, as the contact form's message (vote codes and
  passwords that voters type), like the subject and the attachments' names.

Attachments are never stored (no voter file on an agent's machine, nothing to scan or to
serve): each one is named, with its size, in a note appended to the text ("Pièce jointe non
conservée : facture.pdf (1,2 Mo)"), so the agent can ask the voter for it by other means.
"""

import email
import email.policy
import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from csudesk.text import normalize_email
from csudesk.tickets.masking import mask_secrets

log = logging.getLogger(__name__)
MAX_TEXT = 20_000
MAX_PARTS = 200  # parts walked in one message (a message of 10,000 empty parts is no mail)
MAX_DEPTH = 12  # nesting of multiparts followed
QUOTE_NOTE = "[message précédent cité, non repris]"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MSG_ID = re.compile(r"<[^<>\s]{1,900}>")
_BLANK_LINES = re.compile(r"\n{3,}")
_QUOTE_HEADER = re.compile(
    r"(?i)^\s*(?:"
    r"le\s.{0,200}?\sa\s+[ée]crit\s*:"
    r"|on\s.{0,200}?\swrote\s*:"
    r"|-{2,}\s*(?:message\s+d['’]origine|original\s+message|message\s+original)\s*-{2,}"
    r")\s*$"
)


@dataclass
class Attachment:
    name: str
    size: int

    @property
    def note(self) -> str:
        return f"Pièce jointe non conservée : {self.name} ({human_size(self.size)})"


@dataclass
class ParsedMail:
    message: Message
    from_address: str | None = None  # normalised; None when missing or unreadable
    subject: str = ""
    sent_at: datetime | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""  # the safe text, masked, attachment notes included
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read, in French
    has_headers: bool = True

    def header(self, name: str) -> str | None:
        """One header's value as text (first occurrence), None when absent."""
        return header_text(self.message, name)

    def headers(self, name: str) -> list[str]:
        """Every occurrence of a header, as text."""
        wanted = name.lower()
        return [_decoded(raw) for key, raw in self.message.raw_items() if key.lower() == wanted]

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, most telling first: In-Reply-To, then References
        from the newest."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen[:50]


def parse(raw: bytes) -> ParsedMail:
    """Parse a raw message into a ParsedMail; never raises on bad input."""
    message = _message(raw)
    mail = ParsedMail(message=message)
    mail.has_headers = any(True for _ in message.raw_items())
    _read_headers(mail)
    _read_body(mail)
    return mail


class _ReadingPolicy(email.policy.EmailPolicy):
    """email.policy.default, with each header parsed once however often it is read: a part's
    Content-Type is read seven times while a plain message is walked, and parsing it is the
    cost of the read (the same text always gives an equal, immutable header object)."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or len(value) > _PARSED_VALUE_MAX:
            return super().header_fetch_parse(name, value)
        return _parsed_header(name, value)


_PARSED_VALUE_MAX = 1000  # longer values (a long References, hostile input) are not kept
_READING_POLICY = _ReadingPolicy()


@functools.lru_cache(maxsize=256)
def _parsed_header(name: str, value: str):
    # Keyed by the text alone: the policy's copies (as_string() clones it) parse alike.
    return email.policy.default.header_fetch_parse(name, value)


def _message(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw, policy=_READING_POLICY)
    except Exception:  # a parser bug on hostile input: the old parser is more forgiving
        try:
            return email.message_from_bytes(raw, policy=email.policy.compat32)
        except Exception:
            return email.message_from_bytes(b"\r\n" + raw.replace(b"\x00", b""))


# --- Text hygiene ----------------------------------------------------------------------------


def clean(text: str, limit: int | None = None) -> str:
    """Text any database accepts: lone surrogates repaired, control characters dropped."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:limit] if limit is not None else text


def _one_line(text: str, limit: int) -> str:
    return " ".join(clean(text).split())[:limit]


def _decoded(raw: str) -> str:
    """A raw header value with its encoded words decoded, unknown charsets with replacement."""
    try:
        pieces = decode_header(raw)
    except Exception:
        return clean(raw)
    out = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        out.append(_decode_bytes(chunk, charset or "utf-8")[0])
    return clean("".join(out))


def header_text(message: Message, name: str) -> str | None:
    """A header's decoded value; the raw value decoded by hand when the parser fails on it."""
    try:
        value = message.get(name)
        return None if value is None else clean(str(value))
    except Exception:
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return _decoded(raw)
        return None


def _decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Bytes as text, and the problem met (an unknown charset), if any."""
    if charset:
        try:
            return data.decode(charset, "replace"), None
        except (LookupError, ValueError):
            return (
                data.decode("utf-8", "replace"),
                f"jeu de caractères inconnu ({_one_line(charset, 40)}) : texte décodé avec"
                " remplacement",
            )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), None


def human_size(size: int) -> str:
    """A size as French readers write it: 350 octets, 12 Ko, 1,2 Mo."""
    if size < 1024:
        return f"{size} octets"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} Ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


# --- Headers ---------------------------------------------------------------------------------


def _read_headers(mail: ParsedMail) -> None:
    message = mail.message
    sender = header_text(message, "From")
    if sender:
        try:
            addresses = [pair for pair in getaddresses([sender]) if pair[1]]
        except Exception:
            addresses = []
        if addresses:
            mail.from_address = normalize_email(clean(addresses[0][1], 254)) or None
    if mail.from_address is None:
        mail.problems.append("expéditeur (From) absent ou illisible")
    mail.subject = mask_secrets(_one_line(header_text(message, "Subject") or "", 500))
    date = header_text(message, "Date")
    if date:
        try:
            sent_at = parsedate_to_datetime(date)
            mail.sent_at = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
            mail.sent_at = mail.sent_at.astimezone(UTC)
        except (TypeError, ValueError, IndexError, OverflowError):
            mail.sent_at = None
    mail.message_id = (_ids(header_text(message, "Message-ID")) or [None])[0]
    mail.in_reply_to = _ids(header_text(message, "In-Reply-To"))[:5]
    mail.references = _ids(header_text(message, "References"))[-50:]


def _ids(value: str | None) -> list[str]:
    return [clean(m) for m in _MSG_ID.findall(value or "")]


# --- Body ------------------------------------------------------------------------------------


def _read_body(mail: ParsedMail) -> None:
    plain: list[str] = []
    html: list[str] = []
    _walk(mail, mail.message, plain, html, depth=0, counter=[0])
    if plain:
        text = "\n\n".join(plain)
    elif html:
        text = "\n\n".join(html_to_text(h) for h in html)
    else:
        text = ""
    text = _tidy(text)
    text, quoted = cut_quoted_reply(text)
    if len(text) > MAX_TEXT:
        left_out = len(text) - MAX_TEXT
        limit = f"{MAX_TEXT:,}".replace(",", "\u202f")
        text = (
            f"{text[:MAX_TEXT]}\n\n[… message tronqué : {left_out} caractères au-delà de"
            f" {limit} non conservés]"
        )
    text = mask_secrets(text)
    if quoted:
        text += f"\n\n{QUOTE_NOTE}"
    notes = [a.note for a in mail.attachments]
    if notes:
        text = (text + "\n\n" if text else "") + "\n".join(f"[{n}]" for n in notes)
    mail.text = text


def _walk(mail, part: Message, plain, html, depth: int, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_PARTS or depth > MAX_DEPTH:
        if "message trop complexe : parties au-delà de la limite ignorées" not in mail.problems:
            mail.problems.append("message trop complexe : parties au-delà de la limite ignorées")
        return
    if part.is_multipart():
        try:
            children = part.get_payload()
        except Exception:
            children = []
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                _walk(mail, child, plain, html, depth + 1, counter)
        return
    ctype = part.get_content_type()
    if ctype.startswith("multipart/"):
        ctype = "text/plain"  # a multipart without a boundary: its body is all there is
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if disposition == "attachment" or filename or ctype not in ("text/plain", "text/html"):
        data = _payload(part)
        if data or filename:
            mail.attachments.append(
                Attachment(name=filename or f"sans nom ({ctype})", size=len(data))
            )
        return
    data = _payload(part)
    text, problem = _decode_bytes(data, part.get_content_charset())
    if problem and problem not in mail.problems:
        mail.problems.append(problem)
    (plain if ctype == "text/plain" else html).append(clean(text))


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        return part.as_bytes()
    except Exception:
        return b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return None
    if isinstance(name, tuple):  # compat32's RFC 2231 triple
        name = str(name[2])
    name = _one_line(_decoded(name), 120).replace("/", "_").replace("\\", "_")
    return mask_secrets(name) or None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in clean(text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def cut_quoted_reply(text: str) -> tuple[str, bool]:
    """The text up to the first quoted-reply header line, and whether it was cut.

    The header may be wrapped over two lines (mail clients break "Le …, X <x@y> a écrit :").
    Nothing is cut when the header comes first: then the whole message is the quote.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        joined = line if index + 1 >= len(lines) else f"{line} {lines[index + 1]}"
        for candidate in (line, joined):
            if len(candidate) < 300 and _QUOTE_HEADER.match(candidate):
                head = "\n".join(lines[:index]).rstrip()
                if head.strip():
                    return head, True
                return text, False
    return text, False


# --- HTML to text ----------------------------------------------------------------------------

_DROPPED = {"script", "style", "head", "title", "template", "noscript", "svg", "math", "object"}
_BREAKS = {"br", "p", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr"}
_BREAKS |= {"ul", "ol", "table", "pre", "section", "article", "header", "footer", "address"}


class _TextOnly(HTMLParser):
    """Keeps the text of an HTML document only; no element or attribute gets through."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in _DROPPED:
            self.dropping += 1
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BREAKS:
            self.out.append("\n")
            self.pre += tag == "pre"
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in _DROPPED:
            self.dropping = max(self.dropping - 1, 0)
        elif tag in _BREAKS:
            self.out.append("\n")
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)

    def parse_marked_section(self, i, report=1):
        """An unknown "<![...]>" section (Outlook writes them) is skipped, not an error."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def handle_data(self, data):
        if self.dropping:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The text of an HTML body, line breaks kept, entities unescaped, no markup at all."""
    parser = _TextOnly()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is forgiving; keep what it read
        log.warning("HTML body only partly converted", exc_info=True)
    text = "".join(parser.out)
    return "\n".join(line.strip() for line in text.split("\n"))
