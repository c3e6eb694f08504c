"""Filters by a voter's address stay out of URLs and access logs (issue 10, item 8).

Through HTTP: the filter forms are sent by POST and come back as a URL with a session key;
the rows are those the address gives, and no Location, link or log line holds the address.
"""

import csv
import io
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from csudesk.audit import services as audit
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of
from csudesk.db import clock_at
from csudesk.extensions import db
from csudesk.gunicorn_conf import RedactTokens
from tests import test_deploy
from tests.fixtures.factories import AGENT_PASSWORD, AuthActions
from tests.fixtures.world import csrf_token_in

from .conftest import LILLE_UAI, VERSAILLES_UAI, actor_of, ticket_at

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TYPED = "Marie.Dupont@AC-Lille.fr"
ADDRESS = "marie.dupont@ac-lille.fr"
LOCAL_PART = "marie.dupont"
gunicorn = test_deploy.gunicorn  # the served app of csudesk.service, its access log


@pytest.fixture
def app_config(app_config):
    app_config["PAGE_SIZE"] = 2  # so that the filtered log and journal have several pages
    return app_config


def assert_no_address(text: str, where: str) -> None:
    """Neither the address nor its local part, as typed, lower-cased or percent-encoded."""
    lowered = text.lower()
    for form in {ADDRESS, LOCAL_PART, quote(ADDRESS), quote(ADDRESS, safe=""), "%40ac-lille"}:
        assert form not in lowered, (where, form, text[:500])


def links(page: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', page)


def refs(page: str) -> list[str]:
    return re.findall(r">(\d{4}-\d{6})</a>", page)


def key_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["adresse"][0]


@pytest.fixture
def marie_log(people, make_voter):
    """Marie: three tickets by her voter record, one by her address as a contact; others."""
    marie = make_voter("Dupont", "Marie", (ADDRESS,), LILLE_UAI)
    paul = make_voter("Martin", "Paul", ("paul.martin@ac-versailles.fr",), VERSAILLES_UAI)
    hers = [
        ticket_at(T0 + timedelta(hours=n), people.agent_lille, "AC-09", voter=marie)
        for n in range(3)
    ]
    hers.append(
        ticket_at(
            T0 + timedelta(hours=3),
            people.agent_lille,
            "AC-09",
            channel="formulaire",
            contact_email="Marie.Dupont@ac-lille.fr",
        )
    )
    others = [
        ticket_at(T0 + timedelta(hours=4), people.agent_lille, "AC-09"),
        ticket_at(T0 + timedelta(hours=5), people.agent_versailles, "AC-25", voter=paul),
        ticket_at(T0 - timedelta(days=3), people.agent_lille, "AC-09", voter=marie),
    ]
    db.session.commit()
    return marie, [t.reference for t in reversed(hers)], others


def test_ticket_log_by_address_same_rows_no_address_in_any_url(client, auth, people, marie_log):
    _, expected, _ = marie_log
    auth.login(people.sup_lille.email)
    sent = client.post("/supervision/tickets", data={"courriel": TYPED, "du": "2026-11-16"})
    assert sent.status_code == 303
    assert_no_address(sent.location, "Location")
    assert parse_qs(urlsplit(sent.location).query).keys() == {"adresse", "du"}
    key = key_of(sent.location)

    seen, url, pages = [], sent.location, 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        assert f"<strong>{len(expected)}</strong> tickets correspondant aux filtres" in page.text
        for link in links(page.text):
            assert_no_address(link, f"a link of {url}")
        seen += refs(page.text)
        pages += 1
        nexts = re.findall(r'href="([^"]*apres=[^"]*)"', page.text)
        url = nexts[0].replace("&amp;", "&") if nexts else None
        if url:
            assert key_of(url) == key and "du=2026-11-16" in url
    assert seen == expected and pages == 2

    export = re.search(r'href="(/supervision/tickets/export\.csv[^"]*)"', page.text)[1]
    export = export.replace("&amp;", "&")
    assert key_of(export) == key
    response = client.get(export, buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert [line[0] for line in lines[1:]] == expected
    # The audit entry names the address itself, as before: the key means nothing later.
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "export.tickets")
    ).one()
    assert details_of(entry)["filters"] == {"du": "2026-11-16", "courriel": ADDRESS}


def test_the_same_address_keeps_its_key_and_the_form_shows_it(client, auth, people, marie_log):
    auth.login(people.sup_lille.email)
    first = client.post("/supervision/tickets", data={"courriel": TYPED})
    again = client.post("/supervision/tickets", data={"courriel": ADDRESS, "statut": "ouvert"})
    assert key_of(first.location) == key_of(again.location)
    page = client.get(again.location).text
    # The form holds the address (the page body, sent back by POST), no URL does.
    assert f'value="{ADDRESS}"' in page
    assert 'method="post" action="/supervision/tickets"' in page


def test_journal_by_address_same_rows_audited_no_address_in_any_url(
    client, auth, people, marie_log
):
    marie, _, _ = marie_log
    with clock_at(datetime(2026, 11, 20, 12, 0, tzinfo=UTC)):
        for _ in range(3):
            audit.record(actor_of(people.agent_lille), "voter.view", voter_id=marie.id)
    db.session.commit()
    trail = db.session.scalars(
        select(AuditEntry.id).where(AuditEntry.voter_id == marie.id).order_by(AuditEntry.id)
    ).all()
    auth.login(people.sup_lille.email)
    sent = client.post("/supervision/journal", data={"courriel": TYPED, "du": "2026-11-01"})
    assert sent.status_code == 303
    assert_no_address(sent.location, "Location")

    shown, url, pages = [], sent.location, 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        assert "Électeur : <strong>Dupont Marie</strong>" in page.text
        for link in links(page.text):
            assert_no_address(link, f"a link of {url}")
        shown += [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", page.text)]
        pages += 1
        older = re.findall(r'href="([^"]*apres=[^"]*)"', page.text)
        url = older[0].replace("&amp;", "&") if older else None
        if url:
            assert key_of(url) == key_of(sent.location) and "du=2026-11-01" in url
    assert shown == trail[::-1] and pages == (len(trail) + 1) // 2 > 1
    # Each page read is traced in the voter's trail, as the search by address always was.
    views = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "supervision.voter_audit_view")
    ).all()
    assert [(v.voter_id, v.agent_id) for v in views] == [(marie.id, people.sup_lille.id)] * pages


@pytest.mark.parametrize(
    ("url", "lands_on"),
    [
        (f"/supervision/journal?courriel={TYPED}&du=2026-11-01", "/supervision/journal"),
        (f"/supervision/tickets?courriel={quote(TYPED)}&statut=ouvert", "/supervision/tickets"),
        (f"/supervision/tickets/export.csv?courriel={TYPED}", "/supervision/tickets"),
    ],
)
def test_an_address_in_the_url_is_not_searched(client, auth, people, marie_log, url, lands_on):
    auth.login(people.sup_lille.email)
    before = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    response = client.get(url)
    assert response.status_code == 303
    assert urlsplit(response.location).path == lands_on
    assert_no_address(response.location, "Location")
    page = client.get(response.location)
    assert page.status_code == 200
    assert "n&#39;est plus utilisée comme filtre" in page.text
    assert f'value="{ADDRESS}"' not in page.text
    if lands_on == "/supervision/tickets":
        # Not filtered by her address: Lille's other ticket is listed too.
        assert len(refs(page.text)) == 2 and "<strong>6</strong> tickets" in page.text
    # Nothing was looked up or exported: no audit entry but the sign-in's.
    after = db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > before)).all()
    assert after == []


def test_an_unknown_or_another_sessions_key_says_so(app, client, auth, people, marie_log):
    auth.login(people.sup_lille.email)
    key = key_of(client.post("/supervision/tickets", data={"courriel": TYPED}).location)
    other = app.test_client()
    AuthActions(other).login(people.sup_nat.email)
    for who, url in [
        (client, "/supervision/tickets?adresse=inconnue&statut=ouvert"),
        (other, f"/supervision/tickets?adresse={key}"),
    ]:
        page = who.get(url)
        assert page.status_code == 200
        assert "<title>Filtre par adresse à ressaisir" in page.text
        assert "Saisissez de nouveau le courriel de l'électeur" in page.text
        assert re.search(r'name="courriel"[^>]*value=""', page.text)
        assert refs(page.text) == []
    journal = other.get(f"/supervision/journal?adresse={key}")
    assert journal.status_code == 200
    assert "Cette recherche par adresse électronique n'est plus disponible" in journal.text
    before = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    export = other.get(f"/supervision/tickets/export.csv?adresse={key}&du=2026-11-16")
    assert export.status_code == 303
    assert export.location == f"/supervision/tickets?adresse={key}&du=2026-11-16"
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all() == []


def test_a_bad_filter_sent_by_post_gets_the_form_back(client, auth, people, marie_log):
    auth.login(people.sup_lille.email)
    bad = client.post("/supervision/tickets", data={"courriel": "x" * 300, "du": "2026-11-16"})
    assert bad.status_code == 400 and "Erreur dans les filtres" in bad.text
    journal = client.post("/supervision/journal", data={"du": "2026-11-20", "au": "2026-11-01"})
    assert journal.status_code == 400 and "La date de fin précède" in journal.text
    refused = client.post("/supervision/tickets", data={"agent": str(people.agent_versailles.id)})
    assert refused.status_code == 404


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_the_filter_post_needs_the_token(self, client, people, marie_log):
        login = client.get("/connexion").text
        client.post(
            "/connexion",
            data={
                "email": people.sup_lille.email,
                "password": AGENT_PASSWORD,
                "csrf_token": csrf_token_in(login),
            },
        )
        for path in ("/supervision/tickets", "/supervision/journal"):
            forged = client.post(path, data={"courriel": TYPED})
            assert forged.status_code == 400 and "Le formulaire a expiré" in forged.text
            token = csrf_token_in(client.get(path).text)
            sent = client.post(path, data={"courriel": TYPED, "csrf_token": token})
            assert sent.status_code == 303, path
            assert "csrf_token" not in sent.location


@pytest.mark.parametrize(
    "line",
    [
        "GET /supervision/journal?courriel=marie.dupont%40ac-lille.fr&du=2026-11-01 HTTP/1.1",
        "GET /supervision/tickets?statut=ouvert&COURRIEL=Marie.Dupont@ac-lille.fr HTTP/1.1",
        "GET /supervision/tickets/export.csv?%63ourriel=marie.dupont@ac-lille.fr HTTP/1.1",
        "GET /connexion?next=/supervision/journal%3Fcourriel%3Dmarie.dupont%2540ac-lille.fr"
        " HTTP/1.1",
    ],
)
def test_access_log_filter_drops_addresses(line):
    referer = "https://csudesk.test/supervision/tickets?courriel=marie.dupont%40ac-lille.fr"
    query = line.split()[1].partition("?")[2]
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" "%(f)s" %(q)s', None, None
    )
    record.args = {"r": line, "U": line.split()[1].partition("?")[0], "q": query, "f": referer}
    RedactTokens().filter(record)
    message = record.getMessage()
    assert_no_address(message, "log line")
    assert "[adresse masquée]" in message
    assert "/supervision/" in message  # the path stays: the line still says what was asked


def test_served_access_log_has_no_address(gunicorn):
    """A real gunicorn with csudesk.service's settings: an old bookmark, then the sign-in page
    it is sent to (its ?next= holds the bookmark, encoded), with a Referer holding one too."""
    base, access_log = gunicorn
    referer = {"Referer": f"{base}/supervision/tickets?courriel=marie.dupont%40ac-lille.fr"}
    status, _ = test_deploy.get(
        f"{base}/supervision/journal?courriel=Marie.Dupont%40ac-lille.fr&du=2026-11-01", **referer
    )
    assert status == 200  # urllib followed the redirect to the sign-in page
    time.sleep(0.3)
    log = access_log.read_text()
    assert "/supervision/journal?courriel=[adresse masquée]&du=2026-11-01" in log
    assert "/connexion?next=[adresse masquée]" in log
    assert_no_address(log, "gunicorn's access log")
