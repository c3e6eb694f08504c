"""UAI check letter, prefixes and the routing rule."""

import csv
from pathlib import Path

import pytest

from csudesk.directory import uai as uai_codes
from csudesk.directory.services import RoutingError, route_uai
from csudesk.directory.uai import InvalidUAI, validate_uai

EXAMPLES = list(
    csv.DictReader(
        (Path(__file__).parent.parent / "data" / "uai_examples.csv").read_text().splitlines()
    )
)


@pytest.mark.parametrize("row", EXAMPLES, ids=[r["uai"] for r in EXAMPLES])
def test_every_reference_example_is_valid(row):
    assert validate_uai(row["uai"]) == row["uai"]


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("0751234A", "lettre de contrôle"),
        ("6200001H", "lettre de contrôle"),
        ("075123J", "8 caractères"),
        ("07517170J", "8 caractères"),
        ("A751717J", "chiffres"),
        ("0751717I", "lettre de contrôle"),  # I is not in the alphabet
        ("07517171", "lettre"),
        ("", "8 caractères"),
    ],
)
def test_invalid_uai_gives_a_clear_reason(raw, reason):
    with pytest.raises(InvalidUAI, match=reason):
        validate_uai(raw)


def test_uai_is_normalised():
    assert validate_uai("  0751717j ") == "0751717J"


def test_check_letter_alphabet_skips_i_o_q():
    assert uai_codes.CHECK_ALPHABET == "ABCDEFGHJKLMNPRSTUVWXYZ"
    assert {"I", "O", "Q"}.isdisjoint(uai_codes.CHECK_ALPHABET)


@pytest.mark.parametrize(
    "prefix,academie",
    [
        ("620", "27"),
        ("720", "27"),
        ("075", "01"),
        ("078", "25"),
        ("971", "32"),
        ("972", "31"),
        ("973", "33"),
        ("974", "28"),
        ("976", "43"),
        ("983", "40"),
        ("984", "41"),
        ("975", "44"),
    ],
)
def test_prefix_table(prefix, academie):
    assert uai_codes.prefix_table()[prefix].academie_code == academie


def test_low_confidence_prefixes_are_not_shipped():
    table = uai_codes.prefix_table()
    assert "987" not in table
    assert all(len(p) == 3 and p.isdigit() for p in table)


def test_builtin_data_sizes():
    assert len(uai_codes.academies()) == 30
    assert len(uai_codes.creps()) == 17
    assert len(uai_codes.universities()) == 73
    for row in uai_codes.universities():
        validate_uai(row["uai"])


EXPECTED_ROUTES = {
    "0751717J": "ESR-0751717J",
    "0783774D": "AC-25",
    "0770934X": "AC-24",
    "0301674G": "AC-11",
    "6200001G": "AC-27",
    "6200002H": "AC-27",
    "7200009X": "AC-27",
    "7200664J": "ESR-7200664J",
    "9740478B": "ESR-9740478B",
    "9710585J": "ESR-9710585J",
    "9760358K": "ESR-9760358K",
    "9830445S": "ESR-9830445S",
}


@pytest.mark.parametrize("row", EXAMPLES, ids=[r["uai"] for r in EXAMPLES])
def test_every_reference_example_routes(directory, row):
    route = route_uai(row["uai"])
    assert route.csu.code == EXPECTED_ROUTES[row["uai"]]
    if row["academie_code"]:
        assert route.csu.academie_code == row["academie_code"]


def test_university_routes_to_its_own_csu(directory):
    route = route_uai("0751717J")
    assert route.reason == "own_csu"
    assert route.csu.kind == "enseignement_superieur"


def test_school_routes_to_academic_csu(directory):
    route = route_uai("0590001F")
    assert (route.reason, route.csu.code, route.csu.name) == (
        "academie",
        "AC-09",
        "CSU — Académie de Lille",
    )


def test_overseas_and_corsica_route_to_their_academie(directory):
    assert route_uai("9740001H").csu.code == "AC-28"
    assert route_uai("6200001G").csu.name == "CSU — Académie de Corse"


@pytest.mark.parametrize("raw", ["1340004B", "9870026P"])
def test_unknown_prefix_is_an_error_not_a_guess(directory, raw):
    with pytest.raises(RoutingError, match="préfixe"):
        route_uai(raw)


def test_routing_without_loaded_directory_says_so(app):
    with pytest.raises(RoutingError, match="directory load"):
        route_uai("0590001F")


def test_directory_load_is_idempotent(directory):
    from csudesk.directory.models import CSU, Establishment
    from csudesk.directory.services import load_builtin_directory, set_contact
    from csudesk.extensions import db

    set_contact("AC-09", email="csu@ac-lille.example")
    before = db.session.query(CSU).count(), db.session.query(Establishment).count()
    load_builtin_directory()
    db.session.commit()
    after = db.session.query(CSU).count(), db.session.query(Establishment).count()
    assert before == after == (124, 73)
    assert db.session.query(CSU).filter_by(code="AC-09").one().email == "csu@ac-lille.example"


def test_attach_moves_establishment_and_its_voters(make_voter):
    from csudesk.directory.services import attach_establishment
    from csudesk.extensions import db

    voter = make_voter(uai="0030001K")
    assert voter.csu.code == "AC-06"
    attach_establishment("0030001K", "CREPS-VICHY")
    db.session.commit()
    db.session.refresh(voter)
    assert voter.csu.code == "CREPS-VICHY"
    assert route_uai("0030001K").reason == "own_csu"


def test_single_route_agrees_with_the_bulk_router_in_two_statements(make_voter):
    """route_uai asks the indexes; the importer's Router holds the tables: same answers."""
    from csudesk.directory.services import Router
    from csudesk.extensions import db
    from tests.fixtures.sql import count_queries

    make_voter(uai="0590001F")  # an establishment on the roll without a CSU of its own
    router = Router()
    for raw in [row["uai"] for row in EXAMPLES] + ["0590001F", "0751717J"]:
        db.session.expire_all()
        with count_queries() as statements:
            route = route_uai(raw)
        assert len([s for s in statements if not s.startswith("BEGIN")]) <= 2
        assert router.route(raw) == (route.uai, route.csu.id, route.reason)
