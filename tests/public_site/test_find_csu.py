"""The public "Trouver ma CSU" page, through the client."""

from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db


def test_page_works_without_a_query(client, directory):
    response = client.get("/trouver-ma-csu")
    assert response.status_code == 200
    assert "Trouver ma cellule de soutien" in response.text
    assert 'name="q"' in response.text


def test_by_uai_shows_academic_csu_and_contact(client, directory):
    set_contact(
        "AC-25", email="csu@ac-versailles.example", phone="01 30 00 00 00", hours="9 h – 17 h"
    )
    db.session.commit()
    response = client.get("/trouver-ma-csu?q=0783774d")
    assert response.status_code == 200
    assert "CSU — Académie de Versailles" in response.text
    assert "mailto:csu@ac-versailles.example" in response.text
    assert "01 30 00 00 00" in response.text
    assert "s'adressent à la cellule de leur académie" in response.text


def test_university_has_its_own_csu(client, directory):
    response = client.get("/trouver-ma-csu?q=0751717J")
    assert "sa propre cellule de soutien" in response.text
    assert "Université Paris 1" in response.text
    assert "aide en ligne" in response.text  # no contact published yet


def test_invalid_uai_gets_a_clear_message(client, directory):
    response = client.get("/trouver-ma-csu?q=0751234A")
    assert response.status_code == 200
    assert "Code UAI non reconnu" in response.text
    assert "lettre de contrôle" in response.text


def test_unroutable_uai_gets_a_clear_message(client, directory):
    response = client.get("/trouver-ma-csu?q=1340004B")
    assert "préfixe 134" in response.text


def test_search_by_name_and_city(client, directory):
    upsert_establishment("0783774D", name="Nouveau collège André Chénier", city="Mantes-la-Jolie")
    upsert_establishment("0770934X", name="Lycée polyvalent Léonard de Vinci", city="Melun")
    db.session.commit()
    by_name = client.get("/trouver-ma-csu?q=andre chenier")
    assert "Nouveau collège André Chénier" in by_name.text
    assert "CSU — Académie de Versailles" in by_name.text
    assert "Léonard" not in by_name.text
    by_city = client.get("/trouver-ma-csu?q=MELUN")
    assert "Lycée polyvalent Léonard de Vinci" in by_city.text
    assert "CSU — Académie de Créteil" in by_city.text
    detail = client.get("/trouver-ma-csu/0770934X")
    assert detail.status_code == 200 and "CSU — Académie de Créteil" in detail.text


def test_no_result_has_advice(client, directory):
    response = client.get("/trouver-ma-csu?q=zzzzzz")
    assert "Aucun établissement trouvé" in response.text


def test_query_is_escaped(client, directory):
    response = client.get("/trouver-ma-csu", query_string={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_unknown_establishment_page_is_404(client, directory):
    assert client.get("/trouver-ma-csu/0751234A").status_code == 404
    assert "Page introuvable" in client.get("/trouver-ma-csu/0751234A").text
