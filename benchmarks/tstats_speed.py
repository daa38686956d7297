"""Benchmark: one ESCU-shaped tstats rule over Endpoint.Processes on a wide events table.

Builds an in-memory DuckDB ``events`` table as wide as a real Windows event table (every messages.yaml field
plus filler columns, ``--columns``) holding ``--rows`` synthetic Sysmon 1 / Security 4688 events, then times:
translating the rule the first time (the data set is compiled), translating it again (the compiled data set is
reused), rendering the SQL, and running it (median of ``--rounds``), once on the full table and once on an
empty one (DuckDB's planning cost alone).

    PYTHONPATH=$PWD python benchmarks/tstats_speed.py [--rows 100000] [--columns 386] [--rounds 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_translate import eventdata_schema

from sqldetect.compile import CompileOptions, compile_spl, default_schema
from sqldetect.datamodels import load_datamodels
from sqldetect.schema import Field, FieldKind, Schema

RULE = ("| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count min(_time) as firstTime "
        "max(_time) as lastTime from datamodel=Endpoint.Processes where Processes.process_name=\"7z.exe\" "
        "by Processes.dest Processes.user Processes.parent_process_name Processes.process | rename Processes.* AS *")


def wide_schema(columns: int) -> Schema:
    fields = list(eventdata_schema(default_schema()))
    fields += [Field(f"filler_{i}", FieldKind.STRING) for i in range(max(0, columns - len(fields)))]
    return Schema(fields)


def median_ms(run, rounds: int) -> float:
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=386)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    schema = wide_schema(args.columns)
    con = duckdb.connect()
    schema.create_empty_table(con, "events")
    schema.create_empty_table(con, "empty")
    con.execute(
        """INSERT INTO events ("_time", "source", "EventCode", "Computer", "Image", "NewProcessName", "CommandLine",
                               "ParentImage", "User")
           SELECT TIMESTAMP '2024-05-01' + INTERVAL (i) SECOND,
                  CASE WHEN i % 2 = 0 THEN 'XmlWinEventLog:Microsoft-Windows-Sysmon/Operational'
                       ELSE 'XmlWinEventLog:Security' END,
                  CASE WHEN i % 2 = 0 THEN '1' ELSE '4688' END,
                  'ws' || (i % 50), 'C:\\Tools\\' || CASE WHEN i % 7 = 0 THEN '7z.exe' ELSE 'x.exe' END,
                  'C:\\Tools\\' || CASE WHEN i % 7 = 0 THEN '7z.exe' ELSE 'x.exe' END,
                  '7z a ' || (i % 100), 'C:\\Windows\\explorer.exe', 'CORP\\u' || (i % 20)
           FROM range(?) t(i)""", [args.rows])

    options = CompileOptions(datamodels=load_datamodels())
    started = time.perf_counter()
    query = compile_spl(RULE, schema, options=options)
    first_ms = (time.perf_counter() - started) * 1000
    again_ms = median_ms(lambda: compile_spl(RULE, schema, options=options), args.rounds)
    render_ms = median_ms(query.sql, args.rounds)
    sql = query.sql()
    run_ms = median_ms(lambda: con.execute(sql).fetchall(), args.rounds)
    empty_sql = sql.replace('FROM "events"', 'FROM "empty"')
    plan_ms = median_ms(lambda: con.execute(empty_sql).fetchall(), args.rounds)
    rows = len(con.execute(sql).fetchall())

    print(f"events table: {args.rows} rows x {len(schema)} columns; result: {rows} rows")
    print(f"translate (data set compiled):  {first_ms:8.1f} ms")
    print(f"translate (data set reused):    {again_ms:8.1f} ms")
    print(f"render SQL:                     {render_ms:8.1f} ms")
    print(f"execute on the table:           {run_ms:8.1f} ms")
    print(f"execute on an empty table:      {plan_ms:8.1f} ms  (DuckDB planning)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
