"""No code path deletes audit entries; no command purges them (SECURITY.md 19: kept 2 years).

The package and its migrations are read as code (AST), not as words: a `delete(AuditEntry)`,
a `.delete()` on a query of AuditEntry, a `session.delete()` anywhere, SQL text that deletes
or truncates `audit_entry`, an ORM cascade that would remove entries, or a CLI command whose
name says purge fails here. The database side (triggers refusing DELETE and TRUNCATE) is
proved by tests/audit/test_append_only.py.
"""

import ast
import re
from pathlib import Path

import click
import pytest
from sqlalchemy.orm import class_mapper

from csudesk import create_app
from csudesk.audit.models import AuditEntry
from csudesk.extensions import db
from tests.conftest import base_config

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "csudesk").rglob("*.py"), *(ROOT / "migrations").rglob("*.py")])
AUDIT_NAMES = {"AuditEntry", "audit_entry"}
SQL_REMOVAL = re.compile(
    r"\b(delete\s+from|truncate(\s+table)?|drop\s+table(\s+if\s+exists)?)\s+\"?audit_entry\b",
    re.IGNORECASE,
)
# The initial migration's downgrade drops every table: only `flask db downgrade` to nothing
# reaches it, an operator's explicit act on an empty install, never a code path of the app.
ALLOWED_DROPS = {("migrations/versions/7b8c71a7595d_initial_schema.py", "downgrade")}
PURGE_WORDS = re.compile(r"purge|prune|clean|wipe|truncate|delete|erase|expire|retention|rotate")
# Commands that delete, reviewed: none of them touches the audit trail.
REVIEWED_COMMANDS = {"db downgrade"}  # Flask-Migrate's; see ALLOWED_DROPS


def mentions_audit(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in AUDIT_NAMES)
        or (isinstance(n, ast.Attribute) and n.attr in AUDIT_NAMES)
        or (isinstance(n, ast.Constant) and n.value in AUDIT_NAMES)
        for n in ast.walk(node)
    )


def enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    owners = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for n in ast.walk(fn):
                owners.setdefault(n, fn.name)
    return owners


def removals_in(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    owners = enclosing_functions(tree)
    rel = str(path.relative_to(root))
    found = []
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "delete" and isinstance(func, ast.Name) and mentions_audit(node):
                found.append(f"{where}: delete(AuditEntry)")
            elif name == "delete" and isinstance(func, ast.Attribute):
                if mentions_audit(func.value):
                    found.append(f"{where}: .delete() on an audit query")
                elif isinstance(func.value, ast.Attribute) and func.value.attr == "session":
                    found.append(f"{where}: session.delete() (review: could be an entry)")
            elif (
                name == "drop_table"
                and mentions_audit(node)
                and (rel, owners.get(node)) not in ALLOWED_DROPS
            ):
                found.append(f"{where}: drop_table(audit_entry)")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_REMOVAL.search(node.value)
        ):
            found.append(f"{where}: SQL removing audit entries")
    return found


def test_the_scan_finds_what_it_is_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "db.session.execute(delete(AuditEntry).where(AuditEntry.id < 5))\n"
        "db.session.query(AuditEntry).filter(AuditEntry.at < x).delete()\n"
        "db.session.delete(entry)\n"
        "db.session.execute(text('DELETE FROM audit_entry WHERE at < :d'))\n"
        "conn.exec_driver_sql('TRUNCATE audit_entry')\n"
        "op.execute('BEFORE UPDATE OR DELETE ON audit_entry')\n"  # the trigger: not a removal
    )
    assert len(removals_in(sample, tmp_path)) == 5


def test_no_code_path_deletes_audit_entries():
    assert len(SOURCES) > 50
    found = [f for path in SOURCES for f in removals_in(path)]
    assert found == []


def test_no_relationship_cascades_a_delete_to_audit_entries(app):
    for mapper in db.Model.registry.mappers:
        for rel in mapper.relationships:
            if rel.mapper is class_mapper(AuditEntry):
                assert "delete" not in rel.cascade, f"{mapper.class_.__name__}.{rel.key}"
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "audit_entry":
                pytest.fail(f"{table.name} references audit_entry ({fk.ondelete})")


def commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found = {}
    for name, command in group.commands.items():
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found |= commands(command, f"{prefix}{name} ")
    return found


def test_the_cli_has_no_purge_command():
    every = commands(create_app(base_config("sqlite://", 25)).cli)
    assert {"audit verify", "audit anchor", "mail send", "roll import"} <= set(every)
    audit = {name for name in every if name.startswith("audit ")}
    # audit seal writes only the seal of entries not sealed yet (the triggers refuse the rest).
    assert audit == {"audit verify", "audit anchor", "audit seal"}, "a new audit command: review it"
    suspicious = []
    for name, command in every.items():
        words = f"{name} {command.help or ''} {' '.join(p.name or '' for p in command.params)}"
        if name not in REVIEWED_COMMANDS and PURGE_WORDS.search(name):
            suspicious.append(name)
        elif name.startswith("audit ") and PURGE_WORDS.search(words.lower()):
            suspicious.append(f"{name}: {command.help}")
    assert suspicious == []
