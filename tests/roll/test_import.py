"""Roll import: validation, idempotency, updates, interruption, streaming."""

import tracemalloc

import pytest
from sqlalchemy import delete, func, select

from csudesk.extensions import db
from csudesk.roll import import_worker as importer_module
from csudesk.roll.generator import generate_roll
from csudesk.roll.import_worker import import_roll
from csudesk.roll.models import Voter, VoterEmail

HEADER = "identifiant;nom;prenom;courriels;uai;remise_notice"


def write(tmp_path, rows, name="roll.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def voter(roll_id):
    return db.session.scalar(select(Voter).where(Voter.roll_id == roll_id))


def test_imports_voters_with_their_addresses_and_csu(directory, tmp_path):
    report = import_roll(
        write(
            tmp_path,
            [
                "E1;DUPONT;Marie;marie.dupont@ac-lille.fr|m.dupont@ac-lille.fr;0590001F;travail",
                "E2;LEFÈVRE;Jérôme; Jerome.Lefevre@AC-VERSAILLES.FR ;0783774D;domicile",
                "E3;MARTIN;Paul;paul.martin@univ-paris1.fr;0751717J;travail",
            ],
        )
    )
    assert (report.rows, report.created, report.rejected) == (3, 3, 0)
    marie = voter("E1")
    assert [e.address for e in marie.emails] == ["marie.dupont@ac-lille.fr", "m.dupont@ac-lille.fr"]
    assert marie.csu.code == "AC-09" and marie.notice_delivery == "travail"
    jerome = voter("E2")
    assert jerome.emails[0].address == "jerome.lefevre@ac-versailles.fr"
    assert (jerome.last_name_key, jerome.notice_delivery) == ("lefevre", "domicile")
    assert voter("E3").csu.code == "ESR-0751717J"


@pytest.mark.parametrize(
    "row,reason",
    [
        (";DUPONT;Marie;a@ac-lille.fr;0590001F;travail", "identifiant électeur vide"),
        ("E9;;Marie;a@ac-lille.fr;0590001F;travail", "nom et prénom"),
        ("E9;DUPONT;Marie;pas-une-adresse;0590001F;travail", "adresse électronique invalide"),
        ("E9;DUPONT;Marie;mıke@ac-lille.fr;0590001F;travail", "adresse électronique invalide"),
        ("E9;DUPONT;Marie;;0590001F;travail", "aucune adresse"),
        ("E9;DUPONT;Marie;a@ac-lille.fr;0590001A;travail", "lettre de contrôle"),
        ("E9;DUPONT;Marie;a@ac-lille.fr;1340004B;travail", "préfixe 134"),
        ("E9;DUPONT;Marie;a@ac-lille.fr;0590001F;pigeon", "mode de remise"),
        ("E9;DUPONT;Marie;a@x.fr|b@x.fr|c@x.fr|d@x.fr|e@x.fr|f@x.fr;0590001F;travail", "plus de 5"),
        ("E9;" + "D" * 101 + ";Marie;a@ac-lille.fr;0590001F;travail", "trop long"),
    ],
)
def test_bad_rows_are_rejected_with_line_and_reason(directory, tmp_path, row, reason):
    report = import_roll(write(tmp_path, ["E1;DUPONT;Jean;jean@ac-lille.fr;0590001F;travail", row]))
    assert (report.created, report.rejected) == (1, 1)
    line, text = report.rejects[0]
    assert line == 3
    assert reason in text


def test_duplicates_inside_the_file(directory, tmp_path, monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH", 2)  # duplicates across and within batches
    report = import_roll(
        write(
            tmp_path,
            [
                "E1;DUPONT;Marie;marie@ac-lille.fr;0590001F;travail",
                "E1;DUPONT;Marie;marie2@ac-lille.fr;0590001F;travail",
                "E2;DURAND;Paul;paul@ac-lille.fr;0590001F;travail",
                "E1;DUPONT;Marie;marie3@ac-lille.fr;0590001F;travail",
                "E3;PETIT;Luc;paul@ac-lille.fr;0590001F;travail",
            ],
        )
    )
    assert report.created == 2
    assert sorted(line for line, _ in report.rejects) == [3, 5, 6]
    assert all(("déjà vu" in r) or ("déjà attribuée" in r) for _, r in report.rejects)


def test_second_import_of_the_same_file_changes_nothing(directory, tmp_path):
    path = tmp_path / "roll.csv"
    with path.open("w", encoding="utf-8") as out:
        generate_roll(out, 300, seed=7)
    first = import_roll(str(path))
    snapshot = db.session.execute(
        select(Voter.id, Voter.updated_at, Voter.last_name, Voter.csu_id).order_by(Voter.id)
    ).all()
    emails = db.session.execute(
        select(VoterEmail.id, VoterEmail.address).order_by(VoterEmail.id)
    ).all()
    again = import_roll(str(path))
    assert (first.created, first.rejected) == (300, 0)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 300, 0)
    db.session.expire_all()
    assert (
        db.session.execute(
            select(Voter.id, Voter.updated_at, Voter.last_name, Voter.csu_id).order_by(Voter.id)
        ).all()
        == snapshot
    )
    assert (
        db.session.execute(select(VoterEmail.id, VoterEmail.address).order_by(VoterEmail.id)).all()
        == emails
    )


def test_changed_rows_are_updated(directory, tmp_path):
    import_roll(
        write(tmp_path, ["E1;DUPONT;Marie;marie@ac-lille.fr|m.d@ac-lille.fr;0590001F;travail"])
    )
    report = import_roll(
        write(
            tmp_path,
            ["E1;DUPONT-DURAND;Marie;m.d@ac-lille.fr|marie.dd@ac-lille.fr;0783774D;domicile"],
        )
    )
    assert (report.created, report.updated) == (0, 1)
    db.session.expire_all()
    marie = voter("E1")
    assert marie.last_name == "DUPONT-DURAND"
    assert marie.csu.code == "AC-25"
    assert [e.address for e in marie.emails] == ["m.d@ac-lille.fr", "marie.dd@ac-lille.fr"]


def test_interrupted_import_is_consistent_and_can_be_run_again(directory, tmp_path, monkeypatch):
    path = tmp_path / "roll.csv"
    with path.open("w", encoding="utf-8") as out:
        generate_roll(out, 50, seed=3)
    monkeypatch.setattr(importer_module, "BATCH", 20)
    real_write = importer_module.RollImporter._write
    calls = {"n": 0}

    def crash_on_second_batch(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_write(self, batch)

    monkeypatch.setattr(importer_module.RollImporter, "_write", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        import_roll(str(path))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Voter)) == 20
    orphans = db.session.scalar(select(func.count()).select_from(Voter).where(~Voter.emails.any()))
    assert orphans == 0
    monkeypatch.setattr(importer_module.RollImporter, "_write", real_write)
    report = import_roll(str(path))
    assert (report.created, report.unchanged, report.rejected) == (30, 20, 0)


def _peak_during_import(directory_path) -> int:
    tracemalloc.start()
    try:
        import_roll(directory_path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_import_streams_memory_does_not_grow_with_file_size(directory, tmp_path, monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH", 500)
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    with small.open("w", encoding="utf-8") as out:
        generate_roll(out, 1000, seed=1)
    with large.open("w", encoding="utf-8") as out:
        generate_roll(out, 8000, seed=2)
    peak_small = _peak_during_import(str(small))
    # Both files use the same roll ids: start again from an empty roll so that both imports
    # create voters (updating them takes another path, with its own peak).
    db.session.execute(delete(VoterEmail))
    db.session.execute(delete(Voter))
    db.session.commit()
    peak_large = _peak_during_import(str(large))
    # 8x the rows, same batch size: the peak stays within the same bound.
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)


def test_missing_columns_is_a_clear_error(directory, tmp_path):
    from csudesk.csvio import CSVFormatError

    path = tmp_path / "bad.csv"
    path.write_text("id;name\n1;x\n", encoding="utf-8")
    with pytest.raises(CSVFormatError, match="Colonnes manquantes"):
        import_roll(str(path))


def test_roll_cli_import_and_generate(runner, directory, tmp_path):
    out = tmp_path / "gen.csv"
    result = runner.invoke(args=["roll", "generate", "--voters", "120", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open("a", encoding="utf-8") as handle:
        handle.write("X1;BAD;Row;not-an-email;0590001F;travail\n")
    rejects = tmp_path / "rejects.txt"
    result = runner.invoke(args=["roll", "import", str(out), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "121 lignes lues" in result.output
    assert "120 électeurs créés" in result.output
    assert "1 lignes rejetées" in result.output
    assert "ligne 122 : X1 : adresse électronique invalide" in result.output
    assert rejects.read_text(encoding="utf-8").startswith("122;X1")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('E9;"LINE\r\nBREAK\x01";Marie;a@ac-lille.fr;0590001F;travail', "retour à la ligne"),
        ('E9;DUPONT;"Ma\nrie";a@ac-lille.fr;0590001F;travail', "champ « prénom »"),
        ('E9;DUPONT;"Ma\rrie";a@ac-lille.fr;0590001F;travail', "retour à la ligne"),
        ("E9;DUP\x01ONT;Marie;a@ac-lille.fr;0590001F;travail", "(U+0001) dans le champ « nom »"),
        ("E9;DUPONT;Ma\x7frie;a@ac-lille.fr;0590001F;travail", "(U+007F)"),
        ("E9;DUPONT;Ma\x85rie;a@ac-lille.fr;0590001F;travail", "(U+0085)"),  # C1 next line
        ("E9;DUPONT;Ma\trie;a@ac-lille.fr;0590001F;travail", "(U+0009)"),
        ("E9;DUPONT\u2028X;Marie;a@ac-lille.fr;0590001F;travail", "(U+2028)"),
        ("E9;\u202eTNOPUD;Marie;a@ac-lille.fr;0590001F;travail", "(U+202E)"),  # bidi override
        ("E9;DU\u200bPONT;Marie;a@ac-lille.fr;0590001F;travail", "(U+200B)"),  # zero width
        ("E9;DUPONT;Marie;a@ac-\x00lille.fr;0590001F;travail", "champ « courriels »"),
        ("E9;DUPONT;Marie;a@ac-lille.fr;0590\x1b001F;travail", "champ « uai »"),
        ("E9;DUPONT;Marie;a@ac-lille.fr;0590001F;tra\x0bvail", "champ « remise_notice »"),
        ("E\x009;DUPONT;Marie;a@ac-lille.fr;0590001F;travail", "champ « identifiant »"),
    ],
)
def test_line_breaks_and_invisible_characters_are_rejected(directory, tmp_path, row, reason):
    path = write(tmp_path, ["E1;DUPONT;Jean;jean@ac-lille.fr;0590001F;travail", row])
    report = import_roll(path)
    assert (report.created, report.rejected) == (1, 1)
    line, text = report.rejects[0]
    assert line == 3  # where the record starts, even when a quoted field spans two lines
    assert reason in text
    # The reason is one printable line: it goes to the terminal and to the rejects file.
    assert text.isprintable()
    assert db.session.scalar(select(func.count()).select_from(Voter)) == 1
    # Again, into a roll that is no longer empty: each line is first looked up by its
    # identifier, and one holding a NUL (which PostgreSQL text cannot) is still refused.
    again = import_roll(path)
    assert (again.unchanged, again.rejected) == (1, 1)
    assert reason in again.rejects[0][1]


def test_ordinary_names_are_not_mistaken_for_invisible_characters(directory, tmp_path):
    report = import_roll(
        write(
            tmp_path,
            [
                "E1;LEFÈVRE-ŒUVRAY;Jérôme-Noël;j.l@ac-lille.fr;0590001F;travail",
                "E2;D'ALMEIDA Y GONZÁLEZ;Íñigo;i.g@ac-lille.fr;0590001F;travail",
                "E3;NGUYỄN;Thị Ánh;n.t@ac-lille.fr;0590001F;travail",
                "E4;O’BRIEN;Siân;s.o@ac-lille.fr;0590001F;travail",
            ],
        )
    )
    assert (report.created, report.rejected) == (4, 0), report.rejects


def test_cli_reports_control_characters_with_their_line_and_stores_nothing(
    runner, directory, tmp_path
):
    path = write(
        tmp_path,
        [
            "E1;DUPONT;Jean;jean@ac-lille.fr;0590001F;travail",
            'X1;"LINE\r\nBREAK\x01";Marie;x1@ac-lille.fr;0590001F;travail',
            "X2;DURAND;Pa\x1bul;x2@ac-lille.fr;0590001F;travail",
            "E2;MARTIN;Paul;paul@ac-lille.fr;0590001F;travail",
        ],
    )
    rejects = tmp_path / "rejects.txt"
    result = runner.invoke(args=["roll", "import", path, "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "2 électeurs créés" in result.output
    assert "2 lignes rejetées" in result.output
    assert "ligne 3 : X1 : retour à la ligne dans le champ « nom »" in result.output
    # The two-line record took lines 3 and 4: the next one is line 5.
    assert "ligne 5 : X2 : caractère invisible non permis (U+001B) dans le champ « prénom »" in (
        result.output
    )
    assert "\x01" not in result.output and "\x1b" not in result.output
    assert rejects.read_text(encoding="utf-8").splitlines() == [
        "3;X1 : retour à la ligne dans le champ « nom » : une valeur tient sur une ligne",
        "5;X2 : caractère invisible non permis (U+001B) dans le champ « prénom » :"
        " retapez la valeur",
    ]
    stored = db.session.scalars(select(Voter.roll_id).order_by(Voter.roll_id)).all()
    assert stored == ["E1", "E2"]
    assert not db.session.scalar(
        select(func.count()).select_from(Voter).where(Voter.last_name.contains("BREAK"))
    )
