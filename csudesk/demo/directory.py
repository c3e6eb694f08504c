"""Demo directory data: named schools with their cities, and contact details for every CSU.

The built-in directory names only universities; a real deployment names every school with
`directory import-annuaire` (the Annuaire de l'éducation export). The demo goes through that
same import with a file it writes itself, so searching "Roubaix" or "lycée" works in the demo
as it will in production:
- every school of the generated roll gets a name, a kind and a city of its department
  (data/demo_cities.csv), drawn from its UAI so that a given UAI always reads the same;
- a few featured establishments in several académies are always there, whatever the roll.
All the names are made up (common French school patrons); the UAIs carry valid check letters
and serials (9500-9899) the roll generator never draws.
"""

import csv
import os
import random
import tempfile
from functools import cache
from importlib.resources import files

from sqlalchemy import select

from csudesk.csvio import ImportReport
from csudesk.directory import uai as uai_codes
from csudesk.directory.annuaire import import_annuaire
from csudesk.directory.models import CSU, CSUKind, Establishment
from csudesk.directory.services import set_contact, upsert_establishment
from csudesk.extensions import db

KINDS = [
    ("École maternelle", 2),
    ("École élémentaire", 4),
    ("École primaire", 2),
    ("Collège", 3),
    ("Lycée", 2),
    ("Lycée professionnel", 1),
]
PATRONS = [
    "Jules Ferry", "Jean Moulin", "Victor Hugo", "Louise Michel", "Jean Jaurès", "Marie Curie",
    "Louis Pasteur", "Jacques Prévert", "Simone Veil", "Jean de La Fontaine", "Paul Langevin",
    "Albert Camus", "Condorcet", "Voltaire", "Colette", "George Sand", "Pablo Picasso",
    "Antoine de Saint-Exupéry", "Rosa Parks", "Olympe de Gouges", "Émile Zola", "Anne Frank",
    "Jean Macé", "Paul Éluard", "Marcel Pagnol", "Gustave Eiffel", "Joliot-Curie", "Molière",
    "Jean Rostand", "Lucie Aubrac", "Camille Claudel", "Pierre Mendès France", "Léonard de Vinci",
    "Les Tilleuls", "Les Marronniers", "Du Centre", "Du Parc", "Les Coquelicots",
]  # fmt: skip
# Always in the demo: the names a newcomer is likely to try first, in several académies.
FEATURED = [
    ("0599501", "Lycée", "Lycée Jean Moulin", "Roubaix"),
    ("0599502", "Collège", "Collège Anne Frank", "Roubaix"),
    ("0599503", "École élémentaire", "École élémentaire Jules Guesde", "Roubaix"),
    ("0599504", "Lycée professionnel", "Lycée professionnel Louis Blériot", "Tourcoing"),
    ("0599505", "Lycée", "Lycée Pasteur", "Lille"),
    ("0599506", "Collège", "Collège Jean Macé", "Lille"),
    ("0629501", "Lycée", "Lycée Robespierre", "Arras"),
    ("0629502", "École maternelle", "École maternelle Les Coquelicots", "Lens"),
    ("0789501", "Lycée", "Lycée Marie Curie", "Versailles"),
    ("0789502", "Collège", "Collège Pierre de Ronsard", "Mantes-la-Jolie"),
    ("0929501", "École élémentaire", "École élémentaire Jean Jaurès", "Nanterre"),
    ("0759501", "Lycée", "Lycée Condorcet", "Paris 9e"),
    ("0759502", "Collège", "Collège Victor Hugo", "Paris 3e"),
    ("0139501", "Lycée", "Lycée Victor Hugo", "Marseille"),
    ("0699501", "Collège", "Collège Jean Moulin", "Lyon"),
    ("0339501", "Lycée professionnel", "Lycée professionnel Toulouse-Lautrec", "Bordeaux"),
    ("0319501", "École primaire", "École primaire Jules Ferry", "Toulouse"),
    ("0679501", "Lycée", "Lycée Louis Pasteur", "Strasbourg"),
    ("0449501", "Collège", "Collège Simone Veil", "Nantes"),
    ("9749501", "Lycée", "Lycée Leconte de Lisle", "Saint-Denis"),
]
# The export's column names (API form), as a real `directory import-annuaire` file has them.
HEADER = [
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Nom_commune",
]
HOURS = [
    "du lundi au vendredi, 8 h 30 – 18 h",
    "du lundi au vendredi, 9 h – 17 h",
    "du lundi au vendredi, 8 h – 12 h et 13 h 30 – 17 h 30",
    "du lundi au samedi, 8 h 30 – 19 h pendant le vote",
]


@cache
def cities_by_prefix() -> dict[str, list[str]]:
    text = files("csudesk.directory").joinpath("data", "demo_cities.csv").read_text("utf-8")
    return {row["prefix"]: row["cities"].split("|") for row in csv.DictReader(text.splitlines())}


def featured_uai(digits: str) -> str:
    return digits + uai_codes.check_letter(digits)


def school_row(uai: str) -> tuple[str, str, str, str]:
    """A made-up but plausible (UAI, name, kind, city) for a school, the same for a given UAI."""
    rng = random.Random(uai)
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    cities = cities_by_prefix().get(uai[:3]) or ["Commune non précisée"]
    return uai, f"{kind} {rng.choice(PATRONS)}", kind, rng.choice(cities)


def name_demo_establishments() -> ImportReport:
    """Name the roll's schools and add the featured ones, through the Annuaire import."""
    unnamed = db.session.scalars(
        select(Establishment.uai).where(
            Establishment.name.is_(None), Establishment.own_csu.is_(False)
        )
    ).all()
    rows = [school_row(uai) for uai in sorted(unnamed)]
    rows += [(featured_uai(d), name, kind, city) for d, kind, name, city in FEATURED]
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="csudesk-demo-annuaire-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=";")
            writer.writerow(HEADER)
            writer.writerows(rows)
        report = import_annuaire(path)
    finally:
        os.unlink(path)
    _name_creps_establishments()
    db.session.flush()
    return report


def _name_creps_establishments() -> None:
    """The demo Creps' establishments (attached to their CSU) carry the Creps' name."""
    for csu in db.session.scalars(select(CSU).where(CSU.kind == CSUKind.CREPS)):
        for establishment in db.session.scalars(
            select(Establishment).where(
                Establishment.csu_id == csu.id, Establishment.name.is_(None)
            )
        ):
            upsert_establishment(
                establishment.uai,
                name=csu.name.removeprefix("CSU — "),
                city=csu.city,
                kind="CREPS",
            )


def _domain(csu: CSU) -> str:
    if csu.kind == CSUKind.ACADEMIE:
        from csudesk.roll.generator import ACADEMIE_DOMAINS

        domain = ACADEMIE_DOMAINS.get(csu.academie_code or "", "")
        return domain.rsplit(".", 1)[0] if domain else csu.code.lower()
    return csu.code.lower().replace("_", "-")


def set_demo_contacts(overrides: dict[str, tuple[str, str | None, str]] | None = None) -> int:
    """Give every CSU an e-mail, a phone and hours, so "Autre cellule" has something to say.

    Phones are in the 01 99 00 range ARCEP keeps for fiction; addresses end in .example.
    """
    overrides = overrides or {}
    count = 0
    for n, csu in enumerate(db.session.scalars(select(CSU).order_by(CSU.code))):
        if csu.code in overrides:
            email, phone, hours = overrides[csu.code]
        else:
            email = f"csu-elections@{_domain(csu)}.example"
            phone = f"01 99 00 {n // 100:02d} {n % 100:02d}"
            hours = HOURS[n % len(HOURS)]
        set_contact(csu.code, email=email, phone=phone, hours=hours)
        count += 1
    return count
