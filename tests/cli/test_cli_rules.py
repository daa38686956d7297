"""``sql``, ``compile``, ``validate`` and ``list``: translation without running, with a schema, a database, a
field mapping or user data models, and one-line errors for rules that do not translate."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.product.tables import create_flat_ecs_table, load_native

from .helpers import ROOT, SEED, cli


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    engine = load_native(duckdb.connect(str(path)))
    create_flat_ecs_table(engine)
    engine.con.close()
    return path


def test_sql_prints_one_cte_per_stage_under_its_spl() -> None:
    result = cli("sql", SEED, "--no-calculated")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("WITH\n-- * * (TERM(EventCode=1040)")
    calculated = cli("sql", SEED)  # the rule reads `user`: the calculated fields come first, in s0_source
    assert calculated.stdout.startswith("WITH\n-- derived fields: user")
    assert '"s2_rex" AS (' in result.stdout and '"s7_where" AS (' in result.stdout
    adhoc = cli("sql", "--spl", "EventCode=4688 | stats count by host")
    assert adhoc.exit_code == 0 and 'GROUP BY\n    "host"' in adhoc.stdout


def test_sql_over_a_mapped_warehouse_table_reads_the_mapped_columns(warehouse: Path) -> None:
    result = cli("sql", SEED, "--db", warehouse, "--table", "winlogbeat", "--mapping", "winlogbeat")
    assert result.exit_code == 0, result.output
    assert '"event.original" AS "_raw"' in result.stdout and 'FROM "winlogbeat"' in result.stdout
    native = cli("sql", SEED, "--db", warehouse, "--no-calculated")
    assert "s0_source" not in native.stdout and 'FROM "events"' in native.stdout
    identity = cli("sql", SEED, "--db", warehouse, "--mapping", "sqldetect", "--no-calculated")
    assert identity.stdout == native.stdout  # the identity mapping changes nothing


def test_sql_with_a_schema_file_and_without_a_database(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text("fields: {_time: time, cmd: string, code: number}\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("fields:\n  CommandLine: cmd\n  EventCode: {column: code, kind: number}\n", encoding="utf-8")
    result = cli("sql", "--spl", "EventCode=4688 | table CommandLine", "--schema", schema, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert '"cmd" AS "CommandLine"' in result.stdout and '"code" AS "EventCode"' in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("{cmd: colour}", encoding="utf-8")
    refused = cli("sql", "--spl", "*", "--schema", bad)
    assert refused.exit_code != 0 and "not a {field: kind} mapping" in refused.output


def test_sql_reports_a_rule_that_does_not_translate_and_goes_on(rules_dir: Path) -> None:
    result = cli("sql", rules_dir)
    assert result.exit_code == 1
    assert "-- rule 1117.1196: MSIExec Install MSI File" in result.stdout
    assert "-- rule quiet.1: Finds nothing" in result.stdout
    assert "refused.yml, rule refused.1, stage 2 (nosuchcommand), column 1: command 'nosuchcommand'" \
        in result.stderr


def test_sql_takes_user_data_models(tmp_path: Path) -> None:
    models = tmp_path / "lab.yaml"
    models.write_text("model: Lab\ndatasets:\n  Installs:\n    search: EventCode=1040\n"
                      "    fields:\n      machine: {eval: host}\n", encoding="utf-8")
    spl = "| tstats count from datamodel=Lab.Installs by Installs.machine"
    result = cli("sql", "--spl", spl, "--datamodels", models)
    assert result.exit_code == 0, result.output
    assert '"dm_Lab_Installs"' in result.stdout
    unknown = cli("sql", "--spl", spl)
    assert unknown.exit_code == 1 and "data model 'Lab'" in unknown.stderr and "Traceback" not in unknown.output


def test_compile_writes_one_file_per_rule(rules_dir: Path, tmp_path: Path, warehouse: Path) -> None:
    out = tmp_path / "sql"
    result = cli("compile", rules_dir, "-o", out)
    assert result.exit_code == 1  # the refused rule
    assert "wrote 2 file(s)" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["1117_1196.sql", "quiet_1.sql"]
    text = (out / "1117_1196.sql").read_text(encoding="utf-8")
    assert text.startswith("-- sqldetect: rule 1117.1196: MSIExec Install MSI File\n-- ATT&CK: T1218.007\nWITH\n")
    con = duckdb.connect(str(warehouse), read_only=True)
    assert len(con.execute(text).fetchall()) == 6  # the written SQL runs as it is
    con.close()
    mapped = tmp_path / "mapped"
    cli("compile", SEED, "-o", mapped, "--db", warehouse, "--table", "winlogbeat", "--mapping", "winlogbeat")
    con = duckdb.connect(str(warehouse), read_only=True)
    assert len(con.execute((mapped / "1117_1196.sql").read_text(encoding="utf-8")).fetchall()) == 6


def test_validate_counts_the_rules_that_translate(rules_dir: Path, warehouse: Path) -> None:
    result = cli("validate", rules_dir)
    assert result.exit_code == 1 and "2/3 rule(s) translate" in result.stdout
    assert "command 'nosuchcommand' is not supported" in result.stderr
    good = cli("validate", SEED, "--db", warehouse, "--table", "winlogbeat", "--mapping", "winlogbeat")
    assert good.exit_code == 0 and "1/1 rule(s) translate" in good.stdout
    missing_table = cli("validate", SEED, "--db", warehouse, "--table", "nope", "--mapping", "winlogbeat")
    assert missing_table.exit_code == 0  # no table: the mapping is applied as written, nothing to check it by


def test_list_shows_ids_titles_and_techniques(rules_dir: Path) -> None:
    text = cli("list", rules_dir)
    assert text.exit_code == 0
    lines = sorted(text.stdout.splitlines())
    assert lines[0].split() == ["1117.1196", "T1218.007", "MSIExec", "Install", "MSI", "File"]
    as_json = json.loads(cli("list", rules_dir, "--format", "json").stdout)
    assert {r["id"]: r["technique_ids"] for r in as_json} == {
        "1117.1196": ["T1218.007"], "quiet.1": ["T1003"], "refused.1": ["T1059.001"]}
    assert all(Path(r["file"]).parent == rules_dir for r in as_json)


def test_rule_commands_refuse_missing_paths_in_one_line(tmp_path: Path) -> None:
    for command in ("sql", "compile", "validate", "list", "install"):
        result = cli(command, tmp_path / "nope.yml", "-o", tmp_path, "--db", tmp_path / "x.duckdb") \
            if command in ("compile",) else cli(command, tmp_path / "nope.yml")
        assert result.exit_code != 0 and "does not exist" in result.output and "Traceback" not in result.output
    assert cli("install", ROOT / "rules").exit_code != 0  # --db is required
