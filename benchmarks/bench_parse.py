"""Benchmark: parse every ESCU detection of the reference corpus.

Prints the time to parse the whole corpus (best of several rounds) and the per-detection median, p99 and
maximum. Macro expansion is done beforehand with the test-only expander in ``escu_corpus.py`` and timed
separately, so the figures are the parser's alone. Target: the whole corpus in under 2 s.

    PYTHONPATH=$PWD python benchmarks/bench_parse.py [path/to/corpus/escu] [--rounds N]

The corpus defaults to ``$SQLDETECT_SHARED/corpus/escu`` (``../shared`` next to the project otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from escu_corpus import expanded_searches

from sqldetect.errors import SplSyntaxError, UnsupportedError
from sqldetect.spl.parser import parse


def default_corpus() -> Path:
    project = Path(__file__).resolve().parent.parent
    shared = Path(os.environ.get("SQLDETECT_SHARED", project.parent / "shared"))
    return shared / "corpus" / "escu"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=default_corpus())
    parser.add_argument("--rounds", type=int, default=5, help="whole-corpus rounds; the best is reported")
    args = parser.parse_args()
    if not (args.corpus / "detections.jsonl").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1

    started = time.perf_counter()
    searches = expanded_searches(args.corpus)
    expand_seconds = time.perf_counter() - started
    characters = sum(len(spl) for _, spl in searches)

    failures = 0
    for rule_id, spl in searches:  # warm-up round, also counts failures
        try:
            parse(spl, rule_id=rule_id)
        except (SplSyntaxError, UnsupportedError):
            failures += 1

    rounds: list[float] = []
    per_search: list[float] = []
    for _ in range(max(1, args.rounds)):
        round_started = time.perf_counter()
        for rule_id, spl in searches:
            one_started = time.perf_counter()
            with contextlib.suppress(SplSyntaxError, UnsupportedError):
                parse(spl, rule_id=rule_id)
            per_search.append(time.perf_counter() - one_started)
        rounds.append(time.perf_counter() - round_started)

    best = min(rounds)
    print(f"corpus:           {len(searches)} detections, {characters / 1e6:.2f} M characters ({args.corpus})")
    print(f"macro expansion:  {expand_seconds * 1000:.0f} ms (test-only expander, not the parser)")
    print(f"parse failures:   {failures}")
    print(f"whole corpus:     best {best * 1000:.0f} ms, median {statistics.median(rounds) * 1000:.0f} ms "
          f"over {len(rounds)} rounds (target < 2000 ms)")
    print(f"per detection:    median {statistics.median(per_search) * 1e6:.0f} us, "
          f"p99 {percentile(per_search, 0.99) * 1e6:.0f} us, max {max(per_search) * 1e6:.0f} us")
    print(f"throughput:       {characters / best / 1e6:.2f} M characters/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
