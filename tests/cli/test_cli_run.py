"""``sqldetect run``: every output format parsed back, the summary, rule selection, exit codes, refused rules
that never stop the others, ad-hoc SPL, one-line errors, and the progress bar."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import duckdb
import pytest

from sqldetect.cli import entry
from sqldetect.cli.run import PROGRESS_MIN_RULES, progress_bar
from sqldetect.errors import UnsupportedError
from tests.product.tables import create_flat_ecs_table, load_native

from .helpers import MSI_EVTX, ROOT, SEED, cli

SEED_HOSTS = ["SRV01.corp.example", "SRV01.corp.example", "WS01.corp.example", "WS02.corp.example",
              "WS02.corp.example", "WS02.corp.example"]


def _run(rules: Path, *args: object):
    return cli("run", rules, MSI_EVTX, "--raw-format", "classic", *args)


def test_jsonl_is_one_self_describing_hit_per_line(rules_dir: Path) -> None:
    result = _run(rules_dir, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(h["row"]["host"] for h in hits) == SEED_HOSTS
    first = hits[0]
    assert (first["rule_id"], first["title"], first["technique_ids"]) == (
        "1117.1196", "MSIExec Install MSI File", ["T1218.007"])
    assert first["row"]["_time"].endswith("Z") and first["row"]["c_process"] == 1
    assert _run(rules_dir).stdout == result.stdout  # jsonl is the default when stdout is not a terminal


def test_json_and_csv_carry_the_same_hits(rules_dir: Path) -> None:
    as_json = json.loads(_run(rules_dir, "--format", "json").stdout)
    assert sorted(h["row"]["host"] for h in as_json) == SEED_HOSTS
    rows = list(csv.DictReader(io.StringIO(_run(rules_dir, "--format", "csv").stdout)))
    assert [r["host"] for r in sorted(rows, key=lambda r: r["host"])] == SEED_HOSTS
    assert rows[0]["rule_id"] == "1117.1196" and rows[0]["technique_ids"] == "T1218.007"
    assert {r["_time"] for r in rows} == {h["row"]["_time"] for h in as_json}
    assert list(rows[0])[:3] == ["rule_id", "title", "technique_ids"]


def test_the_table_format_shows_each_rule_with_hits(rules_dir: Path) -> None:
    result = _run(rules_dir, "--format", "table")
    assert result.exit_code == 0
    assert "rule 1117.1196: MSIExec Install MSI File  [T1218.007]  6 hit(s)" in result.stdout
    for host in set(SEED_HOSTS):
        assert host in result.stdout
    assert "quiet.1" not in result.stdout.split("summary:")[0]  # no block for a rule without hits
    assert "summary:" in result.stdout  # on a table run the summary follows the tables


def test_the_summary_says_what_ran_what_was_refused_and_why(rules_dir: Path) -> None:
    result = _run(rules_dir, "--format", "jsonl")
    summary = result.stderr[result.stderr.index("summary:"):]
    assert "events scanned: 19" in summary
    assert "rules: 3 total, 2 ran, 1 refused, 0 failed" in summary
    assert "hits: 6 in 1 rule(s)" in summary
    lines = {line.split()[0]: line for line in summary.splitlines()[4:-1]}
    assert "6 hit(s)" in lines["1117.1196"] and " ms " in lines["1117.1196"]
    assert "0 hit(s)" in lines["quiet.1"]
    assert "refused" in lines["refused.1"] and lines["refused.1"].endswith("Uses a command sqldetect refuses: "
                                                                          "nosuchcommand")
    assert "elapsed: " in summary.splitlines()[-1]
    assert "1 loaded" not in result.stdout  # the load report goes to stderr, never into the hits
    quiet = _run(rules_dir, "--no-summary")
    assert "summary:" not in quiet.stderr and "loaded" not in quiet.stderr


def test_rules_are_selected_by_id_and_technique(rules_dir: Path) -> None:
    by_id = _run(rules_dir, "--rule-id", "quiet.1", "--rule-id", "refused.1")
    assert "rules: 2 total" in by_id.stderr and by_id.stdout == ""
    by_technique = _run(rules_dir, "--technique", "T1218")  # the parent technique selects T1218.007
    assert "rules: 1 total, 1 ran" in by_technique.stderr and len(by_technique.stdout.splitlines()) == 6
    assert "rules: 1 total" in _run(rules_dir, "--technique", "t1059.001").stderr
    nothing = _run(rules_dir, "--technique", "T9999")
    assert nothing.exit_code != 0 and "no rule matches the selection" in nothing.output


def test_fail_on_hits_exits_3_and_strict_exits_1_on_a_refused_rule(rules_dir: Path) -> None:
    assert _run(rules_dir, "--fail-on-hits").exit_code == 3
    assert _run(rules_dir, "--fail-on-hits", "--rule-id", "quiet.1").exit_code == 0
    strict = _run(rules_dir, "--strict")
    assert strict.exit_code == 1
    assert "error: rule refused.1, stage 2 (nosuchcommand), column 1: command 'nosuchcommand' is not " \
           "supported" in strict.stderr
    assert len(strict.stdout.splitlines()) == 6  # the other rules still ran and printed their hits
    assert _run(rules_dir).exit_code == 0  # without --strict a refused rule is reported, not fatal
    assert "error:" not in _run(rules_dir).stderr


def test_a_rule_file_that_does_not_load_is_skipped_and_strict_makes_it_fatal(rules_dir: Path) -> None:
    (rules_dir / "broken.yml").write_text("id: x\ntitle: no logic\n", encoding="utf-8")
    result = _run(rules_dir)
    assert result.exit_code == 0 and "skipped: 1 rule(s)" in result.stderr and "broken.yml" in result.stderr
    assert len(result.stdout.splitlines()) == 6
    assert _run(rules_dir, "--strict").exit_code == 1


def test_adhoc_spl_prints_one_json_object_per_result_row() -> None:
    spl = ('EventCode=1040 host=WS01* | head 2 | eval pair=mvappend("a", "b"), n=1 '
           "| table _time host pair n")
    result = cli("run", "--spl", spl, MSI_EVTX, "--format", "jsonl", "--no-summary")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {"_time": "2024-05-07T09:12:45.662090Z", "host": "WS01.corp.example", "pair": ["a", "b"], "n": 1},
        {"_time": "2024-05-06T10:15:02.877301Z", "host": "WS01.corp.example", "pair": ["a", "b"], "n": 1},
    ]
    as_json = cli("run", "--spl", spl, MSI_EVTX, "--format", "json", "--no-summary")
    assert json.loads(as_json.stdout) == rows
    generated = cli("run", "--spl", '| makeresults count=2 | eval x="y"', "--no-summary")
    assert [json.loads(line)["x"] for line in generated.stdout.splitlines()] == ["y", "y"]


def test_errors_are_one_line_and_a_caret_without_a_traceback() -> None:
    result = cli("run", "--spl", "EventCode=1040 | stats count by host | nosuchcommand", MSI_EVTX, "--no-summary")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    error = next(i for i, line in enumerate(lines) if line.startswith("error:"))
    assert lines[error] == ("error: rule adhoc, stage 3 (nosuchcommand), column 1: command 'nosuchcommand' is "
                            "not supported")
    assert lines[error + 1] == "    nosuchcommand" and lines[error + 2] == "    ^^^^^^^^^^^^^"
    assert "Traceback" not in result.output
    debug = cli("--debug", "run", "--spl", "EventCode=1040 | nosuchcommand", MSI_EVTX, "--no-summary")
    assert isinstance(debug.exception, UnsupportedError)  # --debug lets the exception (and traceback) through
    syntax = cli("run", "--spl", 'EventCode=1040 | eval x="open', MSI_EVTX, "--no-summary")
    assert syntax.exit_code == 1 and "unbalanced quotes" in syntax.stderr and "^" in syntax.stderr


def test_bad_input_files_are_one_line_errors(tmp_path: Path) -> None:
    missing = cli("run", ROOT / "rules", tmp_path / "nope.evtx")
    assert missing.exit_code == 1 and "no such file" in missing.output and "Traceback" not in missing.output
    not_a_rule = tmp_path / "nope"
    assert cli("run", not_a_rule, MSI_EVTX).exit_code != 0
    bad_mapping = cli("run", ROOT / "rules", MSI_EVTX, "--mapping", tmp_path / "missing.yaml")
    assert bad_mapping.exit_code == 1 and "no mapping file" in bad_mapping.stderr


def test_run_reads_a_mapped_warehouse_table(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    engine = load_native(duckdb.connect(str(db)))
    create_flat_ecs_table(engine)
    engine.con.execute('ALTER TABLE winlogbeat DROP COLUMN "winlog.user.identifier"')
    engine.con.close()
    result = cli("run", SEED, "--db", db, "--table", "winlogbeat", "--mapping", "winlogbeat")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 6
    assert "warning: " in result.stderr and "field 'UserID' is absent: no column 'winlog.user.identifier'" \
        in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields:\n  x: {sql: 'lower(nope)'}\n", encoding="utf-8")
    refused = cli("run", SEED, "--db", db, "--table", "winlogbeat", "--mapping", bad)
    assert refused.exit_code == 1 and f"error: {bad}: field 'x' (line 2): the SQL does not fit table" \
        in refused.stderr


def test_run_takes_user_data_models(tmp_path: Path) -> None:
    models = tmp_path / "lab.yaml"
    models.write_text("model: Lab\ndatasets:\n  Installs:\n    search: EventCode=1040\n"
                      "    fields:\n      machine: {eval: host}\n", encoding="utf-8")
    spl = "| tstats count from datamodel=Lab.Installs by Installs.machine"
    result = cli("run", "--spl", spl, MSI_EVTX, "--datamodels", models, "--no-summary")
    assert result.exit_code == 0, result.output
    rows = sorted((r["Installs.machine"], r["count"]) for r in map(json.loads, result.stdout.splitlines()))
    assert rows == [("SRV01.corp.example", 2), ("WS01.corp.example", 3), ("WS02.corp.example", 3)]
    unknown = cli("run", "--spl", spl, MSI_EVTX, "--no-summary")
    assert unknown.exit_code == 1 and "Lab" in unknown.stderr


def test_usage_errors_and_hits_give_the_documented_exit_codes(monkeypatch: pytest.MonkeyPatch,
                                                              rules_dir: Path) -> None:
    """Through the console-script entry point (click alone would exit 2 on a usage error)."""

    def exit_code(*args: object) -> int:
        monkeypatch.setattr(sys, "argv", ["sqldetect", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            entry()
        return int(exited.value.code or 0)

    assert exit_code("run") == 1
    assert exit_code("run", rules_dir, MSI_EVTX, "--format", "nope") == 1
    assert exit_code("run", rules_dir, MSI_EVTX, "--raw-format", "classic", "--no-summary") == 0
    assert exit_code("run", rules_dir, MSI_EVTX, "--raw-format", "classic", "--fail-on-hits", "--no-summary") == 3
    assert exit_code("run", rules_dir, MSI_EVTX, "--strict", "--no-summary") == 1


def test_a_progress_bar_is_drawn_only_on_a_terminal_for_long_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    with progress_bar(PROGRESS_MIN_RULES, "jsonl") as advance:
        assert advance is None  # tests run without a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress_bar(PROGRESS_MIN_RULES - 1, "jsonl") as advance:
        assert advance is None  # a short run finishes before a bar would help
    with progress_bar(PROGRESS_MIN_RULES, "jsonl") as advance:
        assert callable(advance)
        for _ in range(PROGRESS_MIN_RULES):
            advance()


def test_rules_option_takes_a_jsonl_export_that_would_otherwise_be_events(tmp_path: Path) -> None:
    """A security_content-style ``detections.jsonl`` ends like an NDJSON event file; ``--rules`` says which."""
    export = tmp_path / "detections.jsonl"
    detections = [{"id": "j.1", "name": "Installer transactions", "search": "EventCode=1040 | stats count by host"},
                  {"id": "j.2", "name": "Nothing", "search": "EventCode=99999"}]
    export.write_text("".join(json.dumps(d) + "\n" for d in detections), encoding="utf-8")
    result = cli("run", "--rules", export, MSI_EVTX, "--raw-format", "classic", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert {h["rule_id"] for h in hits} == {"j.1"}
    assert sorted(h["row"]["host"] for h in hits) == sorted(set(SEED_HOSTS))
    assert sum(h["row"]["count"] for h in hits) > 0
    without = cli("run", export, MSI_EVTX)  # taken as two event files: no rules given
    assert without.exit_code == 2 and "give rule files" in without.output
