"""What supervisors read: French labels, readable details, plurals, days that matter (issue 11)."""

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

from csudesk.access.models import RequestKind
from csudesk.actor import Actor
from csudesk.audit import services as audit
from csudesk.extensions import db
from csudesk.links.models import LinkPurpose
from csudesk.supervision.labels import ACTION_LABELS, action_label, detail_items

from .conftest import ticket_at

SOURCE = Path(__file__).parents[2] / "csudesk"
# The f-string codes the code records, and what they expand to.
TEMPLATED = {
    "link.{purpose}": [f"link.{p}" for p in LinkPurpose if p != LinkPurpose.AGENT_PASSWORD],
    "link.{purpose}.duplicate": [
        f"link.{p}.duplicate" for p in LinkPurpose if p != LinkPurpose.AGENT_PASSWORD
    ],
    "portal.{purpose}": ["portal.activation", "portal.password_reset"],
    "selfservice.{row.kind}": [f"selfservice.{k}" for k in RequestKind],
    "{action}.refused": [
        "link.activation.refused",
        "link.password_reset.refused",
        "link.vote_code.refused",
        "challenge.check.refused",
    ],
}


def recorded_codes() -> set[str]:
    """Every action code passed to audit.record in the package, f-strings expanded."""
    codes: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # voter_page(..., audit_action="voter.view") records its argument.
            if (
                isinstance(node, ast.keyword)
                and node.arg == "audit_action"
                and isinstance(node.value, ast.Constant)
                and node.value.value
            ):
                codes.add(node.value.value)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "voter_page"
            ):
                codes.update(
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
                and len(node.args) >= 2
            ):
                continue
            code = node.args[1]
            if isinstance(code, ast.IfExp):
                codes.update(branch.value for branch in (code.body, code.orelse))
            elif isinstance(code, ast.Name) and code.id == "audit_action":
                continue  # the voter_page parameter, collected at its call sites above
            elif isinstance(code, ast.Constant):
                codes.add(code.value)
            elif isinstance(code, ast.JoinedStr):
                pattern = ast.unparse(code)[2:-1]
                assert pattern in TEMPLATED, f"{path}: new templated action {pattern!r}"
                codes.update(TEMPLATED[pattern])
            else:
                codes.add(ast.unparse(code))  # a variable: named here so that it fails below
    return codes


def test_every_recorded_action_has_a_french_label():
    codes = recorded_codes()
    assert "selfservice.lien_non_recu" in codes and len(codes) > 25
    unlabelled = sorted(c for c in codes if action_label(c) == c)
    assert unlabelled == []


def test_details_read_as_french_key_value_pairs():
    assert detail_items(
        {
            "filters": {"courriel": "a@ac-lille.fr", "statut": "en_attente"},
            "uai": None,
            "found": True,
            "in_scope": False,
            "by": "email",
            "before": "ouvert",
        }
    ) == [
        ("filtres", "courriel : a@ac-lille.fr ; statut : En attente"),
        ("UAI", "—"),
        ("trouvé", "oui"),
        ("dans le périmètre", "non"),
        ("recherche par", "courriel"),
        ("avant", "Ouvert"),
    ]


def test_journal_shows_labels_details_and_offers_every_action(client, auth, people, make_voter):
    voter = make_voter()
    audit.record(
        Actor.system(),
        "selfservice.lien_non_recu",
        voter_id=voter.id,
        request_id=7,
        kind="lien_non_recu",
        outcome="activation_sent",
    )
    audit.record(
        Actor.for_agent(people.sup_nat, "192.0.2.10"),
        "export.tickets",
        filters={"courriel": "x@ac-lille.fr"},
    )
    audit.record(
        Actor.for_agent(people.agent_lille, "192.0.2.10"),
        "voter.search",
        by="name",
        uai=None,
        results=0,
    )
    db.session.commit()
    auth.login(people.sup_nat.email)
    page = client.get("/supervision/journal").text
    assert "selfservice." not in page.split("<tbody>")[1]
    assert "Demande en ligne « lien non reçu » traitée" in page
    assert (
        '<li>suite donnée : <span class="csu-break">lien d&#39;activation envoyé</span></li>'
        in page
    )
    assert '<li>filtres : <span class="csu-break">courriel : x@ac-lille.fr</span></li>' in page
    assert '<li>UAI : <span class="csu-break">—</span></li>' in page
    assert "{&#39;" not in page and "None" not in page and "True" not in page
    options = re.findall(
        r'<option value="([^"]*)"', page.split('name="action"')[1].split("</select>")[0]
    )
    assert set(ACTION_LABELS) <= set(options) and "selfservice.lien_non_recu" in options
    filtered = client.get("/supervision/journal?action=selfservice").text
    assert "Demande en ligne « lien non reçu » traitée" in filtered


def test_export_button_speaks_french_plurals(client, auth, people):
    auth.login(people.sup_nat.email)
    ticket_at(datetime(2026, 11, 30, 9, tzinfo=UTC), people.agent_lille, "AC-09")
    db.session.commit()
    assert "Exporter ce ticket (CSV)" in client.get("/supervision/tickets").text
    ticket_at(datetime(2026, 11, 30, 10, tzinfo=UTC), people.agent_lille, "AC-09")
    db.session.commit()
    page = client.get("/supervision/tickets").text
    assert "Exporter ces 2 tickets (CSV)" in page and "ces 1 " not in page


def test_dashboard_days_start_at_the_first_ticket_and_figures_read_forwards(client, auth, people):
    ticket_at(datetime(2026, 11, 24, 9, tzinfo=UTC), people.agent_lille, "AC-09")
    db.session.commit()
    auth.login(people.sup_nat.email)
    page = client.get("/supervision/?du=2026-11-01&au=2026-11-26").text
    days = re.findall(r'<th scope="row">(\d\d/\d\d/2026)</th>', page)
    assert days == ["24/11/2026", "25/11/2026", "26/11/2026"]
    assert "le premier le 24/11/2026, les jours précédents n&#39;en ont aucun" in page.replace(
        "'", "&#39;"
    )
    assert "<caption>" not in page  # the headings name the tables
    assert 'role="region" aria-label="Tableau des tickets ouverts par jour"' in page
    assert 'aria-current="page">Statistiques</a>' in page
    assert re.search(r"Statistiques du 01/11/2026 au 26/11/2026 — ", page)
