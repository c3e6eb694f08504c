"""Import of the "Annuaire de l'éducation" export."""

import pytest

from csudesk.csvio import CSVFormatError
from csudesk.directory.annuaire import import_annuaire
from csudesk.directory.models import Establishment
from csudesk.extensions import db

HEADER = (
    "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;"
    "Code_postal;Nom_commune;Code_departement"
)


def write(tmp_path, lines, name="annuaire.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return str(path)


def test_imports_names_and_reports_bad_rows_with_line_numbers(directory, tmp_path):
    path = write(
        tmp_path,
        [
            HEADER,
            "0783774D;Nouveau collège André Chénier;Collège;78200;Mantes-la-Jolie;078",
            "0751234A;Lycée fantôme;Lycée;75001;Paris;075",
            "1340004B;Casa de Velázquez;Autre;;Madrid;",
            "0770934X;Lycée polyvalent Léonard de Vinci;Lycée;77000;Melun;077",
            ";Sans code;Lycée;;;",
            "0770934X;Doublon;Lycée;77000;Melun;077",
        ],
    )
    report = import_annuaire(path)
    assert (report.rows, report.created, report.rejected) == (6, 2, 4)
    lines = dict(report.rejects)
    assert set(lines) == {3, 4, 6, 7}
    assert "lettre de contrôle" in lines[3]
    assert "préfixe 134" in lines[4]
    assert "déjà présent" in lines[7]
    college = db.session.query(Establishment).filter_by(uai="0783774D").one()
    assert (college.name, college.city, college.kind, college.csu.code) == (
        "Nouveau collège André Chénier",
        "Mantes-la-Jolie",
        "Collège",
        "AC-25",
    )


def test_import_is_idempotent_and_updates_changed_names(directory, tmp_path):
    lines = [HEADER, "0783774D;Collège André Chénier;Collège;78200;Mantes-la-Jolie;078"]
    first = import_annuaire(write(tmp_path, lines))
    again = import_annuaire(write(tmp_path, lines))
    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    renamed = import_annuaire(
        write(
            tmp_path,
            [HEADER, "0783774D;Nouveau collège André Chénier;Collège;78200;Mantes-la-Jolie;078"],
        )
    )
    assert renamed.updated == 1
    assert (
        db.session.query(Establishment).filter_by(uai="0783774D").one().name.startswith("Nouveau")
    )


def test_university_keeps_its_own_csu_when_renamed(directory, tmp_path):
    import_annuaire(
        write(tmp_path, [HEADER, "0751717J;Université Paris 1;Université;75005;Paris;075"])
    )
    university = db.session.query(Establishment).filter_by(uai="0751717J").one()
    assert (university.name, university.own_csu, university.csu.code) == (
        "Université Paris 1",
        True,
        "ESR-0751717J",
    )


@pytest.mark.parametrize(
    "header",
    [
        "identifiant_de_l_etablissement;nom_etablissement;nom_commune",  # API field names
        "IDENTIFIANT_DE_L_ETABLISSEMENT;NOM_ETABLISSEMENT;NOM_COMMUNE",
        "Identifiant de l'établissement;Nom de l'établissement;Commune",
    ],
)
def test_header_variants_match_case_insensitively(directory, tmp_path, header):
    report = import_annuaire(write(tmp_path, [header, "0770934X;Lycée Léonard de Vinci;Melun"]))
    assert report.created == 1
    assert db.session.query(Establishment).filter_by(uai="0770934X").one().city == "Melun"


def test_windows_1252_file_is_read(directory, tmp_path):
    path = write(
        tmp_path,
        [HEADER, "0770934X;Lycée Léonard de Vinci;Lycée;77000;Melun;077"],
        encoding="cp1252",
    )
    import_annuaire(path)
    assert (
        db.session.query(Establishment).filter_by(uai="0770934X").one().name
        == "Lycée Léonard de Vinci"
    )


def test_missing_column_is_a_clear_error(directory, tmp_path):
    with pytest.raises(CSVFormatError, match="Colonnes manquantes"):
        import_annuaire(write(tmp_path, ["Code;Libellé", "0770934X;Lycée"]))
