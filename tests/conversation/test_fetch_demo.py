"""make run's demo mailboxes: the Makefile's CSU_MAILBOXES, the seeded messages, their fetch."""

import email
import email.policy
from pathlib import Path

import pytest
from sqlalchemy import select

from csudesk.conversation import mail_in
from csudesk.conversation.mailboxes import load_mailboxes
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.demo.mailboxes import seed_demo_mailboxes
from csudesk.extensions import db
from csudesk.tickets.models import Category, Channel, Ticket
from tests.fixtures.factories import csu

MAKEFILE = Path(__file__).parent.parent.parent / "Makefile"


@pytest.fixture
def process(monkeypatch):
    """Stands for mail_in.process: keeps each message parsed, marks it imported."""
    seen = []

    def process(raw, inbound, mailbox_csu_code):
        seen.append((mailbox_csu_code, email.message_from_bytes(raw, policy=email.policy.default)))
        inbound.status = InboundStatus.NEW_TICKET

    monkeypatch.setattr(mail_in, "process", process)
    return seen


def test_make_run_config_gives_two_csus_a_maildir():
    recipe = MAKEFILE.read_text().split("instance/config.py:\n")[1].split("\n\n")[0]
    lines = [
        line.split('@echo "', 1)[1].rsplit('" >', 1)[0]
        for line in recipe.splitlines()
        if '@echo "' in line
    ]
    start = next(n for n, line in enumerate(lines) if line.startswith("CSU_MAILBOXES"))
    namespace: dict = {}
    exec("\n".join(lines[start:]), namespace)  # noqa: S102 - the Makefile's own lines

    mailboxes = load_mailboxes(namespace["CSU_MAILBOXES"], "/srv/instance", {})

    assert [(m.name, m.csu, str(m.maildir)) for m in mailboxes] == [
        ("AC-09", "AC-09", "/srv/instance/demo-mailbox-AC-09"),
        ("AC-25", "AC-25", "/srv/instance/demo-mailbox-AC-25"),
    ]


def test_demo_seed_fills_the_maildirs_that_mail_fetch_reads(
    app, runner, tmp_path, make_voter, process
):
    first = make_voter("Durand", "Léa", emails=("lea.durand@ac-lille.fr",))
    make_voter("Petit", "Hugo", emails=("hugo.petit@ac-lille.fr",))
    ticket = Ticket(
        reference="2026-000116",
        csu_id=csu("AC-09").id,
        voter_id=first.id,
        category=Category.LINK_NOT_RECEIVED,
        channel=Channel.EMAIL,
        contact_email="lea.durand@ac-lille.fr",
        contact_first_name="Léa",
        contact_last_name="Durand",
    )
    db.session.add(ticket)
    db.session.commit()
    app.config["CSU_MAILBOXES"] = {
        "AC-09": {"csu": "AC-09", "maildir": str(tmp_path / "demo-mailbox-AC-09")},
        "AC-99": {"csu": "AC-99", "maildir": str(tmp_path / "no-such-csu")},
    }

    assert seed_demo_mailboxes() == {"AC-09": 4}
    assert seed_demo_mailboxes() == {"AC-09": 4}  # the same files again, not more
    assert len(list((tmp_path / "demo-mailbox-AC-09" / "new").iterdir())) == 4
    app.config["CSU_MAILBOXES"].pop("AC-99")
    result = runner.invoke(args=["mail", "fetch"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("AC-09 : 4 lus, 4 importés, 0 mis de côté")
    subjects = [(code, message["subject"], message["from"]) for code, message in process]
    assert subjects == [
        (
            "AC-09",
            "Re: [CSU 2026-000116] Votre demande d'assistance",
            "Léa Durand <lea.durand@ac-lille.fr>",
        ),
        ("AC-09", "Je n'arrive pas à voter", "Léa Durand <lea.durand@ac-lille.fr>"),
        (
            "AC-09",
            "Absence du bureau : Élections professionnelles",
            "Hugo Petit <hugo.petit@ac-lille.fr>",
        ),
        ("AC-09", "Question sur le vote", "Jean Martin <jean.martin.perso@demo.example>"),
    ]
    assert process[2][1]["Auto-Submitted"] == "auto-replied"
    assert "J'ai bien reçu le nouveau lien" in process[0][1].get_content()
    count = db.session.scalars(select(InboundMessage.id)).all()
    assert len(count) == 4
