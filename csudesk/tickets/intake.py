"""The public contact form: a ticket for the right CSU, with a receipt that reveals nothing.

Routing: the CSU of the voter's establishment on the roll when the address is on the roll, else
the CSU of the establishment the voter gave, else (a valid UAI no académie covers) the national
queue. The roll's cell is the one that can act on the voter's account, so it gets the ticket.

The receipt cannot name that cell: it would tell anyone typing an address whether it is on the
roll, and where its owner works (SECURITY.md 13). Naming the typed establishment's cell as the
one handling the request, as the receipt once did, told a voter of another establishment the
wrong cell. So the receipt says what is true in both cases without saying which one holds:
the request went to the cell in charge of the voter's file (the roll establishment's cell for an
address on the roll, else the typed establishment's), and gives the typed establishment's cell
as a contact, a cell that, asked about an address of another cell, hands the caller over to it
(the desk's "Autre cellule" answer). Its content depends only on what the voter typed, and both
paths run the same queries.
"""

from dataclasses import dataclass

from csudesk.actor import Actor
from csudesk.directory.models import CSU, Establishment
from csudesk.directory.services import RoutingError, national_csu, route_uai
from csudesk.roll.services import voter_by_address
from csudesk.text import normalize_email
from csudesk.tickets.masking import mask_secrets
from csudesk.tickets.models import Channel
from csudesk.tickets.services import create_ticket


@dataclass(frozen=True)
class ContactMessage:
    email: str
    last_name: str
    first_name: str
    uai: str  # a valid UAI (the form checked its check letter)
    category: str
    message: str


@dataclass(frozen=True)
class Receipt:
    reference: str
    uai: str
    establishment_name: str | None
    csu_id: int  # the CSU of the establishment given, shown as a contact (not as the handler)


def given_establishment(uai: str) -> tuple[CSU, Establishment | None]:
    """The CSU the UAI routes to (the national cell when no académie covers it)."""
    try:
        route = route_uai(uai)
    except RoutingError:
        return national_csu(), None
    return route.csu, route.establishment


def submit_contact(actor: Actor, form: ContactMessage) -> Receipt:
    """Open a "formulaire" ticket for the CSU in charge; the message is masked first."""
    given_csu, establishment = given_establishment(form.uai)
    address = normalize_email(form.email)
    voter = voter_by_address(address)
    ticket = create_ticket(
        actor,
        csu=voter.csu if voter is not None else given_csu,
        category=form.category,
        channel=Channel.FORM,
        voter=voter,
        message=mask_secrets(form.message),
        contact_email=address,
        contact_last_name=form.last_name,
        contact_first_name=form.first_name,
        contact_uai=form.uai,
    )
    return Receipt(
        reference=ticket.reference,
        uai=form.uai,
        establishment_name=establishment.name if establishment is not None else None,
        csu_id=given_csu.id,
    )
