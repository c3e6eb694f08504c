"""Finding voters on the roll: by work address, or by name within a scope."""

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from sqlalchemy import select, union
from sqlalchemy.orm import joinedload

from csudesk.directory.models import Establishment
from csudesk.extensions import db
from csudesk.roll.models import NoticeDelivery, Voter, VoterEmail
from csudesk.text import fold, normalize_email, phonetic_fr

NAME_PREFIX = 4
MIN_SCORE = 50


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    return fold(name)


@lru_cache(maxsize=65536)
def name_phonetic(name: str) -> str:
    return phonetic_fr(name)


@lru_cache(maxsize=256)  # a roll holds a handful of spellings, read once per line
def parse_delivery(raw: str) -> str | None:
    """Map the roll's delivery column to a NoticeDelivery value, or None if unreadable."""
    value = fold(raw)
    if value in {"travail", "lieu de travail", "main propre", "remise", "remise en main propre"}:
        return NoticeDelivery.AT_WORK
    if value in {"domicile", "poste", "courrier", "adresse postale", "envoi postal"}:
        return NoticeDelivery.POSTED
    return None


def voter_id_of_address(raw: str) -> int | None:
    """The id of the voter whose roll address this is (after normalisation), if any."""
    return db.session.scalar(
        select(VoterEmail.voter_id).where(VoterEmail.address == normalize_email(raw))
    )


def find_voter_by_email(raw: str) -> tuple[int, int] | None:
    """(voter id, CSU id) of the owner of this work address (any of theirs), normalised.

    Only the keys: the caller checks the scope before loading anything about the voter.
    """
    address = normalize_email(raw)
    if not address:
        return None
    row = db.session.execute(
        select(Voter.id, Voter.csu_id)
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(VoterEmail.address == address)
    ).first()
    return (row.id, row.csu_id) if row else None


def voter_by_address(raw: str) -> Voter | None:
    """The voter owning this roll address, with account and CSU, in one query."""
    return db.session.scalar(
        select(Voter)
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(VoterEmail.address == normalize_email(raw))
        .options(joinedload(Voter.account), joinedload(Voter.csu))
    )


@dataclass(frozen=True)
class NameMatch:
    voter: Voter
    score: float


def search_voters_by_name(
    last_name: str,
    first_name: str = "",
    *,
    csu_ids: Collection[int] | None,
    establishment_id: int | None = None,
    limit: int = 20,
) -> list[NameMatch]:
    """Voters whose name sounds or starts like the one given, best first.

    Candidates are the voters whose last name has the same French phonetic key or starts with
    the same four letters, so accents, dictated spellings and typos find the voter; rapidfuzz
    ranks them (last name 70 %, first name 30 % when given). csu_ids=None means every CSU.

    At national size one académie holds hundreds of voters per common name, so the search
    first ranks the few distinct last names, then reads the voters of the best names only,
    one name, then two, four..., stopping when no further name can enter the first `limit`
    results.
    """
    last = fold(last_name)
    first = fold(first_name)
    if not last:
        return []
    scope = _name_scope(csu_ids, establishment_id)
    names = sorted(
        ((fuzz.ratio(last, name), name) for name in _candidate_last_names(last_name, last, scope)),
        reverse=True,
    )
    scored: list[tuple[float, int]] = []
    start, size = 0, 1
    while start < len(names):
        chunk = names[start : start + size]
        reachable = _best_possible(chunk[0][0], first)
        if reachable < MIN_SCORE or (len(scored) >= limit and reachable < scored[limit - 1][0]):
            break
        by_name = dict((name, score) for score, name in chunk)
        for voter_id, last_key, first_key in db.session.execute(
            select(Voter.id, Voter.last_name_key, Voter.first_name_key).where(
                Voter.last_name_key.in_(list(by_name)), *scope
            )
        ):
            score = by_name[last_key]
            if first:
                score = 0.7 * score + 0.3 * fuzz.ratio(first, first_key)
            scored.append((score, voter_id))
        scored.sort(reverse=True)
        start, size = start + size, size * 2
    best = [(score, voter_id) for score, voter_id in scored[:limit] if score >= MIN_SCORE]
    if not best:
        return []
    voters = {
        v.id: v
        for v in db.session.scalars(
            select(Voter)
            .where(Voter.id.in_([voter_id for _, voter_id in best]))
            .options(joinedload(Voter.establishment).joinedload(Establishment.csu))
        )
    }
    return [NameMatch(voters[i], round(score, 1)) for score, i in best if i in voters]


def _name_scope(csu_ids: Collection[int] | None, establishment_id: int | None) -> list:
    scope = []
    if csu_ids is not None:
        scope.append(Voter.csu_id.in_(list(csu_ids)))
    if establishment_id is not None:
        scope.append(Voter.establishment_id == establishment_id)
    return scope


def _candidate_last_names(typed: str, folded: str, scope: list) -> list[str]:
    """Distinct folded last names in scope with the same phonetic key or the same prefix.

    Two queries, one per index ((csu_id, name_phonetic) and (csu_id, last_name_key)): an OR of
    both conditions is read through neither index. The prefix is a range (LIKE 'x%' cannot use
    a btree index on PostgreSQL outside the C collation, nor on SQLite where LIKE ignores
    case), kept exact by the LIKE beside it.
    """
    prefix = folded[:NAME_PREFIX].rstrip()
    phonetic = select(Voter.last_name_key).where(Voter.name_phonetic == phonetic_fr(typed), *scope)
    starting = select(Voter.last_name_key).where(
        Voter.last_name_key >= prefix,
        Voter.last_name_key.startswith(prefix, autoescape=True),
        *scope,
    )
    upper = _prefix_upper_bound(prefix)
    if upper is not None:
        starting = starting.where(Voter.last_name_key < upper)
    return list(db.session.scalars(union(phonetic, starting)))


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest letters-and-digits string above every string starting with `prefix`."""
    stem = prefix.rstrip("z9 ")
    if not stem:
        return None
    return stem[:-1] + chr(ord(stem[-1]) + 1)


def _best_possible(last_score: float, first: str) -> float:
    """The highest score a voter with this last-name score can reach."""
    return 0.7 * last_score + 30 if first else last_score
