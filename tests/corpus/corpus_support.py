"""Shared helpers of the corpus truth tests: the ESCU corpus detections by id, and an engine set up the way
``sqldetect run`` runs them (the corpus's macros and lookups) over one fixture event set.

Everything here reads ``../shared/corpus/escu``; callers get its location from the ``shared_dir`` fixture, so
the tests skip cleanly on a clone without the reference data.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sqldetect.compile.lookups import LookupResolver
from sqldetect.engine import Engine
from sqldetect.evtxwriter.fixtures import message_fields, write_fixture_evtx
from sqldetect.results import text_of
from sqldetect.rules import Rule, load_rules

CASES_DIR = Path(__file__).resolve().parent / "cases"
SCENARIOS = ("fires", "silent")


@cache
def corpus_rules(corpus: Path) -> dict[str, Rule]:
    """Every corpus detection as a rule, by id (loaded once per process: the file is large)."""
    result = load_rules(corpus / "detections.jsonl")
    return {rule.id: rule for rule in result.rules}


@cache
def corpus_records(corpus: Path) -> dict[str, dict[str, Any]]:
    """The raw detection records by id (name, status, data source), to check a case names the right one."""
    with open(corpus / "detections.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return {str(record["id"]): record for record in records}


@cache
def template_fields() -> dict[tuple[str, int], list[str]]:
    return message_fields()


def write_source(source: Path, target: Path) -> Path:
    """A case's YAML event source written as EVTX (template-ordered EventData, as Windows writes it)."""
    write_fixture_evtx(source, target, template_fields())
    return target


def corpus_engine(corpus: Path, evtx: Path, raw_format: str = "xml") -> Engine:
    """A fresh in-memory engine holding ``evtx``, with the corpus's macros and lookups."""
    engine = Engine(macros=[corpus / "macros.jsonl"], lookups=LookupResolver.from_directory(corpus / "lookups"))
    report = engine.load([str(evtx)], raw_format=raw_format, workers=0, progress=False)
    assert not report.skipped, f"events skipped while loading {evtx}"
    return engine


def run_detection(engine: Engine, rule: Rule) -> list[dict[str, Any]]:
    """The detection's result rows; a refusal or failing query is an assertion error with the reason."""
    outcome = engine.run_rule(rule)
    assert outcome.status == "ok", f"detection {rule.id} {outcome.status}: {outcome.error}"
    return outcome.rows


def project(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Rows cut down to ``names``, every value as Splunk prints it, in a canonical order."""
    cut = [{name: text_of(row.get(name)) for name in names} for row in rows]
    return sorted(cut, key=lambda row: json.dumps(row, sort_keys=True, default=str))
