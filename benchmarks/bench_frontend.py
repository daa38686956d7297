"""Benchmark the front end (macro expansion + parsing) over the ESCU corpus and print figures.

    PYTHONPATH=$PWD python benchmarks/bench_frontend.py [CORPUS_DIR] [--repeat N]

CORPUS_DIR defaults to ../shared/corpus/escu next to the project. Prints, for expansion alone and for
expansion + parsing: the whole-corpus wall time (best of N runs) and the per-detection median and p99.
Target: expand + parse of the whole corpus under 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqldetect.coverage import load_corpus_library
from sqldetect.errors import SqlDetectError

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "escu"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(
    name: str, detections: list[dict[str, str]], work: Callable[[dict[str, str]], None], repeat: int
) -> None:
    best_total = float("inf")
    per_detection: list[float] = []
    failures = 0
    for _ in range(repeat):
        times: list[float] = []
        failures = 0
        start = time.perf_counter()
        for detection in detections:
            t0 = time.perf_counter()
            try:
                work(detection)
            except SqlDetectError:
                failures += 1
            times.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        if total < best_total:
            best_total, per_detection = total, times
    print(
        f"{name:<16} whole corpus {best_total * 1000:8.1f} ms   per detection: "
        f"median {statistics.median(per_detection) * 1e6:7.1f} µs, p99 {percentile(per_detection, 0.99) * 1e6:8.1f} µs, "
        f"max {max(per_detection) * 1e6:8.1f} µs   ({len(detections) - failures}/{len(detections)} ok)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    library = load_corpus_library(args.corpus)
    with (args.corpus / "detections.jsonl").open(encoding="utf-8") as handle:
        detections = [json.loads(line) for line in handle if line.strip()]
    print(f"{len(detections)} detections, {len(library)} macros, best of {args.repeat} runs")

    measure("expand", detections, lambda d: library.expand(d["search"], d["id"]) and None, args.repeat)
    try:
        from sqldetect.spl.parser import parse
    except ImportError:
        print("parse            (sqldetect.spl.parser not available)")
        return
    measure(
        "expand + parse",
        detections,
        lambda d: parse(library.expand(d["search"], d["id"]), rule_id=d["id"]) and None,
        args.repeat,
    )


if __name__ == "__main__":
    main()
