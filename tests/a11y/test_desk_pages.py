"""What agents stumbled on at the desk, checked on the pages served (issue 11)."""

import re

from sqlalchemy import select

from csudesk.actor import Actor
from csudesk.extensions import db
from csudesk.filters import csu_short_name, plural
from csudesk.tickets.models import Ticket
from csudesk.tickets.services import create_ticket
from tests.fixtures.factories import csu


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def test_plural_and_csu_short_name():
    assert [plural(n, "ticket") for n in (0, 1, 2, 1500)] == ["ticket"] * 2 + ["tickets"] * 2
    assert plural(3, "électeur trouvé", "électeurs trouvés") == "électeurs trouvés"
    assert plural(2, "avis") == "avis"
    assert csu_short_name("CSU — Académie de Lille") == "Académie de Lille"
    assert csu_short_name("Université de Lille") == "Université de Lille"


def test_voter_file_identity_is_a_list_and_the_usual_call_is_one_press(
    client, lille, make_voter, smtp
):
    voter = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    identity = page.split('aria-label="Identité sur la liste électorale">')[1].split("</dl>")[0]
    assert "<dt>Identifiant sur la liste</dt>" in identity and voter.roll_id in identity
    assert "<dt>Établissement</dt>" in identity and "UAI <span" in identity
    assert "<dt>Cellule (CSU)</dt><dd>Académie de Lille</dd>" in identity
    assert "CSU — CSU" not in page and "Guichet — CSU —" not in client.get("/guichet/").text
    form = page.split(f'action="/guichet/electeurs/{voter.id}/liens/activation"')[1]
    form = form.split("</form>")[0]
    # One address, no open ticket: no radio, no ticket select to answer, a sentence instead.
    assert 'type="radio"' not in form
    assert '<input type="hidden" name="activation-address" value="paul.durand@ac-lille.fr">' in form
    assert '<input type="hidden" name="activation-ticket" value="nouveau">' in form
    assert "Un nouveau ticket sera ouvert : « Lien non reçu », téléphone." in form
    # The one press: exactly what the page's form sends.
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    fields.update(
        {
            "activation-category": "lien_non_recu",  # the selects' selected options
            "activation-channel": "telephone",
        }
    )
    response = client.post(f"/guichet/electeurs/{voter.id}/liens/activation", data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith("#confirmation")
    ticket = db.session.scalar(select(Ticket).where(Ticket.voter_id == voter.id))
    assert (ticket.category, ticket.channel) == ("lien_non_recu", "telephone")
    # Now one open ticket: the action joins it, said in a sentence, no star to answer.
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert '<div id="confirmation" class="csu-message-focus" tabindex="-1">' in page
    form = page.split(f"/guichet/electeurs/{voter.id}/liens/activation")[1].split("</form>")[0]
    assert f"L'action sera rattachée au ticket ouvert {ticket.reference}" in form.replace(
        "&#39;", "'"
    )
    assert f'<option selected value="{ticket.id}">' in form


def test_several_addresses_make_a_required_radio_group(client, lille, make_voter):
    voter = make_voter(emails=("a.martin@ac-lille.fr", "anne.martin@ac-lille.fr"))
    page = client.get(f"/guichet/electeurs/{voter.id}").text
    assert 'role="radiogroup" aria-required="true"' in page
    assert "Adresse de la liste électorale où envoyer le lien" in page
    assert 'class="csu-required" aria-hidden="true">*</span>' in page
    assert "Les champs marqués d'un astérisque" in page


def test_page_states_have_their_own_titles(client, lille, make_voter):
    voter = make_voter("Durand", "Paul", emails=("paul.durand@ac-lille.fr",))
    titles = {
        "home": title(client.get("/guichet/").text),
        "found_none": title(
            client.post("/guichet/recherche", data={"courriel": "personne@ac-lille.fr"}).text
        ),
        "bad_email": title(client.post("/guichet/recherche", data={"courriel": ""}).text),
        "names": title(client.get("/guichet/recherche?nom=Durand").text),
        "no_names": title(client.get("/guichet/recherche?nom=Zzyzx").text),
        "bad_uai": title(client.get("/guichet/recherche?nom=Durand&uai=1234").text),
        "voter": title(client.get(f"/guichet/electeurs/{voter.id}").text),
    }
    response = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation", data={"activation-ticket": "x"}
    )
    assert response.status_code == 400
    titles["voter_error"] = title(response.text)
    assert len(set(titles.values())) == len(titles), titles
    for state in ("bad_email", "bad_uai", "voter_error"):
        assert titles[state].startswith("Erreur"), titles[state]
    assert titles["names"].startswith("1 électeur trouvé par nom")
    # Neither the address nor the name typed goes into the title (browser history).
    assert "personne@" not in titles["found_none"] and "Zzyzx" not in titles["no_names"]


def test_other_cell_panel_gives_what_to_pass_on_or_says_none_is_known(client, lille, make_voter):
    voter = make_voter(emails=("jean.v@ac-versailles.fr",), uai="0781234T")
    versailles = csu("AC-25")
    versailles.phone, versailles.hours, versailles.email, versailles.web_url = (
        None,
        None,
        None,
        None,
    )
    db.session.commit()
    page = client.post("/guichet/recherche", data={"courriel": "jean.v@ac-versailles.fr"}).text
    assert "Cet électeur relève d'une autre cellule : Académie de Versailles" in page
    assert "Aucune coordonnée de cette cellule n'est connue ici" in page
    assert voter.last_name not in page
    versailles.phone, versailles.hours = "01 30 83 44 44", "9 h - 17 h du lundi au vendredi"
    versailles.email = "csu@ac-versailles.fr"
    db.session.commit()
    page = client.post("/guichet/recherche", data={"courriel": "jean.v@ac-versailles.fr"}).text
    assert '<dt>Téléphone</dt><dd><a href="tel:0130834444">01 30 83 44 44</a></dd>' in page
    assert "<dt>Horaires</dt><dd>9 h - 17 h du lundi au vendredi</dd>" in page
    assert '<a href="mailto:csu@ac-versailles.fr">' in page
    assert "Aucune coordonnée" not in page and "Non connus" not in page


def test_ticket_page_labels_badges_offers_no_default_cell_and_a_way_back(client, lille, make_voter):
    voter = make_voter()
    ticket = create_ticket(
        Actor.for_agent(lille, "127.0.0.1"),
        csu=voter.csu,
        category="mot_de_passe_refuse",
        channel="telephone",
        voter=voter,
    )
    db.session.commit()
    page = client.get(f"/guichet/tickets/{ticket.id}").text
    assert "<dt>Statut</dt>" in page and "<dt>Catégorie</dt><dd>Mot de passe refusé</dd>" in page
    assert "<dt>Canal</dt><dd>Téléphone</dd>" in page
    select_html = page.split('name="csu"')[1].split("</select>")[0]
    first_option = re.search(r"<option[^>]*>[^<]*</option>", select_html).group(0)
    assert first_option == (
        '<option value="" disabled hidden selected>Choisissez la cellule</option>'
    )
    assert "selected" not in select_html.replace(first_option, "")
    assert 'href="/guichet/tickets">Retour à la file des tickets</a>' in page
    response = client.post(f"/guichet/tickets/{ticket.id}/transfert", data={"reason": "x"})
    assert response.status_code == 400 and title(response.text).startswith("Erreur")


def test_queue_tells_open_from_waiting(client, lille, make_voter):
    voter = make_voter()
    actor = Actor.for_agent(lille, "127.0.0.1")
    open_one = create_ticket(
        actor, csu=voter.csu, category="autre", channel="telephone", voter=voter
    )
    waiting = create_ticket(
        actor, csu=voter.csu, category="autre", channel="telephone", voter=voter
    )
    waiting.status = "en_attente"
    db.session.commit()
    page = client.get("/guichet/tickets").text
    assert '<p class="fr-badge fr-badge--sm fr-badge--info">Ouvert</p>' in page
    assert '<p class="fr-badge fr-badge--sm fr-badge--warning">En attente</p>' in page
    assert "2 tickets." in page and open_one.id != waiting.id
    assert 'tabindex="0" role="region" aria-label="Tableau des tickets"' in page


def test_signed_in_agent_is_text_not_an_aria_label_on_a_span(client, lille):
    page = client.get("/guichet/").text
    assert 'aria-label="Connecté' not in page
    assert '<span class="fr-sr-only csu-visually-hidden">Connecté : </span>' in page


def test_name_search_results_show_the_city_and_the_uai_once(client, lille, make_voter):
    voter = make_voter("Lefebvre", "Anne")
    voter.establishment.name, voter.establishment.city = "Lycée Jean Moulin", "Roubaix"
    db.session.commit()
    page = client.get("/guichet/recherche?nom=Lefèvre").text
    row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "Lycée Jean Moulin, Roubaix — UAI" in row
    assert row.count("0590001F") == 1


def test_a_stale_ticket_choice_is_explained_on_the_one_press_form(client, lille, make_voter):
    voter = make_voter(emails=("paul.durand@ac-lille.fr",))
    response = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={
            "activation-address": "paul.durand@ac-lille.fr",
            "activation-ticket": "987654",  # a ticket that is not (or no longer) offered
            "activation-category": "lien_non_recu",
            "activation-channel": "telephone",
        },
    )
    assert response.status_code == 400
    form = response.text.split(f"/guichet/electeurs/{voter.id}/liens/activation")[1]
    form = form.split("</form>")[0]
    assert '<input type="hidden" name="activation-ticket" value="nouveau">' in form
    assert 'id="activation-ticket-messages"' in form and "fr-message--error" in form
