"""Benchmark: translate and execute every ESCU detection of the reference corpus.

For each detection the search is macro-expanded with the test-only expander of ``escu_corpus.py``, parsed,
translated against the default Windows event schema (``sqldetect.compile.default_schema()``, optionally
widened with every EventData field named in ``sqldetect/data/messages.yaml``) and the SQL is EXECUTED on an
empty ``events`` table with exactly those columns, so a translation that produces SQL DuckDB rejects counts as
a failure. Prints how many detections get through each step, for all detections, production ones, and the
``| tstats`` ones separately, then the commonest reasons for refusals and errors.

    PYTHONPATH=$PWD python benchmarks/corpus_translate.py [path/to/corpus/escu] [--eventdata] [--top N]

The corpus defaults to ``$SQLDETECT_SHARED/corpus/escu`` (``../shared`` next to the project otherwise).
``--failures FILE`` writes one JSON line per detection that did not execute (id, step, error).
``--drop-command NAME`` (repeatable) removes every stage of that command before translating: an *estimate* of
what the rest of the pipeline gives once that command is supported (e.g. ``convert``, which only formats times
in ESCU), never a measurement of real coverage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from escu_corpus import expand_macros, load_detections, load_macros

from sqldetect.compile import CompileOptions, compile_pipeline, default_schema
from sqldetect.errors import SqlDetectError, UnsupportedError
from sqldetect.schema import Field, FieldKind, Schema
from sqldetect.spl import ast
from sqldetect.spl.parser import parse

STEPS = ("parsed", "translated", "executed")
_TSTATS = re.compile(r"^\s*\|\s*tstats\b", re.IGNORECASE)


def default_corpus() -> Path:
    project = Path(__file__).resolve().parent.parent
    shared = Path(os.environ.get("SQLDETECT_SHARED", project.parent / "shared"))
    return shared / "corpus" / "escu"


def eventdata_schema(base: Schema) -> Schema:
    """``base`` plus every EventData field named in messages.yaml and the Windows header fields (strings),
    so data model field expressions read real columns instead of statically-NULL ones."""
    import yaml

    from sqldetect.data import __file__ as data_init

    messages = yaml.safe_load((Path(data_init).parent / "messages.yaml").read_text(encoding="utf-8"))
    names = ["EventCode", "Channel", "Computer"]
    for events in messages.values():
        for entry in events.values():
            names.extend(entry.get("fields") or [])
    fields = list(base)
    known = {f.name.lower() for f in fields}
    for name in names:
        if name.lower() not in known:  # DuckDB columns are case-insensitive: keep the first spelling
            known.add(name.lower())
            fields.append(Field(name, FieldKind.STRING))
    return Schema(fields)


@dataclass
class Outcome:
    rule_id: str
    status: str
    tstats: bool
    step: str  # the last step reached: "none" (parse failed) or one of STEPS
    reason: str = ""
    error: str = ""
    #: the first stage alone (e.g. the tstats) translated and executed
    first_stage_ok: bool = False


def reason_of(err: Exception) -> str:
    """A short, groupable reason: the refused construct, or the error class and message head."""
    if isinstance(err, UnsupportedError) and err.construct:
        return f"unsupported: {err.construct}"
    if isinstance(err, SqlDetectError):
        return f"{type(err).__name__}: {err.message[:80]}"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text[:80]}"


def run(corpus: Path, schema: Schema, drop: frozenset[str] = frozenset()) -> tuple[list[Outcome], dict[str, float]]:
    macros = load_macros(corpus)
    detections = load_detections(corpus)
    con = duckdb.connect()
    schema.create_empty_table(con)
    timings = {"parse": 0.0, "translate": 0.0, "execute": 0.0}
    outcomes: list[Outcome] = []
    for record in detections:
        spl = expand_macros(record["search"], macros)
        outcome = Outcome(record["id"], record.get("status") or "", bool(_TSTATS.match(spl)), "none")
        outcomes.append(outcome)
        pipeline = None
        try:
            started = time.perf_counter()
            pipeline = parse(spl, rule_id=record["id"])
            timings["parse"] += time.perf_counter() - started
            if drop:
                kept = [c for c in pipeline.commands if c.name not in drop and c.canonical not in drop]
                pipeline = ast.Pipeline(kept or pipeline.commands[:1], pipeline.source, pipeline.span,
                                        pipeline.generating)
            outcome.step = "parsed"
            started = time.perf_counter()
            sql = compile_pipeline(pipeline, schema, CompileOptions(rule_id=record["id"])).sql()
            timings["translate"] += time.perf_counter() - started
            outcome.step = "translated"
            started = time.perf_counter()
            con.execute(sql).fetchall()
            timings["execute"] += time.perf_counter() - started
            outcome.step = "executed"
        except Exception as err:  # every failure is counted, none may stop the run
            outcome.reason = reason_of(err)
            outcome.error = str(err).splitlines()[0] if str(err) else type(err).__name__
        if pipeline is not None:
            outcome.first_stage_ok = outcome.step == "executed" or first_stage_runs(con, pipeline, schema,
                                                                                    record["id"])
    con.close()
    return outcomes, timings


def first_stage_runs(con: duckdb.DuckDBPyConnection, pipeline: ast.Pipeline, schema: Schema,
                     rule_id: str) -> bool:
    """Whether the pipeline's first stage alone translates and executes (how far the generating command, e.g.
    tstats, gets independently of the commands after it)."""
    first = ast.Pipeline(pipeline.commands[:1], pipeline.source, pipeline.span, pipeline.generating)
    try:
        con.execute(compile_pipeline(first, schema, CompileOptions(rule_id=rule_id)).sql()).fetchall()
    except Exception:  # a failure here is the measurement
        return False
    return True


def reached(outcomes: list[Outcome], step: str) -> int:
    rank = {"none": 0, **{s: i + 1 for i, s in enumerate(STEPS)}}
    return sum(1 for o in outcomes if rank[o.step] >= rank[step])


def print_counts(label: str, outcomes: list[Outcome]) -> None:
    total = len(outcomes)
    cells = []
    for step in STEPS:
        n = reached(outcomes, step)
        cells.append(f"{step} {n:4d} ({100 * n / total:5.1f}%)" if total else f"{step} 0")
    first = sum(1 for o in outcomes if o.first_stage_ok)
    cells.append(f"first stage runs {first:4d}")
    print(f"{label:<28} {total:5d}   " + "   ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    parser.add_argument("--eventdata", action="store_true",
                        help="add every messages.yaml EventData field to the schema (as strings)")
    parser.add_argument("--top", type=int, default=15, help="how many refusal reasons to list")
    parser.add_argument("--failures", type=Path, help="write the failed detections as JSON lines here")
    parser.add_argument("--drop-command", action="append", default=[], metavar="NAME",
                        help="remove this command's stages first (an estimate, see above); repeatable")
    args = parser.parse_args()
    if not (args.corpus / "detections.jsonl").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    schema = default_schema()
    if args.eventdata:
        schema = eventdata_schema(schema)

    started = time.perf_counter()
    outcomes, timings = run(args.corpus, schema, frozenset(args.drop_command))
    wall = time.perf_counter() - started

    print(f"schema: {len(schema)} fields; corpus: {args.corpus}")
    if args.drop_command:
        print(f"ESTIMATE: stages of {', '.join(args.drop_command)} removed before translating")
    print(f"{'':<28} {'total':>5}")
    production = [o for o in outcomes if o.status == "production"]
    print_counts("all detections", outcomes)
    print_counts("production", production)
    print_counts("tstats (all)", [o for o in outcomes if o.tstats])
    print_counts("tstats (production)", [o for o in production if o.tstats])
    print_counts("other (production)", [o for o in production if not o.tstats])
    print(f"time: {wall:.2f} s wall; parse {timings['parse']:.2f} s, translate {timings['translate']:.2f} s, "
          f"execute {timings['execute']:.2f} s")

    for label, subset in (("all", outcomes), ("tstats", [o for o in outcomes if o.tstats])):
        reasons = Counter(o.reason for o in subset if o.step != "executed")
        print(f"\ncommonest reasons a detection did not execute ({label}):")
        for reason, count in reasons.most_common(args.top):
            print(f"  {count:4d}  {reason}")

    if args.failures:
        with args.failures.open("w", encoding="utf-8") as handle:
            for o in outcomes:
                if o.step != "executed":
                    handle.write(json.dumps(o.__dict__) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
