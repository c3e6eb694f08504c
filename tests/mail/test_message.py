"""The outbox's message bytes read as the standard library's EmailMessage reads its own."""

import email
import email.policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import pytest

from csudesk.mail import message as mail_message
from csudesk.mail.message import compose

DATE = 1_790_000_000.0
SITE = ("Élections professionnelles — assistance", "ne-pas-repondre@csudesk.example")
LILLE = ("CSU de l'académie de Lille, bureau des élections (DPE)", "csu-elections@ac-lille.fr")
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
)
TEXT = "Bonjour Marie,\n\nVoici votre lien à usage unique :\n\nhttp://csudesk.test/activation/abc\n"
HTML = "<p>Bonjour Marie,</p>\n<p>Voici votre lien à usage unique.</p>"

CASES = {
    "activation": dict(
        sender=SITE,
        to="marie.dupont@ac-lille.fr",
        subject="Élections professionnelles 2026 : votre lien d'activation",
        text=TEXT,
        html=HTML,
        message_id="<outbox-1.1790000000@csudesk.example>",
    ),
    "reply in a long thread": dict(
        sender=LILLE,
        to="paul.durand@ac-lille.fr",
        subject="[CSU T-2026-000123] Re: Lien jamais reçu, je n'arrive pas à voter depuis "
        "l'établissement : que faire ?",
        text="Bonjour,\r\n\r\nC'est réglé.\rÀ bientôt <ou pas> & merci.\n.\nFrom here on.\n",
        html=HTML + " 🗳️",
        message_id="<outbox-42.1790000000@csudesk.example>",
        reply_to=LILLE[1],
        in_reply_to="<q9@ac-lille.fr>",
        references=" ".join(f"<message-{n}.{'x' * 20}@ac-lille.fr>" for n in range(8)),
    ),
    "ascii name with specials, one long line": dict(
        sender=("CSU Lille (DPE), bureau 2", "csu@ac-lille.fr"),
        to="a.b@ac-lille.fr",
        subject="Votre demande",
        text="Un paragraphe sans retour à la ligne. " * 60,
        html="<p>" + "Un paragraphe très long. " * 60 + "</p>",
        message_id="<outbox-7.1790000000@csudesk.example>",
        reply_to="csu@ac-lille.fr",
        in_reply_to="<q1@ac-lille.fr>",
    ),
}


def reference(case: dict) -> bytes:
    """The same mail built the standard library's way."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr(case["sender"])
    message["To"] = case["to"]
    message["Subject"] = case["subject"]
    message["Date"] = formatdate(DATE, localtime=True)
    message["Message-ID"] = case["message_id"]
    if case.get("reply_to"):
        message["Reply-To"] = case["reply_to"]
    if case.get("in_reply_to"):
        message["In-Reply-To"] = case["in_reply_to"]
        message["References"] = case.get("references") or case["in_reply_to"]
    message.set_content(case["text"])
    message.add_alternative(case["html"], subtype="html")
    return message.as_bytes()


def parse(content: bytes) -> EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)


def lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")


@pytest.mark.parametrize("name", CASES)
def test_the_mail_reads_as_the_standard_librarys_own(name):
    case = CASES[name]
    ours = compose(**case, date=DATE)
    theirs = parse(reference(case))
    mine = parse(ours.content)
    for header in HEADERS:
        assert mine.get_all(header) == theirs.get_all(header), header
    assert mine.get_content_type() == theirs.get_content_type() == "multipart/alternative"
    assert not mine.defects and all(not part.defects for part in mine.walk())
    for subtype, source in (("plain", case["text"]), ("html", case["html"])):
        part, expected = mine.get_body((subtype,)), theirs.get_body((subtype,))
        assert part.get_content_type() == expected.get_content_type()
        assert part.get_content_charset() == "utf-8"
        assert lines(part.get_content()) == lines(expected.get_content()) == lines(source)
    assert (ours.message_id, ours.from_address, ours.recipients) == (
        case["message_id"],
        case["sender"][1],
        (case["to"],),
    )


@pytest.mark.parametrize("name", CASES)
def test_every_line_is_crlf_within_smtps_limits_and_headers_are_ascii(name):
    content = compose(**CASES[name], date=DATE).content
    head, _, body = content.partition(b"\r\n\r\n")
    head.decode("ascii")
    assert b"\n" not in content.replace(b"\r\n", b"")
    assert b"\r" not in content.replace(b"\r\n", b"")
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body.split(b"\r\n")) <= 998


def test_a_line_longer_than_smtp_allows_goes_base64():
    long_line = dict(CASES["activation"], text="é" * 600)
    part = parse(compose(**long_line).content).get_body(("plain",))
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_content() == "é" * 600
    short = parse(compose(**CASES["activation"]).content).get_body(("plain",))
    assert short["Content-Transfer-Encoding"] == "8bit"


def test_a_line_break_in_a_header_value_cannot_add_a_header():
    forged = dict(CASES["activation"], subject="Bonjour\r\nBcc: tous@ac-lille.fr\nX-Evil: 1")
    message = parse(compose(**forged).content)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Bonjour Bcc: tous@ac-lille.fr X-Evil: 1"


def test_the_boundary_never_occurs_in_a_part(monkeypatch):
    drawn = iter(["0" * 24, "1" * 24])
    monkeypatch.setattr(mail_message.secrets, "token_hex", lambda _: next(drawn))
    case = dict(CASES["activation"], text=f"Une ligne piège : --=_{'0' * 24}\n")
    content = compose(**case).content
    assert b'boundary="=_' + b"1" * 24 + b'"' in content
    assert lines(parse(content).get_body(("plain",)).get_content()) == lines(case["text"])
