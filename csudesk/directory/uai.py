"""UAI (ex-RNE) codes: 7 digits and a check letter, and the académie of their prefix."""

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from csudesk.exceptions import ServiceError
from csudesk.text import is_ascii_digits

CHECK_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ"  # 23 letters: no I, O, Q


def normalize_uai(raw: str) -> str:
    """Strip and upper-case a typed UAI."""
    return raw.strip().upper()


def check_letter(digits: str) -> str:
    """The check letter of a 7-digit UAI number."""
    return CHECK_ALPHABET[int(digits) % 23]


class InvalidUAI(ServiceError):
    """A UAI that is not 7 digits plus the right check letter; the message is French."""


def validate_uai(raw: str) -> str:
    """Return the normalised UAI or raise InvalidUAI with a clear reason."""
    uai = normalize_uai(raw)
    if len(uai) != 8:
        raise InvalidUAI(
            f"« {raw.strip()} » : un code UAI compte 8 caractères (7 chiffres et 1 lettre)."
        )
    digits, letter = uai[:7], uai[7]
    if not is_ascii_digits(digits):
        raise InvalidUAI(f"« {uai} » : les 7 premiers caractères d'un code UAI sont des chiffres.")
    if not letter.isalpha():
        raise InvalidUAI(f"« {uai} » : le 8ᵉ caractère d'un code UAI est une lettre.")
    expected = check_letter(digits)
    if letter != expected:
        raise InvalidUAI(
            f"« {uai} » : la lettre de contrôle ne correspond pas aux chiffres"
            " (vérifiez le code sur un document officiel)."
        )
    return uai


def is_valid_uai(raw: str) -> bool:
    try:
        validate_uai(raw)
    except InvalidUAI:
        return False
    return True


@dataclass(frozen=True)
class Territory:
    prefix: str
    territory: str
    service: str
    academie_code: str


def _read(name: str) -> list[dict[str, str]]:
    text = files("csudesk.directory").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def prefix_table() -> dict[str, Territory]:
    """UAI prefix -> territory, from the built-in data (low-confidence rows are not shipped)."""
    return {
        row["prefix"]: Territory(
            row["prefix"], row["territory"], row["service"], row["academie_code"]
        )
        for row in _read("uai_prefixes.csv")
    }


def territory_of(uai: str) -> Territory | None:
    """The territory of a valid UAI's prefix, or None when the prefix is unknown."""
    return prefix_table().get(uai[:3])


@cache
def academies() -> list[dict[str, str]]:
    return _read("academies.csv")


@cache
def universities() -> list[dict[str, str]]:
    return _read("universities.csv")


@cache
def creps() -> list[dict[str, str]]:
    return _read("creps.csv")
