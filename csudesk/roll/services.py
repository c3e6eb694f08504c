"""Finding voters on the roll: by work address, or by name within a scope."""

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from csudesk.directory.models import Establishment
from csudesk.extensions import db
from csudesk.roll.models import NoticeDelivery, Voter, VoterEmail
from csudesk.text import fold, normalize_email, phonetic_fr

NAME_CANDIDATES = 2000


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


def find_voter_by_email(raw: str) -> Voter | None:
    """The voter owning this work address (any of its addresses), after normalisation."""
    address = normalize_email(raw)
    if not address:
        return None
    return db.session.scalar(
        select(Voter)
        .join(VoterEmail, VoterEmail.voter_id == Voter.id)
        .where(VoterEmail.address == address)
        .options(joinedload(Voter.establishment), selectinload(Voter.emails))
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

    Candidates come from two indexed routes, (csu_id, phonetic key) and (csu_id, name prefix),
    so accents, dictated spellings and typos find the voter; rapidfuzz then ranks them.
    csu_ids=None means every CSU (national role).
    """
    last = fold(last_name)
    first = fold(first_name)
    if not last:
        return []
    key = phonetic_fr(last_name)
    prefix = last[:4]
    query = select(Voter.id, Voter.last_name_key, Voter.first_name_key).where(
        or_(Voter.name_phonetic == key, Voter.last_name_key.startswith(prefix, autoescape=True))
    )
    if csu_ids is not None:
        query = query.where(Voter.csu_id.in_(list(csu_ids)))
    if establishment_id is not None:
        query = query.where(Voter.establishment_id == establishment_id)
    rows = db.session.execute(query.limit(NAME_CANDIDATES)).all()
    scored = []
    for voter_id, last_key, first_key in rows:
        score = fuzz.ratio(last, last_key)
        if first:
            score = 0.7 * score + 0.3 * fuzz.ratio(first, first_key)
        scored.append((score, voter_id))
    scored.sort(reverse=True)
    best = [voter_id for score, voter_id in scored[:limit] if score >= 50]
    if not best:
        return []
    voters = {
        v.id: v
        for v in db.session.scalars(
            select(Voter)
            .where(Voter.id.in_(best))
            .options(joinedload(Voter.establishment).joinedload(Establishment.csu))
        )
    }
    scores = dict((voter_id, score) for score, voter_id in scored)
    return [NameMatch(voters[i], round(scores[i], 1)) for i in best if i in voters]
