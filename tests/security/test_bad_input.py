"""Bad input never gives a 500 (SECURITY.md 17): odd digits, huge ids, far dates, NUL bytes,
malformed bodies on every form, and a Hypothesis property over every POST route."""

import io
import json
import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from csudesk.access.services import resend_activation_link, send_password_reset_link
from csudesk.actor import Actor
from csudesk.conversation.response_templates import create_template
from csudesk.extensions import db
from csudesk.mail.worker import send_due
from csudesk.tickets.services import create_ticket
from tests.fixtures.factories import AuthActions


@pytest.mark.parametrize(
    "url",
    [
        "/trouver-ma-csu?q=¹²³⁴⁵⁶⁷A",
        "/trouver-ma-csu/¹²³⁴⁵⁶⁷A",
        "/trouver-ma-csu?q=a%00b",
    ],
)
def test_public_pages(client, directory, url):
    assert client.get(url).status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "url",
    [
        "/guichet/electeurs/99999999999999999999",
        "/guichet/tickets/99999999999999999999",
        "/guichet/tickets?page=99999999999999999999",
        "/guichet/tickets?page=²",
        "/guichet/tickets/nouveau?electeur=99999999999999999999",
        "/guichet/recherche?nom=X&uai=¹²³⁴⁵⁶⁷A",
        "/guichet/recherche?nom=a%00b",
        "/guichet/tickets?csu=AC%00",
    ],
)
def test_desk_pages(client, lille, url):
    assert client.get(url).status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "body,status",
    [
        ("courriel=a%00b%40ac-lille.fr", 400),  # a NUL byte: refused as such
        ("courriel=" + "x" * 5000 + "%40ac-lille.fr", 400),  # longer than an address
        ("courriel=marie.dupont%40ac-lille.fr%0D%0ABcc%3A%20x%40evil.example", 200),
        ("courriel=%C2%B9%C2%B2%C2%B3%40ac-lille.fr", 200),  # ¹²³: NFKC makes it 123
        ("courriel=%FF%FE%40ac-lille.fr", 200),  # not UTF-8
        ("courriel=m%C4%B1rie.dupont%40ac-lille.fr", 200),  # dotless ı is not i
        ("courriel=", 400),
    ],
)
def test_desk_address_search_with_bad_input_is_a_clear_answer(
    client, lille, make_voter, body, status
):
    """The address search is a POST (issue 10 item 8): odd input gets a French page, no 500,
    and opens no voter file; the same form then still finds the voter and follows to it."""
    voter = make_voter("DUPONT", "Marie", emails=("marie.dupont@ac-lille.fr",))
    response = client.post(
        "/guichet/recherche",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == status, response.status_code
    assert "Location" not in response.headers and "DUPONT" not in response.text
    if status == 200:
        assert "Aucun électeur avec l'adresse" in response.text
        shown = response.text.split("Aucun électeur avec l'adresse «", 1)[1].split("»", 1)[0]
        assert "\r" not in shown
    found = client.post("/guichet/recherche", data={"courriel": "marie.dupont@ac-lille.fr"})
    assert (found.status_code, found.headers["Location"]) == (303, f"/guichet/electeurs/{voter.id}")
    assert "DUPONT" in client.get(found.headers["Location"]).text


@pytest.mark.parametrize(
    "url",
    [
        "/supervision/tickets?agent=²",
        "/supervision/journal?agent=²",
        "/supervision/journal?electeur=²",
        "/supervision/journal?apres=²",
        "/supervision/?du=0001-01-01&au=0001-01-02",
        "/supervision/tickets?au=9999-12-31",
        "/supervision/tickets?du=0001-01-01",
        "/supervision/tickets/99999999999999999999",
        "/supervision/tickets?texte=a%00",
        "/admin/agents/99999999999999999999",
        "/admin/agents?q=%00",
    ],
)
def test_supervision_pages(client, make_agent, auth, url):
    auth.login(make_agent("admin@csudesk.test", "admin", "NATIONAL").email)
    assert client.get(url).status_code in (200, 400, 404)


def test_nul_byte_in_login_is_a_clear_refusal(client, directory):
    response = client.post("/connexion", data={"email": "a\x00b@x.fr", "password": "x"})
    assert response.status_code == 400
    assert "Requête incorrecte" in response.text


# --- Malformed bodies on every form (issue 10 item 2) -------------------------------------

ATTACKER_BODIES = {
    # curl -F email=@f.txt: every text field sent as a file part
    "file parts": lambda fields: {
        "data": {name: (io.BytesIO(b"marie@ac-lille.fr"), "f.txt") for name in fields},
        "content_type": "multipart/form-data",
    },
    "json, not json": lambda fields: {"data": b"{not json", "content_type": "application/json"},
    "json": lambda fields: {
        "data": json.dumps(dict.fromkeys(fields, "x")),
        "content_type": "application/json",
    },
    "text/plain": lambda fields: {"data": "email=a@b.fr", "content_type": "text/plain"},
    "xml": lambda fields: {"data": "<a>b</a>", "content_type": "application/xml"},
    "multipart without boundary": lambda fields: {
        "data": b"--x\r\n\r\n",
        "headers": {"Content-Type": "multipart/form-data"},
    },
    "oversized": lambda fields: {"data": {fields[0]: "x" * (300 * 1024)}},
}


@pytest.fixture
def forms(make_voter, make_agent, auth):
    """Every form the issue names: (path, field names, signed in)."""
    voter = make_voter(challenge_answer="Médor")
    ticket = create_ticket(
        Actor.system(), csu=voter.csu, category="autre", channel="telephone", voter=voter
    )
    db.session.commit()
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    return {
        "/lien-non-recu": (["email"], False),
        "/connexion": (["email", "password"], False),
        "/reassort-code-de-vote": (["email", "answer"], False),
        "/nous-ecrire": (["email", "last_name", "first_name", "uai", "message"], False),
        f"/guichet/tickets/{ticket.id}/note": (["text"], True),
        f"/guichet/electeurs/{voter.id}/defi": (["challenge-answer", "challenge-ticket"], True),
        "/admin/agents/nouveau": (["email", "name", "role", "csu"], True),
    }, admin


@pytest.mark.parametrize("body", list(ATTACKER_BODIES))
@pytest.mark.parametrize("csrf", [False, True], ids=["no-csrf", "csrf"])
def test_malformed_bodies_get_a_french_400_or_413(app, client, auth, forms, voting, body, csrf):
    routes, admin = forms
    anonymous = app.test_client()
    auth.login(admin.email)
    app.config["WTF_CSRF_ENABLED"] = csrf
    before = row_counts()
    for path, (fields, signed_in) in routes.items():
        response = (client if signed_in else anonymous).post(path, **ATTACKER_BODIES[body](fields))
        expected = 413 if body == "oversized" else 400
        assert response.status_code == expected, (path, response.status_code)
        title = "Envoi trop volumineux" if expected == 413 else ""
        assert title in response.text and 'lang="fr"' in response.text, path
    after = row_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    assert set(changed) <= {"audit_entry"}, changed  # a refused sign-in is audited, nothing else


def test_no_error_handler_reads_a_json_body(app, client, directory):
    """The attacker's request: JSON content type, a non-JSON body, no token, CSRF on."""
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("/lien-non-recu", "/nous-ecrire", "/reassort-code-de-vote", "/connexion"):
        response = client.post(path, data="{", content_type="application/json")
        assert response.status_code == 400, path
        assert "Requête incorrecte" in response.text or "formulaire" in response.text


def test_a_raising_form_handler_still_answers_in_french(app, client, directory, monkeypatch):
    """If a blueprint's own refusal page fails, the plain French page answers, not a 500."""
    from csudesk.public import views

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    app.config["WTF_CSRF_ENABLED"] = True
    monkeypatch.setitem(views._FORM_RENDERERS, "public.link_not_received", (broken, broken))
    response = client.post("/lien-non-recu", data={"email": "marie@ac-lille.fr"})
    assert response.status_code == 400 and "La page est restée ouverte" in response.text


def row_counts() -> dict[str, int]:
    db.session.commit()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


# --- Line 17 as a property: random bodies on every POST route of the URL map ---------------

SIGNED_IN_BLUEPRINTS = {"desk", "supervision", "admin"}
SIGNED_OUT_ENDPOINTS = {"auth.logout"}  # would end the admin's session for the next examples
FIELD_NAME = re.compile(r'name="([^"]+)"')
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
ENCODING = st.sampled_from(["utf-8", "latin-1", "utf-16"])
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "multipart/form-data",
        "application/json",
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "",
    ]
)


@st.composite
def values(draw):
    """A field's value: text (possibly huge, with control characters) or a file part."""
    kind = draw(st.sampled_from(["text", "text", "long", "file", "bytes"]))
    if kind == "text":
        return draw(TEXT)
    if kind == "long":
        return draw(st.sampled_from(["x", "é", "\r\n", "\x00"])) * draw(
            st.sampled_from([255, 5001, 70_000, 270_000])
        )
    if kind == "bytes":
        return draw(st.binary(max_size=200)).decode("latin-1")
    return (io.BytesIO(draw(st.binary(max_size=200))), draw(st.sampled_from(["f.txt", "", "é"])))


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "replace")


def body(draw, fields: list[str]):
    """Keyword arguments of client.post(): the data, its content type, possibly lying."""
    chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
    data, size = {}, 0
    for name in chosen:
        value = draw(values())
        size += len(value.encode()) if isinstance(value, str) else 300
        if size < 400_000:  # over 500 KB the test client spools to a file it never closes
            data[name] = value
    content_type = draw(CONTENT_TYPES)
    encoding = draw(ENCODING)
    multipart = content_type.startswith("multipart")
    if (multipart or any(isinstance(v, tuple) for v in data.values())) and draw(st.booleans()):
        return {"data": data}  # a real multipart body, from the test client
    texts = {k: (v if isinstance(v, str) else "f.txt") for k, v in data.items()}
    if content_type == "application/json" and draw(st.booleans()):
        raw = json.dumps(texts).encode()
    elif draw(st.booleans()):
        raw = "&".join(
            f"{quote(k)}={quote(_encode(v, encoding))}" for k, v in texts.items()
        ).encode()
    else:
        raw = draw(st.binary(max_size=500))
    return {"data": raw, "content_type": content_type} if content_type else {"data": raw}


def post_routes(app) -> list:
    """Every rule of the URL map that takes a POST: the property covers new routes too."""
    rules = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or ())]
    assert len(rules) >= 20
    return sorted(rules, key=lambda r: r.rule)


def field_names(client, anonymous, paths) -> list[str]:
    """The names of every field of the pages that hold the forms (derived, not listed)."""
    names = set()
    for path in paths:
        names.update(FIELD_NAME.findall(client.get(path).text))
    for path in ("/lien-non-recu", "/reassort-code-de-vote", "/nous-ecrire", "/connexion"):
        names.update(FIELD_NAME.findall(anonymous.get(path).text))
    return sorted(names - {"csrf_token"}) + ["csrf_token", "action", "email", "password"]


@pytest.fixture
def world(app, make_voter, make_agent, auth, client, smtp, voting):
    """Voters, a ticket, two agents; an admin signed in and a voter's landed links."""
    app.config.update(
        RATELIMIT_PUBLIC_PER_ADDRESS="100000 per hour",
        RATELIMIT_PUBLIC_PER_IP="100000 per hour",
        RATELIMIT_LOGIN="100000 per hour",
        RATELIMIT_LOGIN_FREE_FAILURES=100000,
        RATELIMIT_SEARCH="100000 per hour",
        CONTACT_MIN_FILL_SECONDS=0,
    )
    fresh = make_voter("DURAND", "Paul", emails=("paul.durand@ac-lille.fr",))
    active = make_voter("MARTIN", "Anne", emails=("anne.martin@ac-lille.fr",), activated=True)
    ticket = create_ticket(
        Actor.system(), csu=active.csu, category="autre", channel="telephone", voter=active
    )
    other = make_agent("other@csudesk.test", "agent", "AC-09")
    admin = make_agent("admin@csudesk.test", "admin", "NATIONAL")
    resend_activation_link(Actor.system(), fresh, "paul.durand@ac-lille.fr")
    send_password_reset_link(Actor.system(), active, "anne.martin@ac-lille.fr")
    reply = create_template(Actor.system(), csu=None, title="Accusé", body="Bonjour {prenom},")
    db.session.commit()
    send_due()
    anonymous = app.test_client()
    for message in smtp.wait_for(2):
        text = message.get_body(("plain",)).get_content()
        for path in re.findall(r"http://csudesk\.test(/(?:activation|mot-de-passe)/[\w-]+)", text):
            assert anonymous.get(path).status_code == 302  # the token moves into the session
    auth.login(admin.email)
    arguments = {
        "voter_id": active.id,
        "ticket_id": ticket.id,
        "agent_id": other.id,
        "template_id": reply.id,
        "action": "password_reset",
    }
    pages = [f"/guichet/electeurs/{active.id}", f"/guichet/tickets/{ticket.id}"]
    pages += ["/guichet/tickets/nouveau", "/admin/agents/nouveau", f"/admin/agents/{other.id}"]
    pages += ["/supervision/journal/integrite", f"/supervision/reponses-types/{reply.id}"]
    pages += ["/supervision/reponses-types/nouvelle"]
    return {
        "signed_in": client,
        "anonymous": anonymous,
        "admin": admin,
        "arguments": arguments,
        "fields": field_names(client, anonymous, pages),
    }


PROPERTY = settings(
    max_examples=int(os.environ.get("CSUDESK_BAD_INPUT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
LINK = re.compile(r'href="(/[^"?#]*)\?([^"#]*)"')
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ACTION = re.compile(r'action="(/[^"?#]*)')


def query_parameters(app, world) -> dict[str | None, list[str]]:
    """For each page a GET route serves, the query parameters its own links and forms send
    back to it (derived from the pages, not listed). A filter form posts to its page, which
    redirects to itself with the filters in the query string: a form's fields count for the
    page it posts to whatever its method. Under None: every page's parameters."""
    used: dict[str, set[str]] = {}
    for rule in get_routes(app):
        path = route_path(rule, world)
        page = client_for(rule, world).get(path, buffered=True).get_data(as_text=True)
        for target, query in LINK.findall(page):
            names = re.findall(r"(?:^|&(?:amp;)?)([\w-]+)=", query)
            used.setdefault(target, set()).update(names)
        for attributes, fields in FORM.findall(page):
            action = ACTION.search(attributes)
            target = action.group(1) if action else path
            used.setdefault(target, set()).update(FIELD_NAME.findall(fields))
    used = {path: names - {"csrf_token"} for path, names in used.items()}
    found = {path: sorted(names) for path, names in used.items() if names}
    return {**found, None: sorted(set().union(*used.values()))}


# The path arguments of the GET routes beyond the world's: a UAI of the directory, a
# confirmation page, and a token no link was ever sent with.
GET_ARGUMENTS = {"uai": "0590001F", "slug": "lien-non-recu", "token": "jeton-inconnu"}


def route_path(rule, world) -> str:
    arguments = {**GET_ARGUMENTS, **world["arguments"]}
    missing = set(rule.arguments) - set(arguments)
    assert not missing, f"give the property test a value for {missing} ({rule.rule})"
    return rule.build({k: arguments[k] for k in rule.arguments})[1]


def client_for(rule, world):
    signed_in = rule.endpoint.partition(".")[0] in SIGNED_IN_BLUEPRINTS
    if rule.endpoint in SIGNED_OUT_ENDPOINTS:
        signed_in = False
    return world["signed_in"] if signed_in else world["anonymous"]


@pytest.fixture
def query_world(app, world):
    return query_parameters(app, world)


@PROPERTY
@given(data=st.data())
def test_no_query_string_gives_a_500(app, world, query_world, data):
    """SECURITY.md 17 for what a URL carries: any text (a NUL, which PostgreSQL refuses in a
    text parameter, long runs, other scripts) in the parameters each page uses, every GET."""
    rule = data.draw(st.sampled_from(get_routes(app)), label="route")
    path = route_path(rule, world)
    # The page's own parameters, or every page's: a view may read one no page links with
    # (the desk queue's "csu").
    own = query_world.get(path)
    names = own if own and data.draw(st.booleans(), label="own parameters") else query_world[None]
    value = st.one_of(st.none(), TEXT, st.just("a\x00b"))
    query = {name: data.draw(value, label=name) for name in names}
    query = {name: text for name, text in query.items() if text is not None}
    client = client_for(rule, world)
    response = client.get(path, query_string=query, buffered=True)
    event(f"{rule.endpoint} {response.status_code}")
    assert response.status_code < 500, (rule.rule, query, response.status_code)
    if client is world["signed_in"]:
        # a redirect to the sign-in page would pass every example after it
        assert client.get("/guichet/").status_code == 200, (rule.rule, query)


def get_routes(app) -> list:
    """Every rule that answers a GET, static files and signing out aside."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or ())
        and r.endpoint != "static"
        and r.endpoint not in SIGNED_OUT_ENDPOINTS
    ]
    assert len(rules) >= 30
    return sorted(rules, key=lambda r: r.rule)


@PROPERTY
@given(data=st.data())
def test_no_post_body_gives_a_500_or_stores_half(app, world, data):
    """SECURITY.md 17: random field types, encodings, sizes and content types, every POST."""
    rule = data.draw(st.sampled_from(post_routes(app)), label="route")
    path = route_path(rule, world)
    client = client_for(rule, world)
    signed_in = client is world["signed_in"]
    request = body(data.draw, world["fields"])
    before = row_counts()
    response = client.post(path, **request)
    event(f"{rule.endpoint} {response.status_code}")
    assert response.status_code < 500, (rule.rule, response.status_code)
    if response.status_code >= 400:
        after = row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        # A refusal may be audited (a failed sign-in, an invalid action form); nothing else.
        assert set(changed) <= {"audit_entry"}, (rule.rule, response.status_code, changed)
    if signed_in and client.get("/guichet/").status_code != 200:
        # an action may have ended the session (a role change of one's own account...)
        assert AuthActions(client).login(world["admin"].email).status_code == 302
