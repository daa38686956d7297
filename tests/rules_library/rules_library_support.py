"""Shared helpers of the rules-library tests: where the library lives, writing a rule's fixture sources as
EVTX, and running one rule over one event set in a fresh engine.

The fixture sources (``fixtures/src/rules/<rule id>/fires.yaml`` and ``silent.yaml``) are written the way the
shipped fixtures are (``sqldetect.evtxwriter.fixtures``): EventData of events with a message template is put in
the template's order and must hold exactly its fields, so every event has the shape Windows gives it and its
classic rendering carries a correct ``Message``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqldetect.compile.lookups import LookupResolver
from sqldetect.engine import Engine
from sqldetect.evtxwriter import InvalidEventError, write_evtx
from sqldetect.evtxwriter.fixtures import message_fields, schema_ordered
from sqldetect.evtxwriter.inputs import read_events
from sqldetect.results import text_of
from sqldetect.rules import Rule, load_rules

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = PROJECT_ROOT / "rules"
LOOKUPS_DIR = RULES_DIR / "lookups"
SQL_DIR = PROJECT_ROOT / "sql"
SHIPPED_FIXTURES = PROJECT_ROOT / "fixtures"
RULE_FIXTURES = SHIPPED_FIXTURES / "src" / "rules"
CASES_DIR = Path(__file__).resolve().parent / "cases"
RENDERINGS = ("xml", "classic")
SCENARIOS = ("fires", "silent")
SEED_RULE_ID = "1117.1196"

# Hits per rule of `sqldetect run rules/ fixtures/` (the shipped fixtures); see test_shipped_fixtures.py.
LIBRARY_HITS = {
    "sqld-0001": 2, "sqld-0002": 1, "sqld-0003": 2, "sqld-0004": 1, "sqld-0005": 1, "sqld-0006": 3,
    "sqld-0007": 1, "sqld-0008": 1, "sqld-0009": 1, "sqld-0010": 1, "sqld-0011": 2, "sqld-0012": 1,
    "sqld-0014": 1, "sqld-0015": 1, "sqld-0016": 1, "sqld-0017": 2, "sqld-0018": 1, "sqld-0019": 1,
    "sqld-0020": 1, "sqld-0021": 1, "sqld-0022": 1, "sqld-0023": 2, "sqld-0024": 1, "sqld-0025": 1,
    "sqld-0026": 1, "sqld-0027": 1, "sqld-0028": 1, "sqld-0029": 1, "sqld-0031": 1, "sqld-0032": 1,
    "sqld-0033": 1, "sqld-0034": 2, "sqld-0035": 1, "sqld-0036": 1,
}  # fmt: skip
# sqld-0013 needs Sysmon 10 (process access), which the shipped Sysmon log does not hold; sqld-0030 needs a
# parent with ten mostly identical children, which the shipped logs do not have.
SILENT_ON_SHIPPED = {"sqld-0013", "sqld-0030"}
SEED_HITS = {"xml": 1, "classic": 6}


def library_rules() -> dict[str, Rule]:
    """Every rule of ``rules/`` by id; a file that does not load is an assertion error naming it."""
    result = load_rules(RULES_DIR)
    assert not result.errors, "\n".join(str(error) for error in result.errors)
    return {rule.id: rule for rule in result.rules}


@cache
def template_fields() -> dict[tuple[str, int], list[str]]:
    """The message templates' field lists, parsed once (pure-Python YAML is slow)."""
    return message_fields()


def write_source_evtx(source: Path, target: Path) -> int:
    """Write a YAML event source to an EVTX file, template-ordered; any bad event fails with its location."""
    fields = template_fields()
    events = []
    for item in read_events(source):
        if isinstance(item, InvalidEventError):
            raise AssertionError(f"{source}: {item}")
        try:
            events.append(schema_ordered(item.event, fields))  # type: ignore[arg-type]
        except ValueError as exc:
            raise AssertionError(f"{source}: event #{item.index}, line {item.line}: {exc}") from None
    return write_evtx(target, events)


def engine_over(paths: list[Path], raw_format: str) -> Engine:
    """A fresh in-memory engine holding ``paths``, with the library's lookups."""
    engine = Engine(lookups=LookupResolver([LOOKUPS_DIR]))
    report = engine.load([str(p) for p in paths], raw_format=raw_format, workers=0, progress=False)
    assert not report.skipped, f"events skipped while loading {paths}"
    return engine


def run_rule(engine: Engine, rule: Rule) -> list[dict[str, Any]]:
    """The rule's result rows; a refusal or a failing query is an assertion error with the reason."""
    outcome = engine.run_rule(rule)
    assert outcome.status == "ok", f"rule {rule.id} {outcome.status}: {outcome.error}"
    return outcome.rows


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with every value as Splunk prints it (``3`` and ``"3"`` compare equal; lists stay lists)."""
    return [{name: text_of(value) for name, value in row.items()} for row in rows]
