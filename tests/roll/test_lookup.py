"""Finding voters by work address and by name."""

import pytest

from csudesk.extensions import db
from csudesk.roll.services import find_voter_by_email, search_voters_by_name
from csudesk.text import normalize_email


@pytest.mark.parametrize(
    "typed",
    [
        "marie.dupont@ac-lille.fr",
        "  Marie.Dupont@AC-LILLE.FR ",
        "marie. dupont @ac-lille.fr",
        "ｍａｒｉｅ.dupont@ac-lille.fr",  # full-width letters, NFKC
        "m.dupont@ac-lille.fr",  # second address
    ],
)
def test_find_by_any_address_normalised(make_voter, typed):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr"))
    assert find_voter_by_email(typed) == (voter.id, voter.csu_id)


@pytest.mark.parametrize("typed", ["mıke@ac-lille.fr", "MİKE@ac-lille.fr", "mike@ac-lille.fr.", ""])
def test_lookalike_addresses_do_not_match(make_voter, typed):
    make_voter(emails=("mike@ac-lille.fr",))
    assert find_voter_by_email(typed) is None


def test_dotless_i_normalises_to_a_different_address():
    assert normalize_email("mıke@x.fr") != normalize_email("mike@x.fr")


def _scope(code):
    from tests.fixtures.factories import csu

    return {csu(code).id}


@pytest.mark.parametrize(
    "typed_last,typed_first",
    [
        ("Lefèvre", ""),
        ("lefevre", ""),
        ("LEFEBVRE", "jérome"),
        ("Lefevr", ""),
        ("Lfèvre", "Jerome"),
    ],
)
def test_name_search_tolerates_accents_spelling_and_typos(make_voter, typed_last, typed_first):
    target = make_voter("LEFÈVRE", "Jérôme")
    make_voter("MARTIN", "Paul")
    matches = search_voters_by_name(typed_last, typed_first, csu_ids=_scope("AC-09"))
    assert matches and matches[0].voter.id == target.id


def test_first_name_ranks_homonyms(make_voter):
    make_voter("DUPONT", "Marie")
    paul = make_voter("DUPONT", "Paul")
    matches = search_voters_by_name("Dupond", "Paul", csu_ids=_scope("AC-09"))
    assert matches[0].voter.id == paul.id
    assert len(matches) == 2


def test_name_search_stays_in_scope(make_voter):
    make_voter("DUPONT", "Marie", uai="0783774D")  # Versailles
    lille = make_voter("DUPONT", "Marie")
    found = search_voters_by_name("Dupont", csu_ids=_scope("AC-09"))
    assert [m.voter.id for m in found] == [lille.id]
    assert len(search_voters_by_name("Dupont", csu_ids=None)) == 2


def test_name_search_by_establishment(make_voter):
    make_voter("DUPONT", "Marie", uai="0590002G")
    other = make_voter("DUPONT", "Marie")
    found = search_voters_by_name(
        "Dupont", csu_ids=_scope("AC-09"), establishment_id=other.establishment_id
    )
    assert [m.voter.id for m in found] == [other.id]


def test_unrelated_names_are_not_returned(make_voter):
    make_voter("MARTIN", "Paul")
    assert search_voters_by_name("Zidane", csu_ids=None) == []
    assert search_voters_by_name("", csu_ids=None) == []
    db.session.rollback()


def _reference_search(last_name, first_name, csu_ids, limit):
    """Every voter scored, the way search_voters_by_name promises to rank them."""
    from rapidfuzz import fuzz
    from sqlalchemy import select

    from csudesk.roll.models import Voter
    from csudesk.text import fold, phonetic_fr

    last, first = fold(last_name), fold(first_name)
    prefix, key = last[:4].rstrip(), phonetic_fr(last_name)
    query = select(Voter.id, Voter.last_name_key, Voter.first_name_key, Voter.name_phonetic)
    if csu_ids is not None:
        query = query.where(Voter.csu_id.in_(csu_ids))
    scored = []
    for voter_id, last_key, first_key, phonetic in db.session.execute(query):
        if phonetic != key and not last_key.startswith(prefix):
            continue
        score = fuzz.ratio(last, last_key)
        if first:
            score = 0.7 * score + 0.3 * fuzz.ratio(first, first_key)
        scored.append((score, voter_id))
    scored.sort(reverse=True)
    return [(round(score, 1), voter_id) for score, voter_id in scored[:limit] if score >= 50]


def test_name_search_ranks_like_scoring_every_voter(directory, tmp_path):
    """Many homonyms per name: stopping before the last candidate names changes nothing."""
    import random

    from sqlalchemy import func, select

    from csudesk.roll.generator import generate_roll
    from csudesk.roll.import_worker import import_roll
    from csudesk.roll.models import Voter

    path = tmp_path / "roll.csv"
    with path.open("w", encoding="utf-8") as out:
        generate_roll(out, 3000, seed=11)
    import_roll(str(path))
    csu_id = db.session.scalar(
        select(Voter.csu_id).group_by(Voter.csu_id).order_by(func.count().desc()).limit(1)
    )
    rng = random.Random(5)
    people = db.session.execute(select(Voter.last_name, Voter.first_name)).all()
    typed = [("Lefèvre", "Jérôme"), ("Dupond", ""), ("Martn", "Pual"), ("Le Roux", "")]
    for last, first in rng.sample(people, 40):
        cut = rng.randrange(1, len(last))
        typed.append((last[:cut] + last[cut + 1 :], first if rng.random() < 0.6 else ""))
    for last, first in typed:
        for scope, limit in (({csu_id}, 20), ({csu_id}, 3), ({csu_id}, 1), (None, 20)):
            found = search_voters_by_name(last, first, csu_ids=scope, limit=limit)
            assert [(m.score, m.voter.id) for m in found] == _reference_search(
                last, first, scope, limit
            ), (last, first, scope, limit)
