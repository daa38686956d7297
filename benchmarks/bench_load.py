"""Load benchmark: records/s into DuckDB per parser, against the raw iteration rate of the evtx package.

For ../shared/evtx/attack-samples (and every ``--evtx FILE`` given) it measures, each in a fresh child process:

* ``raw``: iterating the evtx package over the same files (XML rendering, nothing else): the reference rate;
* ``load evtx``: ``EventStore.load`` into a DuckDB file with the default parser;
* ``load python-evtx``: the same with python-evtx, on the smallest few files only (it is ~1000x slower);

and prints records/s, the load/raw ratio (target >= 50%), CPU time per record (user + system, the child and its
worker processes: unlike wall time it hardly moves when other programs share the machine), and peak RSS of the
load (target < 1 GiB for a 1M-record file).

``--floor`` adds the storage floor: the same events, already normalized and sitting in a DuckDB table, inserted
into a fresh database file table of the same columns in one transaction (what the load's own insert + commit does,
with no parsing or normalizing at all), and into an in-memory table (``run``'s default store). No loader that
stores one typed column per field can be faster than this, so its ratio to the raw rate is the ceiling for the
load/raw target.

``--stages`` adds, per file set, the CPU cost of each stage of a load run in one process on one core (DuckDB on
one thread): reading (evtx parse + chunk checks), normalizing, building the columnar batch, and the DuckDB insert
(with commit). It shows where a record's time goes, and the floor: what inserting already-normalized rows costs.

    python benchmarks/bench_load.py [--evtx BIG.evtx ...] [--workers N] [--pyevtx-files 5] [--repeat 1] [--stages] [--floor]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLES = Path(os.environ.get("SQLDETECT_SHARED", ROOT.parent / "shared")) / "evtx" / "attack-samples"


def cpu_seconds() -> float:
    """User + system CPU of this process and of its waited-for children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def child_raw(paths: list[str]) -> dict[str, float]:
    import evtx

    started = time.perf_counter()
    cpu = cpu_seconds()
    records = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            for _ in evtx.PyEvtxParser(path, skip_errors=True).records():
                records += 1
    return {"records": records, "elapsed": time.perf_counter() - started, "cpu": cpu_seconds() - cpu}


def child_load(paths: list[str], parser: str, workers: int | None) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from sqldetect.events import EventStore

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        cpu = cpu_seconds()
        with EventStore.open(Path(folder) / "bench.duckdb") as store:
            report = store.load(paths, parser=parser, workers=workers, progress=False)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
    return {"records": report.read, "loaded": report.loaded, "skipped": report.skipped, "elapsed": elapsed,
            "workers": report.workers, "cpu": cpu}  # fmt: skip


def child_stages(paths: list[str]) -> dict[str, float]:
    """CPU seconds of each load stage, run in this process (GC paused, DuckDB on one thread, a file database)."""
    import gc

    sys.path.insert(0, str(ROOT))
    import duckdb

    from sqldetect.events.batch import WindowsBatchBuilder, unify
    from sqldetect.events.messages import MessageCatalog
    from sqldetect.events.reader_evtx import plan_ranges, read_evtx_rs
    from sqldetect.events.report import IssueLog
    from sqldetect.events.table import EventTable
    from sqldetect.events.windows import RecordError, WindowsNormalizer, WindowsOptions

    gc.disable()
    spent = dict.fromkeys(("read", "normalize", "batch", "insert"), 0.0)
    normalize = WindowsNormalizer(WindowsOptions(catalog=MessageCatalog.load())).normalize
    records = 0
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "stages.duckdb"))
        con.execute("SET threads = 1")
        con.execute("BEGIN TRANSACTION")
        table = EventTable(con, "events", sourcetype="XmlWinEventLog", index="main")
        for path in paths:
            for part in plan_ranges(path, os.path.getsize(path), 32):
                clock = time.process_time()
                xmls = read_evtx_rs(part, IssueLog())
                now = time.process_time()
                spent["read"] += now - clock
                rows = []
                for xml in xmls:
                    with contextlib.suppress(RecordError, ValueError):
                        rows.append(normalize(xml))
                clock, now = now, time.process_time()
                spent["normalize"] += now - clock
                builder = WindowsBatchBuilder()
                for row in rows:
                    builder.add(0, row)
                batch = unify([builder.build()], [[0]]) if rows else None
                clock, now = now, time.process_time()
                spent["batch"] += now - clock
                if batch is not None:
                    table.append(batch)
                spent["insert"] += time.process_time() - now
                records += len(rows)
        clock = time.process_time()
        con.execute("COMMIT")
        spent["insert"] += time.process_time() - clock
        con.close()
    return {"records": records, **spent}


def child_floor(paths: list[str]) -> dict[str, float]:
    """Insert + commit of already-normalized events, DuckDB to DuckDB (file and in-memory): the storage floor."""
    sys.path.insert(0, str(ROOT))
    import duckdb

    from sqldetect.events import EventStore

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.duckdb"
        with EventStore.open(source) as store:
            store.load(paths, progress=False)
        con = duckdb.connect(str(source), read_only=True)
        (ddl,) = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events'").fetchone()
        out["columns"] = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'events'").fetchone()[0]  # fmt: skip
        con.close()
        for target in ("file", "memory"):
            con = duckdb.connect(str(Path(folder) / "floor.duckdb") if target == "file" else ":memory:")
            con.execute("SET memory_limit = '512MB'")  # as the loader sets it
            con.execute(f"ATTACH '{source}' AS loaded (READ_ONLY)")
            con.execute("CREATE TEMP TABLE normalized AS SELECT * FROM loaded.events")
            out["records"] = con.execute("SELECT count(*) FROM normalized").fetchone()[0]
            con.execute(ddl)
            started = time.perf_counter()
            con.execute("BEGIN TRANSACTION")
            con.execute("INSERT INTO events SELECT * FROM normalized")
            con.execute("COMMIT")
            out[target] = time.perf_counter() - started
            con.close()
    return out


def run_child(*args: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; its peak RSS includes its worker processes."""
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(
    label: str, paths: list[str], workers: int | None, pyevtx_files: int, repeat: int, stages: bool, floor: bool
) -> None:
    files = ["--paths", *paths]
    worker_args = ["--workers", str(workers)] if workers else []
    raw = min((run_child("raw", *files) for _ in range(repeat)), key=lambda r: r["elapsed"])
    raw_rate = raw["records"] / raw["elapsed"]
    print(f"\n== {label}: {len(paths)} files, {raw['records']:,} records")
    print(f"{'measurement':<22} {'records':>10} {'seconds':>8} {'records/s':>11} {'vs raw':>7} {'CPU us/rec':>10} "
          f"{'peak RSS':>9}")  # fmt: skip
    print(f"{'raw evtx iteration':<22} {raw['records']:>10,} {raw['elapsed']:>8.2f} {raw_rate:>11,.0f} {'':>7} "
          f"{raw['cpu'] / raw['records'] * 1e6:>10.1f}")  # fmt: skip
    load = min((run_child("load", "--parser", "evtx", *worker_args, *files) for _ in range(repeat)),
               key=lambda r: r["elapsed"])  # fmt: skip
    rate = load["records"] / load["elapsed"]
    print(f"{'load, evtx':<22} {load['records']:>10,} {load['elapsed']:>8.2f} {rate:>11,.0f} {rate / raw_rate:>6.0%} "
          f"{load['cpu'] / load['records'] * 1e6:>10.1f} {load['peak_rss_mb']:>7.0f} MB   ({load['workers']} workers, "
          f"{load['skipped']} skipped)")  # fmt: skip
    if stages:
        cost = run_child("stages", *files)
        per = {name: cost[name] / max(cost["records"], 1) * 1e6 for name in ("read", "normalize", "batch", "insert")}
        print("CPU per record and stage, one process (us): " + ", ".join(f"{k} {v:.1f}" for k, v in per.items())
              + f"; total {sum(per.values()):.1f}")  # fmt: skip
    if floor:
        cost = run_child("floor", *files)
        for target, label in (("file", "floor, DuckDB file"), ("memory", "floor, in-memory")):
            rate = cost["records"] / cost[target]
            print(f"{label:<22} {cost['records']:>10,} {cost[target]:>8.2f} {rate:>11,.0f} {rate / raw_rate:>6.0%}"
                  f"   (insert + commit of the {cost['records']:,} loaded rows, {cost['columns']} columns)")
    if pyevtx_files:
        small = sorted(paths, key=os.path.getsize)[:pyevtx_files]
        sub_raw = run_child("raw", "--paths", *small)
        sub_rate = sub_raw["records"] / sub_raw["elapsed"]
        slow = run_child("load", "--parser", "python-evtx", *worker_args, "--paths", *small)
        slow_rate = slow["records"] / slow["elapsed"]
        print(f"{'raw, same subset':<22} {sub_raw['records']:>10,} {sub_raw['elapsed']:>8.2f} {sub_rate:>11,.0f}")
        print(f"{'load, python-evtx':<22} {slow['records']:>10,} {slow['elapsed']:>8.2f} {slow_rate:>11,.0f} "
              f"{slow_rate / sub_rate:>6.1%} {slow['peak_rss_mb']:>7.0f} MB   ({len(small)} smallest files)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs="?", const=None, default=None, choices=["raw", "load", "stages", "floor"])
    parser.add_argument("--paths", nargs="*", default=[])
    parser.add_argument("--parser", default="evtx")
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="folder of EVTX samples")
    parser.add_argument("--evtx", type=Path, action="append", default=[], help="also benchmark this file")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--pyevtx-files", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest counts)")
    parser.add_argument("--stages", action="store_true", help="also measure each stage's CPU per record")
    parser.add_argument("--floor", action="store_true", help="also measure the storage floor (see above)")
    args = parser.parse_args()
    if args.child:
        if args.child == "raw":
            result = child_raw(args.paths)
        elif args.child == "stages":
            result = child_stages(args.paths)
        elif args.child == "floor":
            result = child_floor(args.paths)
        else:
            result = child_load(args.paths, args.parser, args.workers)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result["peak_rss_mb"] = (own + workers) / 1024  # Linux reports KiB
        print(json.dumps(result))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; peak RSS = loading process + its largest worker")
    if args.samples.is_dir():
        measure(str(args.samples), sorted(str(p) for p in args.samples.rglob("*.evtx")), args.workers,
                args.pyevtx_files, args.repeat, args.stages, args.floor)  # fmt: skip
    for path in args.evtx:
        measure(str(path), [str(path)], args.workers, 0, args.repeat, args.stages, args.floor)


if __name__ == "__main__":
    main()
