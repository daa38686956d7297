"""Benchmark the rules library: every rule of rules/ over a large event set built from the shipped fixtures.

    PYTHONPATH=$PWD python benchmarks/bench_rules_library.py [--copies 2000] [--raw-format xml]

The events are the shipped fixture sources (fixtures/src/{security,sysmon,system,powershell}.yaml, 85 events)
written ``--copies`` times, each copy on its own day and its own four hosts (WS01 of copy 7 becomes WS01-7),
so the set keeps the fixtures' mix of benign and malicious events and every copy is distinct to the loader.
Prints the load time and, per rule, the translation + query time and the hits, then the total. The hits grow
with the copies (every copy holds the same attack stories), which shows nothing is dropped along the way.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqldetect.cli.run import lookup_resolver  # noqa: E402
from sqldetect.engine import Engine  # noqa: E402
from sqldetect.evtxwriter import InvalidEventError, write_evtx  # noqa: E402
from sqldetect.evtxwriter.fixtures import message_fields, schema_ordered  # noqa: E402
from sqldetect.evtxwriter.inputs import read_events  # noqa: E402
from sqldetect.rules import load_rules  # noqa: E402

SOURCES = ["security", "sysmon", "system", "powershell"]
HOST = re.compile(r"^(WS01|WS02|SRV01|DC01)\.corp\.example$")


def fixture_events() -> list[dict]:
    fields = message_fields()
    events = []
    for name in SOURCES:
        for item in read_events(ROOT / "fixtures" / "src" / f"{name}.yaml"):
            if isinstance(item, InvalidEventError):
                raise SystemExit(str(item))
            event = dict(schema_ordered(item.event, fields))  # type: ignore[arg-type]
            event.pop("record_id", None)
            events.append(event)
    return sorted(events, key=lambda e: e["time"])


def copies(events: list[dict], count: int) -> Iterator[dict]:
    """``count`` copies of ``events``, copy n shifted by n days with host names suffixed -n."""
    for n in range(count):
        shift = timedelta(days=n)
        for event in events:
            copy = dict(event)
            stamp = datetime.fromisoformat(event["time"].replace("Z", "+00:00")) + shift
            copy["time"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            copy["computer"] = HOST.sub(lambda m, n=n: f"{m.group(1)}-{n}.corp.example", event["computer"])
            yield copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=2000, help="copies of the fixture events (default 2000)")
    parser.add_argument("--raw-format", choices=["xml", "classic"], default="xml")
    args = parser.parse_args()

    base = fixture_events()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "library.evtx"
        started = time.perf_counter()
        written = write_evtx(path, copies(base, args.copies))
        print(f"wrote {written:,} events ({len(base)} x {args.copies}) in {time.perf_counter() - started:.1f} s")

        engine = Engine(lookups=lookup_resolver([], [ROOT / "rules"]))
        started = time.perf_counter()
        report = engine.load([str(path)], raw_format=args.raw_format, progress=False)
        print(f"loaded {report.loaded:,} events ({args.raw_format}) in {time.perf_counter() - started:.1f} s")

    rules = load_rules(ROOT / "rules").rules
    print(f"\n{'rule':<10} {'hits':>8} {'seconds':>8}  title")
    total = 0.0
    for rule in sorted(rules, key=lambda r: r.id):
        outcome = engine.run_rule(rule)
        total += outcome.elapsed
        hits = str(outcome.hits) if outcome.status == "ok" else outcome.status
        print(f"{rule.id:<10} {hits:>8} {outcome.elapsed:>8.3f}  {rule.title}")
    print(f"\n{len(rules)} rules over {written:,} events: {total:.2f} s "
          f"({written * len(rules) / total:,.0f} rule-events/s)")


if __name__ == "__main__":
    main()
