"""Every library rule against its own fixtures: it fires with exactly the expected rows on
``fixtures/src/rules/<id>/fires.yaml`` and returns nothing on the near misses of ``silent.yaml``, in each
rendering its case lists (both by default).

A case file ``cases/<id>.yaml`` holds ``rule`` (the id), ``doc`` (what the fixtures exercise), optional
``renderings`` and ``fires``: the expected rows in output order, each with only the fields that have values,
worked out from the rule's SPL and Splunk's semantics rather than copied from sqldetect's output; ``fires_xml``
replaces them for the XmlWinEventLog rendering when an output value differs there (its fields keep XML entities). Each
scenario is loaded into its own engine so that the malicious and the benign events never share a baseline.
The near misses must be near: when a rule filters after its first search, at least one of them gets past that
search, so the later stages are what keeps the rule silent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rules_library_support import (
    CASES_DIR,
    RENDERINGS,
    RULE_FIXTURES,
    SCENARIOS,
    SEED_RULE_ID,
    comparable,
    engine_over,
    library_rules,
    run_rule,
    write_source_evtx,
)

from sqldetect.spl.parser import parse

CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
#: commands that can drop rows after the first search (a rule without one is all in its first search)
FILTERS = {"where", "search", "regex", "dedup", "stats"}


def load_case(path: Path) -> dict:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert case["rule"] == path.stem, f"{path.name}: rule {case['rule']} does not match the file name"
    assert set(case) <= {"rule", "doc", "renderings", "fires", "fires_xml"}, f"{path.name}: unknown keys"
    assert case.get("fires"), f"{path.name}: no expected rows"
    return case


@pytest.fixture(scope="module")
def rules():
    return library_rules()


@pytest.fixture(scope="module")
def fixture_evtx(tmp_path_factory: pytest.TempPathFactory):
    """``fixture_evtx(rule_id, scenario)``: the scenario's source written to EVTX, once per test process (both
    renderings read the same file); a broken source fails only its own rule."""
    target = tmp_path_factory.mktemp("rule-fixtures")
    written: dict[tuple[str, str], Path] = {}

    def evtx(rule_id: str, scenario: str) -> Path:
        if (rule_id, scenario) not in written:
            path = target / f"{rule_id}-{scenario}.evtx"
            write_source_evtx(RULE_FIXTURES / rule_id / f"{scenario}.yaml", path)
            written[rule_id, scenario] = path
        return written[rule_id, scenario]

    return evtx


def test_every_library_rule_has_a_case_and_both_fixture_sets(rules) -> None:
    library = {rule_id for rule_id in rules if rule_id != SEED_RULE_ID}
    cases = {path.stem for path in CASE_FILES}
    assert len(library) >= 30
    assert library == cases, f"rules without a case: {sorted(library - cases)}; cases without a rule: " \
                             f"{sorted(cases - library)}"
    for rule_id in library:
        for scenario in SCENARIOS:
            assert (RULE_FIXTURES / rule_id / f"{scenario}.yaml").is_file(), f"{rule_id}: no {scenario}.yaml"


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("case_file", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_rule_fires_on_its_fixture_and_stays_silent_on_the_near_misses(
    case_file: Path, rendering: str, rules, fixture_evtx
) -> None:
    case = load_case(case_file)
    if rendering not in case.get("renderings", RENDERINGS):
        pytest.skip(f"{case['rule']} is written for the {'/'.join(case['renderings'])} rendering")
    rule = rules[case["rule"]]
    fired = run_rule(engine_over([fixture_evtx(rule.id, "fires")], rendering), rule)
    assert comparable(fired) == comparable(case.get(f"fires_{rendering}", case["fires"]))
    near_misses = engine_over([fixture_evtx(rule.id, "silent")], rendering)
    assert run_rule(near_misses, rule) == [], f"{rule.id} fired on its near misses"
    pipeline = parse(rule.logic, rule_id=rule.id)
    if any(command.name in FILTERS for command in pipeline.commands[1:]):
        assert near_misses.run_spl(pipeline.stage_text(0)).rows, f"{rule.id}: no near miss gets past the first search"
