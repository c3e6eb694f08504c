"""The contact form through the client: routing, the receipt, masking and anti-abuse."""

import html
import time

import pytest
from sqlalchemy import select

from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.public import antiabuse
from csudesk.tickets.masking import CODE_MASK, SECRET_MASK
from csudesk.tickets.models import Category, Ticket
from tests.fixtures.forms import contact_form_data as form_data
from tests.fixtures.sql import recorded_sql


def tickets() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def send(client, **overrides):
    db.session.commit()
    return client.post("/nous-ecrire", data=form_data(**overrides))


def flat(response) -> str:
    """The page's text with whitespace collapsed and entities decoded."""
    return html.unescape(" ".join(response.text.split()))


def test_form_page(client, directory):
    page = client.get("/nous-ecrire")
    assert page.status_code == 200
    for name in ("email", "last_name", "first_name", "uai", "recherche", "category", "message"):
        assert f'name="{name}"' in page.text
    assert 'type="checkbox"' in page.text and 'name="consent"' in page.text
    assert '<div class="csu-honeypot" aria-hidden="true">' in page.text
    token = page.text.split('name="started" type="hidden" value="')[1].split('"')[0]
    assert 0 <= antiabuse.seconds_since_opened(token) < 5
    for category in Category:
        assert f'value="{category.value}"' in page.text
    assert "Trouver ma CSU" in page.text


def test_address_on_the_roll_routes_to_the_roll_establishment(client, make_voter):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",), uai="0590001F")  # Lille
    response = send(client, email="Marie.Dupont@ac-lille.fr ", uai="0783774d")  # Versailles
    assert response.status_code == 303 and response.location == "/nous-ecrire/envoye"
    (ticket,) = tickets()
    assert ticket.csu.code == "AC-09"
    assert ticket.voter_id == voter.id
    assert (ticket.channel, ticket.category, ticket.status) == (
        "formulaire",
        "lien_non_recu",
        "ouvert",
    )
    assert (ticket.contact_email, ticket.contact_uai) == ("marie.dupont@ac-lille.fr", "0783774D")
    assert (ticket.contact_last_name, ticket.contact_first_name) == ("Dupont", "Marie")
    assert ticket.assigned_agent_id is None and ticket.created_by_agent_id is None
    assert [e.kind for e in ticket.events] == ["created"]


def test_unknown_address_routes_to_the_establishment_given(client, directory):
    send(client, uai="0783774D")
    (ticket,) = tickets()
    assert ticket.csu.code == "AC-25" and ticket.voter_id is None


def test_establishment_with_its_own_csu(client, directory):
    send(client, uai="0751717J")
    (ticket,) = tickets()
    assert ticket.csu.code == "ESR-0751717J"


def test_unroutable_establishment_goes_to_the_national_queue(client, directory):
    response = send(client, uai="1340004B")  # valid check letter, no académie for prefix 134
    assert response.status_code == 303
    (ticket,) = tickets()
    assert ticket.csu.code == "NATIONAL" and ticket.contact_uai == "1340004B"
    receipt = flat(client.get(response.location))
    assert "Cellule nationale d'assistance aux élections professionnelles" in receipt


def test_receipt_is_the_same_whether_or_not_the_address_is_on_the_roll(client, make_voter):
    set_contact("AC-25", email="csu@ac-versailles.example", phone="01 30 00 00 00")
    set_contact("AC-09", email="csu@ac-lille.example")
    make_voter(emails=("marie.dupont@ac-lille.fr",), uai="0590001F")
    db.session.commit()
    answers = []
    for address in ("marie.dupont@ac-lille.fr", "marie.dupond@ac-lille.fr"):
        with recorded_sql() as statements:
            response = send(client, email=address, uai="0783774D")
        receipt = client.get(response.location)
        reference = tickets()[-1].reference
        answers.append(
            (response.status_code, response.location, receipt.status_code,
             receipt.text.replace(reference, "REF"), statements)
        )  # fmt: skip
        assert reference in receipt.text
    assert answers[0] == answers[1]
    body = answers[0][3]
    assert "csu@ac-versailles.example" in body and "ac-lille.example" not in body
    assert "CSU — Académie de Versailles" in body and "Lille" not in body
    assert [t.csu.code for t in tickets()] == ["AC-09", "AC-25"]
    assert db.session.scalars(select(OutboxMail)).all() == []  # no mail from the form


def test_receipt_needs_a_sent_form(client, directory):
    assert client.get("/nous-ecrire/envoye").location == "/nous-ecrire"


def search(client, term: str):
    return client.get("/nous-ecrire", query_string={"recherche": term})


def test_the_search_is_a_get_form_before_the_form_to_send(client, directory):
    page = client.get("/nous-ecrire").text
    search_form = page.index('<form method="get" action="/nous-ecrire#etablissement"')
    assert search_form < page.index('name="recherche"') < page.index('<form method="post"')
    assert page.index('<form method="post"') < page.index('name="email"')  # nothing typed first


def test_search_lists_establishments_and_the_choice_is_sent(client, directory):
    upsert_establishment("0783774D", name="Nouveau collège André Chénier", city="Mantes-la-Jolie")
    db.session.commit()
    response = search(client, "chenier")
    assert response.status_code == 200
    page = flat(response)
    assert 'name="chosen_uai" value="0783774D"' in page
    assert "Nouveau collège André Chénier (Mantes-la-Jolie) — 0783774D" in page
    assert "CSU — Académie de Versailles" in page
    assert 'name="recherche" type="text" value="chenier"' in page  # what was typed stays
    assert 'name="search" type="hidden" value="chenier"' in page  # and travels with the form
    assert "fr-message--error" not in page
    assert tickets() == []
    refused = send(client, uai="", search="chenier", chosen_uai="0783774D", last_name="")
    assert refused.status_code == 400
    assert 'value="0783774D" checked' in flat(refused)  # the list and the choice come back
    sent = send(client, uai="", search="chenier", chosen_uai="0783774D")
    assert sent.status_code == 303
    (ticket,) = tickets()
    assert ticket.contact_uai == "0783774D" and ticket.csu.code == "AC-25"


def test_search_without_result_says_so(client, directory):
    page = flat(search(client, "zzzz"))
    assert "Aucun établissement trouvé pour « zzzz »" in page


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_breaks_in_the_search_are_refused(client, directory, newline):
    page = flat(search(client, "lycée" + newline + "Bcc: victim@evil.example"))
    assert "retirez le retour à la ligne" in page
    assert 'aria-describedby="recherche-messages"' in page
    assert "trouvé" not in page


def test_a_post_marked_as_a_search_is_a_submission(client, directory):
    """No POST escapes the form's checks and limits by calling itself a search."""
    response = send(client, action="search", search="paris", uai="")
    assert response.status_code == 400 and tickets() == []
    assert send(client, action="search").status_code == 303
    assert len(tickets()) == 1


def test_pasted_secrets_are_masked_before_storage(client, directory):
    send(
        client,
        message="Mon code de vote ABCD-EF23-GHJK-LMN4 est refusé.\r\nMot de passe : Soleil2022!",
    )
    (ticket,) = tickets()
    assert (
        ticket.message == f"Mon code de vote {CODE_MASK} est refusé.\nMot de passe : {SECRET_MASK}"
    )


def test_honeypot_refuses_and_keeps_what_was_typed(client, directory):
    response = send(client, website="http://spam.example")
    assert response.status_code == 400
    page = flat(response)
    assert "Votre message n'a pas pu être envoyé" in page
    assert "spam.example" not in page  # the honeypot comes back empty
    assert "Je n'ai jamais reçu le lien d'activation.</textarea>" in page
    assert tickets() == []


def test_time_trap(client, directory, app):
    assert app.config["CONTACT_MIN_FILL_SECONDS"] == 3
    app.config["RATELIMIT_PUBLIC_PER_ADDRESS"] = "100 per hour"
    fresh = antiabuse.opened_token()
    too_fast = send(client, started=fresh)
    assert too_fast.status_code == 400
    assert "envoyé trop vite" in flat(too_fast)
    assert f'value="{fresh}"' in too_fast.text  # the opening time is kept, not reset
    for forged in ("", "123", fresh[:-2] + "xx", antiabuse.opened_token()[::-1]):
        response = send(client, started=forged)
        assert response.status_code == 400 and "envoyé trop vite" in flat(response)
    assert tickets() == []
    assert send(client, started=antiabuse.opened_token(time.time() - 4)).status_code == 303


@pytest.mark.parametrize("field", ["email", "last_name", "first_name", "uai"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_breaks_in_header_fields_are_refused(client, directory, field, newline):
    value = form_data().get(field, "lycée") + newline + "Bcc: victim@evil.example"
    response = send(client, **{field: value})
    assert response.status_code == 400
    page = flat(response)
    assert "retirez le retour à la ligne" in page
    assert f'aria-describedby="{field}-messages"' in page
    assert "Je n'ai jamais reçu le lien" in page
    assert tickets() == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "pas-une-adresse"}, "Saisissez une adresse électronique complète"),
        ({"last_name": ""}, "Indiquez votre nom."),
        ({"first_name": "x" * 101}, "100 caractères au plus."),
        ({"uai": "0751234A"}, "la lettre de contrôle ne correspond pas"),
        ({"uai": "12"}, "un code UAI compte 8 caractères"),
        ({"uai": ""}, "Indiquez le code UAI de votre établissement, ou cherchez-le"),
        ({"uai": "", "chosen_uai": "<script>"}, "Choisissez un établissement de la liste."),
        ({"category": "inconnue"}, "Choisissez la difficulté"),
        ({"category": ""}, "Choisissez la difficulté"),
        ({"message": "   "}, "Décrivez votre difficulté."),
        ({"message": "x" * 4001}, "Votre message dépasse 4000 caractères"),
        ({"consent": ""}, "Cochez cette case"),
        ({"last_name": "Du\x00pont"}, "caractère invisible"),
    ],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_lost(client, directory, overrides, message):
    response = send(client, **overrides)
    assert response.status_code == 400
    page = flat(response)
    assert message in page
    assert "Le formulaire contient" in page
    if "message" not in overrides:
        assert "Je n'ai jamais reçu le lien d'activation.</textarea>" in page
    if "email" not in overrides:
        assert 'value="marie.dupont@ac-lille.fr"' in page
    assert tickets() == []


def test_control_characters_in_the_message_never_reach_the_database(client, directory):
    response = send(client, message="Bonjour\x00 le\x07 lien\tne marche pas\r\n")
    assert response.status_code == 303
    (ticket,) = tickets()
    assert ticket.message == "Bonjour le lien\tne marche pas"


def test_typed_html_is_escaped_when_the_form_comes_back(client, directory):
    response = send(client, last_name="<script>alert(1)</script>", uai="0751234A")
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_csrf_is_required_and_an_expired_form_comes_back_filled(client, directory, app):
    app.config["WTF_CSRF_ENABLED"] = True
    response = send(client)
    assert response.status_code == 400
    page = flat(response)
    assert "La page est restée ouverte trop longtemps" in page
    assert "Je n'ai jamais reçu le lien d'activation.</textarea>" in page
    assert tickets() == []
    token = response.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    started = response.text.split('name="started" type="hidden" value="')[1].split('"')[0]
    assert send(client, csrf_token=token, started=started).status_code == 303
    assert len(tickets()) == 1
