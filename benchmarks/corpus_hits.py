"""Which corpus detections fire on which real EVTX files: ESCU detections, unchanged, over ../shared/evtx.

Every EVTX file under the evtx directory is loaded into one in-memory table (XML rendering, as ESCU's
``XmlWinEventLog`` sources expect), each file tagged with its own ``index`` value. Every detection of the chosen
statuses runs once over all events (a view ``subset`` over the table), with the corpus's macros and lookups.
Each detection that returned rows is then attributed to files by bisection: the view is narrowed to half of
the files that made it fire, recursively, so a detection firing on a few of 300 files costs a few dozen runs,
not 300. When a set of files fires but neither half does, the detection needs events from several files
together (a join, a count threshold) and the whole set is reported. Prints, per firing detection, the hits
over all files and the files (with hit counts) that make it fire; ``--json FILE`` writes the same as data.

    PYTHONPATH=$PWD python benchmarks/corpus_hits.py [--evtx DIR] [--corpus DIR] [--status production]
        [--json FILE] [--no-attribution]

This is a measurement, not a test: the EVTX samples are attack recordings, so hits are expected, and which
ones are right is checked by hand (see the issue's closing note).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import duckdb

from sqldetect.compile.lookups import LookupResolver
from sqldetect.engine import Engine
from sqldetect.rules import load_rules
from sqldetect.schema import Schema

PROJECT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SQLDETECT_SHARED", PROJECT.parent / "shared"))


def load_tagged(con: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    """Load each file with ``index=f<number>`` so a view can select any set of files."""
    loader = Engine(con)
    loaded = 0
    for number, path in enumerate(files):
        loaded += loader.load([str(path)], raw_format="xml", index=f"f{number:03d}", progress=False,
                              workers=0).loaded
    return loaded


def narrow(con: duckdb.DuckDBPyConnection, tags: list[str] | None) -> None:
    where = "" if tags is None else " WHERE \"index\" IN (" + ", ".join(f"'{t}'" for t in tags) + ")"
    con.execute(f"CREATE OR REPLACE VIEW subset AS SELECT * FROM events{where}")


def attribute(con: duckdb.DuckDBPyConnection, engine: Engine, compiled: object, tags: list[str],
              hits: int) -> list[tuple[list[str], int]]:
    """The smallest file sets (tags) that make ``compiled`` fire, found by bisection of ``tags``."""
    if len(tags) == 1:
        return [(tags, hits)]
    found: list[tuple[list[str], int]] = []
    half = len(tags) // 2
    for part in (tags[:half], tags[half:]):
        narrow(con, part)
        rows = len(engine.execute(compiled).rows)  # type: ignore[arg-type]
        if rows:
            found += attribute(con, engine, compiled, part, rows)
    return found or [(tags, hits)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evtx", type=Path, default=SHARED / "evtx")
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "escu")
    parser.add_argument("--status", action="append", default=None,
                        help="detection statuses to run (repeatable; default production)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--no-attribution", action="store_true", help="skip the per-file bisection")
    args = parser.parse_args()
    if not (args.corpus / "detections.jsonl").is_file() or not args.evtx.is_dir():
        print(f"reference data not found ({args.corpus}, {args.evtx})", file=sys.stderr)
        return 1
    statuses = set(args.status or ["production"])
    loaded = load_rules(args.corpus / "detections.jsonl")
    rules = [r for r in loaded.rules if (r.status or "") in statuses]
    files = sorted(args.evtx.rglob("*.evtx"))

    con = duckdb.connect()
    started = time.perf_counter()
    events = load_tagged(con, files)
    load_time = time.perf_counter() - started
    schema = Schema.from_duckdb(con, "events")
    narrow(con, None)
    engine = Engine(con, table="subset", schema=schema, macros=[args.corpus / "macros.jsonl"],
                    lookups=LookupResolver.from_directory(args.corpus / "lookups"))
    started = time.perf_counter()
    report = engine.run(rules)
    run_time = time.perf_counter() - started
    firing = [(o.rule, o.hits) for o in report.outcomes if o.status == "ok" and o.hits]
    print(f"{len(files)} EVTX files, {events} events loaded in {load_time:.1f} s; {len(rules)} detections "
          f"({', '.join(sorted(statuses))}) run in {run_time:.1f} s: {len(report.ran)} ran, "
          f"{len(report.refused)} refused, {len(report.failed)} failed; {len(firing)} fired")
    for outcome in report.failed:
        print(f"FAILED {outcome.rule.title} [{outcome.rule.id}]: {outcome.error}")
    if args.no_attribution:
        return 0

    started = time.perf_counter()
    tags = [f"f{n:03d}" for n in range(len(files))]
    name_of = {tag: str(path.relative_to(args.evtx)) for tag, path in zip(tags, files, strict=True)}
    results = []
    for rule, hits in sorted(firing, key=lambda item: item[0].title.lower()):
        found = attribute(con, engine, engine.compile_rule(rule), tags, hits)
        narrow(con, None)
        where = [{"files": [name_of[t] for t in group], "hits": n} for group, n in found]
        results.append({"id": rule.id, "name": rule.title, "hits": hits, "fires_on": where})
        shown = "; ".join(" + ".join(w["files"]) + f" ({w['hits']})" for w in where)
        print(f"{rule.title} [{rule.id}]: {hits} hits\n    {shown}")
    print(f"\nper-file attribution in {time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
