"""The import's fast per-line checks give the answers of the full ones."""

import pytest

from csudesk.roll.checks import _invisible, find_invisible, is_valid_roll_email, line_digest
from csudesk.text import is_valid_email

ADDRESSES = [
    "marie.dupont@ac-lille.fr",
    "m.dupont+roll@ac-lille.fr",
    "o'brien@ac-paris.fr",
    "a!#$%&'*+/=?^_`{|}~-z@ac-lille.fr",
    "x" * 64 + "@ac-lille.fr",
    "x" * 65 + "@ac-lille.fr",
    "a" * 240 + "@ac-lille.fr",
    ".marie@ac-lille.fr",
    "marie.@ac-lille.fr",
    "ma..rie@ac-lille.fr",
    '"marie dupont"@ac-lille.fr',
    "marie@ac--lille.fr",
    "marie@-ac-lille.fr",
    "marie@ac-lille-.fr",
    "marie@ac-lille..fr",
    "marie@ac-lille.fr.",
    "marie@ac-lille",
    "marie@localhost",
    "marie@[192.0.2.1]",
    "marie@192.0.2.1",
    "marie@xn--ac-lill-9ya.fr",
    "marie@xn--zz.fr",
    "marie@ac_lille.fr",
    "marie@ac-lille.local",
    "marie@example.invalid",
    "marie@@ac-lille.fr",
    "@ac-lille.fr",
    "marie@",
    "marie",
    "marié@ac-lille.fr",
    "marie@ac-lillé.fr",
    "m\u0131ke@ac-lille.fr",
    "marie@" + "a" * 64 + ".fr",
    "marie@" + ".".join(["a" * 60] * 5) + ".fr",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_fast_address_check_agrees_with_the_full_one(address):
    # Twice: the second call answers from the domain cache.
    assert is_valid_roll_email(address) == is_valid_email(address)
    assert is_valid_roll_email(address) == is_valid_email(address)


def test_fast_address_check_accepts_the_ordinary_roll_addresses():
    assert is_valid_roll_email("jerome.lefevre@ac-versailles.fr")
    assert not is_valid_roll_email("jerome.lefevre@ac-versailles")


@pytest.mark.parametrize(
    "value",
    [
        "DUPONT",
        "LEFÈVRE-ŒUVRAY",
        "Ma\u00a0rie",  # no-break space: not printable, not invisible either
        "Ma\u202frie",
        "Ma\x01rie",
        "Ma\u200brie",
        "Ma\u2028rie",
        "Ma\ue000rie",
        "Ma\u0378rie",  # unassigned: not printable, not refused
        "\r\n",
    ],
)
def test_invisible_characters_are_found_as_by_the_full_search(value):
    expected = _invisible().search(value)
    found = find_invisible(value)
    assert (found and found.group()) == (expected and expected.group())


def test_line_digest_tells_lines_apart():
    line = {"roll_id": "E1", "last_name": "DUPONT", "first_name": "Marie", "emails": "m@x.fr"}
    digest = line_digest(line.values())
    assert digest == line_digest(tuple(line.values()))
    assert -(2**63) <= digest < 2**63
    for field in line:
        assert line_digest({**line, field: line[field] + " "}.values()) != digest
    shifted = {**line, "last_name": "DUPONTMarie", "first_name": ""}
    assert line_digest(shifted.values()) != digest
