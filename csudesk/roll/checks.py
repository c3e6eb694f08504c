"""Per-line checks of the roll import, fast enough for millions of lines.

The importer's rules are those of csudesk.text and the Unicode database; what is here only
spares repeated work: an address's domain is checked once, a line of printable characters
skips the search for invisible ones, and a digest of the line tells a re-import that the
line is the one already stored.
"""

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

from csudesk.text import is_valid_email

# Control and format characters (C0/C1 controls, bidi overrides, zero-width marks), line and
# paragraph separators, surrogates and private use: none belongs in a name, an address or a
# code, and each would reach the desk's screens, the exports and mail headers.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
# An RFC 5322 dot-atom of lower-case ASCII: the local parts email-validator accepts as they are
# (without SMTPUTF8 or quoting). Anything else goes through the full check.
_DOT_ATOM = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_MAX_LOCAL_PART = 64
# Bump when the import's rules for a line change, so that lines stored under the old rules
# are read and checked again by the next import instead of being skipped as unchanged.
DIGEST_VERSION = "1"


def is_valid_roll_email(address: str) -> bool:
    """is_valid_email(address), with the domain checked once per distinct domain.

    email-validator spends ~0.1 ms per address, most of it on the domain (IDNA rules), and a
    roll has a few hundred domains for millions of addresses. A plain dot-atom local part on
    a domain already accepted is accepted; every other address gets the full check, so this
    never accepts what is_valid_email refuses (tests/roll/test_checks.py compares the two).
    """
    local, at, domain = address.rpartition("@")
    if (
        at
        and len(address) <= 254
        and len(local) <= _MAX_LOCAL_PART
        and _DOT_ATOM.fullmatch(local)
        and _valid_domain(domain)
    ):
        return True
    return is_valid_email(address)


@lru_cache(maxsize=4096)
def _valid_domain(domain: str) -> bool:
    return is_valid_email(f"a@{domain}")


def find_invisible(value: str) -> re.Match | None:
    """The first invisible character of value (see _INVISIBLE_CATEGORIES), if any."""
    # str.isprintable() is False for every character of those categories (and for a few
    # harmless ones, such as no-break spaces): a printable value needs no search.
    if value.isprintable():
        return None
    return _invisible().search(value)


@cache
def _invisible() -> re.Pattern:
    """One character class of every code point in _INVISIBLE_CATEGORIES (built once, ~0.3 s,
    and only when a line holds a non-printable character)."""
    ranges: list[tuple[int, int]] = []
    for point in range(sys.maxunicode + 1):
        if unicodedata.category(chr(point)) in _INVISIBLE_CATEGORIES:
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def line_digest(values: Iterable[str]) -> int:
    """A signed 64-bit digest of a line's fields as read (in ROLL_COLUMNS order), stored
    with the voter it made.

    The fields are joined by NUL, which no stored line holds (find_invisible refuses it): a
    line with a NUL inside a field has more of them than any stored line, so no two lines
    that can be compared have the same text to hash.
    """
    text = DIGEST_VERSION + "\x00" + "\x00".join(values)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
