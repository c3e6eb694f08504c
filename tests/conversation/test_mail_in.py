"""Mail that comes into a CSU mailbox: it opens a ticket, joins its ticket, or triggers nothing."""

import pytest
from sqlalchemy import event, func, select

from csudesk.access.services import resend_activation_link
from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation.models import InboundMessage, InboundStatus
from csudesk.extensions import db
from csudesk.mail.models import OutboxMail
from csudesk.tickets.masking import CODE_MASK, SECRET_MASK
from csudesk.tickets.models import Status, Ticket, TicketEvent
from csudesk.tickets.services import change_status, create_ticket
from tests.fixtures.inbound import message, receive

ADDRESS = "marie.dupont@ac-lille.fr"


def kinds(ticket: Ticket) -> list[str]:
    return list(
        db.session.scalars(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id)
        )
    )


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMail))


def tickets() -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


@pytest.fixture
def voter(make_voter):
    """A voter of the académie de Lille (AC-09) whose roll address is ADDRESS."""
    return make_voter(emails=(ADDRESS,))


@pytest.fixture
def waiting_ticket(voter, agent):
    """A ticket of the voter, assigned to the agent, waiting on the voter after a link mail."""
    actor = Actor.for_agent(agent)
    ticket = create_ticket(
        actor, csu=voter.csu, category="lien_non_recu", channel="telephone", voter=voter
    )
    resend_activation_link(actor, voter, ADDRESS, ticket)
    change_status(actor, ticket, Status.WAITING)
    db.session.commit()
    return ticket


def mail_of(ticket: Ticket) -> OutboxMail:
    return db.session.scalar(select(OutboxMail).where(OutboxMail.ticket_id == ticket.id))


# --- A new message opens a ticket ------------------------------------------------------------


def test_a_voter_on_the_roll_gets_a_ticket_of_their_cell(voter):
    inbound = receive(message("Bonjour,\nje n'ai rien reçu."), mailbox="AC-25")
    (ticket,) = tickets()
    assert (ticket.csu.code, ticket.voter_id, ticket.channel, ticket.category) == (
        "AC-09",
        voter.id,
        "courriel",
        "autre",
    )
    assert ticket.status == Status.OPEN and ticket.contact_email == ADDRESS
    assert ticket.message == "Bonjour,\nje n'ai rien reçu."
    assert kinds(ticket) == ["created", "mail_in"]
    assert (inbound.status, inbound.ticket_id, inbound.from_address) == (
        InboundStatus.NEW_TICKET,
        ticket.id,
        ADDRESS,
    )
    assert inbound.subject == "Lien non reçu" and inbound.sent_at is not None
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.kind == "mail_in"))
    assert event.inbound_message_id == inbound.id and event.agent_id is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"ticket.create", "ticket.mail_in"} <= actions
    assert outbox_count() == 0  # no acknowledgement: nothing answers incoming mail


def test_a_sender_off_the_roll_goes_to_the_mailbox_cell(app, directory):
    receive(message(sender="Paul <paul@laposte.example>"), mailbox="AC-25")
    (ticket,) = tickets()
    assert (ticket.csu.code, ticket.voter_id, ticket.contact_email) == (
        "AC-25",
        None,
        "paul@laposte.example",
    )


def test_a_message_without_from_is_imported_and_linked_to_nobody(voter):
    inbound = receive(message(sender=None), mailbox="AC-25")
    (ticket,) = tickets()
    assert (ticket.csu.code, ticket.voter_id, ticket.contact_email) == ("AC-25", None, None)
    assert inbound.status == InboundStatus.NEW_TICKET
    assert "From" in inbound.reason


def test_secrets_in_body_and_subject_are_masked(voter):
    receive(
        message(
            "Mon code est ABCD-EF23-GHJK-LMN4 et mon mot de passe : Soleil2022!",
            subject="Code ABCD-EF23-GHJK-LMN4 refusé",
        )
    )
    (ticket,) = tickets()
    assert "ABCD" not in ticket.message and "Soleil2022" not in ticket.message
    assert CODE_MASK in ticket.message and SECRET_MASK in ticket.message
    inbound = db.session.scalar(select(InboundMessage))
    assert inbound.subject == f"Code {CODE_MASK} refusé"
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.kind == "mail_in"))
    assert "ABCD" not in event.text


def test_html_only_mail_becomes_plain_text(voter):
    html = (
        "<html><head><style>p {color: red}</style><title>Titre</title></head><body>"
        "<p>Bonjour,</p><p>je n&#39;ai pas re&ccedil;u <b>mon lien</b>.<br>Merci</p>"
        "<script>alert('x')</script><ul><li>un</li><li>deux</li></ul>"
        '<a href="https://evil.example" onclick="steal()">ici</a><img src=x onerror=y>'
        "<!-- commentaire --> <![if !mso]>fin<![endif]><![foo bar]></body></html>"
    )
    receive(message(None, html=html))
    (ticket,) = tickets()
    text = ticket.message
    assert "<" not in text and ">" not in text
    for dropped in ("alert", "color", "Titre", "evil.example", "steal", "commentaire", "onerror"):
        assert dropped not in text
    assert text.startswith("Bonjour,\n\nje n'ai pas reçu mon lien.\nMerci")
    assert "- un\n- deux" in text and text.endswith("ici fin")


def test_plain_text_is_preferred_to_its_html_alternative(voter):
    receive(message("Le texte brut.", html="<p>Le <i>HTML</i>.</p>"))
    assert tickets()[0].message == "Le texte brut."


def test_unknown_charset_is_decoded_with_replacement(voter):
    raw = (
        b"From: =?x-unknown?q?Jos=E9?= <" + ADDRESS.encode() + b">\r\n"
        b"Subject: =?x-unknown?q?R=E9ponse?=\r\n"
        b"Message-ID: <charset@ac-lille.fr>\r\n"
        b"Content-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Je n'ai pas re\xe7u mon lien.\r\n"
    )
    inbound = receive(raw)
    (ticket,) = tickets()
    assert ticket.message == "Je n'ai pas re\ufffdu mon lien."
    assert inbound.subject == "R\ufffdponse"
    assert inbound.status == InboundStatus.NEW_TICKET and "x-unknown" in inbound.reason
    assert ticket.voter_id == voter.id


def test_eight_bit_headers_and_nul_bytes_are_stored_cleanly(voter):
    raw = (
        b"From: Jos\xc3\xa9 <" + ADDRESS.encode() + b">\r\n"
        b"Subject: caf\xc3\xa9 \xff\x00 servi\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"un\x00deux \xff trois\r\n"
    )
    inbound = receive(raw)
    db.session.expire_all()
    assert inbound.subject == "café \ufffd servi"
    assert tickets()[0].message == "undeux \ufffd trois"


def test_a_10_mb_attachment_is_dropped_with_a_note(voter):
    mail = message("Voici ma facture.")
    mail.add_attachment(
        b"%PDF" + b"\x00" * (10 * 1024 * 1024), "application", "pdf", filename="facture.pdf"
    )
    mail.add_attachment(b"x" * 1229, "image", "png", filename="capture.png")
    inbound = receive(mail)
    (ticket,) = tickets()
    assert ticket.message == (
        "Voici ma facture.\n\n"
        "[Pièce jointe non conservée : facture.pdf (10,0 Mo)]\n"
        "[Pièce jointe non conservée : capture.png (1 Ko)]"
    )
    assert inbound.status == InboundStatus.NEW_TICKET


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "message vide"),
        (b"  \r\n", "message vide"),
        (b"\x00\xff\xfe garbage\r\nnot a header\r\n\xff\xff", "aucun en-tête"),
    ],
)
def test_garbage_is_set_aside_with_its_reason(app, directory, raw, reason):
    inbound = receive(raw)
    assert inbound.status == InboundStatus.SET_ASIDE and reason in inbound.reason
    assert tickets() == []


def test_a_malformed_message_is_imported_as_well_as_it_can_be(voter):
    raw = (
        b"From: " + ADDRESS.encode() + b"\r\n"
        b"Subject: =?utf-8?b?broken base64?=\r\n"
        b"Date: not a date\r\n"
        b"Message-ID: no brackets\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"Qm9uam91ciE=====!!\r\n"
    )
    inbound = receive(raw)
    assert inbound.status == InboundStatus.NEW_TICKET
    assert (inbound.sent_at, inbound.message_id) == (None, None)
    assert tickets()[0].message.startswith("Bonjour")


def test_a_multipart_without_boundary_keeps_its_text(voter):
    raw = (
        b"From: " + ADDRESS.encode() + b"\r\nSubject: x\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nLe texte est bien l\xc3\xa0.\r\n"
    )
    receive(raw)
    assert tickets()[0].message == "Le texte est bien là."


def test_a_long_message_is_capped_with_a_note(voter):
    receive(message("mot " * 10_000 + "fin"))
    text = tickets()[0].message
    assert len(text) < 20_200 and text.startswith("mot mot")
    assert text.endswith(
        "[… message tronqué : 20003 caractères au-delà de 20\u202f000 non conservés]"
    )


def test_a_quoted_earlier_reply_is_cut(voter):
    body = (
        "Merci, c'est bon.\n\n"
        "Le mar. 1 déc. 2026 à 10:00, CSU Lille <csu@ac-lille.fr>\na écrit :\n"
        "> Bonjour,\n> voici votre lien.\n"
    )
    receive(message(body))
    assert tickets()[0].message == "Merci, c'est bon.\n\n[message précédent cité, non repris]"


def test_a_second_copy_of_a_message_is_set_aside(voter):
    mail = message()
    receive(mail)
    second = receive(mail, mailbox="AC-25")
    assert second.status == InboundStatus.SET_ASIDE and "déjà importé" in second.reason
    assert len(tickets()) == 1


def test_a_copy_of_our_own_mail_is_set_aside(waiting_ticket):
    ours = message(sender="ne-pas-repondre@csudesk.example")
    ours.replace_header("Message-ID", mail_of(waiting_ticket).message_id)
    inbound = receive(ours)
    assert inbound.status == InboundStatus.SET_ASIDE and "csudesk" in inbound.reason
    assert len(tickets()) == 1


# --- Auto-replies and bulk mail trigger nothing --------------------------------------------


def test_an_auto_reply_joins_the_history_without_reopening(waiting_ticket):
    mails_before = outbox_count()
    inbound = receive(
        message(
            "Je suis absente jusqu'au 15.",
            subject="Re: Votre lien",
            in_reply_to=mail_of(waiting_ticket).message_id,
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    db.session.refresh(waiting_ticket)
    assert inbound.status == InboundStatus.AUTOMATIC and inbound.ticket_id == waiting_ticket.id
    assert waiting_ticket.status == Status.WAITING
    assert kinds(waiting_ticket)[-1] == "mail_in"
    assert len(tickets()) == 1
    assert outbox_count() == mails_before  # nothing answers it


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Réponse automatique : Votre demande", {}),
        ("Absence", {}),
        ("Absence du bureau", {}),
        ("Out of Office: Re: Lien", {}),
        ("Automatic reply: Lien", {}),
        ("Lettre d'information", {"Precedence": "bulk"}),
        ("Lettre d'information", {"List-Id": "<info.ac-lille.fr>"}),
        ("Lettre d'information", {"List-Unsubscribe": "<mailto:stop@ac-lille.fr>"}),
        ("Bonjour", {"X-Autoreply": "yes"}),
        ("Bonjour", {"X-Autorespond": "yes"}),
        ("Bonjour", {"Auto-Submitted": "auto-generated"}),
    ],
)
def test_automatic_mail_never_opens_a_ticket_nor_sends_anything(voter, subject, headers):
    inbound = receive(message(subject=subject, headers=headers))
    assert inbound.status == InboundStatus.AUTOMATIC
    assert tickets() == [] and outbox_count() == 0


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Absence de lien", {}),
        ("Absence de réception du code", {}),
        ("Lien non reçu", {"Auto-Submitted": "no"}),
    ],
)
def test_a_voter_writing_about_an_absence_still_gets_a_ticket(voter, subject, headers):
    inbound = receive(message(subject=subject, headers=headers))
    assert inbound.status == InboundStatus.NEW_TICKET and len(tickets()) == 1


# --- Replies join their ticket ---------------------------------------------------------------


def test_a_reply_by_in_reply_to_reopens_its_ticket_for_its_agent(waiting_ticket, agent):
    inbound = receive(
        message(
            "Toujours rien reçu.",
            subject="Re: Votre lien d'activation",
            in_reply_to=mail_of(waiting_ticket).message_id,
        )
    )
    db.session.refresh(waiting_ticket)
    assert inbound.status == InboundStatus.JOINED and inbound.ticket_id == waiting_ticket.id
    assert waiting_ticket.status == Status.OPEN
    assert waiting_ticket.assigned_agent_id == agent.id
    assert kinds(waiting_ticket)[-2:] == ["mail_in", "status"]
    assert len(tickets()) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.mail_in"))
    assert (entry.actor, entry.ticket_id) == ("system", waiting_ticket.id)


def test_a_reply_by_references_to_an_earlier_message_joins(voter):
    first = message("Premier message.")
    receive(first)
    (ticket,) = tickets()
    inbound = receive(message("Un complément.", subject="Re: Lien", references=first["Message-ID"]))
    assert inbound.status == InboundStatus.JOINED and inbound.ticket_id == ticket.id
    assert kinds(ticket) == ["created", "mail_in", "mail_in"]


def test_a_reply_to_a_resolved_ticket_reopens_it(waiting_ticket, agent):
    change_status(Actor.for_agent(agent), waiting_ticket, Status.RESOLVED)
    db.session.commit()
    receive(message("Encore moi.", in_reply_to=mail_of(waiting_ticket).message_id))
    db.session.refresh(waiting_ticket)
    assert waiting_ticket.status == Status.OPEN and waiting_ticket.resolved_at is None


def test_a_subject_reference_from_the_voter_joins(waiting_ticket):
    subject = f"Re: [CSU {waiting_ticket.reference}] Votre demande"
    inbound = receive(message("Merci.", subject=subject))
    assert inbound.status == InboundStatus.JOINED and inbound.ticket_id == waiting_ticket.id


def test_a_subject_reference_from_a_stranger_opens_a_new_ticket(waiting_ticket):
    subject = f"[CSU {waiting_ticket.reference}] Changez l'adresse"
    inbound = receive(
        message("Envoyez le lien ailleurs.", sender="x@evil.example", subject=subject)
    )
    assert inbound.status == InboundStatus.NEW_TICKET and inbound.ticket_id != waiting_ticket.id
    assert kinds(waiting_ticket)[-1] == "status"  # nothing written into it
    new = db.session.get(Ticket, inbound.ticket_id)
    assert (new.voter_id, new.contact_email) == (None, "x@evil.example")


def test_a_guessed_message_id_from_a_stranger_opens_a_new_ticket(waiting_ticket):
    inbound = receive(
        message("Bonjour", sender="x@evil.example", in_reply_to=mail_of(waiting_ticket).message_id)
    )
    assert inbound.status == InboundStatus.NEW_TICKET and inbound.ticket_id != waiting_ticket.id


def test_a_reply_to_a_merged_ticket_joins_the_kept_one(waiting_ticket, voter, agent):
    kept = create_ticket(
        Actor.for_agent(agent),
        csu=voter.csu,
        category="autre",
        channel="telephone",
        voter=voter,
    )
    waiting_ticket.status = Status.MERGED
    waiting_ticket.merged_into_id = kept.id
    db.session.commit()
    inbound = receive(message("Re", in_reply_to=mail_of(waiting_ticket).message_id))
    assert inbound.status == InboundStatus.JOINED and inbound.ticket_id == kept.id
    assert kinds(kept)[-1] == "mail_in"
    db.session.refresh(waiting_ticket)
    assert waiting_ticket.status == Status.MERGED


def test_the_ticket_page_shows_the_mail_escaped_with_its_sender(client, lille, voter):
    inbound = receive(
        message(
            "Bonjour <b>agent</b>,\n  ligne indentée",
            subject="Re: <script>x</script>",
            headers={"Auto-Submitted": "no"},
        )
    )
    receive(
        message(
            "Absent.",
            subject="Réponse automatique",
            references=inbound.message_id,
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    page = client.get(f"/guichet/tickets/{inbound.ticket_id}").text
    assert "Bonjour &lt;b&gt;agent&lt;/b&gt;,\n  ligne indentée" in page
    assert "Objet : Re: &lt;script&gt;x&lt;/script&gt;" in page
    assert f"{ADDRESS} :\n      courriel reçu" in page
    assert "automatique</span>" in page
    assert "<script>x" not in page


def _plan(statement: str, parameters) -> str:
    """How the database runs `statement`: SQLite's query plan, or PostgreSQL's with
    sequential scans priced out (on a table this small the planner would read it whole)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(row[-1] for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(row[0] for row in rows)


def test_the_lookups_by_message_id_go_through_its_index(voter):
    """An earlier copy, and the message a reply answers, are found by the Message-ID's index:
    read whole, the table made each import slower than the one before it."""
    first = message("Premier message.")
    receive(first)
    statements = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if "FROM inbound_message" in statement and "inbound_message.message_id" in statement:
            statements.append((statement, parameters))

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        receive(message("Un complément.", subject="Re: Lien", references=first["Message-ID"]))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2  # the earlier copy, then the message it answers
    for statement, parameters in statements:
        plan = _plan(statement, parameters)
        assert "ix_inbound_message_message_id" in plan, plan
    db.session.rollback()
