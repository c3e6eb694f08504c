"""Issue 10 item 8: staff pages refuse requests started by another site; no address in URLs.

SameSite=Lax sends the session cookie on a top-level navigation, so a link on another site
could make a signed-in agent's browser open a voter file or the export, audited in the
agent's name. The browser's Sec-Fetch-Site says where a request comes from; without it, a
foreign Origin or Referer is refused.
"""

import pytest
from sqlalchemy import func, select

from csudesk.audit.models import AuditEntry
from csudesk.extensions import db

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


def audit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_link_on_another_site_does_not_open_a_voter_file(client, lille, make_voter):
    voter = make_voter()
    before = audit_count()
    response = client.get(
        f"/guichet/electeurs/{voter.id}",
        headers={**CROSS_SITE, "Referer": "https://evil.example/page"},
    )
    assert response.status_code == 403
    assert "lien venant d&#39;un autre site" in response.text
    assert voter.last_name not in response.text
    assert audit_count() == before  # nothing looked up, nothing written in the agent's name


@pytest.mark.parametrize("site", ["same-origin", "same-site", "none"])
def test_navigation_from_this_site_or_typed_is_allowed(client, lille, make_voter, site):
    voter = make_voter()
    response = client.get(f"/guichet/electeurs/{voter.id}", headers={"Sec-Fetch-Site": site})
    assert response.status_code == 200 and voter.last_name in response.text


@pytest.mark.parametrize(
    "headers,status",
    [
        ({}, 200),  # no header at all: a typed address in an old browser
        ({"Referer": "http://localhost/guichet/"}, 200),
        ({"Referer": "http://csudesk.test/guichet/"}, 200),  # BASE_URL's host
        ({"Referer": "https://evil.example/"}, 403),
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Referer": "http://localhost.evil.example/"}, 403),
    ],
)
def test_without_sec_fetch_site_a_foreign_origin_or_referer_is_refused(
    client, lille, make_voter, headers, status
):
    voter = make_voter()
    assert client.get(f"/guichet/electeurs/{voter.id}", headers=headers).status_code == status


def test_unknown_sec_fetch_site_values_count_as_cross_site(client, lille):
    assert client.get("/guichet/", headers={"Sec-Fetch-Site": "bogus"}).status_code == 403


@pytest.mark.parametrize(
    "path", ["/supervision/", "/supervision/tickets/export.csv", "/supervision/journal"]
)
def test_supervision_pages_and_the_export_refuse_cross_site(client, supervisor, auth, path):
    auth.login(supervisor.email)
    before = audit_count()
    assert client.get(path, headers=CROSS_SITE).status_code == 403
    assert audit_count() == before
    allowed = client.get(path, headers={"Sec-Fetch-Site": "same-origin"}, buffered=True)
    assert allowed.status_code == 200


def test_admin_pages_refuse_cross_site(client, admin, auth):
    auth.login(admin.email)
    assert client.get("/admin/agents", headers=CROSS_SITE).status_code == 403
    assert client.get("/admin/agents").status_code == 200


def test_cross_site_posts_are_refused_before_anything_runs(client, lille, make_voter):
    voter = make_voter()
    response = client.post(
        f"/guichet/electeurs/{voter.id}/liens/activation",
        data={
            "activation-address": voter.emails[0].address,
            "activation-ticket": "nouveau",
            "activation-category": "lien_non_recu",
            "activation-channel": "telephone",
        },
        headers=CROSS_SITE,
    )
    assert response.status_code == 403


def test_public_pages_and_mailed_links_still_open_from_elsewhere(client, directory):
    """A voter follows the link from a webmail: that is cross-site, and must work."""
    assert client.get("/", headers=CROSS_SITE).status_code == 200
    assert client.get("/activation/some-token", headers=CROSS_SITE).status_code == 302
    assert client.get("/connexion", headers=CROSS_SITE).status_code == 200


def test_address_search_is_a_post_with_a_csrf_token(client, lille, make_voter, app):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    # A GET with the address in its query string looks nothing up any more.
    before = audit_count()
    page = client.get("/guichet/recherche?courriel=marie.dupont@ac-lille.fr")
    assert page.status_code == 200 and voter.last_name not in page.text
    assert audit_count() == before
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        forged = client.post("/guichet/recherche", data={"courriel": "marie.dupont@ac-lille.fr"})
        assert forged.status_code == 400 and audit_count() == before
        form = client.get("/guichet/").text
        assert 'method="post" action="/guichet/recherche"' in form
        token = form.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        found = client.post(
            "/guichet/recherche",
            data={"courriel": "marie.dupont@ac-lille.fr", "csrf_token": token},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert found.status_code == 303
    assert found.headers["Location"] == f"/guichet/electeurs/{voter.id}"
    assert "@" not in found.headers["Location"]
