"""Réponses types at the desk: which ones are offered, and filling their placeholders safely."""

import pytest

from csudesk.actor import Actor
from csudesk.conversation.responses import PLACEHOLDERS, available_for, fill, site_url
from csudesk.extensions import db
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Channel
from tests.fixtures.factories import csu, response_template


@pytest.fixture
def ticket(make_voter):
    lille = csu("AC-09")
    lille.email, lille.phone, lille.hours = "csu@ac-lille.fr", "03 20 15 60 00", "9 h - 17 h"
    voter = make_voter("Dupont", "Marie")
    ticket = tickets.create_ticket(
        Actor.system(), csu=lille, category="autre", channel="telephone", voter=voter
    )
    db.session.commit()
    return ticket


def every_placeholder() -> str:
    return "\n".join(f"{name}={{{name}}}" for name in PLACEHOLDERS)


def test_every_placeholder_is_filled(ticket):
    filled = dict(line.split("=", 1) for line in fill(every_placeholder(), ticket).splitlines())
    assert filled == {
        "prenom": "Marie",
        "nom": "Dupont",
        "reference": ticket.reference,
        "csu": ticket.csu.name,
        "csu_courriel": "csu@ac-lille.fr",
        "csu_telephone": "03 20 15 60 00",
        "csu_horaires": "9 h - 17 h",
        "lien_lien_non_recu": "http://csudesk.test/lien-non-recu",
        "lien_mot_de_passe": "http://csudesk.test/mot-de-passe-refuse",
        "lien_code_de_vote": "http://csudesk.test/reassort-code-de-vote",
        "lien_trouver_ma_csu": "http://csudesk.test/trouver-ma-csu",
    }


def test_links_come_from_base_url_not_from_the_request_host(app, ticket):
    app.config["BASE_URL"] = "https://elections.example.fr/assistance/"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert (
            site_url("public.find_csu") == "https://elections.example.fr/assistance/trouver-ma-csu"
        )
        assert fill("{lien_lien_non_recu}", ticket) == (
            "https://elections.example.fr/assistance/lien-non-recu"
        )


@pytest.mark.parametrize(
    "typed",
    [
        "{ticket.voter}",
        "{prenom.__class__}",
        "{x[0]}",
        "{prenom[0]}",
        "{0}",
        "{}",
        "{prenom!r}",
        "{prenom:>99999}",
        "{__import__}",
        "{PRENOM}",
        "{ prenom }",
        "{inconnu}",
        "{",
        "}",
        "{{",
        "a } b { c",
    ],
)
def test_format_tricks_and_unknown_names_stay_as_typed(ticket, typed):
    assert fill(typed, ticket) == typed


def test_a_known_name_inside_doubled_braces_is_still_filled_once(ticket):
    assert fill("{{prenom}}", ticket) == "{Marie}"


def test_a_filled_value_is_never_read_again(make_voter):
    ticket = tickets.create_ticket(
        Actor("public"), csu=csu("AC-09"), category="autre", channel=Channel.FORM,
        contact_first_name="{reference}", contact_last_name="{csu_courriel}",
    )  # fmt: skip
    db.session.commit()
    assert fill("Bonjour {prenom} {nom} ({reference})", ticket) == (
        f"Bonjour {{reference}} {{csu_courriel}} ({ticket.reference})"
    )


def test_a_detail_nobody_recorded_stays_for_the_agent_to_complete(ticket):
    ticket.csu.phone = None
    ticket.voter = None
    assert fill("{prenom} — {csu_telephone} — {csu}", ticket) == (
        f"{{prenom}} — {{csu_telephone}} — {ticket.csu.name}"
    )


def test_available_for_the_csus_own_first_then_national_by_title(app, directory):
    response_template("zèbre (nationale)", "z")
    response_template("Éléphant (nationale)", "e")
    response_template("Accusé (nationale, éteinte)", "a", active=False)
    response_template("Relance (Lille)", "r", "AC-09")
    response_template("Appel (Lille)", "a", "AC-09")
    response_template("Aix", "x", "AC-02")
    titles = [t.title for t in available_for(csu("AC-09").id)]
    assert titles == [
        "Appel (Lille)",
        "Relance (Lille)",
        "Éléphant (nationale)",
        "zèbre (nationale)",
    ]
