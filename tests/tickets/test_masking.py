"""Secrets pasted into a contact message are masked; ordinary French text is kept."""

import pytest

from csudesk.roll import accounts
from csudesk.tickets.masking import CODE_MASK, SECRET_MASK, mask_secrets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon code est ABCD-EF23-GHJK-LMN4, merci", f"Mon code est {CODE_MASK}, merci"),
        ("code abcd-efgh-jkmn-pqrs", f"code {CODE_MASK}"),  # dashed: masked even without digit
        ("je tape ABCD EF23 GHJK LMN4 sans succès", f"je tape {CODE_MASK} sans succès"),
        ("ABCDEF23GHJKLMN4", CODE_MASK),
        # Typed in lower case, the code's groups cannot be told from 4-letter words: all go.
        ("je tape abcd ef23 ghjk lmn4 sans succès", f"je {CODE_MASK} succès"),
        ("Mot de passe : Soleil2022! refusé", f"Mot de passe : {SECRET_MASK}! refusé"),
        ("mdp=azerty", f"mdp={SECRET_MASK}"),
        ("mon mot de passe: grenouille.", f"mon mot de passe: {SECRET_MASK}."),
        ("mot de passe est « grenouille bleue » hier", f"mot de passe est {SECRET_MASK}"),
        # Passphrases and challenge answers are ordinary words: the rest of the sentence goes.
        (
            "Mon mot de passe est : soleil levant sur la mer. Merci",
            f"Mon mot de passe est : {SECRET_MASK}. Merci",
        ),
        ("ma réponse au défi est Médor, je crois", f"ma réponse au défi est {SECRET_MASK}"),
        (
            "c'est Médor\nmon code de vote est ABCDEFGHJKMNPQRS",
            f"c'est Médor\nmon code de vote est {CODE_MASK}",
        ),
        ("j'ai noté ABCDEFGHJKMNPQRS hier", f"j'ai noté {CODE_MASK} hier"),
        ("le mot de passe c'est Grenouille", f"le mot de passe c'est {SECRET_MASK}"),
        ("réponse au défi : Médor", f"réponse au défi : {SECRET_MASK}"),
        ("essayé Tr0ub4dor&3 puis Soleil!Vert", f"essayé {SECRET_MASK} puis {SECRET_MASK}"),
        ("(Motdepasse2022)", f"({SECRET_MASK})"),
        # The challenge answer, introduced by the voter's own words (issue 10, item 14).
        ("ma réponse : medor", f"ma réponse : {SECRET_MASK}"),
        ("Ma réponse est Médor.", f"Ma réponse est {SECRET_MASK}."),
        ("ma réponse secrète était rex", f"ma réponse secrète était {SECRET_MASK}"),
        ("la réponse à ma question est Médor", f"la réponse à ma question est {SECRET_MASK}"),
        (
            "la réponse a la question secrète : Rue des Lilas. Merci",
            f"la réponse a la question secrète : {SECRET_MASK}. Merci",
        ),
        ("réponse du défi = medor", f"réponse du défi = {SECRET_MASK}"),
        # Codes typed in groups without a digit: the code's alphabet has no I, O, 0 or 1.
        ("ABCD EFGH JKLM NPQR", CODE_MASK),
        ("mon code ABCD EFGH JKLM NPQR ne marche pas", f"mon code {CODE_MASK} ne marche pas"),
        ("vu ABCD\u00a0EFGH\u00a0JKLM\u00a0NPQR hier", f"vu {CODE_MASK} hier"),
        ("ABCD  EFGH\tJKLM NPQR", CODE_MASK),
        ("code abcd efgh jkmn pqrs", f"code {CODE_MASK}"),
        ("mon code de vote : abcd efgh jkmn pqrs merci", f"mon code de vote : {CODE_MASK} merci"),
        (
            "l'ancien ABCD EFGH JKLM NPQR et le nouveau QRST UVWX YZ23 4567",
            f"l'ancien {CODE_MASK} et le nouveau {CODE_MASK}",
        ),
        ("MERCI ABCD EFGH JKLM NPQR", f"MERCI {CODE_MASK}"),
    ],
)
def test_secrets_are_masked(text, expected):
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mais vous avez bien reçu mon message",  # four 4-letter words are not a vote code
        "élections professionnelles 2022",  # a 16-letter word is not a vote code
        "Bonjour! Je suis Marie-Claire, de Villeneuve-d'Ascq.",
        "UAI 0590001F, lycée Jean-Baptiste Carpeaux",
        "écrivez à marie.dupont2@ac-lille.fr ou voyez https://www.ac-lille.fr/page2",
        "Référence 2022-000123 du 01/12/2022, entre 14h30-17h, le 1er décembre",
        "téléphone 03 20 00 00 00 ou 03.20.00.00.00",
        "mon mot de passe est refusé depuis hier",
        "mon code de vote est perdu, je n'ai pas reçu ma notice",
        "le mot de passe est toujours refusé",
        "Il a un n°12345 et c'est URGENT!!!",
        # "réponse" is an ordinary word; the voter's answer needs "ma" or "à ma question".
        "Merci pour votre réponse : je vais essayer.",
        "j'attends votre réponse depuis lundi",
        "je n'ai pas eu de réponse à ma question",
        "la réponse à ma question est toujours la même",
        "ma réponse est refusée alors qu'elle est juste",
        "ma réponse au défi est bonne",
        "ma réponse est la bonne",
        "En réponse à votre courriel du 2 décembre",
        # Four-letter words in capitals: an I or an O keeps them out of the code's alphabet.
        "MAIS VOUS AVEZ BIEN REÇU MON MESSAGE",
        "JE NE SAIS PLUS QUOI FAIRE AVEC MON CODE",
        "mon code postal : 59000 Lille",
        "code UAI : 0590001F",
        "mon code ne marche pas",
        "le code est faux",
    ],
)
def test_ordinary_text_is_kept(text):
    assert mask_secrets(text) == text


def test_every_generated_vote_code_is_masked_in_its_printed_form(make_voter):
    voter = make_voter(activated=True)
    for _ in range(50):
        code = accounts.new_vote_code(voter, None)
        assert code not in mask_secrets(f"Mon code de vote {code} ne marche pas")
        assert code.lower() not in mask_secrets(f"code {code.lower()}")
