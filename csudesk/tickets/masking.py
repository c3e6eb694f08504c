"""Masking the secrets a voter pastes into a contact message, before it is stored.

Nobody at the desk may read a vote code or a password (SECURITY.md 1), and voters do paste
them ("mon code est ABCD-EF23-..., mon mot de passe : Soleil2022!"). A masked word costs the
agent little; a stored secret cannot be taken back, so the rules lean towards masking:

1. Vote code: 16 letters or digits in four groups of four (roll/accounts.new_vote_code prints
   them as XXXX-XXXX-XXXX-XXXX), in any case. Written with dashes it is always masked; unbroken
   or with spaces, when it holds a digit, so that four short words ("mais vous avez bien") or a
   long one ("professionnelles") stay readable. With spaces, four upper-case groups are masked
   alone when they hold a digit or use only the code's alphabet (no I, O, 0, 1: "ABCD EFGH JKLM
   NPQR"; "MAIS VOUS AVEZ BIEN" has an I and an O); right after "code", four groups of that
   alphabet are masked in any case. A lower-case code anywhere else cannot be told from the
   4-letter words around it: when the run holds a digit, the whole run is masked.
2. After a cue ("mot de passe", "mdp", "password", "code", "code de vote", "code secret",
   "réponse au défi", "ma réponse", "la réponse à ma question"...) followed by ":", "=", "est"
   or "c'est", the rest of the sentence is masked whatever it is: passphrases are several
   ordinary words ("soleil levant sur la mer"), and a challenge answer is a plain word
   ("Médor"). After "est", a word saying what is wrong or right ("est refusé", "est perdu",
   "est la bonne"...) is the voter's problem, not a secret: kept. "votre réponse" (the desk's)
   is no cue. Any 16 characters of the vote-code alphabet in a row are masked too.
3. Any other word of 8 characters or more that looks like a password: it mixes letters and
   digits, or has lower case, upper case and a symbol seldom found in French words
   (!#$%&*+=?@^_~|<>{}[]). E-mail addresses, web addresses, UAI codes (valid check letter),
   ticket references, dates and phone numbers are left alone.
"""

import re

from csudesk.directory.uai import is_valid_uai

CODE_MASK = "[code masqué]"
SECRET_MASK = "[secret masqué]"

_GROUP = r"[A-Za-z0-9]{4}"
_EDGES = r"(?<![\w-]){body}(?![\w-])"
# Dashed (any dash) or unbroken: XXXX-XXXX-XXXX-XXXX, XXXXXXXXXXXXXXXX.
_VOTE_CODE = re.compile(
    _EDGES.format(
        body=rf"(?P<code>{_GROUP}(?P<sep>[-\u2010\u2011\u2013]?){_GROUP}(?P=sep){_GROUP}(?P=sep){_GROUP})"
    )
)
# Spaced (spaces, tabs, no-break spaces): a run of four or more groups of four, which ordinary
# words can form too.
_SPACE = re.compile(r"([ \t\u00a0\u202f]+)")
_SPACED_RUN = re.compile(_EDGES.format(body=rf"{_GROUP}(?:{_SPACE.pattern}{_GROUP}){{3,}}"))
_CODE_LETTERS = set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")  # roll/accounts.VOTE_CODE_ALPHABET
_CODE_GROUP = r"[A-HJ-NP-Z2-9]{4}"
# Right after "code" (or "code de vote", "code secret", with or without ":"), four groups of
# the code's alphabet are the code, in any case: "mon code abcd efgh jkmn pqrs".
_CUED_SPACED_CODE = re.compile(
    rf"(?i)\b(?P<cue>code(?:\s+de\s+vote|\s+secret)?\s*(?:[:=]\s*)?)"
    rf"(?P<code>{_CODE_GROUP}(?:{_SPACE.pattern}{_CODE_GROUP}){{3}})(?![\w-])"
)
_CUE = (
    r"(?:mots?\s+de\s+passe|mdp|password|passwd|pwd|code\s+de\s+vote|code\s+secret"
    r"|code\s+d['’]activation|code|r[ée]ponse\s+(?:au|du)\s+d[ée]fi|d[ée]fi"
    # The voter's own answer: "ma réponse : medor", "la réponse à ma question est Médor".
    # "votre réponse" (the desk's) and "réponse" alone are ordinary words.
    r"|(?:ma|mon)\s+r[ée]ponse(?:\s+secr[eè]te)?"
    r"|r[ée]ponse\s+(?:[àa]|de)\s+(?:ma|la)\s+question(?:\s+secr[eè]te|\s+d[ée]fi)?)"
)
_ALREADY = r"(?!\[(?:code|secret) masqué\])"
_STATE_WORDS = (
    r"(?:refus\w*|perdu\w*|bloqu\w*|invalide\w*|incorrect\w*|faux|fausse\w*|oubli\w*"
    r"|expir\w*|erron\w*|inconnu\w*|rejet\w*|mauvais\w*|pas|plus|toujours|bien|d[ée]j[àa]"
    r"|vide|trop|non|jamais|introuvable|bon|bonne|juste|correct\w*|exact\w*|accept\w*"
    r"|reconnu\w*|valide\w*|la\s+(?:bonne|m[êe]me))\b"
)
# Cue, separator, then everything up to the end of the sentence or line (a "!" or "?" ending
# the line is kept in the secret: passwords end with them more often than French sentences).
_CUE_REST = re.compile(
    rf"(?im)\b(?P<cue>{_CUE})(?P<sep>\s*[:=]\s*|\s+(?:est|c['’]est|était|étant)\s*:?\s*"
    rf"(?!{_STATE_WORDS})){_ALREADY}(?P<secret>[^\s.!?;].*?)(?=[.;](?:\s|$)|[!?]\s|$)"
)
_ALPHABET_RUN = re.compile(r"(?i)(?<![\w-])[A-HJ-NP-Z2-9]{16}(?![\w-])")
_WORD = re.compile(r"\S+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"(?i)^(?:https?://|www\.)")
_RARE_SYMBOLS = set("!#$%&*+=?@^_~|<>{}[]")
_LEADING = "\"'«“‘([{<"
_TRAILING = "\"'»”’)]}>.,;:…"
# Times, ordinals and numbers French messages are full of: "14h30-17h", "1er", "n°12".
_ORDINARY = re.compile(
    r"(?i)^(?:\d{1,2}h\d{0,2}(?:[-/à]\d{1,2}h\d{0,2})?|\d+(?:er|re|e|ème|eme|nde?)s?|n°\d+)$"
)


def mask_secrets(text: str) -> str:
    """Return `text` with vote codes and password-like strings replaced by a mask."""
    text = _VOTE_CODE.sub(_mask_vote_code, text)
    text = _CUED_SPACED_CODE.sub(lambda m: m.group("cue") + CODE_MASK, text)
    text = _SPACED_RUN.sub(_mask_spaced_code, text)
    text = _ALPHABET_RUN.sub(CODE_MASK, text)
    text = _CUE_REST.sub(_mask_after_cue, text)
    return _WORD.sub(_mask_word, text)


def _mask_vote_code(match: re.Match) -> str:
    code = match.group("code")
    if match.group("sep") or any(c.isdigit() for c in code):
        return CODE_MASK
    return code


def _mask_spaced_code(match: re.Match) -> str:
    """Four groups in upper case holding a digit, or made of the code's alphabet only, are a
    code ("vu ABCD EF23 GHJK LMN4", "ABCD EFGH JKLM NPQR"); a code typed in lower case cannot
    be told from its neighbours: when the run holds a digit, the whole run goes."""
    parts = _SPACE.split(match.group(0))
    groups, spaces = parts[0::2], parts[1::2]
    out, index, masked = "", 0, False
    while index < len(groups):
        window = "".join(groups[index : index + 4])
        if index + 4 <= len(groups) and _upper_case_code(window):
            item, step, masked = CODE_MASK, 4, True
        else:
            item, step = groups[index], 1
        out += (spaces[index - 1] if index else "") + item
        index += step
    if not masked and any(c.isdigit() for c in match.group(0)):
        return CODE_MASK
    return out


def _upper_case_code(chars: str) -> bool:
    if any(c.islower() for c in chars):
        return False
    return any(c.isdigit() for c in chars) or set(chars) <= _CODE_LETTERS


def _mask_after_cue(match: re.Match) -> str:
    return match.group("cue") + match.group("sep") + SECRET_MASK


def _mask_word(match: re.Match) -> str:
    word = match.group(0)
    start = len(word) - len(word.lstrip(_LEADING))
    core = word[start:].rstrip(_TRAILING)
    if not _looks_like_password(core):
        return word
    return word[:start] + SECRET_MASK + word[start + len(core) :]


def _looks_like_password(word: str) -> bool:
    if len(word) < 8 or _EMAIL.match(word) or _URL.match(word) or _ORDINARY.match(word):
        return False
    if is_valid_uai(word):
        return False
    has_letter = any(c.isalpha() for c in word)
    has_digit = any(c.isdigit() for c in word)
    if has_letter and has_digit:
        return True
    has_lower = any(c.islower() for c in word)
    has_upper = any(c.isupper() for c in word)
    # A "!" or "?" ending a word is punctuation ("Bonjour!"), not part of a password.
    inner = word.rstrip("!?")
    return has_lower and has_upper and any(c in _RARE_SYMBOLS for c in inner)
