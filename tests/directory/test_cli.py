"""The directory commands through Flask's CLI runner."""

from csudesk.directory.models import CSU
from csudesk.extensions import db


def test_load_reports_counts(runner, app):
    result = runner.invoke(args=["directory", "load"])
    assert result.exit_code == 0, result.output
    assert (
        "33 CSU académiques, 17 CSU de Creps, 73 CSU d'universités, 1 cellule nationale"
        in result.output
    )


def test_route_prints_name_kind_and_contact(runner, directory):
    runner.invoke(
        args=[
            "directory",
            "set-contact",
            "AC-27",
            "--email",
            "csu@ac-corse.example",
            "--phone",
            "04 95 00 00 00",
        ]
    )
    result = runner.invoke(args=["directory", "route", "6200001g"])
    assert result.exit_code == 0, result.output
    assert "CSU — Académie de Corse [AC-27]" in result.output
    assert "Type : CSU académique" in result.output
    assert "courriel csu@ac-corse.example; téléphone 04 95 00 00 00" in result.output


def test_route_university(runner, directory):
    result = runner.invoke(args=["directory", "route", "0751717J"])
    assert result.exit_code == 0
    assert "Type : CSU d'établissement d'enseignement supérieur" in result.output
    assert "propre CSU" in result.output
    assert "non renseigné" in result.output


def test_route_invalid_uai_exits_non_zero(runner, directory):
    result = runner.invoke(args=["directory", "route", "0751234A"])
    assert result.exit_code == 1
    assert "lettre de contrôle" in result.output


def test_route_unroutable_prefix_exits_non_zero(runner, directory):
    result = runner.invoke(args=["directory", "route", "1340004B"])
    assert result.exit_code == 1
    assert "préfixe 134" in result.output


def test_import_annuaire_command(runner, directory, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "Identifiant_de_l_etablissement;Nom_etablissement;Nom_commune\n"
        "0770934X;Lycée Léonard de Vinci;Melun\n0751234A;Faux;Paris\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["directory", "import-annuaire", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 lignes lues : 1 établissements créés" in result.output
    assert "ligne 3 :" in result.output


def test_attach_and_set_contact(runner, directory):
    result = runner.invoke(args=["directory", "attach", "0030001K", "CREPS-VICHY"])
    assert result.exit_code == 0, result.output
    assert "CREPS" in runner.invoke(args=["directory", "route", "0030001K"]).output
    bad = runner.invoke(args=["directory", "attach", "0030001K", "NOPE"])
    assert bad.exit_code == 1 and "Aucune CSU" in bad.output
    runner.invoke(args=["directory", "set-contact", "CREPS-VICHY", "--hours", "9 h – 17 h"])
    assert db.session.query(CSU).filter_by(code="CREPS-VICHY").one().hours == "9 h – 17 h"
