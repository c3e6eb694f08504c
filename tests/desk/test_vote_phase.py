"""The desk says plainly where the vote stands: not yet open, under way, or closed."""

import html

import pytest

CALENDARS = {
    "before_portal": ("2090-10-15T09:00", "2090-12-03T09:00", "2090-12-10T17:00"),
    "portal_open": ("2020-10-15T09:00", "2090-12-03T09:00", "2090-12-10T17:00"),
    "voting": ("2020-10-15T09:00", "2020-12-03T09:00", "2090-12-10T17:00"),
    "closed": ("2020-10-15T09:00", "2020-12-03T09:00", "2020-12-10T17:00"),
}
NOTICES = {
    "before_portal": "Le portail élections n'est pas encore ouvert : il ouvre le 15/10/2090"
    " à 09 h 00",
    "portal_open": "Le vote n'est pas encore ouvert : il ouvre le 03/12/2090 à 09 h 00",
    "voting": "Le vote est ouvert jusqu'au 10/12/2090 à 17 h 00 (heure de Paris) : le réassort"
    " du code de vote est possible.",
    "closed": "Le vote est clos depuis le 10/12/2020 à 17 h 00 (heure de Paris) : plus aucun"
    " réassort du code de vote n'est possible",
}


def text(response) -> str:
    return html.unescape(
        " ".join(response.text.replace("<strong>", "").replace("</strong>", "").split())
    )


@pytest.mark.parametrize("phase", list(CALENDARS))
def test_desk_index_and_voter_file_say_where_the_vote_stands(app, client, lille, make_voter, phase):
    portal, opens, closes = CALENDARS[phase]
    app.config["ELECTION"] = {
        "name": "Test",
        "portal_opens": portal,
        "vote_opens": opens,
        "vote_closes": closes,
    }
    voter = make_voter()
    for url in ("/guichet/", f"/guichet/electeurs/{voter.id}"):
        body = text(client.get(url))
        assert NOTICES[phase] in body, url
        others = [notice for other, notice in NOTICES.items() if other != phase]
        assert not any(notice in body for notice in others)
