"""CSU_MAILBOXES: what the fetch command accepts, and what it refuses before reading anything."""

from pathlib import Path

import pytest

from csudesk.conversation.mailboxes import (
    Mailbox,
    MailboxConfigError,
    load_mailboxes,
    parse_mailbox,
)

IMAP = {
    "csu": "AC-09",
    "host": "imap.ac-lille.example",
    "username": "csu-elections",
    "password_env": "CSUDESK_MAILBOX_AC_09_PASSWORD",
}
ENVIRON = {"CSUDESK_MAILBOX_AC_09_PASSWORD": "secret-de-la-boite"}


def test_an_imap_mailbox_with_its_password_from_the_environment():
    (mailbox,) = load_mailboxes({"AC-09": IMAP}, "/srv/instance", ENVIRON)

    assert mailbox == Mailbox(
        name="AC-09",
        csu="AC-09",
        host="imap.ac-lille.example",
        port=993,
        security="tls",
        username="csu-elections",
        password="secret-de-la-boite",
        folder="INBOX",
    )
    assert mailbox.where == "imaps://imap.ac-lille.example:993/INBOX"
    assert "secret-de-la-boite" not in repr(mailbox)


def test_starttls_defaults_to_port_143_and_a_password_may_be_in_the_instance_file():
    entry = {**IMAP, "security": "starttls", "password": "dans-instance-config"}
    del entry["password_env"]

    mailbox = parse_mailbox("AC-09", entry, Path("/srv/instance"), {})

    assert (mailbox.port, mailbox.password) == (143, "dans-instance-config")
    assert mailbox.where == "imap://imap.ac-lille.example:143/INBOX"


def test_a_maildir_is_found_in_the_instance_folder():
    (mailbox,) = load_mailboxes(
        {"AC-09": {"csu": "AC-09", "maildir": "demo-mailbox-AC-09"}}, "/srv/instance", {}
    )

    assert mailbox.is_maildir
    assert mailbox.maildir == Path("/srv/instance/demo-mailbox-AC-09")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"security": "ssl"}, '"security" vaut "tls", "starttls" ou "plain" (reçu : \'ssl\').'),
        ({"security": "plain"}, "enverrait le mot de passe en clair à imap.ac-lille.example"),
        ({"port": "993"}, "\"port\" doit être un numéro de port (reçu : '993')."),
        ({"port": 70000}, '"port" doit être un numéro de port (reçu : 70000).'),
        ({"host": None}, '"host" (serveur IMAP) ou "maildir" (dossier local) est requis.'),
        ({"csu": ""}, '"csu" (le code de la CSU de la boîte, ex. "AC-09") manque.'),
        ({"username": None}, '"username" manque.'),
        ({"pasword_env": "X"}, "réglages inconnus : pasword_env."),
        ({"password": "x"}, 'donnez "password_env" ou "password", pas les deux.'),
        (
            {"password_env": "CSUDESK_NOT_SET"},
            "la variable d'environnement CSUDESK_NOT_SET (mot de passe) est vide.",
        ),
        ({"ca_file": "/nulle/part.pem"}, "\"ca_file\" : fichier introuvable ('/nulle/part.pem')."),
    ],
)
def test_a_mistake_is_named_before_anything_is_read(change, expected):
    entry = {key: value for key, value in {**IMAP, **change}.items() if value is not None}

    with pytest.raises(MailboxConfigError) as error:
        load_mailboxes({"AC-09": entry}, "/srv/instance", ENVIRON)

    assert str(error.value).startswith("CSU_MAILBOXES['AC-09'] : ")
    assert expected in str(error.value)


def test_plain_is_allowed_on_loopback_or_when_asked_for():
    loopback = parse_mailbox(
        "A", {**IMAP, "host": "127.0.0.1", "security": "plain"}, Path("."), ENVIRON
    )
    local = parse_mailbox("B", {**IMAP, "host": "localhost", "security": "plain"}, None, ENVIRON)
    asked = parse_mailbox(
        "C", {**IMAP, "security": "plain", "allow_plain": True}, Path("."), ENVIRON
    )

    assert [mailbox.port for mailbox in (loopback, local, asked)] == [143, 143, 143]


def test_every_wrong_mailbox_is_listed_at_once():
    with pytest.raises(MailboxConfigError) as error:
        load_mailboxes(
            {
                "AC-09": {**IMAP, "security": "ssl"},
                "AC-25": {"csu": "AC-25", "maildir": "x", "host": "imap.example"},
                "AC-10": IMAP,
            },
            "/srv/instance",
            ENVIRON,
        )

    lines = str(error.value).splitlines()
    assert [line.split(" : ")[0] for line in lines] == [
        "CSU_MAILBOXES['AC-09']",
        "CSU_MAILBOXES['AC-25']",
    ]
    assert "réglages inconnus pour un Maildir : host." in lines[1]


def test_the_setting_itself_must_be_a_dict():
    with pytest.raises(MailboxConfigError, match="CSU_MAILBOXES doit être un dictionnaire"):
        load_mailboxes([IMAP], "/srv/instance", ENVIRON)
