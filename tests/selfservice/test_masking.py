"""Secrets pasted into a contact message are masked; ordinary French text is kept."""

import pytest

from csudesk.roll import accounts
from csudesk.selfservice.masking import CODE_MASK, SECRET_MASK, mask_secrets


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
