"""Demo data for `make run`: directory, generated roll, desk accounts, portal activity.

The directory gets named schools and every CSU a contact (csudesk/demo/directory.py); the
calendar around today is make run's instance/config.py (csudesk/demo/calendar.py).
"""

import os
import random
import tempfile
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select

from csudesk.actor import Actor
from csudesk.agents.models import Agent, Role
from csudesk.agents.services import create_agent
from csudesk.conversation.response_templates import seed_national
from csudesk.db import clock_at, utcnow
from csudesk.demo.activity import DAYS as DEMO_ACTIVITY_DAYS
from csudesk.demo.activity import ActivitySummary, seed_activity
from csudesk.demo.directory import name_demo_establishments, set_demo_contacts
from csudesk.directory import services as directory
from csudesk.extensions import db
from csudesk.passwords import hash_secret
from csudesk.roll.accounts import normalize_answer
from csudesk.roll.generator import demo_creps_uais, generate_roll
from csudesk.roll.import_worker import import_roll
from csudesk.roll.models import Voter, VoterAccount, VoterEmail

DEMO_PASSWORD = "demo-csudesk-2026"  # noqa: S105 - printed by make run, demo only
DEMO_CHALLENGE_ANSWER = "Médor"
DEMO_ACCOUNTS = [
    ("admin@csudesk.example", "Alice Admin", Role.ADMIN, "NATIONAL"),
    ("superviseur.national@csudesk.example", "Nadia National", Role.SUPERVISOR, "NATIONAL"),
    ("superviseur.lille@csudesk.example", "Samuel Supervision", Role.SUPERVISOR, "AC-09"),
    ("agent.lille@csudesk.example", "Anne Agent", Role.AGENT, "AC-09"),
    ("agent.versailles@csudesk.example", "Victor Versailles", Role.AGENT, "AC-25"),
    ("agent.paris1@csudesk.example", "Paul Panthéon", Role.AGENT, "ESR-0751717J"),
    # Last desk agent: the generated activity gives them the volume the supervision flags.
    ("agent2.lille@csudesk.example", "Bruno Lefort", Role.AGENT, "AC-09"),
]
DEMO_CONTACTS = {
    "AC-09": (
        "csu-elections@ac-lille.example",
        "03 20 00 00 00",
        "du lundi au vendredi, 8 h 30 – 18 h",
    ),
    "AC-25": (
        "csu-elections@ac-versailles.example",
        "01 30 00 00 00",
        "du lundi au vendredi, 9 h – 17 h",
    ),
    "ESR-0751717J": (
        "csu-elections@univ-paris1.example",
        None,
        "du lundi au vendredi, 9 h – 12 h 30",
    ),
}
ACTIVATED_SHARE = 0.6


@dataclass
class DemoSummary:
    voters: int
    activated: int
    agents: list[tuple[str, str, str]]
    activity: ActivitySummary


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count()).select_from(Voter)) == 0


def seed_demo(voters: int = 20_000, seed: int = 2026) -> DemoSummary:
    """Load everything a person needs to try the desk; run on an empty database."""
    system = Actor.system()
    directory.load_builtin_directory()
    for csu_code, uai in demo_creps_uais().items():
        directory.attach_establishment(uai, csu_code)
    set_demo_contacts(DEMO_CONTACTS)
    db.session.commit()

    handle, path = tempfile.mkstemp(suffix=".csv", prefix="csudesk-demo-roll-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            generate_roll(out, voters, seed)
        import_roll(path)
    finally:
        os.unlink(path)
    name_demo_establishments()
    db.session.commit()

    activated = _activate_some_accounts(random.Random(seed))
    agents = []
    # The accounts exist before the generated week of activity (the audit trail stays in order).
    with clock_at(utcnow() - timedelta(days=DEMO_ACTIVITY_DAYS + 1)):
        for email, name, role, csu_code in DEMO_ACCOUNTS:
            if db.session.scalar(select(Agent).where(Agent.email == email)) is None:
                csu = directory.csu_by_code(csu_code)
                create_agent(
                    system, email=email, name=name, role=role, csu=csu, password=DEMO_PASSWORD
                )
            agents.append((email, role, csu_code))
        seed_national(system)
    db.session.commit()
    return DemoSummary(voters, activated, agents, seed_activity(seed))


def _activate_some_accounts(rng: random.Random) -> int:
    """Mark part of the roll as activated, all with the same demo challenge answer."""
    password_hash = hash_secret(DEMO_PASSWORD)
    answer_hash = hash_secret(normalize_answer(DEMO_CHALLENGE_ANSWER))
    ids = list(db.session.scalars(select(Voter.id).order_by(Voter.id)))
    chosen = [voter_id for voter_id in ids if rng.random() < ACTIVATED_SHARE]
    now = utcnow()
    rows = [
        {
            "voter_id": voter_id,
            "activated_at": now,
            "password_hash": password_hash,
            "password_set_at": now,
            "challenge_question": "animal",
            "challenge_answer_hash": answer_hash,
            "challenge_set_at": now,
            "challenge_failures": 0,
        }
        for voter_id in chosen
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(VoterAccount), rows[start : start + 5000])
    db.session.commit()
    return len(rows)


def example_addresses(csu_code: str = "AC-09") -> dict[str, str | None]:
    """One roll address of a not-yet-activated and of an activated voter of a CSU."""
    csu = directory.csu_by_code(csu_code)
    csu_id = csu.id if csu is not None else None
    base = (
        select(VoterEmail.address)
        .join(Voter, Voter.id == VoterEmail.voter_id)
        .outerjoin(VoterAccount, VoterAccount.voter_id == Voter.id)
        .where(Voter.csu_id == csu_id, VoterEmail.position == 0)
        .order_by(Voter.id)
        .limit(1)
    )
    return {
        "not_activated": db.session.scalar(base.where(VoterAccount.activated_at.is_(None))),
        "activated": db.session.scalar(base.where(VoterAccount.activated_at.is_not(None))),
    }
