"""Translation speed over the ESCU corpus, and the seed rule's run time against a hand-written query.

Prints:
  1. time to expand + parse + translate every detection of $SQLDETECT_SHARED/corpus/escu (../shared otherwise) (whole corpus, median and p99
     per detection, translate-only figures too); target: whole corpus under 3 s, median under 2 ms a rule;
  2. the seed rule (rules/msiexec_install_msi_file.yml) over N synthetic events (default 1,000,000; classic
     WinEventLog `_raw`, 1% MsiInstaller 1040) against a hand-written DuckDB query doing the same work;
     target: within 1.5x.

Usage: python benchmarks/bench_translate.py [--corpus DIR] [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import duckdb

from sqldetect.compile import CompileOptions, compile_pipeline, default_schema
from sqldetect.errors import SqlDetectError
from sqldetect.macros import MacroLibrary
from sqldetect.rules import load_rules
from sqldetect.schema import Field, FieldKind, Schema
from sqldetect.spl.parser import parse

ROOT = Path(__file__).resolve().parent.parent

HAND_WRITTEN = r"""
WITH matched AS (
  SELECT
    time_bucket(INTERVAL 1 SECOND, _time, TIMESTAMP '1970-01-01') AS _time,
    host,
    "user",
    signature_id,
    nullif(regexp_extract(Message, '(?i)Beginning\sa\sWindows\sInstaller\stransaction:(\s+)?(.+)', 2), '')
      AS process
  FROM events
  WHERE regexp_matches(_raw, '(?i)(?:^|[\s])EventCode=1040(?:$|[\s])')
    AND regexp_matches(_raw, '(?i)(?:^|[^A-Za-z0-9])MsiInstaller(?:$|[^A-Za-z0-9])')
), per_second AS (
  SELECT _time, host,
         list_sort(list(DISTINCT "user") FILTER (WHERE "user" IS NOT NULL)) AS "user",
         list_sort(list(DISTINCT CAST(signature_id AS VARCHAR)) FILTER (WHERE signature_id IS NOT NULL))
           AS signature_id,
         list_sort(list(DISTINCT process) FILTER (WHERE process IS NOT NULL)) AS process
  FROM matched
  WHERE _time IS NOT NULL AND host IS NOT NULL
  GROUP BY _time, host
), numbered AS (
  SELECT *, row_number() OVER () AS rn FROM per_second
), exploded AS (
  SELECT rn, unnest(process) AS v FROM numbered
), peers AS (
  SELECT DISTINCT a.rn, b.rn AS peer FROM exploded a JOIN exploded b ON a.v = b.v
), peer_counts AS (
  SELECT peers.rn, count(DISTINCT e.v) AS c_process
  FROM peers JOIN exploded e ON e.rn = peers.peer GROUP BY peers.rn
), counted AS (
  SELECT numbered.* EXCLUDE (rn), peer_counts.c_process FROM numbered LEFT JOIN peer_counts USING (rn)
)
SELECT * FROM counted WHERE c_process < 2 AND process IS NOT NULL ORDER BY _time, host
"""


def corpus_translation(corpus: Path) -> None:
    library = MacroLibrary.default()
    library.load(corpus / "macros.jsonl")
    schema = default_schema()
    records = [json.loads(line) for line in (corpus / "detections.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    totals: list[float] = []
    translate_only: list[float] = []
    ok = 0
    crashed: list[str] = []
    started = time.perf_counter()
    for record in records:
        t0 = time.perf_counter()
        try:
            pipeline = parse(library.expand(record["search"], rule_id=record["id"]), rule_id=record["id"])
            t1 = time.perf_counter()
            compile_pipeline(pipeline, schema, CompileOptions(rule_id=record["id"])).sql()
            ok += 1
        except SqlDetectError:
            t1 = time.perf_counter()
        except Exception as exc:  # a crash is a bug: count it and show it, but keep measuring
            t1 = time.perf_counter()
            crashed.append(f"{record['id']}: {type(exc).__name__}: {exc}")
        t2 = time.perf_counter()
        totals.append(t2 - t0)
        translate_only.append(t2 - t1)
    whole = time.perf_counter() - started
    totals.sort()
    translate_only.sort()
    print(f"corpus: {len(records)} detections, {ok} translated, {len(crashed)} crashed")
    for line in crashed[:5]:
        print(f"  crash: {line}")
    print(f"  expand+parse+translate: whole corpus {whole:.2f} s; per detection median "
          f"{statistics.median(totals) * 1000:.2f} ms, p99 {totals[int(len(totals) * 0.99) - 1] * 1000:.2f} ms")
    print(f"  translate only: total {sum(translate_only):.2f} s; median "
          f"{statistics.median(translate_only) * 1000:.2f} ms, p99 "
          f"{translate_only[int(len(translate_only) * 0.99) - 1] * 1000:.2f} ms")


def synthetic_events(con: duckdb.DuckDBPyConnection, n: int) -> Schema:
    con.execute(f"""
        CREATE TABLE events AS
        SELECT
          TIMESTAMP '2024-05-01 00:00:00' + to_microseconds(CAST(i * 997 AS BIGINT) * 1000) AS _time,
          CAST(i AS BIGINT) AS _serial,
          'WS' || (i % 50) AS host,
          CASE WHEN i % 100 = 0 THEN 1040 ELSE 4688 END AS signature_id,
          CASE WHEN i % 100 = 0 THEN 'S-1-5-18' END AS "user",
          CASE WHEN i % 100 = 0
            THEN 'Beginning a Windows Installer transaction: C:\\pkg' || (i % 7) || '.msi. Client Process Id: ' || i || '.'
            ELSE 'A new process has been created.' END AS Message,
          '05/01/2024 10:00:00 AM' || chr(10) || 'LogName=' || CASE WHEN i % 100 = 0 THEN 'Application' ELSE 'Security' END
            || chr(10) || 'EventCode=' || CASE WHEN i % 100 = 0 THEN '1040' ELSE '4688' END
            || chr(10) || 'SourceName=' || CASE WHEN i % 100 = 0 THEN 'MsiInstaller' ELSE 'Microsoft Windows security auditing.' END
            || chr(10) || 'Message=' || CASE WHEN i % 100 = 0 THEN 'Beginning a Windows Installer transaction' ELSE 'A new process has been created.' END
            AS _raw
        FROM range({n}) t(i)
    """)
    kinds = {"_time": FieldKind.TIME, "_serial": FieldKind.NUMBER, "host": FieldKind.STRING,
             "signature_id": FieldKind.NUMBER, "user": FieldKind.STRING, "Message": FieldKind.STRING,
             "_raw": FieldKind.STRING}
    return Schema(Field(k, v) for k, v in kinds.items())


def best_of(con: duckdb.DuckDBPyConnection, sql: str, rounds: int) -> tuple[float, int]:
    times = []
    rows = 0
    for _ in range(rounds):
        started = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - started)
    return min(times), rows


def seed_versus_hand_written(n: int, rounds: int) -> None:
    con = duckdb.connect()
    schema = synthetic_events(con, n)
    rule = load_rules(ROOT / "rules" / "msiexec_install_msi_file.yml").rules[0]
    library = MacroLibrary.default()
    compiled = compile_pipeline(parse(library.expand(rule.logic)), schema)
    sql = compiled.sql()
    ours, our_rows = best_of(con, sql, rounds)
    hand, hand_rows = best_of(con, HAND_WRITTEN, rounds)
    print(f"seed rule over {n:,} events (best of {rounds}): sqldetect {ours * 1000:.1f} ms ({our_rows} rows), "
          f"hand-written {hand * 1000:.1f} ms ({hand_rows} rows), ratio {ours / hand:.2f}x (target <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("SQLDETECT_SHARED", ROOT.parent / "shared"))
    parser.add_argument("--corpus", type=Path, default=shared / "corpus" / "escu")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if (args.corpus / "detections.jsonl").is_file():
        # Importing the command modules is process start-up, not translation: timed on its own (it is ~80 ms
        # where Python may not cache bytecode, PYTHONDONTWRITEBYTECODE=1).
        started = time.perf_counter()
        import sqldetect.compile.commands  # noqa: F401

        print(f"import of the translator's command modules: {(time.perf_counter() - started) * 1000:.0f} ms")
        print("first pass over the corpus (cold: data models compiled, caches empty):")
        corpus_translation(args.corpus)
        print("second pass (warm), as a long-running process that translates rule after rule sees it:")
        corpus_translation(args.corpus)
    else:
        print(f"corpus not found at {args.corpus}: skipping the translation benchmark")
    seed_versus_hand_written(args.events, args.rounds)


if __name__ == "__main__":
    main()
