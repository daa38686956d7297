"""Loading macro definitions: macros.conf, security_content YAML, JSONL/JSON, and the shipped defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sqldetect.errors import MacroError
from sqldetect.macros import MacroLibrary, parse_macros_conf

CONF = r"""
# a comment line
x = before any stanza is ignored

[default]
definition = ignored

[sysmon]
definition = sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational

[pair(2)]
args = a, b
definition = a=$a$ \
    b=$b$
validation = isnum($a$)
errormsg = a must be a number
description = two values

[calc(1)]
args = n
definition = if($n$>0, "pos", "neg")
iseval = true

[quoted_eval]
definition = ""
iseval = 1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_conf_stanzas_args_and_continuation_lines(tmp_path: Path) -> None:
    lib = MacroLibrary()
    assert lib.load(write(tmp_path, "macros.conf", CONF)) == 4
    assert lib.errors == []
    assert lib.expand("`sysmon`") == "sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
    # the backslash-newline keeps a line break, which SPL reads as a space; validation/errormsg are ignored
    assert lib.expand("`pair(1, 2)`") == "a=1 \n    b=2"
    pair = lib.get("pair", 2)
    assert pair is not None and pair.args == ("a", "b") and pair.source == f"{tmp_path / 'macros.conf'}:11"
    assert lib.get("default", 0) is None


def test_conf_iseval_true_is_refused_at_expansion_with_the_definition_place(tmp_path: Path) -> None:
    lib = MacroLibrary()
    lib.load(write(tmp_path, "macros.conf", CONF))
    with pytest.raises(
        MacroError, match=r"`calc\(1\)` is an eval-based macro \(iseval = true\).*unsupported"
    ):
        lib.expand("index=x `calc(3)`", rule_id="r")
    # the one eval form that needs no evaluation: a lone string literal
    assert lib.expand("a `quoted_eval` b") == "a  b"


def test_conf_errors_are_collected_per_stanza(tmp_path: Path) -> None:
    text = (
        "[ok]\ndefinition = fine\n"
        "[mismatch(2)]\nargs = only\ndefinition = x\n"
        "[nodef]\nargs =\n"
        "[badargs(1)]\nargs = a b!\ndefinition = x\n"
        "[repeat(2)]\nargs = a, a\ndefinition = x\n"
        "[flag]\ndefinition = x\niseval = maybe\n"
        "this line has no equals sign\n"
    )
    macros, errors = parse_macros_conf(text, "m.conf")
    assert [m.label for m in macros] == ["ok"]
    text_errors = [e.message for e in errors]
    assert any("line 17: expected `key = value`" in e for e in text_errors)
    assert any(
        "stanza [mismatch(2)]" in e and "says 2 arguments but `args` lists 1" in e for e in text_errors
    )
    assert any("stanza [nodef]" in e and "missing `definition`" in e for e in text_errors)
    assert any("stanza [badargs(1)]" in e and "invalid argument name" in e for e in text_errors)
    assert any("stanza [repeat(2)]" in e and "repeated" in e for e in text_errors)
    assert any("line 14: stanza [flag]: `iseval` must be true or false" in e for e in text_errors)
    assert all(e.location.file == "m.conf" for e in errors)


def test_a_repeated_stanza_overrides_earlier_keys() -> None:
    macros, errors = parse_macros_conf(
        "[m]\ndefinition = one\n[other]\ndefinition = o\n[m]\ndefinition = two\n"
    )
    assert errors == []
    assert {m.name: m.definition for m in macros} == {"m": "two", "other": "o"}


def test_security_content_yaml_macros(tmp_path: Path) -> None:
    one = write(
        tmp_path,
        "security_content_ctime.yml",
        'name: security_content_ctime\ndefinition: convert timeformat="%Y" ctime($field$)\n'
        "arguments:\n- field\ndescription: convert epoch time\n",
    )
    many = write(
        tmp_path,
        "config.yaml",
        "- name: summariesonly_config\n  definition: false\n  arguments: []\n"
        "- name: fillnull_config\n  definition: null\n"
        "- name: n\n  definition: 12\n",
    )
    lib = MacroLibrary()
    assert lib.load(one) == 1
    assert lib.load(many) == 3
    assert lib.expand("`security_content_ctime(firstTime)`") == 'convert timeformat="%Y" ctime(firstTime)'
    # YAML would read these as a boolean, a null and a number: as SPL they are words
    assert lib.expand("`summariesonly_config`|`fillnull_config`|`n`") == "false|null|12"


def test_jsonl_and_json_macro_files(tmp_path: Path) -> None:
    records = [
        {"name": "a", "definition": "A=$x$", "arguments": ["x"]},
        {"name": "b", "definition": "B", "arguments": []},
    ]
    jsonl = write(tmp_path, "m.jsonl", "\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    as_json = write(
        tmp_path,
        "m.json",
        json.dumps({"macros": [{"name": "c(1)", "definition": "C$v$", "arguments": ["v"]}]}),
    )
    lib = MacroLibrary()
    assert lib.load(jsonl) == 2
    assert lib.load(as_json) == 1
    assert lib.expand("`a(1)` `b` `c(2)`") == "A=1 B C2"
    (error,) = lib.errors
    assert "line 3: invalid JSON" in error.message and error.location.file == str(jsonl)


def test_bad_macro_records_are_reported_and_the_rest_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.jsonl",
        '{"name": "good", "definition": "g"}\n{"definition": "no name"}\n{"name": "nodef"}\n'
        '{"name": "x", "definition": ["list"]}\n{"name": "y(2)", "definition": "d", "arguments": ["a"]}\n',
    )
    lib = MacroLibrary()
    assert lib.load(path) == 1
    messages = [e.message for e in lib.errors]
    assert len(messages) == 4
    assert any("missing or non-string `name`" in m for m in messages)
    assert any("`nodef`: missing `definition`" in m for m in messages)
    assert any("`definition` must be a string" in m for m in messages)
    assert any("the name says 2 arguments" in m for m in messages)


def test_unreadable_or_unknown_files_raise(tmp_path: Path) -> None:
    lib = MacroLibrary()
    with pytest.raises(MacroError, match="cannot read"):
        lib.load(tmp_path / "missing.conf")
    with pytest.raises(MacroError, match=r"extension '\.txt'"):
        lib.load(write(tmp_path, "m.txt", "x"))
    with pytest.raises(MacroError, match="YAML syntax error at line"):
        lib.load(write(tmp_path, "m.yml", "name: [\n"))


def test_add_rejects_bad_argument_names() -> None:
    with pytest.raises(MacroError, match="invalid argument name"):
        MacroLibrary().add("m", "x", ["has space"])
    with pytest.raises(MacroError, match="repeated"):
        MacroLibrary().add("m", "x", ["a", "a"])


def test_default_library_runs_the_seed_rule_and_keeps_its_grouping(project_root: Path) -> None:
    from sqldetect.rules import load_rules

    (rule,) = load_rules(project_root / "rules" / "msiexec_install_msi_file.yml").rules
    expanded = MacroLibrary.default().expand(rule.logic, rule.id)
    first_stage = expanded.split("|")[0]
    # each data macro becomes one match-all term, so the author's grouping is untouched:
    # * AND * AND (TERM(EventCode=1040) OR "<EventID>1040<") AND (TERM(MsiInstaller) OR TERM(ingress.event.procstart))
    assert first_stage.split() == [
        "*",
        "*",
        "(TERM(EventCode=1040)",
        "OR",
        '"<EventID>1040<")',
        "TERM(MsiInstaller)",
        "OR",
        "TERM(ingress.event.procstart)",
    ]
    assert expanded[expanded.index("|") :] == rule.logic[rule.logic.index("|") :]


def test_default_library_ships_escu_helpers_and_comment() -> None:
    lib = MacroLibrary.default()
    assert lib.expand("| tstats `security_content_summariesonly` count") == (
        "| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count"
    )
    assert lib.expand("| `security_content_ctime(firstTime)`") == (
        '| convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime)'
    )
    assert lib.expand('index=x | `comment("why, this")` | stats count') == "index=x | stats count"


def test_a_user_file_overrides_the_defaults(tmp_path: Path) -> None:
    lib = MacroLibrary.default()
    lib.load(write(tmp_path, "mine.conf", "[get_endpoint_data]\ndefinition = index=endpoint\n"))
    assert lib.expand("`get_endpoint_data` x") == "index=endpoint x"
    assert lib.expand("`get_endpoint_data_winevent` x") == "* x"


QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')

# Detections of the corpus that call macros from apps other than ESCU, which the corpus does not define.
EXPECTED_CORPUS_FAILURES = {
    "Detection of DNS Tunnels": "unknown macro `cim_corporate_web_domain_search(1)`",
    "Excessive DNS Failures": "unknown macro `get_asset(1)`",
}


def test_every_corpus_detection_expands_with_the_corpus_macros(shared_dir: Path) -> None:
    escu = shared_dir / "corpus" / "escu"
    lib = MacroLibrary.default()
    assert lib.load(escu / "macros.jsonl") == 189
    assert lib.errors == []
    failures: dict[str, str] = {}
    count = 0
    with (escu / "detections.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            detection = json.loads(line)
            count += 1
            try:
                expanded = lib.expand(detection["search"], detection["id"])
            except MacroError as exc:
                failures[detection["name"]] = exc.message
                print(f"{detection['name']}: {exc.headline()}")
                continue
            # no call or comment is left outside quoted strings
            assert "`" not in QUOTED.sub('""', expanded), detection["name"]
    assert count == 1244
    assert failures == EXPECTED_CORPUS_FAILURES
