"""Replying at the desk: compose, preview, send; CSRF, scope, another agent's event first."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.mail.worker import send_due
from csudesk.tickets import services as tickets
from csudesk.tickets.models import Status, Ticket, TicketEvent
from tests.fixtures.factories import csu, response_template

ROLL = "marie.dupont@ac-lille.fr"


@pytest.fixture
def ticket(lille, make_voter):
    voter = make_voter(emails=(ROLL,))
    ticket = tickets.create_ticket(
        Actor.for_agent(lille), csu=voter.csu, category="autre", channel="telephone", voter=voter
    )
    db.session.commit()
    return ticket


def url(ticket) -> str:
    return f"/guichet/tickets/{ticket.id}/repondre"


def hidden(page: str, name: str) -> str:
    return unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))


def mails() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail)))


def test_compose_preview_send(client, ticket):
    page = client.get(url(ticket)).text
    assert f'value="{ROLL}"' in page and "adresse de la liste électorale" in page
    loaded = hidden(page, "derniere_activite")
    assert loaded == str(ticket.events[-1].id)
    form = {"to": ROLL, "body": "Bonjour,\nvotre lien est reparti.", "derniere_activite": loaded}
    preview = client.post(url(ticket), data={**form, "etape": "previsualiser"})
    assert preview.status_code == 200
    assert f"[CSU {ticket.reference}] Votre demande d&#39;assistance" in preview.text
    assert "Bonjour,\nvotre lien est reparti.\n\n-- \n" in unescape(preview.text)
    assert hidden(preview.text, "body") == form["body"]
    assert mails() == []  # a preview queues nothing
    sent = client.post(url(ticket), data={**form, "etape": "envoyer", "resolve": "y"})
    assert sent.status_code == 303
    assert sent.headers["Location"] == f"/guichet/tickets/{ticket.id}#historique"
    (mail,) = mails()
    assert (mail.to_address, mail.template) == (ROLL, "reply")
    db.session.refresh(ticket)
    assert ticket.status == Status.RESOLVED
    history = client.get(f"/guichet/tickets/{ticket.id}").text
    assert (
        f'réponse par courriel à <span class="csu-break">{ROLL}</span> — en file d&#39;attente'
        in history
    )
    assert "Réponse mise en file d&#39;envoi" in history


def test_the_delivery_state_shows_on_the_ticket_and_the_voter_file(client, ticket, smtp):
    client.post(url(ticket), data={"to": ROLL, "body": "Bonjour.", "etape": "envoyer"})
    assert send_due().sent == 1
    history = client.get(f"/guichet/tickets/{ticket.id}").text
    assert "— remis au serveur de messagerie le " in history
    voter_page = client.get(f"/guichet/electeurs/{ticket.voter_id}").text
    assert "Réponses envoyées par courriel" in voter_page
    assert re.search(
        rf"Ticket <a [^>]*>{ticket.reference}</a>, vers <span [^>]*>{ROLL}</span>, le "
        r"\d\d/\d\d/\d{4} à \d\d:\d\d : remis au serveur de messagerie",
        voter_page,
    )


def test_a_typed_address_is_refused_and_nothing_leaves(client, ticket):
    response = client.post(
        url(ticket), data={"to": "pirate@example.org", "body": "Bonjour.", "etape": "envoyer"}
    )
    assert response.status_code == 400
    assert mails() == []


def test_a_refused_text_comes_back_on_its_field(client, ticket):
    response = client.post(
        url(ticket), data={"to": ROLL, "body": "Code ABCD-EFGH-JKLM-NPQR", "etape": "envoyer"}
    )
    assert response.status_code == 400
    assert 'id="body-messages"' in response.text and "code de vote" in response.text
    assert mails() == []


def test_csrf_is_checked(app, client, ticket):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(url(ticket), data={"to": ROLL, "body": "Bonjour.", "etape": "envoyer"})
    assert response.status_code == 400
    assert mails() == []


def test_another_csus_ticket_is_404(client, lille):
    other = tickets.create_ticket(
        Actor.system(), csu=csu("AC-25"), category="autre", channel="courriel"
    )
    db.session.commit()
    assert client.get(url(other)).status_code == 404
    assert client.post(url(other), data={"to": "x@example.org", "body": "B."}).status_code == 404
    insert = client.post(f"/guichet/tickets/{other.id}/note/reponse-type", data={"text": ""})
    assert insert.status_code == 404


def test_a_transferred_ticket_says_why_it_cannot_be_answered(client, ticket, lille):
    tickets.transfer(Actor.for_agent(lille), ticket, csu("AC-25"), "Mutée.")
    ticket.csu_id = lille.csu_id  # transferred to a cell of the agent's scope
    db.session.commit()
    page = client.get(url(ticket))
    assert "passez-le au statut « Ouvert »" in page.text
    sent = client.post(url(ticket), data={"to": ROLL, "body": "Bonjour.", "etape": "envoyer"})
    assert sent.status_code == 400 and "passez-le au statut" in sent.text
    assert mails() == []


def test_another_agents_event_since_the_page_was_loaded_asks_to_confirm(client, ticket, make_agent):
    loaded = hidden(client.get(url(ticket)).text, "derniere_activite")
    colleague = make_agent("colin@csudesk.test", "agent", "AC-09", "Colin Collègue")
    note = tickets.add_note(Actor.for_agent(colleague), ticket, "J'ai rappelé l'électrice.")
    db.session.commit()
    form = {"to": ROLL, "body": "Bonjour.", "derniere_activite": loaded}
    preview = client.post(url(ticket), data={**form, "etape": "previsualiser"})
    assert "Un autre agent a ajouté 1 élément au ticket depuis l'ouverture de la page" in (
        preview.text
    )
    assert "Colin Collègue : une note" in preview.text
    refused = client.post(url(ticket), data={**form, "etape": "envoyer"})
    assert refused.status_code == 409 and 'aria-invalid="true"' in refused.text
    assert mails() == []
    stale = client.post(url(ticket), data={**form, "etape": "envoyer", "confirmer": loaded})
    assert stale.status_code == 409  # confirming an older state confirms nothing
    confirmed = client.post(
        url(ticket), data={**form, "etape": "envoyer", "confirmer": str(note.id)}
    )
    assert confirmed.status_code == 303 and len(mails()) == 1


def test_ones_own_events_need_no_confirmation(client, ticket):
    loaded = hidden(client.get(url(ticket)).text, "derniere_activite")
    client.post(f"/guichet/tickets/{ticket.id}/note", data={"text": "Appel reçu."})
    sent = client.post(
        url(ticket),
        data={"to": ROLL, "body": "Bonjour.", "derniere_activite": loaded, "etape": "envoyer"},
    )
    assert sent.status_code == 303


def test_reponses_types_are_offered_and_inserted_without_javascript(client, ticket):
    response_template("Zèbre national", "Bonjour {prenom} {nom}, voir {lien_lien_non_recu}.")
    own = response_template("Accueil de la cellule", "Réf. {reference} — {csu}", "AC-09")
    response_template("Éteinte", "Plus utilisée", "AC-09", active=False)
    response_template("D'une autre cellule", "Non", "AC-25")
    page = client.get(url(ticket)).text
    titles = re.findall(r'<option value="\d+">([^<]+)</option>', page)
    assert titles == ["Accueil de la cellule", "Zèbre national"]
    assert 'role="status" data-insert-status' in page
    inserted = client.post(
        url(ticket),
        data={"to": ROLL, "body": "Déjà écrit.", "reponse_type": own.id, "etape": "inserer"},
    )
    assert inserted.status_code == 200
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", inserted.text, re.S).group(1)
    assert (
        unescape(textarea).strip() == f"Déjà écrit.\n\nRéf. {ticket.reference} — {ticket.csu.name}"
    )
    assert "Réponse type « Accueil de la cellule » insérée" in inserted.text
    assert mails() == []
    nothing = client.post(url(ticket), data={"to": ROLL, "body": "X", "etape": "inserer"})
    assert nothing.status_code == 400 and "Choisissez une réponse type" in nothing.text


def test_a_reponse_type_goes_into_a_note_without_javascript(client, ticket):
    template = response_template("Rappel", "Rappeler {prenom} au sujet de {reference}.")
    page = client.get(f"/guichet/tickets/{ticket.id}").text
    assert f'formaction="/guichet/tickets/{ticket.id}/note/reponse-type"' in page
    assert f'<template data-response="{template.id}">Rappeler Marie au sujet de' in page
    inserted = client.post(
        f"/guichet/tickets/{ticket.id}/note/reponse-type",
        data={"text": "Appel de 10 h.", "reponse_type": template.id},
    )
    assert inserted.status_code == 200
    textarea = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', inserted.text, re.S)
    assert unescape(textarea.group(1)).strip() == (
        f"Appel de 10 h.\n\nRappeler Marie au sujet de {ticket.reference}."
    )
    assert db.session.scalar(select(TicketEvent).where(TicketEvent.kind == "note")) is None


def test_the_ticket_page_links_to_the_reply(client, ticket):
    page = client.get(f"/guichet/tickets/{ticket.id}").text
    assert (
        f'href="/guichet/tickets/{ticket.id}/repondre"' in page and "Répondre par courriel" in page
    )


def test_a_ticket_with_no_address_says_so(client, lille):
    bare = tickets.create_ticket(
        Actor.for_agent(lille), csu=csu("AC-09"), category="autre", channel="telephone",
        contact_email="dicte@gmail.com",
    )  # fmt: skip
    db.session.commit()
    page = client.get(url(bare)).text
    assert "ne contient aucune adresse où répondre" in page and "dicte@gmail.com" not in page
    assert db.session.get(Ticket, bare.id).status == Status.OPEN
