"""A first load builds the secondary indexes after the rows; a re-import of an unchanged
file reads and compares without writing."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, select, text

from csudesk import create_app
from csudesk.directory.services import load_builtin_directory
from csudesk.extensions import db
from csudesk.roll import checks
from csudesk.roll import import_worker as importer_module
from csudesk.roll.generator import generate_roll
from csudesk.roll.import_worker import import_roll
from csudesk.roll.indexes import drop_secondary_indexes, secondary_indexes
from csudesk.roll.models import Voter
from tests.conftest import ON_POSTGRES, POSTGRES_URL
from tests.fixtures.sql import count_queries

HEADER = "identifiant;nom;prenom;courriels;uai;remise_notice"
WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER")


def write(tmp_path, rows, name="roll.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def generated(tmp_path, voters, seed=7):
    path = tmp_path / f"roll-{voters}-{seed}.csv"
    with path.open("w", encoding="utf-8") as out:
        generate_roll(out, voters, seed=seed)
    return str(path)


def present_indexes() -> set[str]:
    inspector = inspect(db.session.connection())
    names = {i["name"] for table in ("voter", "voter_email") for i in inspector.get_indexes(table)}
    return names & {index.name for index in secondary_indexes()}


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith(WRITES)]


def test_the_secondary_indexes_are_the_non_unique_ones_of_the_voter_tables():
    assert {index.name for index in secondary_indexes()} == {
        "ix_voter_csu_last_name_key",
        "ix_voter_csu_name_phonetic",
        "ix_voter_establishment_id",
        "ix_voter_email_voter_id",
    }


@pytest.fixture
def indexes_while_writing(monkeypatch) -> list[set[str]]:
    """The secondary indexes present as each batch is written, batch after batch."""
    during: list[set[str]] = []
    real_write = importer_module.RollImporter._write

    def watch(self, rows):
        during.append(present_indexes())
        real_write(self, rows)

    monkeypatch.setattr(importer_module.RollImporter, "_write", watch)
    return during


def test_a_first_load_builds_the_indexes_after_the_rows(
    directory, tmp_path, monkeypatch, indexes_while_writing
):
    during = indexes_while_writing
    monkeypatch.setattr(importer_module, "BATCH", 40)
    report = import_roll(generated(tmp_path, 100))
    assert report.created == 100
    assert len(during) == 3 and all(names == set() for names in during)
    assert present_indexes() == {index.name for index in secondary_indexes()}


def test_an_import_into_a_filled_roll_keeps_its_indexes(directory, tmp_path, indexes_while_writing):
    import_roll(generated(tmp_path, 60))
    during = indexes_while_writing
    during.clear()  # the first load's batches
    with count_queries() as statements:
        import_roll(generated(tmp_path, 80, seed=8))
    all_indexes = {index.name for index in secondary_indexes()}
    assert during and all(names == all_indexes for names in during)
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "DROP"))]


def test_an_interrupted_first_load_puts_the_indexes_back(directory, tmp_path, monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH", 20)
    real_write = importer_module.RollImporter._write
    calls = {"n": 0}

    def crash_on_second_batch(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_write(self, rows)

    monkeypatch.setattr(importer_module.RollImporter, "_write", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        import_roll(generated(tmp_path, 50))
    db.session.rollback()
    assert present_indexes() == {index.name for index in secondary_indexes()}
    assert len(db.session.scalars(select(Voter.id)).all()) == 20


def test_every_import_first_restores_indexes_a_killed_load_left_out(directory, tmp_path):
    path = generated(tmp_path, 30)
    import_roll(path)
    drop_secondary_indexes()  # as a first load killed before its end leaves the roll
    assert present_indexes() == set()
    report = import_roll(path)
    assert report.unchanged == 30
    assert present_indexes() == {index.name for index in secondary_indexes()}


@pytest.fixture
def migrated_url(tmp_path):
    """An empty database of its own, for the migrations to build."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    base, test_database = POSTGRES_URL.rsplit("/", 1)
    name = f"{test_database}_roll_first_load"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_after_a_first_load_the_schema_is_the_migrations_one(app_config, migrated_url, tmp_path):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": migrated_url})
    with app.app_context():
        try:
            upgrade()
            load_builtin_directory()
            db.session.commit()
            assert import_roll(generated(tmp_path, 50)).created == 50
            with db.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert diff == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_an_unchanged_file_is_read_without_a_single_write(directory, tmp_path, monkeypatch):
    monkeypatch.setattr(importer_module, "BATCH", 70)
    path = generated(tmp_path, 300)
    import_roll(path)
    with count_queries() as statements:
        again = import_roll(path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 300, 0)
    assert writes(statements) == []


def test_a_respelled_line_stores_its_digest_then_is_skipped(directory, tmp_path):
    import_roll(write(tmp_path, ["E1;DUPONT;Marie;marie@ac-lille.fr;0590001F;travail"]))
    stamp = db.session.scalar(select(Voter.updated_at))
    respelled = write(tmp_path, ["E1;DUPONT;Marie; Marie@AC-LILLE.fr ;0590001F;Travail"], "b.csv")
    report = import_roll(respelled)
    assert (report.updated, report.unchanged) == (0, 1)
    db.session.expire_all()
    assert db.session.scalar(select(Voter.updated_at)) == stamp
    with count_queries() as statements:
        assert import_roll(respelled).unchanged == 1
    assert writes(statements) == []


def test_new_rules_read_every_line_again(directory, tmp_path, monkeypatch):
    path = generated(tmp_path, 40)
    import_roll(path)
    monkeypatch.setattr(checks, "DIGEST_VERSION", "2")
    parsed = {"n": 0}
    real_parse = importer_module.RollImporter._parse

    def count(self, line, raw):
        parsed["n"] += 1
        return real_parse(self, line, raw)

    monkeypatch.setattr(importer_module.RollImporter, "_parse", count)
    assert import_roll(path).unchanged == 40
    assert parsed["n"] == 40
    with count_queries() as statements:
        assert import_roll(path).unchanged == 40
    assert parsed["n"] == 40 and writes(statements) == []


@pytest.mark.parametrize("batch", [2, 5000])
def test_a_line_repeated_in_a_reimport_is_refused(directory, tmp_path, monkeypatch, batch):
    monkeypatch.setattr(importer_module, "BATCH", batch)
    line = "E1;DUPONT;Marie;marie@ac-lille.fr;0590001F;travail"
    import_roll(write(tmp_path, [line]))
    report = import_roll(
        write(
            tmp_path,
            [
                line,
                "E2;DURAND;Paul;paul@ac-lille.fr;0590001F;travail",
                line,
                "E1;DUPONT;Marion;marie@ac-lille.fr;0590001F;travail",
            ],
            "again.csv",
        )
    )
    assert (report.created, report.unchanged, report.updated) == (1, 1, 0)
    assert sorted(report.rejects) == [
        (4, "E1 : identifiant déjà vu plus haut"),
        (5, "E1 : identifiant déjà vu plus haut"),
    ]
    db.session.expire_all()
    assert db.session.scalar(select(Voter.first_name).where(Voter.roll_id == "E1")) == "Marie"


def test_a_changed_line_then_its_unchanged_copy(directory, tmp_path):
    line = "E1;DUPONT;Marie;marie@ac-lille.fr;0590001F;travail"
    import_roll(write(tmp_path, [line]))
    report = import_roll(
        write(tmp_path, ["E1;DUPONT;Marion;marie@ac-lille.fr;0590001F;travail", line], "b.csv")
    )
    assert (report.updated, report.unchanged) == (1, 0)
    assert report.rejects == [(3, "E1 : identifiant déjà vu plus haut")]
    db.session.expire_all()
    assert db.session.scalar(select(Voter.first_name)) == "Marion"


def test_an_unchanged_line_keeps_its_address_from_a_changed_one(directory, tmp_path):
    import_roll(
        write(
            tmp_path,
            [
                "E1;DUPONT;Marie;marie@ac-lille.fr;0590001F;travail",
                "E2;DURAND;Paul;paul@ac-lille.fr;0590001F;travail",
            ],
        )
    )
    report = import_roll(
        write(
            tmp_path,
            [
                "E2;DURAND;Paul;paul@ac-lille.fr;0590001F;travail",
                "E1;DUPONT;Marie;paul@ac-lille.fr;0590001F;travail",
            ],
            "b.csv",
        )
    )
    assert report.unchanged == 1
    assert report.rejects == [
        (3, "E1 : adresse déjà attribuée à un autre électeur « paul@ac-lille.fr »")
    ]
