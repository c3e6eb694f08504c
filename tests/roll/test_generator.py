"""The synthetic roll generator."""

import csv
import io
import re

from csudesk.directory import uai as uai_codes
from csudesk.roll.generator import HEADER, generate_roll


def test_generated_roll_is_realistic_and_valid():
    out = io.StringIO()
    generate_roll(out, 2000, seed=11)
    rows = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert rows[0] == HEADER
    body = rows[1:]
    assert len(body) == 2000
    assert len({r[0] for r in body}) == 2000
    addresses = [a for r in body for a in r[3].split("|")]
    assert len(addresses) == len(set(addresses))
    assert all(re.fullmatch(r"[a-z0-9.-]+@[a-z0-9.-]+\.[a-z]{2,}", a) for a in addresses)
    assert any("@ac-lille.fr" in a for a in addresses)
    two = sum(1 for r in body if "|" in r[3])
    assert 50 < two < 300  # about 8 % have a second address
    for row in body:
        uai_codes.validate_uai(row[4])
        assert row[4] in {u["uai"] for u in uai_codes.universities()} or uai_codes.territory_of(
            row[4]
        )
    assert {r[5] for r in body} == {"travail", "domicile"}
    assert any(not r[1].isascii() for r in body)  # accented names


def test_same_seed_same_file():
    a, b = io.StringIO(), io.StringIO()
    generate_roll(a, 100, seed=5)
    generate_roll(b, 100, seed=5)
    assert a.getvalue() == b.getvalue()
