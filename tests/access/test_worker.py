"""The self-service worker: stored requests become links, by the desk's rules, audited."""

from sqlalchemy import func, select

from csudesk.access import selfservice, worker
from csudesk.access.models import Outcome, RequestKind, SelfServiceRequest
from csudesk.audit.models import AuditEntry
from csudesk.audit.services import details_of, verify_chain
from csudesk.cli import mail as mail_cli
from csudesk.extensions import db
from csudesk.links.models import OneTimeLink
from csudesk.mail import worker as sender
from csudesk.mail.models import OutboxMail
from csudesk.roll.models import VoterAccount


def submit(kind, address, answer_ok=None):
    row = selfservice.submit(kind, address, "198.51.100.7", answer_ok)
    db.session.commit()
    return row


def mails():
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def process_one() -> str:
    report = worker.process_pending()
    assert report.processed == 1
    ((outcome, count),) = report.outcomes.items()
    return outcome


def test_link_not_received_sends_activation_to_a_not_activated_voter(make_voter):
    voter = make_voter(emails=("marie.dupont@ac-lille.fr",))
    row = submit(RequestKind.LINK_NOT_RECEIVED, " Marie.Dupont@AC-Lille.fr ")
    assert row.address == "marie.dupont@ac-lille.fr"
    assert process_one() == Outcome.ACTIVATION_SENT
    (mail,) = mails()
    assert (mail.to_address, mail.template, mail.voter_id) == (
        "marie.dupont@ac-lille.fr",
        "activation",
        voter.id,
    )
    link = db.session.get(OneTimeLink, mail.link_id)
    assert link.channel == "self_service" and link.requested_by_agent_id is None
    db.session.refresh(row)
    assert row.processed_at is not None and row.outcome == Outcome.ACTIVATION_SENT


def test_link_not_received_sends_a_reset_link_once_activated(make_voter):
    voter = make_voter(activated=True)
    submit(RequestKind.LINK_NOT_RECEIVED, voter.emails[0].address)
    assert process_one() == Outcome.PASSWORD_RESET_SENT
    assert [m.template for m in mails()] == ["password_reset"]


def test_password_refused_sends_reset_or_activation(make_voter):
    activated = make_voter(activated=True)
    fresh = make_voter()
    submit(RequestKind.PASSWORD_REFUSED, activated.emails[0].address)
    submit(RequestKind.PASSWORD_REFUSED, fresh.emails[0].address)
    report = worker.process_pending()
    assert report.outcomes == {Outcome.PASSWORD_RESET_SENT: 1, Outcome.ACTIVATION_SENT: 1}
    assert [(m.to_address, m.template) for m in mails()] == [
        (activated.emails[0].address, "password_reset"),
        (fresh.emails[0].address, "activation"),
    ]


def test_second_address_of_a_voter_gets_the_link(make_voter):
    make_voter(emails=("m.dupont@ac-lille.fr", "marie.dupont@ac-lille.fr"))
    submit(RequestKind.LINK_NOT_RECEIVED, "marie.dupont@ac-lille.fr")
    process_one()
    assert [m.to_address for m in mails()] == ["marie.dupont@ac-lille.fr"]


def test_unknown_address_gets_nothing_and_is_audited(make_voter):
    make_voter(emails=("marie.dupont@ac-lille.fr",))
    submit(RequestKind.LINK_NOT_RECEIVED, "marie.dupond@ac-lille.fr")
    assert process_one() == Outcome.UNKNOWN_ADDRESS
    assert mails() == []
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "selfservice.lien_non_recu"
    assert (entry.actor, entry.ip, entry.voter_id) == ("public", "198.51.100.7", None)
    assert details_of(entry)["outcome"] == Outcome.UNKNOWN_ADDRESS
    assert verify_chain().ok


def test_known_address_is_audited_with_the_voter(make_voter):
    voter = make_voter()
    submit(RequestKind.LINK_NOT_RECEIVED, voter.emails[0].address)
    process_one()
    actions = [
        (e.action, e.voter_id, e.actor)
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]
    assert actions == [
        ("link.activation", voter.id, "public"),
        ("selfservice.lien_non_recu", voter.id, "public"),
    ]


def test_double_request_gives_one_mail_and_limits_apply(make_voter, app):
    voter = make_voter()
    address = voter.emails[0].address
    submit(RequestKind.LINK_NOT_RECEIVED, address)
    submit(RequestKind.LINK_NOT_RECEIVED, address)
    report = worker.process_pending()
    assert report.outcomes == {Outcome.ACTIVATION_SENT: 1, Outcome.DUPLICATE: 1}
    assert len(mails()) == 1
    app.config["LINK_DEDUP_SECONDS"] = 0
    for _ in range(5):
        submit(RequestKind.LINK_NOT_RECEIVED, address)
    report = worker.process_pending()
    assert report.outcomes == {Outcome.ACTIVATION_SENT: 4, Outcome.REFUSED: 1}
    refused = db.session.scalar(
        select(SelfServiceRequest).where(SelfServiceRequest.outcome == Outcome.REFUSED)
    )
    assert refused is not None
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert "Limite atteinte" in details_of(entry)["reason"]


def test_vote_code_outside_the_voting_window_sends_nothing(make_voter):
    voter = make_voter(challenge_answer="Médor")
    submit(RequestKind.VOTE_CODE, voter.emails[0].address, answer_ok=True)
    assert process_one() == Outcome.VOTING_CLOSED
    assert mails() == []


def test_vote_code_with_the_right_answer_sends_the_link(make_voter, app, voting):
    voter = make_voter(challenge_answer="Médor")
    ok = selfservice.vote_code_answer_ok(voter.emails[0].address, " médor ")
    assert ok is True
    submit(RequestKind.VOTE_CODE, voter.emails[0].address, answer_ok=ok)
    assert process_one() == Outcome.VOTE_CODE_SENT
    assert [m.template for m in mails()] == ["vote_code"]
    checks = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "challenge.check")
    ).all()
    assert [details_of(e)["correct"] for e in checks] == [True]


def test_wrong_answers_are_counted_and_lock_the_check(make_voter, app, voting):
    voter = make_voter(challenge_answer="Médor")
    address = voter.emails[0].address
    assert selfservice.vote_code_answer_ok(address, "Rex") is False
    for _ in range(3):
        submit(RequestKind.VOTE_CODE, address, answer_ok=False)
    submit(RequestKind.VOTE_CODE, address, answer_ok=True)  # right, but after the lock
    report = worker.process_pending()
    assert report.outcomes == {Outcome.WRONG_ANSWER: 3, Outcome.REFUSED: 1}
    assert mails() == []
    account = db.session.get(VoterAccount, voter.id)
    assert account.challenge_locked_until is not None


def test_vote_code_for_unknown_or_not_activated_voter(make_voter, app, voting):
    fresh = make_voter()
    assert selfservice.vote_code_answer_ok("nobody@ac-lille.fr", "Médor") is False
    assert selfservice.vote_code_answer_ok(fresh.emails[0].address, "Médor") is False
    submit(RequestKind.VOTE_CODE, "nobody@ac-lille.fr", answer_ok=False)
    submit(RequestKind.VOTE_CODE, fresh.emails[0].address, answer_ok=False)
    report = worker.process_pending()
    assert report.outcomes == {Outcome.UNKNOWN_ADDRESS: 1, Outcome.REFUSED: 1}
    assert mails() == []


def test_a_processed_request_is_not_processed_again(make_voter):
    voter = make_voter()
    submit(RequestKind.LINK_NOT_RECEIVED, voter.emails[0].address)
    assert worker.process_pending().processed == 1
    assert worker.process_pending().processed == 0
    assert db.session.scalar(select(func.count()).select_from(OneTimeLink)) == 1


def test_a_failing_request_is_marked_and_the_others_go_on(make_voter, monkeypatch):
    voter = make_voter()
    submit(RequestKind.LINK_NOT_RECEIVED, "broken@ac-lille.fr")
    submit(RequestKind.LINK_NOT_RECEIVED, voter.emails[0].address)
    real = worker.voter_by_address

    def flaky(address):
        if address == "broken@ac-lille.fr":
            raise RuntimeError("database hiccup")
        return real(address)

    monkeypatch.setattr(worker, "voter_by_address", flaky)
    report = worker.process_pending()
    assert report.outcomes == {Outcome.ERROR: 1, Outcome.ACTIVATION_SENT: 1}
    assert verify_chain().ok


def test_mail_send_processes_requests_then_delivers(make_voter, runner, smtp):
    voter = make_voter()
    submit(RequestKind.LINK_NOT_RECEIVED, voter.emails[0].address)
    result = runner.invoke(args=["mail", "send"])
    assert "1 demandes en libre-service traitées (1 lien d'activation envoyé)" in result.output
    assert "1 envoyés" in result.output
    (message,) = smtp.wait_for(1)
    assert message["To"] == voter.emails[0].address
    assert "/activation/" in message.get_body(preferencelist=("plain",)).get_content()


def test_the_watching_sender_processes_requests_in_each_pass(make_voter, smtp):
    voter = make_voter(activated=True)
    submit(RequestKind.PASSWORD_REFUSED, voter.emails[0].address)
    reports = []
    sender.run_forever(
        0, reports.append, lambda: len(reports) >= 1, before_pass=mail_cli._process_selfservice
    )
    assert reports[0].sent == 1
    (message,) = smtp.wait_for(1)
    assert message["To"] == voter.emails[0].address
