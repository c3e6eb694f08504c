"""Synthetic electoral roll for demos and benchmarks: French names, academic addresses, UAIs."""

import csv
import random
import re
from collections import defaultdict
from collections.abc import Callable
from importlib.resources import files
from typing import TextIO

from csudesk.directory import uai as uai_codes
from csudesk.text import fold

HEADER = ["identifiant", "nom", "prenom", "courriels", "uai", "remise_notice"]

ACADEMIE_DOMAINS = {
    "01": "ac-paris.fr", "02": "ac-aix-marseille.fr", "03": "ac-besancon.fr",
    "04": "ac-bordeaux.fr", "06": "ac-clermont.fr", "07": "ac-dijon.fr",
    "08": "ac-grenoble.fr", "09": "ac-lille.fr", "10": "ac-lyon.fr",
    "11": "ac-montpellier.fr", "12": "ac-nancy-metz.fr", "13": "ac-poitiers.fr",
    "14": "ac-rennes.fr", "15": "ac-strasbourg.fr", "16": "ac-toulouse.fr",
    "17": "ac-nantes.fr", "18": "ac-orleans-tours.fr", "19": "ac-reims.fr",
    "20": "ac-amiens.fr", "22": "ac-limoges.fr", "23": "ac-nice.fr",
    "24": "ac-creteil.fr", "25": "ac-versailles.fr", "27": "ac-corse.fr",
    "28": "ac-reunion.fr", "31": "ac-martinique.fr", "32": "ac-guadeloupe.fr",
    "33": "ac-guyane.fr", "43": "ac-mayotte.fr", "70": "ac-normandie.fr",
    "40": "ac-noumea.nc", "41": "ac-polynesie.pf", "44": "ac-spm.fr",
}  # fmt: skip

# Share of the electorate: about 1.1 M school staff and 0.3 M higher-education staff (2022).
HIGHER_EDUCATION_SHARE = 0.2
CREPS_SHARE = 0.01
TWO_ADDRESS_SHARE = 0.08
POSTED_NOTICE_SHARE = 0.15
VOTERS_PER_SCHOOL = 25


def _names(name: str) -> list[str]:
    text = files("csudesk.roll").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def make_uai(prefix: str, serial: int) -> str:
    digits = f"{prefix}{serial:04d}"
    return digits + uai_codes.check_letter(digits)


def demo_creps_uais() -> dict[str, str]:
    """One made-up establishment UAI per Creps, in its seat's prefix, for demo rolls only."""
    result = {}
    for index, row in enumerate(uai_codes.creps()):
        dept = row["dept_code"]
        prefix = dept if len(dept) == 3 else f"0{dept}"
        result[row["code"]] = make_uai(prefix, 9900 + index)
    return result


def _local_part(first: str, last: str) -> str:
    return f"{_slug(first)}.{_slug(last)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _university_domain(row: dict[str, str]) -> str:
    acronym = _slug(row["acronym"]) if row["acronym"] else ""
    return f"{acronym or 'univ-' + _slug(row['city']).split('-')[0]}.fr"


def generate_roll(
    out: TextIO,
    voters: int,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write `voters` rows of the roll CSV format to `out`."""
    rng = random.Random(seed)
    last_names, first_names = _names("last_names.txt"), _names("first_names.txt")
    territories = list(uai_codes.prefix_table().values())
    schools = max(1, voters // VOTERS_PER_SCHOOL)
    school_pool = [
        (make_uai(t.prefix, rng.randrange(1, 9000)), ACADEMIE_DOMAINS[t.academie_code])
        for t in (rng.choice(territories) for _ in range(schools))
    ]
    university_pool = [(row["uai"], _university_domain(row)) for row in uai_codes.universities()]
    creps_pool = [(uai, "creps.sports.gouv.fr") for uai in demo_creps_uais().values()]
    used: dict[str, int] = defaultdict(int)
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(HEADER)
    for seq in range(1, voters + 1):
        last, first = rng.choice(last_names), rng.choice(first_names)
        draw = rng.random()
        if draw < CREPS_SHARE:
            uai, domain = rng.choice(creps_pool)
        elif draw < CREPS_SHARE + HIGHER_EDUCATION_SHARE:
            uai, domain = rng.choice(university_pool)
        else:
            uai, domain = rng.choice(school_pool)
        addresses = [_address(_local_part(first, last), domain, used)]
        if rng.random() < TWO_ADDRESS_SHARE:
            other = rng.choice(list(ACADEMIE_DOMAINS.values()))
            short = f"{_slug(first)[:1]}{_slug(last)}"
            addresses.append(_address(short, other, used))
        delivery = "domicile" if rng.random() < POSTED_NOTICE_SHARE else "travail"
        writer.writerow([f"E{seq:09d}", last.upper(), first, "|".join(addresses), uai, delivery])
        if progress and seq % 10000 == 0:
            progress(seq)


def _address(local: str, domain: str, used: dict[str, int]) -> str:
    key = f"{local}@{domain}"
    used[key] += 1
    count = used[key]
    return key if count == 1 else f"{local}{count}@{domain}"
