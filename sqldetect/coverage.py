"""How much of a detection corpus sqldetect handles, phase by phase.

A corpus directory holds ``detections.jsonl`` (one detection a line, SPL in ``search``) and
``macros.jsonl`` (and, optionally, ``lookups.jsonl`` + ``lookups/``). Each detection goes through an ordered list
of *phases* (``expand``, ``parse``, then with ``SqlPhases`` ``translate`` and ``execute``) and stops at the first
phase that fails. ``execute`` runs the SQL on an EMPTY event table of the Windows event schema: it proves DuckDB
binds and runs the query (every column, function and lookup file resolves), not that it finds anything. The result is
plain data (``CoverageReport``): one ``DetectionResult`` per detection plus the phase order, from which the
CLI prints totals, the commonest failure reasons and the split by status.

To add a phase, write ``def my_phase(attempt: Attempt) -> None`` that reads what earlier phases left on the
attempt (``expanded``, ``pipeline``, ``artifacts``), raises a ``SqlDetectError`` on failure, and stores its
own output; then pass ``phases=[*DEFAULT_PHASES, ("translate", my_phase)]``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqldetect.errors import MacroError, SqlDetectError, UnsupportedError
from sqldetect.macros import MacroLibrary
from sqldetect.schema import Schema
from sqldetect.spl import ast

__all__ = [
    "DEFAULT_PHASES",
    "PHASE_NAMES",
    "Attempt",
    "CoverageReport",
    "DetectionResult",
    "Phase",
    "SqlPhases",
    "load_corpus_library",
    "reason_key",
    "run_coverage",
]

STATUSES = ("production", "experimental", "deprecated")


@dataclass
class Attempt:
    """One detection on its way through the phases; each phase reads and extends it."""

    id: str
    name: str
    status: str
    search: str
    library: MacroLibrary
    expanded: str | None = None
    pipeline: ast.Pipeline | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)


Phase = tuple[str, Callable[[Attempt], None]]


def _expand(attempt: Attempt) -> None:
    attempt.expanded = attempt.library.expand(attempt.search, attempt.id)


def _parse(attempt: Attempt) -> None:
    from sqldetect.spl.parser import parse

    assert attempt.expanded is not None
    attempt.pipeline = parse(attempt.expanded, rule_id=attempt.id)


DEFAULT_PHASES: tuple[Phase, ...] = (("expand", _expand), ("parse", _parse))
PHASE_NAMES = ("expand", "parse", "translate", "execute")


class SqlPhases:
    """The ``translate`` and ``execute`` phases, sharing one in-memory engine over an empty event table.

    The engine is built the way ``sqldetect run`` builds one (shipped data models and calculated fields, the
    given lookups), so a detection that passes here is one ``run`` would accept; queries run locked down, as
    in ``run``. ``schema``: the event fields to translate against (default: the Windows event schema); ``macros``: the
    library the detections were expanded with.
    """

    def __init__(self, lookups: Any = None, schema: Schema | None = None, macros: MacroLibrary | None = None) -> None:
        from sqldetect.compile import default_schema
        from sqldetect.engine import Engine

        schema = schema if schema is not None else default_schema()
        self.engine = Engine(lookups=lookups, schema=schema)
        if macros is not None:  # search strings parsed while translating (map) expand the corpus's macros
            self.engine.macros = macros
        schema.create_empty_table(self.engine.con, self.engine.table)

    def translate(self, attempt: Attempt) -> None:
        from sqldetect.compile import compile_pipeline

        assert attempt.pipeline is not None
        compiled = compile_pipeline(attempt.pipeline, self.engine.schema(), self.engine.options(attempt.id))
        compiled.sql()  # printing can fail too (a pipeline too deep for the printer): part of translating
        attempt.artifacts["compiled"] = compiled

    def execute(self, attempt: Attempt) -> None:
        self.engine.execute(attempt.artifacts["compiled"], attempt.id)

    def phases(self, until: str = "execute") -> list[Phase]:
        """The phases up to and including ``until`` (one of ``PHASE_NAMES``)."""
        every: list[Phase] = [*DEFAULT_PHASES, ("translate", self.translate), ("execute", self.execute)]
        return every[: PHASE_NAMES.index(until) + 1]

    def close(self) -> None:
        self.engine.close()


@dataclass
class DetectionResult:
    """The outcome for one detection.

    ``passed`` lists the phases it got through, in order. When ``ok`` is False, ``phase`` is the phase that
    failed, ``error`` the full one-line message, ``reason`` a short key that groups alike failures, and
    ``stage`` the SPL pipeline stage the error points at (e.g. ``3 (rex)``) when known.
    """

    id: str
    name: str
    status: str
    ok: bool
    passed: list[str] = field(default_factory=list)
    phase: str | None = None
    stage: str | None = None
    error: str | None = None
    reason: str | None = None
    #: whether the search starts with ``| tstats`` or ``| from datamodel`` (the data model detections, which
    #: coverage also reports apart from the searches over raw events)
    datamodel: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "ok": self.ok,
            "passed": self.passed,
            "phase": self.phase,
            "stage": self.stage,
            "error": self.error,
            "reason": self.reason,
            "datamodel": self.datamodel,
        }


@dataclass
class CoverageReport:
    directory: str
    phases: list[str]
    results: list[DetectionResult] = field(default_factory=list)
    #: Problems in the corpus files themselves (a macro record or detection line that could not be read).
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.results)

    def passed(self, phase: str) -> int:
        """How many detections got through ``phase`` (and therefore every phase before it)."""
        return sum(1 for r in self.results if phase in r.passed)

    def reasons(self) -> Counter[str]:
        return Counter(r.reason for r in self.results if r.reason is not None)

    def by_status(self, phase: str) -> dict[str, tuple[int, int]]:
        """``status -> (passed phase, total)``; known statuses first, then any others alphabetically."""
        counts: dict[str, list[int]] = {}
        for result in self.results:
            entry = counts.setdefault(result.status, [0, 0])
            entry[1] += 1
            if phase in result.passed:
                entry[0] += 1
        order = [s for s in STATUSES if s in counts] + sorted(s for s in counts if s not in STATUSES)
        return {s: (counts[s][0], counts[s][1]) for s in order}

    def to_json(self) -> list[dict[str, object]]:
        return [r.to_dict() for r in self.results]

    def render(self, top: int = 15) -> str:
        """The human summary: a table of how many detections got through each phase, for all of them and per
        status (``production`` is the figure that matters), the commonest failure reasons overall and among
        production detections, and a last line ``parse P/N translate T/N execute E/N`` (every phase after
        ``expand``) that scripts can read."""
        lines = [f"coverage of {self.total} detections in {self.directory} (phases: {', '.join(self.phases)})"]
        width = max(12, *(len(p) + 2 for p in self.phases))
        lines.append(f"  {'':<13}" + "".join(f"{p:>{width + 9}}" for p in self.phases))
        groups: list[tuple[str, list[DetectionResult]]] = [("all", self.results)]
        statuses = [s for s in STATUSES if any(r.status == s for r in self.results)]
        statuses += sorted({r.status for r in self.results} - set(STATUSES))
        groups += [(s, [r for r in self.results if r.status == s]) for s in statuses]
        if any(r.datamodel for r in self.results):
            production = [r for r in self.results if r.status == "production"]
            groups += [("  data model", [r for r in production if r.datamodel]),
                       ("  raw events", [r for r in production if not r.datamodel])]
        for label, results in groups:
            cells = [_fraction(sum(1 for r in results if p in r.passed), len(results)) for p in self.phases]
            lines.append(f"  {label:<13}" + "".join(f"{c:>{width + 9}}" for c in cells))
        reasons = self.reasons()
        if reasons:
            lines.append(f"commonest failure reasons, all detections ({len(reasons)} distinct):")
            lines += [f"  {count:>5}  {reason}" for reason, count in reasons.most_common(top)]
        production = Counter(r.reason for r in self.results if r.reason is not None and r.status == "production")
        if production:
            lines.append(f"failure reasons, production detections ({sum(production.values())} detections):")
            lines += [f"  {count:>5}  {reason}" for reason, count in production.most_common(top)]
        lines += [f"warning: {w}" for w in self.warnings]
        shown = [p for p in self.phases if p != "expand"] or self.phases
        lines.append(" ".join(f"{p} {self.passed(p)}/{self.total}" for p in shown))
        return "\n".join(lines)


def _fraction(passed: int, total: int) -> str:
    percent = f"{100 * passed / total:.1f}%" if total else "-"
    return f"{passed}/{total} ({percent})"


def load_corpus_library(directory: str | Path, macro_files: Iterable[str | Path] = ()) -> MacroLibrary:
    """The shipped defaults, then the corpus's ``macros.jsonl`` (if present), then the user's files."""
    library = MacroLibrary.default()
    corpus_macros = Path(directory) / "macros.jsonl"
    if corpus_macros.is_file():
        library.load(corpus_macros)
    for path in macro_files:
        library.load(path)
    return library


def run_coverage(
    directory: str | Path,
    macro_files: Iterable[str | Path] = (),
    phases: Sequence[Phase] = DEFAULT_PHASES,
    library: MacroLibrary | None = None,
) -> CoverageReport:
    """Run every detection of ``directory/detections.jsonl`` through ``phases``; never stops on a failure."""
    directory = Path(directory)
    if library is None:
        library = load_corpus_library(directory, macro_files)
    report = CoverageReport(str(directory), [name for name, _ in phases])
    report.warnings += [e.headline() for e in library.errors]
    detections = directory / "detections.jsonl"
    with detections.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                attempt = Attempt(
                    id=str(record["id"]),
                    name=str(record.get("name", "")),
                    status=str(record.get("status") or "unknown"),
                    search=str(record["search"]),
                    library=library,
                )
            except (ValueError, KeyError, TypeError) as exc:
                report.warnings.append(f"{detections}:{lineno}: unreadable detection ({exc})")
                continue
            report.results.append(_run_one(attempt, phases))
    return report


def _run_one(attempt: Attempt, phases: Sequence[Phase]) -> DetectionResult:
    result = DetectionResult(attempt.id, attempt.name, attempt.status, ok=True,
                             datamodel=bool(_DATAMODEL_SEARCH.match(attempt.search)))
    for name, phase in phases:
        try:
            phase(attempt)
        except SqlDetectError as exc:
            result.ok = False
            result.phase = name
            result.error = exc.headline()
            result.reason = f"{name}: {reason_key(exc)}"
            loc = exc.location
            if loc.stage_index is not None:
                result.stage = (
                    f"{loc.stage_index} ({loc.stage_name})" if loc.stage_name else str(loc.stage_index)
                )
            return result
        except Exception as exc:  # a bug in one phase must not stop the measurement of the others
            result.ok = False
            result.phase = name
            first = str(exc).splitlines()[0] if str(exc) else ""
            result.error = f"rule {attempt.id}: internal error: {type(exc).__name__}: {first}"
            result.reason = f"{name}: internal error: {type(exc).__name__}"
            return result
        result.passed.append(name)
    return result


_DATAMODEL_SEARCH = re.compile(r"\s*\|\s*(?:tstats\b|from\s+datamodel\b)", re.IGNORECASE)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»")
_NUMBER = re.compile(r"\b\d+\b")
_WHERE = re.compile(r" in (?:/|[A-Za-z]:\\)\S*(?:, \S+)*$")  # "... not found in /abs/dir": the place, not the cause


def reason_key(exc: SqlDetectError) -> str:
    """A short key that groups failures with the same cause.

    Unsupported constructs group by the construct (``unsupported: transaction``), unknown macros by the
    macro (the fix is one definition), everything else by the command it happened in and its message with
    quoted specifics and numbers blanked out, cut at 80 characters (``[rex] rex needs a quoted ...``).
    """
    if isinstance(exc, UnsupportedError) and exc.construct:
        return f"unsupported: {exc.construct}"
    message = exc.message
    if isinstance(exc, MacroError):
        return message.split(" (while expanding")[0]
    message = _QUOTED.sub("…", message)
    message = _WHERE.sub("", message)
    message = _NUMBER.sub("N", message)
    stage = exc.location.stage_name
    return f"[{stage}] {message[:80]}" if stage else message[:80]
