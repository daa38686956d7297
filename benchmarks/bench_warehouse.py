"""What a field mapping costs: the seed rule and a few searches over N synthetic events stored three times: in
sqldetect's own table, in a Winlogbeat/ECS-shaped table with the same column types (the mapping only renames), and
in one with Winlogbeat 8's types (``@timestamp`` TIMESTAMPTZ, ``winlog.event_id`` text, so the mapping converts
both on every row), each ECS table read through the shipped ``winlogbeat`` mapping.

Prints, per query: the best time of R rounds over each table, the ratios to the native table, and whether all
gave the same rows; then the time to resolve the mapping against a table.

Usage: python benchmarks/bench_warehouse.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from sqldetect.engine import Engine
from sqldetect.mapping import load_mapping, parse_mapping
from sqldetect.rules import Rule, load_rules

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_translate import synthetic_events  # noqa: E402

QUERIES = {
    "count by host": "signature_id=4688 | stats count by host",
    "bare term": '"Installer transaction" | stats count',
    "head": "* | head 10 | table _time host",
}


def ecs_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, timestamp, event_id in (("renamed", "_time", "signature_id"),
                                      ("converted", "timezone('UTC', _time)", "CAST(signature_id AS VARCHAR)")):
        con.execute(f"""
            CREATE TABLE {name} AS SELECT
              {timestamp} AS "@timestamp", host AS "host.name", {event_id} AS "winlog.event_id",
              "user" AS "user.name", Message AS message, _raw AS "event.original"
            FROM events""")


def best_of(engine: Engine, rule: Rule, rounds: int) -> tuple[float, list]:
    times, rows = [], []
    compiled = engine.compile_rule(rule)
    for _ in range(rounds):
        started = time.perf_counter()
        rows = engine.execute(compiled).rows
        times.append(time.perf_counter() - started)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    con = duckdb.connect()
    synthetic_events(con, args.events)
    ecs_tables(con)
    shipped = load_mapping("winlogbeat")
    mapping = parse_mapping("fields:\n  user: user.name\n", "bench")
    mapping = type(shipped)(shipped.fields + mapping.fields, "winlogbeat+user", "", "bench")
    native = Engine(con)
    renamed = Engine(con, table="renamed", field_mapping=mapping)
    converted = Engine(con, table="converted", field_mapping=mapping)
    started = time.perf_counter()
    converted.resolved_mapping()
    resolve = time.perf_counter() - started
    rules = [*load_rules(ROOT / "rules" / "msiexec_install_msi_file.yml"),
             *(Rule(id=name, title=name, logic=spl) for name, spl in QUERIES.items())]
    print(f"{args.events:,} events, best of {args.rounds}:")
    for rule in rules:
        base, rows = best_of(native, rule, args.rounds)
        plain, plain_rows = best_of(renamed, rule, args.rounds)
        costly, costly_rows = best_of(converted, rule, args.rounds)
        print(f"  {rule.id:<14} native {base * 1000:7.1f} ms  renamed {plain * 1000:7.1f} ms ({plain / base:4.2f}x)"
              f"  converted {costly * 1000:7.1f} ms ({costly / base:4.2f}x)  "
              f"same rows: {rows == plain_rows == costly_rows} ({len(rows)})")
    print(f"resolving the mapping against the table: {resolve * 1000:.1f} ms")


if __name__ == "__main__":
    main()
