"""The supervision pages of the réponses types, through the client: list, create, edit,
deactivate, the scope refusals and the CSRF token."""

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation import response_templates as rt
from csudesk.conversation.models import ResponseTemplate
from csudesk.extensions import db
from tests.fixtures.factories import AGENT_PASSWORD, csu

BODY = "Bonjour {prenom},\n\nVotre demande {reference} est reçue.\n\n{csu}"


@pytest.fixture
def cells(make_agent):
    """Supervisors of Lille, Versailles and the national cell, an agent; one template each."""
    people = SimpleNamespace(
        sup_nat=make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National"),
        sup_lille=make_agent("sup.lille@csudesk.test", "supervisor", "AC-09", "Sophie Lille"),
        sup_vers=make_agent("sup.vers@csudesk.test", "supervisor", "AC-25", "Vera Versailles"),
        agent_lille=make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille"),
    )
    people.national = rt.create_template(
        Actor.for_agent(people.sup_nat), csu=None, title="Accusé national", body=BODY
    )
    people.lille = rt.create_template(
        Actor.for_agent(people.sup_lille), csu=csu("AC-09"), title="Rappel Lille", body=BODY
    )
    people.versailles = rt.create_template(
        Actor.for_agent(people.sup_vers),
        csu=csu("AC-25"),
        title="Secret Versailles",
        body="Texte de Versailles {prenom}",
    )
    db.session.commit()
    return people


def form_of(**fields) -> dict:
    return {"title": "Nouvelle", "category": "", "body": BODY, **fields}


def actions() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(
                AuditEntry.action.startswith("response_template."), AuditEntry.agent_id.is_not(None)
            )
            .order_by(AuditEntry.id)
        )
    )


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_an_agent_is_refused_every_page(client, auth, cells):
    auth.login(cells.agent_lille.email)
    lille = cells.lille.id
    assert client.get("/supervision/reponses-types").status_code == 403
    assert client.get("/supervision/reponses-types/nouvelle").status_code == 403
    assert client.get(f"/supervision/reponses-types/{lille}").status_code == 403
    assert client.post("/supervision/reponses-types/nouvelle", data=form_of()).status_code == 403
    assert client.post(f"/supervision/reponses-types/{lille}", data=form_of()).status_code == 403
    deactivated = client.post(f"/supervision/reponses-types/{lille}/etat", data={"actif": "0"})
    assert deactivated.status_code == 403
    db.session.refresh(cells.lille)
    assert cells.lille.active and cells.lille.title == "Rappel Lille"
    assert actions() == ["response_template.create"] * 3


def test_a_csu_supervisor_lists_the_national_read_only_and_its_own(client, auth, cells):
    auth.login(cells.sup_lille.email)
    page = client.get("/supervision/reponses-types")
    assert page.status_code == 200
    assert 'aria-current="page">Réponses types</a>' in page.text
    assert "Accusé national" in page.text and "Rappel Lille" in page.text
    assert "Secret Versailles" not in page.text and "Vera" not in page.text
    national_part, cells_part = page.text.split('id="titre-cellules"')
    # National: read, not changed (no state button); its own cell: a button each.
    assert "lecture seule" in national_part and "Désactiver" not in national_part
    assert f"/supervision/reponses-types/{cells.lille.id}/etat" in cells_part
    assert "par Sophie Lille" in cells_part and "par Nina National" in national_part
    assert 'role="region" aria-label="Tableau des réponses types nationales"' in page.text
    assert 'name="csu"' not in page.text  # one cell: no cell filter
    assert client.get("/supervision/reponses-types?csu=AC-25").status_code == 404


def test_a_national_supervisor_sees_every_cell_and_filters_by_one(client, auth, cells):
    auth.login(cells.sup_nat.email)
    page = client.get("/supervision/reponses-types").text
    assert "Rappel Lille" in page and "Secret Versailles" in page
    assert page.count("/etat") == 3
    filtered = client.get("/supervision/reponses-types?csu=AC-25").text
    assert "Secret Versailles" in filtered and "Rappel Lille" not in filtered
    assert "Accusé national" in filtered
    assert client.get("/supervision/reponses-types?csu=NOPE").status_code == 404


def test_create_a_cell_template_and_see_it_listed(client, auth, cells):
    auth.login(cells.sup_lille.email)
    form = client.get("/supervision/reponses-types/nouvelle?csu=AC-09").text
    options = re.findall(
        r'<option[^>]*value="([^"]*)"', form.split('name="owner"')[1].split("</select>")[0]
    )
    assert options == ["AC-09"]  # no national choice for a cell's supervisor
    for name in rt.PLACEHOLDERS:
        assert "{" + name + "}" in form
    assert 'aria-describedby="aide-variables"' in form
    created = client.post(
        "/supervision/reponses-types/nouvelle",
        data=form_of(owner="AC-09", title="Horaires de Lille", category="autre"),
    )
    assert created.status_code == 302
    assert created.location.endswith("/supervision/reponses-types#confirmation")
    template = db.session.scalar(
        select(ResponseTemplate).where(ResponseTemplate.title == "Horaires de Lille")
    )
    assert template.csu_id == csu("AC-09").id and template.category == "autre"
    assert template.body == BODY and template.updated_by_agent_id == cells.sup_lille.id
    assert actions() == ["response_template.create"] * 4
    listing = client.get(created.location).text
    assert "Réponse type « Horaires de Lille » créée." in listing


@pytest.mark.parametrize("owner", ["national", "AC-25", "NATIONAL"])
def test_a_csu_supervisor_cannot_create_elsewhere(client, auth, cells, owner):
    auth.login(cells.sup_lille.email)
    refused = client.post("/supervision/reponses-types/nouvelle", data=form_of(owner=owner))
    assert refused.status_code == 400
    assert (
        db.session.scalar(select(ResponseTemplate).where(ResponseTemplate.title == "Nouvelle"))
        is None
    )


def test_a_national_supervisor_creates_a_national_template(client, auth, cells):
    auth.login(cells.sup_nat.email)
    form = client.get("/supervision/reponses-types/nouvelle").text
    options = re.findall(
        r'<option[^>]*value="([^"]*)"', form.split('name="owner"')[1].split("</select>")[0]
    )
    assert options[0] == "national" and "AC-25" in options and "NATIONAL" not in options
    done = client.post("/supervision/reponses-types/nouvelle", data=form_of(owner="national"))
    assert done.status_code == 302
    template = db.session.scalar(
        select(ResponseTemplate).where(ResponseTemplate.title == "Nouvelle")
    )
    assert template.csu_id is None


def test_refusals_come_back_on_the_field(client, auth, cells):
    auth.login(cells.sup_lille.email)
    page = client.post(
        "/supervision/reponses-types/nouvelle",
        data=form_of(owner="AC-09", body="Bonjour {prénom}, voir http://csudesk.test/activation/x"),
    )
    assert page.status_code == 400
    assert (
        "<title>Erreur — Nouvelle réponse type — supervision — Assistance aux électeurs</title>"
        in page.text
    )
    assert 'aria-describedby="aide-variables body-messages"' in page.text
    assert 'aria-invalid="true"' in page.text
    messages = page.text.split('id="body-messages"')[1].split("</div>")[0]
    assert "Variable inconnue : {prénom}." in html.unescape(messages)
    assert "{lien_trouver_ma_csu}" in messages
    # What was typed is kept for the correction.
    assert "voir http://csudesk.test/activation/x</textarea>" in page.text
    linked = client.post(
        "/supervision/reponses-types/nouvelle",
        data=form_of(owner="AC-09", body="Voir http://csudesk.test/activation/x"),
    )
    assert linked.status_code == 400 and "ne porte jamais le lien d&#39;un compte" in linked.text
    duplicate = client.post(
        "/supervision/reponses-types/nouvelle", data=form_of(owner="AC-09", title="rappel lille")
    )
    assert duplicate.status_code == 400 and 'id="title-messages"' in duplicate.text
    assert actions() == ["response_template.create"] * 3


def test_edit_a_template(client, auth, cells):
    auth.login(cells.sup_lille.email)
    url = f"/supervision/reponses-types/{cells.lille.id}"
    form = client.get(url).text
    assert 'value="Rappel Lille"' in form and "{reference} est reçue." in form
    assert 'aria-current="true">Réponses types</a>' in form
    saved = client.post(url, data=form_of(title="Rappel Lille", category="mot_de_passe_refuse"))
    assert saved.status_code == 302
    db.session.refresh(cells.lille)
    assert cells.lille.category == "mot_de_passe_refuse"
    assert actions()[-1] == "response_template.update"
    again = client.post(url, data=form_of(title="Rappel Lille", category="mot_de_passe_refuse"))
    assert "Aucune modification" in client.get(again.location).text
    assert actions().count("response_template.update") == 1


def test_deactivate_then_reactivate(client, auth, cells):
    auth.login(cells.sup_lille.email)
    url = f"/supervision/reponses-types/{cells.lille.id}/etat"
    off = client.post(url, data={"actif": "0"})
    assert off.status_code == 302
    listing = client.get(off.location).text
    assert "Réponse type « Rappel Lille » désactivée." in listing
    row = listing.split("Rappel Lille</a>")[1].split("</tr>")[0]
    assert "désactivé" in row and "Réactiver" in row
    db.session.refresh(cells.lille)
    assert not cells.lille.active
    assert client.post(url, data={"actif": "1"}).status_code == 302
    db.session.refresh(cells.lille)
    assert cells.lille.active
    assert actions()[-2:] == ["response_template.deactivate", "response_template.activate"]


def test_another_cells_template_is_404_and_the_national_one_read_only(client, auth, cells):
    auth.login(cells.sup_lille.email)
    versailles = f"/supervision/reponses-types/{cells.versailles.id}"
    for response in (
        client.get(versailles),
        client.post(versailles, data=form_of(title="Pris")),
        client.post(versailles + "/etat", data={"actif": "0"}),
        client.get("/supervision/reponses-types/999999"),
    ):
        assert response.status_code == 404
        assert "Versailles" not in response.text
    national = f"/supervision/reponses-types/{cells.national.id}"
    page = client.get(national)
    assert page.status_code == 200
    assert "vous pouvez la lire, pas la modifier" in page.text and "<textarea" not in page.text
    assert "{reference} est reçue." in page.text
    assert client.post(national, data=form_of(title="Pris")).status_code == 403
    assert client.post(national + "/etat", data={"actif": "0"}).status_code == 403
    db.session.refresh(cells.national)
    db.session.refresh(cells.versailles)
    assert cells.national.active and cells.national.title == "Accusé national"
    assert cells.versailles.active and cells.versailles.title == "Secret Versailles"
    assert actions() == ["response_template.create"] * 3


def test_every_change_needs_the_csrf_token(app, client, cells):
    app.config["WTF_CSRF_ENABLED"] = True
    login_page = client.get("/connexion").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    signed_in = client.post(
        "/connexion",
        data={"email": cells.sup_lille.email, "password": AGENT_PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 302
    lille = cells.lille.id
    posts = [
        ("/supervision/reponses-types/nouvelle", form_of(owner="AC-09")),
        (f"/supervision/reponses-types/{lille}", form_of(title="Changé")),
        (f"/supervision/reponses-types/{lille}/etat", {"actif": "0"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400
    db.session.refresh(cells.lille)
    assert cells.lille.active and cells.lille.title == "Rappel Lille"
    assert actions() == ["response_template.create"] * 3
    page = client.get(f"/supervision/reponses-types/{lille}").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    for url, data in posts:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
    db.session.refresh(cells.lille)
    assert not cells.lille.active and cells.lille.title == "Changé"
