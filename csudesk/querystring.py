"""Integers typed into a URL's query string: an id, a page number, a keyset bound."""

from csudesk.text import is_ascii_digits

MAX_ID = 2**31 - 1  # a database integer: no id, page or bound is larger


def bounded_int(raw: str | None, default: int | None = None) -> int | None:
    """`raw` as an integer within 1..MAX_ID, else `default`.

    Missing, empty, signed, spaced, non-ASCII digits ('²', '５'), zero and anything past
    MAX_ID all read as `default`: bad input in a URL is never a 500 (SECURITY.md 17). The
    length is checked before `int()`, which refuses strings of over 4,300 digits.
    """
    if raw and len(raw) <= len(str(MAX_ID)) and is_ascii_digits(raw) and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return default
