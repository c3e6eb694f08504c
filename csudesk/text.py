"""Text normalisation shared by the roll, the directory and the forms."""

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WHITESPACE = re.compile(r"\s+", re.UNICODE)


def is_ascii_digits(text: str) -> bool:
    """True for '0'-'9' only: str.isdigit() also accepts '²' or '٣', which int() refuses."""
    return text.isascii() and text.isdigit()


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation: 'Lefèvre-D'Août ' -> 'lefevre d aout'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    return _NON_ALNUM.sub(" ", bare.lower()).strip()


def escape_like(text: str) -> str:
    """Text to match literally in a LIKE pattern written with escape="\\"."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def normalize_email(raw: str) -> str:
    """Normalise a typed or imported address: NFKC, no whitespace, lower-case.

    Non-ASCII addresses are left non-ASCII, so they never equal an ASCII roll address
    ('mıke@' stays distinct from 'mike@': Django CVE-2019-19844).
    """
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw)).lower()


def is_valid_email(address: str) -> bool:
    """True for a normalised ASCII address of valid syntax (email-validator, as WTForms' Email).

    Only the syntax: no DNS lookup. The address must already be in its normal form (see
    normalize_email), so that what is checked is what is stored and compared.
    """
    if len(address) > 254 or not address.isascii():
        return False
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return False
    return checked.normalized == address


# French phonetic key, in the spirit of Soundex2/Phonex: enough to bring together the
# spellings a caller dictates over the phone (Lefèvre/Lefebvre, Dupont/Dupond, Philippe/Filip).
_PHONETIC_RULES = [
    (re.compile(r"ph"), "f"),
    (re.compile(r"gu(?=[eiy])"), "g"),
    (re.compile(r"g(?=[eiy])"), "j"),
    (re.compile(r"qu|q|ck"), "k"),
    (re.compile(r"sch|sh|ch"), "#"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"th"), "t"),
    (re.compile(r"bv"), "v"),
    (re.compile(r"w"), "v"),
    (re.compile(r"z"), "s"),
    (re.compile(r"(?<=[aeiou])x$"), ""),
    (re.compile(r"(?<=e)r$"), ""),
    (re.compile(r"x"), "ks"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(?<=[aeiou])s(?=[aeiou])"), "z"),
    (re.compile(r"mb|mp"), "nb"),
    (re.compile(r"m"), "n"),
    (re.compile(r"d$"), "t"),
    (re.compile(r"(?<=.)h"), ""),
    (re.compile(r"[st]$"), ""),
]


def phonetic_fr(text: str) -> str:
    """Return a short French phonetic key of a name ('' for an empty name)."""
    word = fold(text).replace(" ", "")
    if not word:
        return ""
    for pattern, replacement in _PHONETIC_RULES:
        word = pattern.sub(replacement, word)
    if not word:
        return ""
    head, tail = word[0], word[1:]
    tail = re.sub(r"[aeiouh]", "", tail)
    key = head + tail
    key = re.sub(r"(.)\1+", r"\1", key)
    return key[:12].upper()
