"""The three self-service forms through the client: one answer whatever the address.

Each case posts a roll address and an address that is not on the roll and compares the status,
the redirect, the page, the SQL the request ran, then the mail rows once the worker has run.
"""

import re

import pytest
from sqlalchemy import select

from csudesk.access import worker
from csudesk.access.models import SelfServiceRequest
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.mail.worker import send_due
from csudesk.roll import accounts
from csudesk.roll.models import Voter
from tests.fixtures.smtp import text_of
from tests.fixtures.sql import recorded_sql

UNKNOWN = "personne.inconnue@ac-lille.fr"


def post_and_follow(client, url, data):
    db.session.commit()  # the client's requests share the test's session: start both clean
    with recorded_sql() as statements:
        response = client.post(url, data=data)
    page = client.get(response.location) if response.status_code == 303 else response
    return response, page, statements


def mail_rows():
    return [
        (m.to_address, m.template)
        for m in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id))
    ]


def compare_known_and_unknown(client, url, known, data=None):
    """Post both addresses; assert identical answers; return the mail rows per address."""
    answers = []
    for address in (known, UNKNOWN):
        response, page, statements = post_and_follow(
            client, url, {"email": address, **(data or {})}
        )
        answers.append(
            (response.status_code, response.location, page.status_code,
             page.text.replace(address, "ADDRESS"), statements)
        )  # fmt: skip
    assert answers[0] == answers[1]
    status, location, page_status, body, _ = answers[0]
    assert (status, page_status) == (303, 200)
    assert "Demande enregistrée" in body and "pour l'adresse <strong>ADDRESS</strong>" in body
    report = worker.process_pending()
    assert report.processed == 2
    rows = mail_rows()
    return [r for r in rows if r[0] == known], [r for r in rows if r[0] == UNKNOWN]


def test_link_not_received_not_activated(client, make_voter):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    known, unknown = compare_known_and_unknown(client, "/lien-non-recu", "marie.dupont@ac-lille.fr")
    assert known == [("marie.dupont@ac-lille.fr", "activation")]
    assert unknown == []
    assert voter.id


def test_link_not_received_activated_gets_a_reset_link(client, make_voter):
    voter = make_voter(activated=True)
    address = voter.emails[0].address
    known, unknown = compare_known_and_unknown(client, "/lien-non-recu", address)
    assert known == [(address, "password_reset")]
    assert unknown == []


def test_password_refused(client, make_voter):
    voter = make_voter(activated=True)
    address = voter.emails[0].address
    known, unknown = compare_known_and_unknown(client, "/mot-de-passe-refuse", address)
    assert known == [(address, "password_reset")]
    assert unknown == []


def test_vote_code_reissue_with_the_right_answer(client, make_voter, app, voting):
    voter = make_voter(challenge_answer="Médor")
    address = voter.emails[0].address
    known, unknown = compare_known_and_unknown(
        client, "/reassort-code-de-vote", address, {"answer": "medor"}
    )
    assert known == [(address, "vote_code")]
    assert unknown == []


def test_vote_code_reissue_with_a_wrong_answer_sends_nothing(client, make_voter, app, voting):
    voter = make_voter(challenge_answer="Médor")
    known, unknown = compare_known_and_unknown(
        client, "/reassort-code-de-vote", voter.emails[0].address, {"answer": "Rex le chien"}
    )
    assert known == unknown == []
    rows = db.session.scalars(select(SelfServiceRequest).order_by(SelfServiceRequest.id)).all()
    assert [(r.answer_ok, r.outcome) for r in rows] == [
        (False, "wrong_answer"),
        (False, "unknown_address"),
    ]


def test_the_request_stores_no_secret(client, make_voter, app, voting):
    voter = make_voter(challenge_answer="Médor")
    client.post(
        "/reassort-code-de-vote", data={"email": voter.emails[0].address, "answer": "Médor"}
    )
    (row,) = db.session.scalars(select(SelfServiceRequest)).all()
    stored = " ".join(str(getattr(row, c.key)) for c in SelfServiceRequest.__table__.columns)
    assert "dor" not in stored.lower()
    assert row.answer_ok is True


@pytest.mark.parametrize(
    ("phase", "calendar", "expected"),
    [
        (
            "before",
            {"portal_opens": "2090-01-01T09:00", "vote_opens": "2090-02-01T08:00",
             "vote_closes": "2090-02-08T17:00"},
            "sera possible pendant le vote, du 01/02/2090 à 08 h 00 au 08/02/2090 à 17 h 00",
        ),
        (
            "after",
            {"portal_opens": "2022-10-13T09:00", "vote_opens": "2022-12-01T08:00",
             "vote_closes": "2022-12-08T17:00"},
            "Le vote est clos depuis le 08/12/2022 à 17 h 00",
        ),
    ],
)  # fmt: skip
def test_vote_code_outside_the_window_says_when(client, make_voter, app, phase, calendar, expected):
    app.config["ELECTION"] = {"name": "Test", **calendar}
    voter = make_voter(challenge_answer="Médor")
    page = client.get("/reassort-code-de-vote")
    assert page.status_code == 200 and expected in " ".join(page.text.split())
    assert 'name="answer"' not in page.text
    for address in (voter.emails[0].address, UNKNOWN):
        response = client.post("/reassort-code-de-vote", data={"email": address, "answer": "Médor"})
        assert response.status_code == 200 and expected in " ".join(response.text.split())
    assert db.session.scalars(select(SelfServiceRequest)).all() == []


@pytest.mark.parametrize("url", ["/lien-non-recu", "/mot-de-passe-refuse"])
@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "Indiquez votre adresse de messagerie professionnelle."),
        ("marie.dupont", "Saisissez une adresse électronique complète"),
        ("marie@", "Saisissez une adresse électronique complète"),
        ("a" * 250 + "@ac-lille.fr", "au plus 254 caractères"),
        ("marie@ac-lille.fr\r\nBcc: x@evil.example", "retirez le retour à la ligne"),
        ("marie@ac-lille.fr\nBcc:x@evil.example", "retirez le retour à la ligne"),
        ("marie\x00@ac-lille.fr", "caractère invisible"),
        ("mıke@ac-lille.fr", "Saisissez une adresse électronique complète"),
    ],
)
def test_bad_address_is_refused_with_a_field_error(client, directory, url, address, message):
    response = client.post(url, data={"email": address})
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text and 'aria-describedby="email-messages"' in (
        response.text
    )
    assert db.session.scalars(select(SelfServiceRequest)).all() == []


def test_vote_code_answer_is_checked_for_shape(client, directory, app, voting):
    response = client.post(
        "/reassort-code-de-vote", data={"email": "marie@ac-lille.fr", "answer": "!!"}
    )
    assert response.status_code == 400
    assert "La réponse au défi compte de 3 à 100" in response.text
    assert 'value="marie@ac-lille.fr"' in response.text  # the address is kept


def test_unknown_confirmation_page_is_404(client):
    assert client.get("/demande-enregistree/autre-chose").status_code == 404


def test_confirmation_is_not_cached(client, directory):
    response = client.post("/lien-non-recu", data={"email": "marie@ac-lille.fr"})
    assert client.get(response.location).headers["Cache-Control"] == "no-store"


def test_voter_gets_a_new_vote_code_alone(client, make_voter, app, smtp, voting):
    """The whole case: the form, the worker, the mail, the landing that shows the code."""
    voter = make_voter(challenge_answer="Médor")
    response = client.post(
        "/reassort-code-de-vote", data={"email": voter.emails[0].address, "answer": "MEDOR"}
    )
    assert response.status_code == 303
    assert worker.process_pending().outcomes == {"vote_code_sent": 1}
    assert send_due().sent == 1
    (message,) = smtp.wait_for(1)
    url = re.search(r"http://\S+(/code-de-vote/[\w-]+)", text_of(message)).group(1)
    landing = client.get(url)
    assert landing.status_code == 302
    shown = client.post(landing.location)
    code = re.search(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){3}", shown.text).group(0)
    db.session.expire_all()
    assert accounts.check_vote_code(db.session.get(Voter, voter.id), code)
