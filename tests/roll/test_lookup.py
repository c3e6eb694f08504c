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
    assert find_voter_by_email(typed).id == voter.id


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
