"""The supervision ticket log: access, scope (also by URL tampering), filters, pagination."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from csudesk.extensions import db

from .conftest import LILLE_UAI, VERSAILLES_UAI, filter_by_post, note_at, status_at, ticket_at

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris


@pytest.fixture
def log(people, make_voter):
    """Lille: 3 tickets (one with notes, one resolved); Versailles: 1 ticket."""
    marie = make_voter("Dupont", "Marie", ("marie.dupont@ac-lille.fr",), LILLE_UAI)
    paul = make_voter("Martin", "Paul", ("paul.martin@ac-versailles.fr",), VERSAILLES_UAI)
    a = ticket_at(T0, people.agent_lille, "AC-09", voter=marie, channel="telephone")
    note_at(
        T0 + timedelta(minutes=5), people.agent_lille, a, "Rappelée : boîte pleine, lien renvoyé"
    )
    b = ticket_at(
        T0 + timedelta(days=1),
        people.agent_lille,
        "AC-09",
        "mot_de_passe_refuse",
        channel="courriel",
        contact_email="Inconnu@Example.org",
        message="Mon identifiant est refusé depuis hier",
    )
    c = ticket_at(T0 + timedelta(days=2), people.sup_lille, "AC-09", "autre")
    status_at(T0 + timedelta(days=2, hours=1), people.sup_lille, c, "resolu")
    d = ticket_at(T0 + timedelta(days=1), people.agent_versailles, "AC-25", voter=paul)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "d": d}


def refs(response) -> list[str]:
    import re

    return re.findall(r">(\d{4}-\d{6})</a>", response.text)


def test_agents_are_refused_and_anonymous_sent_to_login(client, auth, people):
    assert client.get("/supervision/tickets").status_code == 302
    auth.login(people.agent_lille.email)
    assert client.get("/supervision/tickets").status_code == 403
    assert client.get("/supervision/").status_code == 403
    assert client.get("/supervision/journal").status_code == 403


def test_csu_supervisor_sees_only_its_csu(client, auth, people, log):
    auth.login(people.sup_lille.email)
    response = client.get("/supervision/tickets")
    assert response.status_code == 200
    assert refs(response) == [log[k].reference for k in ("c", "b", "a")]
    assert log["d"].reference not in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_url_tampering_gives_404(client, auth, people, log):
    auth.login(people.sup_lille.email)
    assert client.get(f"/supervision/tickets/{log['d'].id}").status_code == 404
    assert client.get(f"/supervision/tickets/{log['a'].id}").status_code == 200
    assert client.get("/supervision/tickets?csu=AC-25").status_code == 404
    assert client.get(f"/supervision/tickets?agent={people.agent_versailles.id}").status_code == 404
    assert client.get("/supervision/tickets?agent=999999").status_code == 404
    assert client.get("/supervision/tickets/export.csv?csu=AC-25").status_code == 404
    assert client.get(f"/supervision/journal?agent={people.agent_versailles.id}").status_code == 404


def test_national_supervisor_sees_all_and_filters_by_csu(client, auth, people, log):
    auth.login(people.sup_nat.email)
    assert len(refs(client.get("/supervision/tickets"))) == 4
    assert refs(client.get("/supervision/tickets?csu=AC-25")) == [log["d"].reference]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("categorie=mot_de_passe_refuse", ["b"]),
        ("statut=resolu", ["c"]),
        ("canal=courriel", ["b"]),
        ("du=2026-11-17&au=2026-11-17", ["b"]),
        ("du=2026-11-17", ["c", "b"]),
        ("courriel=MARIE.DUPONT@ac-lille.fr", ["a"]),
        ("courriel=inconnu@example.org", ["b"]),
        ("texte=boîte+renvoyé", ["a"]),
        ("texte=identifiant", ["b"]),
        ("texte=boîte+identifiant", []),
        ("texte=100%25", []),
    ],
)
def test_filters(client, auth, people, log, query, expected):
    """The form as a browser sends it (a POST, then the page it redirects to)."""
    auth.login(people.sup_lille.email)
    response = filter_by_post(client, "/supervision/tickets", dict(parse_qsl(query)))
    assert response.status_code == 200
    assert refs(response) == [log[k].reference for k in expected]
    if not expected:
        assert "Aucun ticket ne correspond à ces filtres" in response.text


def test_agent_filter_covers_tickets_the_agent_worked_on(client, auth, people, log):
    note_at(T0 + timedelta(days=3), people.sup_lille, log["a"], "vu en supervision")
    db.session.commit()
    auth.login(people.sup_lille.email)
    worked = refs(client.get(f"/supervision/tickets?agent={people.sup_lille.id}"))
    assert worked == [log["c"].reference, log["a"].reference]


def test_paris_day_boundaries(client, auth, people):
    # 22:30 UTC on 16 Nov is 23:30 in Paris (16th); 23:30 UTC is 00:30 on the 17th.
    late = ticket_at(datetime(2026, 11, 16, 22, 30, tzinfo=UTC), people.agent_lille, "AC-09")
    next_day = ticket_at(datetime(2026, 11, 16, 23, 30, tzinfo=UTC), people.agent_lille, "AC-09")
    db.session.commit()
    auth.login(people.sup_lille.email)
    assert refs(client.get("/supervision/tickets?du=2026-11-16&au=2026-11-16")) == [late.reference]
    assert refs(client.get("/supervision/tickets?du=2026-11-17&au=2026-11-17")) == [
        next_day.reference
    ]


def test_bad_filters_get_a_french_message_not_a_500(client, auth, people, log):
    auth.login(people.sup_lille.email)
    response = client.get("/supervision/tickets?du=2026-11-20&au=2026-11-10")
    assert response.status_code == 400
    assert "La date de fin précède la date de début." in response.text
    assert client.get("/supervision/tickets?du=pas-une-date").status_code == 400
    assert client.get("/supervision/tickets?statut=inconnu").status_code == 400
    assert client.get("/supervision/tickets?apres=n'importe-quoi").status_code == 200


def test_empty_scope_says_so(client, auth, people):
    auth.login(people.sup_lille.email)
    assert (
        "Aucun ticket n'a encore été ouvert dans votre périmètre"
        in client.get("/supervision/tickets").text
    )


def test_keyset_pagination_walks_every_ticket_once_both_ways(app, client, auth, people):
    app.config["PAGE_SIZE"] = 4
    same_time = T0 + timedelta(hours=5)
    made = [ticket_at(T0 + timedelta(minutes=i), people.agent_lille, "AC-09") for i in range(7)]
    # Three tickets at the same instant: the id breaks the tie, none is skipped or repeated.
    made += [ticket_at(same_time, people.agent_lille, "AC-09") for _ in range(3)]
    db.session.commit()
    expected = [t.reference for t in sorted(made, key=lambda t: (t.created_at, t.id), reverse=True)]
    auth.login(people.sup_lille.email)
    import re

    seen, pages, url = [], [], "/supervision/tickets"
    while url:
        response = client.get(url)
        page = refs(response)
        pages.append((url, page))
        seen += page
        following = re.search(r'href="([^"]*apres=[^"]*)"', response.text)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen == expected
    assert [len(p) for _, p in pages] == [4, 4, 2]
    # Back from the last page with "avant": the middle page again.
    last = client.get(pages[-1][0])
    previous = re.search(r'href="([^"]*avant=[^"]*)"', last.text).group(1).replace("&amp;", "&")
    assert refs(client.get(previous)) == pages[1][1]


def test_ticket_page_shows_the_whole_history(client, auth, people, log, make_voter):
    from csudesk.access.services import resend_activation_link
    from csudesk.mail.models import MailStatus, OutboxMail

    from .conftest import actor_of

    voter = log["a"].voter
    resend_activation_link(actor_of(people.agent_lille), voter, voter.emails[0].address, log["a"])
    mail = db.session.query(OutboxMail).one()
    mail.status, mail.attempts, mail.smtp_response = MailStatus.FAILED, 8, "550 mailbox unavailable"
    db.session.commit()
    auth.login(people.sup_lille.email)
    page = client.get(f"/supervision/tickets/{log['a'].id}").text
    for expected in (
        "ticket créé",
        "Rappelée : boîte pleine, lien renvoyé",
        "lien d&#39;activation envoyé à marie.dupont@ac-lille.fr",
        "échec d&#39;envoi",
        "; courriel échec d&#39;envoi",  # the event's own line: its link and mail state
        "550 mailbox unavailable",
        "Création d&#39;un ticket",
        "Luc Lille",
        "192.0.2.10",
    ):
        assert expected in page
    assert "<dt>Cellule</dt><dd>Académie de Lille [AC-09]</dd>" in page  # no "CSU — " doubling
    assert f'href="/guichet/tickets/{log["a"].id}"' in page
