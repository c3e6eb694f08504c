"""The one parser of query-string integers: anything but a plain id reads as the default."""

import pytest

from csudesk.querystring import MAX_ID, bounded_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("0042", 42),  # leading zeros are still the number
        (str(MAX_ID), MAX_ID),
        ("0" + str(MAX_ID), None),  # eleven characters: past the length bound, even if small
    ],
)
def test_plain_digits_within_bounds(raw, expected):
    assert bounded_int(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,  # missing
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x1f",
        "abc",
        "²",  # isdigit() says yes, int() says no
        "٣",
        "５",
        str(MAX_ID + 1),
        "9" * 18,
        "9" * 5000,  # int() alone would refuse it with a ValueError
    ],
)
def test_anything_else_is_the_default(raw):
    assert bounded_int(raw) is None
    assert bounded_int(raw, 1) == 1


def test_the_default_is_not_used_for_a_good_value():
    assert bounded_int("7", 1) == 7
