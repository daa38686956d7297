"""Translate every ESCU detection and run each query once over an empty event table; print the figures.

    PYTHONPATH=$PWD python benchmarks/translate_corpus.py [path/to/shared/corpus/escu]

For each detection (macros expanded by ``escu_corpus.py``): parse + compile with the corpus lookups, then
execute the SQL on an empty ``events`` table of the default schema (which proves the SQL binds and runs on a
plain DuckDB connection). Prints how many translate, how many run, the commonest refusals by construct,
every SQL that fails to run (a translator bug), and the translation time per rule.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from escu_corpus import expanded_searches

from sqldetect.compile import CompileOptions, compile_spl, default_schema
from sqldetect.compile.lookups import LookupResolver
from sqldetect.errors import SqlDetectError, UnsupportedError


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/corpus/escu"
    if not corpus.is_dir():
        print(f"no corpus at {corpus}")
        return 1
    schema = default_schema()
    resolver = LookupResolver([corpus / "lookups"], definitions_file=corpus / "lookups.jsonl")
    con = duckdb.connect()
    schema.create_empty_table(con)
    searches = expanded_searches(corpus)
    refusals: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    failures: list[tuple[str, str]] = []
    translated = ran = 0
    compile_seconds = 0.0
    for name, spl in searches:
        started = time.perf_counter()
        try:
            query = compile_spl(spl, schema, options=CompileOptions(rule_id=name, lookups=resolver))
            sql = query.sql()
        except UnsupportedError as err:
            refusals[err.construct or err.message] += 1
            continue
        except SqlDetectError as err:
            errors[type(err).__name__ + ": " + err.message[:70]] += 1
            continue
        finally:
            compile_seconds += time.perf_counter() - started
        translated += 1
        try:
            con.execute(sql).fetchall()
            ran += 1
        except duckdb.Error as err:
            failures.append((name, str(err).splitlines()[0][:160]))
    total = len(searches)
    print(f"detections: {total}")
    print(f"translated: {translated} ({translated / total:.1%}), ran on an empty table: {ran}")
    print(f"translation time: {compile_seconds / total * 1000:.1f} ms per rule on average")
    print("\ncommonest refusals (construct: rules):")
    for construct, count in refusals.most_common(25):
        print(f"  {count:5d}  {construct}")
    print("\nother errors:")
    for message, count in errors.most_common(15):
        print(f"  {count:5d}  {message}")
    print(f"\nSQL that failed to run: {len(failures)}")
    for name, message in failures[:30]:
        print(f"  {name}: {message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
