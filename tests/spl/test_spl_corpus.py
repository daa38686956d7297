"""Every ESCU detection of the reference corpus parses (after a simple test-only macro expansion)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sqldetect.errors import SplSyntaxError, UnsupportedError
from sqldetect.spl import ast
from sqldetect.spl.parser import parse

pytestmark = pytest.mark.shared


def load_corpus_helper(project_root: Path) -> ModuleType:
    """benchmarks/escu_corpus.py: the stand-in macro expander shared with the benchmark."""
    path = project_root / "benchmarks" / "escu_corpus.py"
    spec = importlib.util.spec_from_file_location("escu_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("escu_corpus", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(shared_dir: Path, project_root: Path) -> list[tuple[str, str]]:
    helper = load_corpus_helper(project_root)
    return helper.expanded_searches(shared_dir / "corpus" / "escu")


def test_every_corpus_search_parses(corpus: list[tuple[str, str]], spans) -> None:
    assert len(corpus) == 1244
    failures: list[str] = []
    commands = 0
    for rule_id, spl in corpus:
        try:
            pipeline = parse(spl, rule_id=rule_id)
        except (SplSyntaxError, UnsupportedError) as err:
            failures.append(str(err))
            continue
        spans(pipeline)
        commands += len(pipeline.commands)
    for failure in failures:
        print(failure, end="\n\n")
    assert not any("internal parser error" in f for f in failures)
    assert failures == []
    assert commands > 5000


def test_corpus_shapes(corpus: list[tuple[str, str]]) -> None:
    """The corpus' dominant shapes come out structured, not generic."""
    pipelines = [parse(spl) for _, spl in corpus]
    firsts = [p.commands[0] for p in pipelines]
    tstats = [c for c in firsts if isinstance(c, ast.TstatsCommand)]
    assert len(tstats) > 600
    assert sum(c.datamodel == "Endpoint.Processes" for c in tstats) > 400
    assert all(c.aggregations for c in tstats)
    searches = [c for c in firsts if isinstance(c, ast.SearchCommand)]
    assert len(searches) > 450 and all(c.expr is not None for c in searches)
    structured = {type(c).__name__ for p in pipelines for c in p.commands}
    assert {"ConvertCommand", "RenameCommand", "StatsCommand", "EvalCommand", "WhereCommand", "RexCommand",
            "LookupCommand", "JoinCommand", "SpathCommand", "ForeachCommand"} <= structured
