"""Loading rule files: both shapes, ids, lists, directories, and every validation error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqldetect.errors import RuleError
from sqldetect.rules import Rule, RuleSet, load_rule_text, load_rules

CONTENT_YAML = """\
name: Suspicious Rundll32 Rename
id: 7360137f-abad-473e-8189-acbdaa34d114
version: 4
status: production
type: Hunting
description: Looks for renamed rundll32.
data_source:
- Sysmon EventID 1
search: '| tstats `security_content_summariesonly` count from datamodel=Endpoint.Processes
  by Processes.dest | `drop_dm_object_name(Processes)` | `suspicious_rundll32_rename_filter`'
references:
- https://example.org/a
tags:
  analytic_story:
  - Masquerading
  mitre_attack_id:
  - T1036.003
  product:
  - Splunk Enterprise
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(result: RuleSet) -> list[str]:
    return [str(e) for e in result.errors]


def test_seed_rule_loads_every_catalog_key(project_root: Path) -> None:
    result = load_rules(project_root / "rules" / "msiexec_install_msi_file.yml")
    assert result.errors == []
    (rule,) = result.rules
    assert rule.id == "1117.1196"
    assert rule.title == "MSIExec Install MSI File"
    assert rule.logic_format == "Splunk"
    assert rule.logic.startswith("`get_endpoint_data` `get_endpoint_data_winevent` (TERM(EventCode=1040)")
    assert rule.technique_ids == ["T1218.007"]
    assert rule.techniques == ["defense-evasion:system binary proxy execution:msiexec"]
    assert rule.data_category == ["Windows event logs"]
    assert rule.references == [
        "https://news.sophos.com/en-us/2020/05/21/ragnar-locker-ransomware-deploys-virtual-machine-to-dodge-security/"
    ]
    assert rule.description.startswith("The Windows Installer technology")
    assert rule.source_file is not None and rule.source_file.endswith("msiexec_install_msi_file.yml")
    assert rule.extra == {}


@pytest.mark.parametrize(
    ("written", "expected"), [("1117.1190", "1117.1190"), ("42", "42"), ("'0012'", "0012")]
)
def test_number_like_id_keeps_the_text_written(written: str, expected: str) -> None:
    result = load_rule_text(f"id: {written}\ntitle: t\nlogic: foo\n", "r.yml")
    assert [r.id for r in result.rules] == [expected]


def test_security_content_yaml_maps_onto_rule_fields() -> None:
    result = load_rule_text(CONTENT_YAML, "content.yml")
    assert result.errors == []
    (rule,) = result.rules
    assert rule.id == "7360137f-abad-473e-8189-acbdaa34d114"
    assert rule.title == "Suspicious Rundll32 Rename"
    assert rule.logic.startswith("| tstats `security_content_summariesonly` count")
    assert rule.logic_format == "Splunk"
    assert rule.technique_ids == ["T1036.003"]
    assert rule.data_category == ["Sysmon EventID 1"]
    assert rule.status == "production"
    assert rule.references == ["https://example.org/a"]
    # keys the Rule does not model are kept, not dropped
    assert rule.extra["type"] == "Hunting"
    assert rule.extra["version"] == 4
    assert rule.extra["tags"]["analytic_story"] == ["Masquerading"]


def test_security_content_jsonl_export_uses_flat_mitre(tmp_path: Path) -> None:
    lines = [
        {"id": "a1", "name": "Rule A", "search": "index=x", "status": "experimental", "mitre": ["T1003"]},
        {"id": "b2", "name": "Rule B", "search": "index=y", "status": "deprecated", "mitre": []},
    ]
    path = write(tmp_path, "detections.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    result = load_rules(path)
    assert result.errors == []
    assert [(r.id, r.title, r.status, r.technique_ids) for r in result.rules] == [
        ("a1", "Rule A", "experimental", ["T1003"]),
        ("b2", "Rule B", "deprecated", []),
    ]


def test_a_file_may_hold_a_list_of_rules_or_several_documents() -> None:
    listed = load_rule_text("- {id: a, title: A, logic: x}\n- {id: b, title: B, logic: y}\n", "list.yml")
    multi = load_rule_text("id: a\nlogic: x\n---\nid: b\nlogic: y\n", "multi.yml")
    assert [r.id for r in listed.rules] == ["a", "b"]
    assert [r.id for r in multi.rules] == ["a", "b"]
    assert multi.rules[0].title == "a"  # no title: the id stands in


def test_directory_loads_recursively_yml_and_yaml_only(tmp_path: Path) -> None:
    write(tmp_path, "one.yml", "id: one\nlogic: a\n")
    write(tmp_path, "deep/er/two.yaml", "id: two\nlogic: b\n")
    write(tmp_path, "notes.txt", "id: three\nlogic: c\n")
    result = load_rules(tmp_path)
    assert sorted(r.id for r in result.rules) == ["one", "two"]
    assert result.files_read == 2


def test_unknown_keys_are_kept_in_extra() -> None:
    (rule,) = load_rule_text("id: a\nlogic: x\nseverity: high\nowner: {team: blue}\n", "r.yml").rules
    assert rule.extra == {"severity": "high", "owner": {"team": "blue"}}


@pytest.mark.parametrize("fmt", ["Splunk", "splunk", "SPL", "spl", "SPLUNK"])
def test_logic_format_splunk_or_spl_in_any_case_is_accepted(fmt: str) -> None:
    result = load_rule_text(f"id: a\nlogic_format: {fmt}\nlogic: x\n", "r.yml")
    assert result.errors == [] and len(result.rules) == 1


def test_missing_logic_names_file_rule_and_key() -> None:
    result = load_rule_text("id: r-7\ntitle: no body\n", "rules/bad.yml")
    assert result.rules == []
    (error,) = result.errors
    assert isinstance(error, RuleError)
    assert error.location.file == "rules/bad.yml"
    assert error.location.rule_id == "r-7"
    assert "`logic`" in error.message
    assert str(error).startswith("rules/bad.yml, rule r-7: missing key `logic`")
    assert result.rejected_files == 1


def test_empty_logic_is_rejected() -> None:
    (error,) = load_rule_text("id: r\nlogic: '   '\n", "r.yml").errors
    assert "empty" in error.message


def test_logic_format_other_than_spl_is_rejected() -> None:
    (error,) = load_rule_text("id: s1\nlogic_format: Sigma\nlogic: x\n", "s.yml").errors
    assert error.location.rule_id == "s1"
    assert "`logic_format`" in error.message and "'Sigma'" in error.message


def test_missing_id_is_rejected_and_names_the_title() -> None:
    (error,) = load_rule_text("title: Orphan\nlogic: x\n", "o.yml").errors
    assert error.location.file == "o.yml"
    assert "missing key `id`" in error.message and "Orphan" in error.message


def test_both_logic_and_search_is_ambiguous() -> None:
    (error,) = load_rule_text("id: a\nlogic: x\nsearch: y\n", "a.yml").errors
    assert "both `logic` and `search`" in error.message


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("id: a\nlogic: [x, y]\n", "`logic`"),
        ("id: [1, 2]\nlogic: x\n", "`id`"),
        ("id: a\nlogic: x\ntechnique_id: {T1: 2}\n", "`technique_id`"),
        ("id: a\nlogic: x\nreferences: [[nested]]\n", "`references` item 1"),
        ("id: a\nlogic: x\ntitle: {a: b}\n", "`title`"),
        ("id: a\nsearch: x\ntags: [T1003]\n", "`tags`"),
        ("id: a\nlogic: x\nstatus: 3\n", "`status`"),
    ],
)
def test_wrong_types_name_the_key(body: str, key: str) -> None:
    result = load_rule_text(body, "t.yml")
    assert result.rules == []
    (error,) = result.errors
    assert key in error.message and "must be" in error.message


def test_a_rule_that_is_not_a_mapping_is_rejected() -> None:
    (error,) = load_rule_text("just a sentence\n", "s.yml").errors
    assert "must be a mapping" in error.message and "a string" in error.message


def test_yaml_syntax_error_reports_the_line() -> None:
    result = load_rule_text("id: a\nlogic: x\ntitle: [unclosed\nnext: 1\n", "broken.yml")
    (error,) = result.errors
    assert error.location.file == "broken.yml"
    assert "YAML syntax error at line" in error.message
    line = int(error.message.split("line ")[1].split(",")[0])
    assert line in (4, 5)  # the parser notices the unclosed list on the line after it
    assert result.rejected_files == 1


def test_duplicate_ids_across_a_directory_name_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", "id: same\ntitle: first\nlogic: x\n")
    second = write(tmp_path, "b.yml", "id: same\ntitle: second\nlogic: y\n")
    result = load_rules(tmp_path)
    assert [r.title for r in result.rules] == ["first"]
    (error,) = result.errors
    assert error.location.file == str(second)
    assert str(first) in error.message and "duplicate rule id 'same'" in error.message
    assert result.rejected_files == 1


def test_duplicate_ids_inside_one_file() -> None:
    result = load_rule_text("- {id: d, logic: x}\n- {id: d, logic: y}\n", "dup.yml")
    assert [r.logic for r in result.rules] == ["x"]
    assert "earlier in the same file" in result.errors[0].message
    assert result.rejected_rules == 1 and result.rejected_files == 0


def test_one_bad_file_never_stops_the_others(tmp_path: Path) -> None:
    write(tmp_path, "good1.yml", "id: g1\nlogic: a\n")
    write(tmp_path, "bad_yaml.yml", "id: [\n")
    write(tmp_path, "bad_rule.yml", "id: b\n")
    write(tmp_path, "empty.yml", "")
    write(tmp_path, "good2.yaml", "- {id: g2, logic: b}\n- {id: g3}\n")
    result = load_rules(tmp_path)
    assert sorted(r.id for r in result.rules) == ["g1", "g2"]
    assert result.rejected_files == 3  # bad_yaml, bad_rule, empty; good2 still gave one rule
    assert result.rejected_rules == 2  # b and g3
    files = sorted(Path(e.location.file or "").name for e in result.errors)
    assert files == ["bad_rule.yml", "bad_yaml.yml", "empty.yml", "good2.yaml"]
    empty_error = next(e for e in result.errors if (e.location.file or "").endswith("empty.yml"))
    assert "holds no rule" in empty_error.message


def test_jsonl_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = write(tmp_path, "d.jsonl", '{"id": "a", "search": "x"}\n{broken\n{"id": "c"}\n')
    result = load_rules(path)
    assert [r.id for r in result.rules] == ["a"]
    msgs = messages(result)
    assert any("line 2: invalid JSON" in m for m in msgs)
    assert any("line 3: missing key `logic`" in m and "rule c" in m for m in msgs)
    assert result.rejected_rules == 2 and result.rejected_files == 0


def test_missing_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    result = load_rules([tmp_path / "nope.yml", write(tmp_path, "ok.yml", "id: ok\nlogic: x\n")])
    assert [r.id for r in result.rules] == ["ok"]
    assert "no such file" in result.errors[0].message
    assert result.rejected_files == 1


def test_from_mapping_can_be_used_directly() -> None:
    rule = Rule.from_mapping({"id": 7, "title": "T", "logic": "x", "technique_id": "T1059"}, "mem")
    assert (rule.id, rule.technique_ids, rule.source_file) == ("7", ["T1059"], "mem")
    with pytest.raises(RuleError, match="must be a mapping"):
        Rule.from_mapping(["not", "a", "mapping"], "mem")  # type: ignore[arg-type]


def test_whole_escu_corpus_loads_without_errors(shared_dir: Path) -> None:
    result = load_rules(shared_dir / "corpus" / "escu" / "detections.jsonl")
    assert result.errors == []
    assert len(result.rules) == 1244
    assert {r.status for r in result.rules} <= {"production", "experimental", "deprecated"}
    assert all(r.logic.strip() for r in result.rules)
