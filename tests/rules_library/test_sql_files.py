"""``sql/`` holds ``sqldetect compile rules/ -o sql/``: it must be up to date with the rules, and the files
must run as they are on a plain DuckDB connection. Also: every rule passes ``validate`` and ``explain``, and
the compiled files carry lookup paths relative to the project root (not one checkout's absolute path)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from rules_library_support import (
    LIBRARY_HITS,
    LOOKUPS_DIR,
    PROJECT_ROOT,
    RULES_DIR,
    SEED_HITS,
    SEED_RULE_ID,
    SHIPPED_FIXTURES,
    SQL_DIR,
    engine_over,
    library_rules,
)

from sqldetect.cli import main
from sqldetect.compile.lookups import LookupResolver
from sqldetect.events.windows_schema import default_windows_schema
from sqldetect.schema import FieldKind
from sqldetect.warehouse import view_name

REGENERATE = "sql/ is out of date with rules/: run `sqldetect compile rules/ -o sql/` from the project root"
SQL_TYPES = {FieldKind.TIME: "TIMESTAMP", FieldKind.NUMBER: "BIGINT", FieldKind.STRING: "VARCHAR",
             FieldKind.MULTIVALUE: "VARCHAR[]"}  # fmt: skip


def sql_file(rule_id: str) -> str:
    return view_name(rule_id).removeprefix("detect_") + ".sql"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``sqldetect compile rules/ -o <tmp>`` run from the project root, as the README says."""
    target = tmp_path_factory.mktemp("sql")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT_ROOT)
        result = CliRunner().invoke(main, ["compile", "rules/", "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target


def test_sql_directory_is_up_to_date(compiled: Path) -> None:
    fresh = {path.name: path.read_bytes() for path in compiled.glob("*.sql")}
    committed = {path.name: path.read_bytes() for path in SQL_DIR.glob("*.sql")}
    assert sorted(committed) == sorted(fresh), REGENERATE
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"{REGENERATE} (stale: {', '.join(stale)})"
    assert sorted(fresh) == sorted(sql_file(rule_id) for rule_id in library_rules())


def test_compiled_lookups_are_relative_to_the_project_root() -> None:
    text = (SQL_DIR / "sqld_0012.sql").read_text(encoding="utf-8")
    assert "READ_CSV('rules/lookups/lolbins.csv'" in text
    assert str(PROJECT_ROOT) not in "".join(p.read_text(encoding="utf-8") for p in SQL_DIR.glob("*.sql"))
    inside = LookupResolver([LOOKUPS_DIR], sql_base=PROJECT_ROOT).resolve("lolbins.csv")
    assert inside.sql_path == "rules/lookups/lolbins.csv" and inside.path == LOOKUPS_DIR / "lolbins.csv"
    outside = LookupResolver([LOOKUPS_DIR], sql_base=PROJECT_ROOT / "sql").resolve("lolbins.csv")
    assert outside.sql_path is None  # a file outside the base keeps its absolute path
    assert LookupResolver([LOOKUPS_DIR]).resolve("lolbins.csv").sql_path is None


def test_sql_files_run_on_a_plain_duckdb_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed files over the shipped fixtures (XML rendering) in a table with the full Windows
    schema give as many rows as the engine's run of the rules."""
    loaded = engine_over([SHIPPED_FIXTURES], "xml")
    events = loaded.con.sql('SELECT * FROM "events"').to_arrow_table()
    con = duckdb.connect()
    columns = ", ".join(f'"{f.column_name}" {SQL_TYPES[f.kind]}' for f in default_windows_schema())
    con.execute(f'CREATE TABLE "events" ({columns})')
    con.register("loaded", events)
    shared = [f'"{f.column_name}"' for f in default_windows_schema() if f.column_name in events.column_names]
    con.execute(f'INSERT INTO "events" ({", ".join(shared)}) SELECT {", ".join(shared)} FROM loaded')
    monkeypatch.chdir(PROJECT_ROOT)  # lookups are read by relative path
    counts = {rule_id: len(con.execute((SQL_DIR / sql_file(rule_id)).read_text(encoding="utf-8")).fetchall())
              for rule_id in library_rules()}
    assert {rule_id: n for rule_id, n in counts.items() if n} == {**LIBRARY_HITS, SEED_RULE_ID: SEED_HITS["xml"]}


def test_every_rule_validates_and_explains() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(RULES_DIR)])
    assert result.exit_code == 0, result.output
    assert f"{len(library_rules())}/{len(library_rules())} rule(s) translate" in result.output
    for path in sorted(RULES_DIR.glob("*.yml")):
        card = runner.invoke(main, ["explain", str(path), "--format", "json"])
        assert card.exit_code == 0, f"{path.name}: {card.output}"
        (explained,) = json.loads(card.output)
        assert explained["techniques"] and explained["stages"], path.name
