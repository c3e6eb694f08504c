"""Keeping réponses types without HTTP: who may change which, what a body may hold, the audit
trail and the national seed."""

import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from csudesk.actor import Actor
from csudesk.audit.models import AuditEntry
from csudesk.conversation import response_templates as rt
from csudesk.conversation.models import ResponseTemplate
from csudesk.exceptions import ServiceError
from csudesk.extensions import db
from tests.fixtures.factories import csu

BODY = "Bonjour {prenom} {nom},\n\nVotre demande {reference} est bien reçue.\n\n{csu}"


@pytest.fixture
def staff(make_agent):
    return SimpleNamespace(
        sup_nat=make_agent("sup.nat@csudesk.test", "supervisor", "NATIONAL", "Nina National"),
        sup_lille=make_agent("sup.lille@csudesk.test", "supervisor", "AC-09", "Sophie Lille"),
        admin_lille=make_agent("admin.lille@csudesk.test", "admin", "AC-09", "Ada Lille"),
        sup_vers=make_agent("sup.vers@csudesk.test", "supervisor", "AC-25", "Vera Versailles"),
        agent_nat=make_agent("agent.nat@csudesk.test", "agent", "NATIONAL", "Noé National"),
        agent_lille=make_agent("agent.lille@csudesk.test", "agent", "AC-09", "Luc Lille"),
    )


def as_(agent) -> Actor:
    return Actor.for_agent(agent, "192.0.2.20")


def template_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ResponseTemplate))


def entries(prefix: str = "response_template.") -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
        )
    )


@pytest.mark.parametrize(
    ("who", "owner", "allowed"),
    [
        ("sup_nat", None, True),
        ("sup_nat", "AC-09", True),
        ("sup_lille", "AC-09", True),
        ("admin_lille", "AC-09", True),
        ("sup_lille", None, False),
        ("admin_lille", None, False),
        ("sup_lille", "AC-25", False),
        ("agent_nat", None, False),
        ("agent_lille", "AC-09", False),
    ],
)
def test_who_may_create_which(staff, who, owner, allowed):
    actor = as_(getattr(staff, who))
    target = csu(owner) if owner else None
    if allowed:
        template = rt.create_template(actor, csu=target, title="Rappel", body=BODY)
        assert template.csu_id == (target.id if target else None)
        assert template.active and template.updated_by_agent_id == actor.agent_id
        assert [e.action for e in entries()] == ["response_template.create"]
    else:
        with pytest.raises(ServiceError) as refused:
            rt.create_template(actor, csu=target, title="Rappel", body=BODY)
        assert ("nationaux" if owner is None else "cette cellule") in str(refused.value)
        assert template_count() == 0 and entries() == []


def test_the_national_cells_own_templates_are_the_national_ones(staff):
    template = rt.create_template(as_(staff.sup_nat), csu=csu("NATIONAL"), title="T", body=BODY)
    assert template.csu_id is None and template.is_national


def test_a_csu_supervisor_changes_its_own_not_the_national_nor_another_cells(staff):
    national = rt.create_template(as_(staff.sup_nat), csu=None, title="National", body=BODY)
    versailles = rt.create_template(as_(staff.sup_vers), csu=csu("AC-25"), title="V", body=BODY)
    lille = rt.create_template(as_(staff.sup_lille), csu=csu("AC-09"), title="L", body=BODY)
    for template in (national, versailles):
        with pytest.raises(ServiceError):
            rt.update_template(as_(staff.sup_lille), template, title="Pris", body=BODY)
        with pytest.raises(ServiceError):
            rt.set_template_active(as_(staff.sup_lille), template, False)
        assert template.title != "Pris" and template.active
    assert rt.update_template(as_(staff.sup_lille), lille, title="L2", body=BODY) == ["title"]
    # The national supervisors keep every cell's too.
    assert rt.set_template_active(as_(staff.sup_nat), versailles, False) is True


def test_update_records_what_changed_and_nothing_when_nothing_did(staff):
    template = rt.create_template(
        as_(staff.sup_lille), csu=csu("AC-09"), title="Rappel", body=BODY, category="autre"
    )
    unchanged = rt.update_template(
        as_(staff.sup_nat), template, title=" Rappel ", body=BODY + "\n", category="autre"
    )
    assert unchanged == [] and template.updated_by_agent_id == staff.sup_lille.id
    changed = rt.update_template(
        as_(staff.sup_nat),
        template,
        title="Rappel",
        body=BODY.replace("\n", "\r\n") + "\r\nÀ bientôt.",
        category=None,
    )
    assert changed == ["category", "body"]
    assert template.body.endswith("{csu}\nÀ bientôt.") and "\r" not in template.body
    assert template.category is None and template.updated_by_agent_id == staff.sup_nat.id
    update = entries()[-1]
    assert [e.action for e in entries()] == [
        "response_template.create",
        "response_template.update",
    ]
    assert update.agent_id == staff.sup_nat.id and update.ip == "192.0.2.20"
    assert json.loads(update.details) == {
        "changed": ["category", "body"],
        "csu": "AC-09",
        "template_id": template.id,
        "title": "Rappel",
    }


def test_deactivate_and_reactivate_are_audited_once_each(staff):
    template = rt.create_template(as_(staff.sup_nat), csu=None, title="Accusé", body=BODY)
    assert rt.set_template_active(as_(staff.sup_nat), template, False) is True
    assert rt.set_template_active(as_(staff.sup_nat), template, False) is False  # double click
    assert not template.active
    assert rt.set_template_active(as_(staff.sup_nat), template, True) is True
    assert [(e.action, json.loads(e.details)["csu"]) for e in entries()] == [
        ("response_template.create", "NATIONAL"),
        ("response_template.deactivate", "NATIONAL"),
        ("response_template.activate", "NATIONAL"),
    ]
    # Nothing is ever deleted: the row is there, whatever its state.
    assert template_count() == 1


def test_the_audit_trail_holds_no_body_text(staff):
    rt.create_template(
        as_(staff.sup_nat), csu=None, title="Accusé", body="Texte très particulier {prenom}"
    )
    assert all("particulier" not in e.details for e in entries())


@pytest.mark.parametrize(
    ("title", "body", "category", "field", "message"),
    [
        ("", BODY, None, "title", "Donnez un titre"),
        ("   ", BODY, None, "title", "Donnez un titre"),
        ("x" * 121, BODY, None, "title", "120 caractères"),
        ("T", "", None, "body", "Écrivez le texte"),
        ("T", " \n\t ", None, "body", "Écrivez le texte"),
        ("T", "x" * 5001, None, "body", "5000 caractères au plus (5001 saisis)"),
        ("T", "Bonjour {prénom}", None, "body", "Variable inconnue : {prénom}."),
        ("T", "Bonjour {Prenom} {mot_de_passe}", None, "body", "{Prenom}, {mot_de_passe}."),
        ("T", "Bonjour {}", None, "body", "Variable inconnue : {}."),
        ("T", "Bonjour {prenom", None, "body", "accolade est seule"),
        ("T", "Bonjour } {nom}", None, "body", "accolade est seule"),
        ("T", BODY, "inconnue", "category", "situation de la liste"),
    ],
)
def test_validation_is_field_level(staff, title, body, category, field, message):
    with pytest.raises(ServiceError) as refused:
        rt.create_template(as_(staff.sup_nat), csu=None, title=title, body=body, category=category)
    assert refused.value.field == field
    assert message in str(refused.value)
    assert template_count() == 0 and entries() == []


def test_an_unknown_placeholder_is_refused_with_the_valid_names(staff):
    with pytest.raises(ServiceError) as refused:
        rt.create_template(as_(staff.sup_nat), csu=None, title="T", body="{lien_activation}")
    listed = re.findall(r"\{(\w+)\}", str(refused.value).split("Variables possibles")[1])
    assert listed == list(rt.PLACEHOLDERS)


def test_the_placeholders_are_the_agreed_names():
    assert list(rt.PLACEHOLDERS) == [
        "prenom",
        "nom",
        "reference",
        "csu",
        "csu_courriel",
        "csu_telephone",
        "csu_horaires",
        "lien_lien_non_recu",
        "lien_mot_de_passe",
        "lien_code_de_vote",
        "lien_trouver_ma_csu",
    ]
    assert all(description for description in rt.PLACEHOLDERS.values())


@pytest.mark.parametrize(
    "link",
    [
        "http://csudesk.test/activation/Zx8_token-abc",
        "https://elections.example.gouv.fr/mot-de-passe/Zx8_token-abc",
        "(https://csudesk.test/code-de-vote/Zx8_token-abc).",
        "csudesk.test/activation/Zx8_token-abc",
        "csudesk.test:8443/code-de-vote/x",
        "/agent/mot-de-passe/Zx8_token-abc",
        "http://csudesk.test/activation",
        "http://csudesk.test//Activation/x",
        "http://csudesk.test/%61ctivation/x",
        "«https://csudesk.test/mot-de-passe»",
    ],
)
def test_a_link_to_an_account_is_refused(staff, link):
    with pytest.raises(ServiceError) as refused:
        rt.create_template(
            as_(staff.sup_nat), csu=None, title="T", body=f"Cliquez ici : {link} merci"
        )
    assert refused.value.field == "body" and "lien à usage unique" in str(refused.value)
    assert template_count() == 0


@pytest.mark.parametrize(
    "text",
    [
        "Demandez un lien sur {lien_lien_non_recu}.",
        "Page : http://csudesk.test/mot-de-passe-refuse",
        "Page : http://csudesk.test/lien-non-recu et http://csudesk.test/reassort-code-de-vote",
        "Voir www.education.gouv.fr/elections-professionnelles-2022-3248",
        "Votre mot de passe élections, le code de vote, l'activation du compte.",
        "Le 1/12 ou le 8/12, 9 h/17 h.",
    ],
)
def test_self_service_pages_and_plain_words_are_fine(staff, text):
    template = rt.create_template(as_(staff.sup_nat), csu=None, title="T", body=text)
    assert template.body == text


def test_a_title_is_unique_within_its_list_only(staff):
    rt.create_template(as_(staff.sup_nat), csu=None, title="Accusé de réception", body=BODY)
    with pytest.raises(ServiceError) as refused:
        rt.create_template(as_(staff.sup_nat), csu=None, title="ACCUSÉ  de réception", body=BODY)
    assert refused.value.field == "title"
    lille = rt.create_template(
        as_(staff.sup_lille), csu=csu("AC-09"), title="Accusé de réception", body=BODY
    )
    other = rt.create_template(as_(staff.sup_lille), csu=csu("AC-09"), title="Autre", body=BODY)
    with pytest.raises(ServiceError):
        rt.update_template(as_(staff.sup_lille), other, title="accusé de réception", body=BODY)
    assert rt.update_template(as_(staff.sup_lille), lille, title="Accusé de réception", body="x")


def test_management_listing_follows_the_scope(staff):
    national = rt.create_template(as_(staff.sup_nat), csu=None, title="N", body=BODY)
    lille = rt.create_template(as_(staff.sup_lille), csu=csu("AC-09"), title="L", body=BODY)
    versailles = rt.create_template(as_(staff.sup_vers), csu=csu("AC-25"), title="V", body=BODY)
    rt.set_template_active(as_(staff.sup_vers), versailles, False)

    nat, per_csu = rt.templates_for_management(staff.sup_lille)
    assert nat == [national] and per_csu == [(csu("AC-09"), [lille])]
    assert rt.templates_for_management(as_(staff.sup_lille)).per_csu == per_csu

    nat, per_csu = rt.templates_for_management(staff.sup_nat)
    assert nat == [national]
    assert sorted((c.code, ts) for c, ts in per_csu) == [
        ("AC-09", [lille]),
        ("AC-25", [versailles]),
    ]

    _, per_csu = rt.templates_for_management(staff.sup_nat, csu("AC-25").id)
    assert per_csu == [(csu("AC-25"), [versailles])]
    assert rt.editors_of([national, lille, versailles]) == {
        staff.sup_nat.id: staff.sup_nat,
        staff.sup_lille.id: staff.sup_lille,
        staff.sup_vers.id: staff.sup_vers,
    }


def test_seed_creates_the_guides_answers_once_and_leaves_changes_alone(app, directory, staff):
    assert rt.seed_national() == len(rt.NATIONAL_SEED) == 5
    seeded = rt.templates_for_management(staff.sup_nat).national
    assert {t.category for t in seeded} == {
        "lien_non_recu",
        "identifiant_inconnu",
        "mot_de_passe_refuse",
        "notice_non_recue",
        None,
    }
    assert all(t.csu_id is None and t.active and t.updated_by_agent_id is None for t in seeded)
    every_name = set()
    for template in seeded:
        names = set(re.findall(r"\{(\w+)\}", template.body))
        assert names <= set(rt.PLACEHOLDERS) and {"prenom", "nom", "csu"} <= names
        assert not rt.links_to_an_account(template.body)
        every_name |= names
    assert {"reference", "lien_lien_non_recu", "lien_mot_de_passe", "lien_code_de_vote"} <= (
        every_name
    )
    assert [e.actor for e in entries()] == ["system"] * 5

    by_title = {t.title: t for t in seeded}
    rt.update_template(
        as_(staff.sup_nat), by_title["Mot de passe refusé"], title="Mot de passe refusé", body="x"
    )
    rt.set_template_active(as_(staff.sup_nat), by_title["Accusé de réception"], False)
    assert rt.seed_national() == 0
    assert template_count() == 5
    assert by_title["Mot de passe refusé"].body == "x"
    assert not by_title["Accusé de réception"].active


def test_the_seed_follows_the_guide(app, directory):
    rt.seed_national()
    bodies = {
        t.category: t.body
        for t in db.session.scalars(
            select(ResponseTemplate).where(ResponseTemplate.category.is_not(None))
        )
    }
    assert "votre adresse de messagerie professionnelle" in bodies["identifiant_inconnu"]
    assert "« Besoin du réassort de votre mot de passe élections »" in bodies["mot_de_passe_refuse"]
    assert "vous pouvez les essayer" in bodies["lien_non_recu"]
    assert "réassort de votre code de vote" in bodies["notice_non_recue"]


def test_the_cli_seeds_and_directory_load_does_not(app, runner):
    loaded = runner.invoke(args=["directory", "load"])
    assert loaded.exit_code == 0, loaded.output
    assert template_count() == 0
    first = runner.invoke(args=["replies", "seed"])
    assert first.exit_code == 0, first.output
    assert "créées : 5 ;" in first.output and "quelles : 0." in first.output
    again = runner.invoke(args=["replies", "seed"])
    assert "créées : 0 ;" in again.output and "quelles : 5." in again.output
    db.session.rollback()
    assert template_count() == 5
