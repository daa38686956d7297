"""Load benchmark: records/s into DuckDB per parser, against the raw iteration rate of the evtx package.

For ../shared/evtx/attack-samples (and every ``--evtx FILE`` given) it measures, each in a fresh child process:

* ``raw``: iterating the evtx package over the same files (XML rendering, nothing else): the reference rate;
* ``load evtx``: ``EventStore.load`` into a DuckDB file with the default parser;
* ``load python-evtx``: the same with python-evtx, on the smallest few files only (it is ~1000x slower);

and prints records/s, the load/raw ratio (target >= 50%), and peak RSS of the load (the child and its worker
processes; target < 1 GiB for a 1M-record file).

    python benchmarks/bench_load.py [--evtx BIG.evtx ...] [--workers N] [--pyevtx-files 5] [--repeat 1]
"""

from __future__ import annotations

import argparse
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
DEFAULT_SAMPLES = ROOT.parent / "shared" / "evtx" / "attack-samples"


def child_raw(paths: list[str]) -> dict[str, float]:
    import evtx

    started = time.perf_counter()
    records = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            for _ in evtx.PyEvtxParser(path, skip_errors=True).records():
                records += 1
    return {"records": records, "elapsed": time.perf_counter() - started}


def child_load(paths: list[str], parser: str, workers: int | None) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from sqldetect.events import EventStore

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with EventStore.open(Path(folder) / "bench.duckdb") as store:
            report = store.load(paths, parser=parser, workers=workers, progress=False)
        elapsed = time.perf_counter() - started
    return {"records": report.read, "loaded": report.loaded, "skipped": report.skipped, "elapsed": elapsed,
            "workers": report.workers}  # fmt: skip


def run_child(*args: str) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; its peak RSS includes its worker processes."""
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(label: str, paths: list[str], workers: int | None, pyevtx_files: int, repeat: int) -> None:
    files = ["--paths", *paths]
    worker_args = ["--workers", str(workers)] if workers else []
    raw = min((run_child("raw", *files) for _ in range(repeat)), key=lambda r: r["elapsed"])
    raw_rate = raw["records"] / raw["elapsed"]
    print(f"\n== {label}: {len(paths)} files, {raw['records']:,} records")
    print(f"{'measurement':<22} {'records':>10} {'seconds':>8} {'records/s':>11} {'vs raw':>7} {'peak RSS':>9}")
    print(f"{'raw evtx iteration':<22} {raw['records']:>10,} {raw['elapsed']:>8.2f} {raw_rate:>11,.0f} {'':>7} {'':>9}")
    load = min((run_child("load", "--parser", "evtx", *worker_args, *files) for _ in range(repeat)),
               key=lambda r: r["elapsed"])  # fmt: skip
    rate = load["records"] / load["elapsed"]
    print(f"{'load, evtx':<22} {load['records']:>10,} {load['elapsed']:>8.2f} {rate:>11,.0f} {rate / raw_rate:>6.0%} "
          f"{load['peak_rss_mb']:>7.0f} MB   ({load['workers']} workers, {load['skipped']} skipped)")  # fmt: skip
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
    parser.add_argument("--child", nargs="?", const=None, default=None, choices=["raw", "load"])
    parser.add_argument("--paths", nargs="*", default=[])
    parser.add_argument("--parser", default="evtx")
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="folder of EVTX samples")
    parser.add_argument("--evtx", type=Path, action="append", default=[], help="also benchmark this file")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--pyevtx-files", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest counts)")
    args = parser.parse_args()
    if args.child:
        result = child_raw(args.paths) if args.child == "raw" else child_load(args.paths, args.parser, args.workers)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        result["peak_rss_mb"] = (own + workers) / 1024  # Linux reports KiB
        print(json.dumps(result))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; peak RSS = loading process + its largest worker")
    if args.samples.is_dir():
        measure(str(args.samples), sorted(str(p) for p in args.samples.rglob("*.evtx")), args.workers,
                args.pyevtx_files, args.repeat)  # fmt: skip
    for path in args.evtx:
        measure(str(path), [str(path)], args.workers, 0, args.repeat)


if __name__ == "__main__":
    main()
