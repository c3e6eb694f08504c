"""How a message is read: each header parsed once, however often the import reads it."""

import email.policy

import pytest

from csudesk.conversation import parsing
from tests.fixtures.inbound import message


@pytest.fixture
def parsed(monkeypatch):
    """The names of the headers parsed from here on (what the cache did not answer)."""
    parsing._parsed_header.cache_clear()
    names = []
    fetch = email.policy.EmailPolicy.header_fetch_parse

    def counting(policy, name, value):
        names.append(name)
        return fetch(policy, name, value)

    monkeypatch.setattr(email.policy.EmailPolicy, "header_fetch_parse", counting)
    return names


def test_a_header_read_again_is_not_parsed_again(parsed):
    raw = message("Bonjour, mon lien a expiré.", subject="Lien expiré").as_bytes()
    parsed.clear()  # writing the message read its headers too
    mail = parsing.parse(raw)
    assert parsed.count("Content-Type") == 1  # read seven times while the body is walked
    assert mail.header("Subject") == "Lien expiré" and mail.text == "Bonjour, mon lien a expiré."
    assert mail.message.get_content_type() == "text/plain"
    assert parsed.count("Subject") == 1 and parsed.count("Content-Type") == 1


def test_a_long_header_is_parsed_each_time_it_is_read(parsed):
    """A long value (a References of many ids, or hostile input) is not kept in memory."""
    references = " ".join(f"<ref-{n}-{'x' * 30}@ac-lille.fr>" for n in range(60))
    raw = message("Suite.", subject="Re: Lien", references=references).as_bytes()
    parsed.clear()
    mail = parsing.parse(raw)
    assert len(mail.references) == 50
    assert mail.header("References") == references
    assert parsed.count("References") == 2
    assert mail.header("Subject") == "Re: Lien" and parsed.count("Subject") == 1
