"""Routing a UAI to its CSU, loading the built-in directory, searching establishments."""

from dataclasses import dataclass
from functools import partial

from sqlalchemy import and_, select

from csudesk.directory import uai as uai_codes
from csudesk.directory.models import CSU, CSUKind, Establishment, establishment_moved
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from csudesk.text import fold

NATIONAL_CSU_CODE = "NATIONAL"


class RoutingError(ServiceError):
    """A UAI that cannot be routed; the message says why in French."""


@dataclass(frozen=True)
class Route:
    uai: str
    csu: CSU
    establishment: Establishment | None
    reason: str  # "own_csu" or "academie"


def academie_csu_code(academie_code: str) -> str:
    return f"AC-{academie_code}"


def university_csu_code(uai: str) -> str:
    return f"ESR-{uai}"


class Router:
    """The routing rule, with the CSU table held in memory for bulk imports.

    An establishment with its own CSU (university, Creps) routes there; any other valid UAI
    routes to the academic CSU of its prefix. Raises InvalidUAI or RoutingError, never guesses.
    A single UAI is routed by route_uai, which asks the indexes instead of loading tables.
    """

    def __init__(self) -> None:
        self.academie_csu: dict[str, int] = {
            code: csu_id
            for code, csu_id in db.session.execute(
                select(CSU.academie_code, CSU.id).where(CSU.kind == CSUKind.ACADEMIE)
            )
        }
        self.own_csu: dict[str, int] = {
            uai: csu_id
            for uai, csu_id in db.session.execute(
                select(Establishment.uai, Establishment.csu_id).where(Establishment.own_csu)
            )
        }

    def route(self, raw: str) -> tuple[str, int, str]:
        """Return (normalised UAI, CSU id, "own_csu" or "academie")."""
        code = uai_codes.validate_uai(raw)
        own = self.own_csu.get(code)
        if own is not None:
            return code, own, "own_csu"
        territory = _territory_of(code)
        csu_id = self.academie_csu.get(territory.academie_code)
        if csu_id is None:
            raise _not_loaded(code, territory)
        return code, csu_id, "academie"


def _territory_of(code: str) -> uai_codes.Territory:
    territory = uai_codes.territory_of(code)
    if territory is None:
        raise RoutingError(
            f"« {code} » : le préfixe {code[:3]} ne correspond à aucune académie connue"
            " (établissement à l'étranger ou territoire non couvert)."
        )
    return territory


def _not_loaded(code: str, territory: uai_codes.Territory) -> RoutingError:
    return RoutingError(
        f"« {code} » : la CSU de {territory.service} n'est pas chargée"
        " (lancez « flask --app csudesk directory load »)."
    )


def route_uai(raw: str) -> Route:
    """Route one UAI by the Router's rule and return the CSU and the establishment if known.

    Two queries: the establishment (with its CSU) on the UAI's unique index, then, unless it
    has its own CSU, the academic CSU of the prefix among the 33 académie rows.
    """
    code = uai_codes.validate_uai(raw)
    establishment = db.session.scalar(select(Establishment).where(Establishment.uai == code))
    if establishment is not None and establishment.own_csu:
        return Route(code, establishment.csu, establishment, "own_csu")
    territory = _territory_of(code)
    csu = db.session.scalar(
        select(CSU).where(
            CSU.kind == CSUKind.ACADEMIE, CSU.academie_code == territory.academie_code
        )
    )
    if csu is None:
        raise _not_loaded(code, territory)
    return Route(code, csu, establishment, "academie")


def csu_by_code(code: str) -> CSU | None:
    """The CSU of this code (as the directory writes it: "AC-09", "NAT"), if loaded."""
    return db.session.scalar(select(CSU).where(CSU.code == code))


def national_csu() -> CSU:
    csu = csu_by_code(NATIONAL_CSU_CODE)
    if csu is None:
        raise RoutingError("La cellule nationale n'est pas chargée (directory load).")
    return csu


def _upsert_csu(code: str, *, loaded: dict[str, CSU], **fields) -> CSU:
    """Create or refresh a built-in CSU; `loaded` holds the CSUs read beforehand, by code."""
    csu = loaded.get(code)
    if csu is None:
        csu = loaded[code] = CSU(code=code, **fields)
        db.session.add(csu)
    else:
        # Contact channels are set by the CSUs themselves: a reload never overwrites them.
        for key, value in fields.items():
            setattr(csu, key, value)
    return csu


def search_key(name: str | None, city: str | None, uai: str) -> str:
    return " ".join(part for part in (fold(name or ""), fold(city or ""), uai.lower()) if part)


def load_builtin_directory() -> dict[str, int]:
    """Create or refresh the built-in CSUs and university establishments; idempotent.

    The CSUs and the universities already there are read in two queries, the new rows written
    in two flushes (a query per row, each flushing the row before, took most of the load).
    """
    counts = {"academie": 0, "creps": 0, "enseignement_superieur": 0, "national": 0}
    db.session.flush()  # a CSU the caller added is read with the others
    loaded = {csu.code: csu for csu in db.session.scalars(select(CSU))}
    upsert = partial(_upsert_csu, loaded=loaded)
    upsert(
        NATIONAL_CSU_CODE,
        kind=CSUKind.NATIONAL,
        name="Cellule nationale d'assistance aux élections professionnelles",
        academie_code=None,
        source="csudesk",
    )
    counts["national"] += 1
    services = {row["code"]: row["name"] for row in uai_codes.academies()}
    for territory in uai_codes.prefix_table().values():
        services.setdefault(territory.academie_code, territory.service)
    for code, name in sorted(services.items()):
        is_service = name.startswith(("Vice-rectorat", "Service"))
        label = name if is_service else f"Académie {_de(name)}"
        upsert(
            academie_csu_code(code),
            kind=CSUKind.ACADEMIE,
            name=f"CSU — {label}",
            academie_code=code,
            source="built-in directory (academies.csv, uai_prefixes.csv)",
        )
        counts["academie"] += 1
    for row in uai_codes.creps():
        upsert(
            row["code"],
            kind=CSUKind.CREPS,
            name=f"CSU — {row['name']}",
            academie_code=row["academie_code"],
            city=row["city"],
            source="built-in directory (creps.csv)",
        )
        counts["creps"] += 1
    universities = [(uai_codes.validate_uai(row["uai"]), row) for row in uai_codes.universities()]
    for code, row in universities:
        upsert(
            university_csu_code(code),
            kind=CSUKind.HIGHER_EDUCATION,
            name=f"CSU — {row['name']}",
            academie_code=row["academie_code"],
            city=row["city"],
            source="built-in directory (universities.csv)",
        )
    db.session.flush()  # every CSU has its id
    present = set(
        db.session.scalars(
            select(Establishment.uai).where(Establishment.uai.in_([c for c, _ in universities]))
        )
    )
    for code, row in universities:
        fields = {"name": row["name"], "city": row["city"], "kind": "Université"}
        csu = loaded[university_csu_code(code)]
        if code in present:  # a reload (or a UAI listed twice): moved to its own CSU if elsewhere
            upsert_establishment(code, csu=csu, own_csu=True, **fields)
        else:
            db.session.add(_new_establishment(code, csu, own_csu=True, **fields))
            present.add(code)
        counts["enseignement_superieur"] += 1
    db.session.flush()
    return counts


def _de(name: str) -> str:
    """French elision: 'd'Amiens', 'de Lille', 'de La Réunion'."""
    return f"d'{name}" if fold(name)[:1] in "aeiou" else f"de {name}"


def _new_establishment(
    uai: str, csu: CSU, *, own_csu: bool, name: str | None, city: str | None, kind: str | None
) -> Establishment:
    return Establishment(
        uai=uai,
        csu_id=csu.id,
        own_csu=own_csu,
        name=name or None,
        city=city or None,
        kind=kind or None,
        search_key=search_key(name, city, uai),
    )


def upsert_establishment(
    uai: str,
    *,
    name: str | None = None,
    city: str | None = None,
    kind: str | None = None,
    csu: CSU | None = None,
    own_csu: bool | None = None,
) -> Establishment:
    """Create or update an establishment; its CSU comes from routing unless given."""
    establishment = db.session.scalar(select(Establishment).where(Establishment.uai == uai))
    if establishment is None:
        establishment = _new_establishment(
            uai, csu or route_uai(uai).csu, own_csu=bool(own_csu), name=name, city=city, kind=kind
        )
        db.session.add(establishment)
        db.session.flush()
        return establishment
    if csu is not None and establishment.csu_id != csu.id:
        establishment.csu_id = csu.id
        db.session.flush()
        establishment_moved.send(establishment)
    if own_csu is not None:
        establishment.own_csu = own_csu
    if name:
        establishment.name = name
    if city:
        establishment.city = city
    if kind:
        establishment.kind = kind
    establishment.search_key = search_key(establishment.name, establishment.city, uai)
    db.session.flush()
    return establishment


def attach_establishment(uai: str, csu_code: str) -> Establishment:
    """Declare that an establishment has its own CSU (a Creps, say); its voters follow."""
    code = uai_codes.validate_uai(uai)
    csu = csu_by_code(csu_code)
    if csu is None:
        raise RoutingError(f"Aucune CSU de code « {csu_code} ».")
    return upsert_establishment(code, csu=csu, own_csu=True)


def set_contact(csu_code: str, **channels: str | None) -> CSU:
    """Set a CSU's contact channels (e-mail, phone, hours, web page)."""
    csu = csu_by_code(csu_code)
    if csu is None:
        raise RoutingError(f"Aucune CSU de code « {csu_code} ».")
    for key, value in channels.items():
        if value is not None:
            setattr(csu, key, value.strip() or None)
    db.session.flush()
    return csu


def search_establishments(query: str, limit: int = 20) -> list[Establishment]:
    """Establishments whose UAI, name or city contain every word of the query."""
    words = fold(query).split()[:6]
    if not words:
        return []
    conditions = [Establishment.search_key.contains(word, autoescape=True) for word in words]
    return list(
        db.session.scalars(
            select(Establishment)
            .where(and_(*conditions))
            .order_by(Establishment.own_csu.desc(), Establishment.name)
            .limit(limit)
        )
    )


def csu_choices(kinds: tuple[str, ...] | None = None) -> list[CSU]:
    query = select(CSU).order_by(CSU.kind, CSU.name)
    if kinds:
        query = query.where(CSU.kind.in_(kinds))
    return list(db.session.scalars(query))
