"""The public forms tell nobody whether an address is on the roll (SECURITY.md 13).

Through the views, with CSRF on, each form is sent for addresses on the roll and addresses
that are not, interleaved: the status, the redirect and the page shown (once the address,
the CSRF token and the ticket reference are set aside) are the same, and so is the time,
within the run's own noise.

The vote-code form checks a challenge answer: it runs at the production argon2 cost, where a
missing decoy hash would answer an unknown address a whole hash sooner (~0.1-0.5 s on a
loaded 2-core machine); being that slow, it gets fewer tries. The other forms hash nothing
and keep the tests' fast profile.
"""

import random
import re
import statistics
import time

import pytest

from csudesk.public import antiabuse
from tests.fixtures.factories import running_calendar
from tests.fixtures.world import csrf_token_in, new_client

TRIES = {"link-not-received": 40, "password-refused": 40, "vote-code": 16, "contact": 40}
WARM_UP = 3
ROUNDS = 3  # a real leak shows in every round; a burst of load on the machine in one
FLOOR_SECONDS = 0.003
# Medians of argon2 requests wobble by a few percent between two runs of the same path; a
# leak worth the name (a skipped hash, an extra query on a fast form) is far above this.
RELATIVE_FLOOR = 0.05
VOTERS = 2
ADDRESSES_PER_VOTER = 22  # a fresh roll address per try: no per-address limit or state shared
ANSWER = "Médor"


def timing_gap(known: list[float], unknown: list[float]) -> tuple[float, float]:
    """The gap between the two medians and what counts as noise in this run: the larger gap
    between the medians of the two halves (even and odd tries) of one population, or 3 ms,
    or 5 % of the slower median, whichever is largest.

    However loaded the machine, the noise allowed stays under half the slower median: a path
    that skips the work of the other (a whole hash) is always a gap that large.
    """
    gap = abs(statistics.median(known) - statistics.median(unknown))
    noise = max(
        abs(statistics.median(times[0::2]) - statistics.median(times[1::2]))
        for times in (known, unknown)
    )
    slower = max(statistics.median(known), statistics.median(unknown))
    return gap, max(FLOOR_SECONDS, RELATIVE_FLOOR * slower, min(noise, slower / 2))


def test_the_timing_criterion_sees_a_leak_and_tolerates_noise():
    rng = random.Random(13)

    def jittery(base: float) -> list[float]:
        return [base + rng.expovariate(1 / 0.004) for _ in range(40)]

    gap, noise = timing_gap(jittery(0.050), jittery(0.050))
    assert gap < noise
    gap, noise = timing_gap(jittery(0.050), jittery(0.150))  # a skipped 100 ms hash
    assert gap > noise
    gap, noise = timing_gap(jittery(0.020), jittery(0.030))  # a 10 ms extra query
    assert gap > noise
    # A machine so loaded that the halves disagree by more than the gap: a skipped hash
    # still shows.
    slow = [0.3, 0.9] * 20
    gap, noise = timing_gap(slow, [0.01] * 40)
    assert gap > noise


def contact_data(address: str) -> dict:
    return {
        "email": address,
        "last_name": "Dupont",
        "first_name": "Marie",
        "uai": "0590001F",  # the roll voters' establishment: the same CSU either way
        "category": "autre",
        "message": "Je n'arrive pas à me connecter au portail.",
        "consent": "y",
        "started": antiabuse.opened_token(time.time() - 60),
        "action": "send",
    }


FORMS = {
    "link-not-received": ("/lien-non-recu", lambda address: {"email": address}),
    "password-refused": ("/mot-de-passe-refuse", lambda address: {"email": address}),
    "vote-code": ("/reassort-code-de-vote", lambda address: {"email": address, "answer": ANSWER}),
    "contact": ("/nous-ecrire", contact_data),
}


@pytest.fixture
def app_config(app_config, request):
    app_config["WTF_CSRF_ENABLED"] = True
    if request.node.callspec.params.get("form") == "vote-code":
        app_config.pop("ARGON2_PROFILE")  # production cost, decoy included
    app_config["ELECTION"] = running_calendar()
    return app_config


@pytest.fixture
def populations(make_voter):
    """Roll addresses of activated voters (answer Médor) and as many addresses off the roll."""
    known = []
    for n in range(VOTERS):
        emails = tuple(f"electeur{n}.adresse{i}@ac-lille.fr" for i in range(ADDRESSES_PER_VOTER))
        make_voter("Dupont", "Marie", emails=emails, challenge_answer=ANSWER)
        known += emails
    unknown = [f"inconnu{n}.personne@ac-lille.fr" for n in range(len(known))]
    return known, unknown


def normalised(page: str, address: str) -> str:
    page = page.replace(address, "ADDRESS")
    page = re.sub(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+', r"\1TOKEN", page)
    page = re.sub(r'(name="started"[^>]*value=")[^"]+', r"\1STARTED", page)
    return re.sub(r"\b\d{4}-\d{6}\b", "REFERENCE", page)  # a contact ticket's reference


@pytest.mark.parametrize("form", list(FORMS))
def test_same_answer_and_time_on_the_roll_or_not(app, populations, form):
    url, data_for = FORMS[form]
    client = new_client(app)
    token = csrf_token_in(client.get(url).text)
    assert token
    ip = iter(f"198.51.{n // 250}.{n % 250 + 1}" for n in range(10_000))

    def send(address: str) -> tuple[float, tuple]:
        data = {**data_for(address), "csrf_token": token}
        started = time.perf_counter()
        response = client.post(url, data=data, environ_overrides={"REMOTE_ADDR": next(ip)})
        elapsed = time.perf_counter() - started
        shown = client.get(response.location) if response.status_code == 303 else response
        answer = (response.status_code, response.location, shown.status_code, shown.text)
        return elapsed, tuple(normalised(str(part), address) for part in answer)

    known, unknown = populations
    for address in known[:WARM_UP] + unknown[:WARM_UP]:
        send(address)
    results = []
    for _ in range(ROUNDS):
        times = {"known": [], "unknown": []}
        answers = set()
        for index in range(TRIES[form]):
            # Interleaved, the order flipped every try: drift and bursts hit both alike.
            pair = [("known", known[index]), ("unknown", unknown[index])]
            for name, address in pair if index % 2 else reversed(pair):
                elapsed, answer = send(address)
                times[name].append(elapsed)
                answers.add(answer)
        assert len(answers) == 1, f"{form}: the answer depends on the address"
        ((status, location, shown_status, _),) = answers
        assert (status, shown_status) == ("303", "200"), (status, shown_status)
        gap, noise = timing_gap(times["known"], times["unknown"])
        results.append(
            f"medians {statistics.median(times['known']) * 1000:.1f} /"
            f" {statistics.median(times['unknown']) * 1000:.1f} ms,"
            f" gap {gap * 1000:.1f} ms, noise {noise * 1000:.1f} ms"
        )
        if gap < noise:
            break
        known, unknown = known[::-1], unknown[::-1]  # the next round, fresh pairs
    else:
        pytest.fail(f"{form}: time depends on the address in every round: {results}")
    print(f"{form}: {results[-1]}")
