"""Regenerate the project's fixture files from their YAML sources: ``python -m sqldetect.evtxwriter.fixtures``.

Sources live in ``fixtures/src/``; outputs are written next to them in ``fixtures/``:

* ``<name>.yaml`` -> ``<name>.evtx`` (event dicts, see ``sqldetect.evtxwriter``), except
* ``events.yaml`` -> ``events.ndjson`` and ``events.json``: free-form JSON events (one per line, and the same
  events as one JSON array), written as they are.

Named EventData of events that ``sqldetect/data/messages.yaml`` knows is put in the template's field order,
and must hold exactly the template's fields: sources can then build events from YAML anchors in any order,
and a missing or misspelt field fails the run instead of producing an event Windows would never write. The
same input always gives byte-identical files (``--check`` verifies the committed ones).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import sys
import tempfile
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

import yaml

from sqldetect.evtxwriter.event import InvalidEventError
from sqldetect.evtxwriter.inputs import SourceEvent, read_events
from sqldetect.evtxwriter.writer import EvtxWriter

JSON_SOURCES = {"events.yaml": ("events.ndjson", "events.json")}
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "fixtures"


class FixtureError(Exception):
    """A fixture source is wrong; the message says which file, event and field."""


def message_fields() -> dict[tuple[str, int], list[str]]:
    """(provider, event id) -> EventData field names, from the shipped message templates."""
    text = resources.files("sqldetect.data").joinpath("messages.yaml").read_text(encoding="utf-8")
    return {
        (provider, int(event_id)): entry["fields"]
        for provider, events in yaml.safe_load(text).items()
        for event_id, entry in events.items()
        if entry.get("fields")
    }


def schema_ordered(event: Mapping, fields: dict[tuple[str, int], list[str]]) -> Mapping:
    """``event`` with its named ``data`` in template order; raises ``ValueError`` if the names differ."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return event
    try:
        expected = fields.get((event.get("provider"), int(event.get("event_id"))))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return event  # the writer reports a bad event_id with its own message
    if expected is None:
        return event
    missing = [name for name in expected if name not in data]
    extra = [name for name in data if name not in expected]
    if missing or extra:
        raise ValueError(f"data does not match the {event['provider']} {event['event_id']} template: "
                         f"missing {missing}, unexpected {extra}")
    return {**event, "data": {name: data[name] for name in expected}}


def write_fixture_evtx(source: Path, target: Path, fields: dict[tuple[str, int], list[str]] | None = None) -> int:
    """Write a YAML/JSON event source to ``target`` as EVTX, EventData in template order (``fields``, default
    the shipped templates); a bad event raises ``FixtureError`` naming the file, event, line and field."""
    if fields is None:
        fields = message_fields()
    with EvtxWriter(target) as writer:
        for item in read_events(source):
            if isinstance(item, InvalidEventError):
                raise FixtureError(str(item))
            try:
                writer.write(schema_ordered(item.event, fields))  # type: ignore[arg-type]
            except (InvalidEventError, ValueError) as exc:
                where = f"{source}: event #{item.index}, line {item.line}"
                detail = exc.detail if isinstance(exc, InvalidEventError) else str(exc)
                field = f", field '{exc.field}'" if isinstance(exc, InvalidEventError) and exc.field else ""
                raise FixtureError(f"{where}{field}: {detail}") from None
        return writer.written


def _write_json(source: Path, ndjson_target: Path, json_target: Path) -> int:
    events = []
    for item in read_events(source, floats=True):
        if isinstance(item, InvalidEventError):
            raise FixtureError(str(item))
        assert isinstance(item, SourceEvent)
        events.append(item.event)
    ndjson_target.write_text(
        "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events), encoding="utf-8"
    )
    json_target.write_text(json.dumps(events, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return len(events)


def outputs(directory: Path) -> Iterator[tuple[Path, list[str]]]:
    """Each source file and the names of the files generated from it."""
    for source in sorted((directory / "src").glob("*.yaml")):
        yield source, list(JSON_SOURCES.get(source.name, (source.stem + ".evtx",)))


def generate(directory: Path, target: Path | None = None) -> list[tuple[Path, int]]:
    """Write every fixture of ``directory`` into ``target`` (default: ``directory``); returns (file, count)."""
    target = target or directory
    fields = message_fields()
    written = []
    for source, names in outputs(directory):
        if len(names) == 2:
            count = _write_json(source, target / names[0], target / names[1])
        else:
            count = write_fixture_evtx(source, target / names[0], fields)
        written.extend((target / name, count) for name in names)
    return written


def stale(directory: Path) -> list[str]:
    """Fixture files that differ from what their sources generate now (missing ones included)."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(directory, Path(scratch))
        return [path.name for path, _ in fresh
                if not (directory / path.name).exists()
                or not filecmp.cmp(path, directory / path.name, shallow=False)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sqldetect.evtxwriter.fixtures", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="fixtures directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    if not (args.dir / "src").is_dir():
        print(f"error: no fixture sources in {args.dir / 'src'}", file=sys.stderr)
        return 1
    try:
        if args.check:
            out_of_date = stale(args.dir)
            for name in out_of_date:
                print(f"out of date: {args.dir / name}", file=sys.stderr)
            return 1 if out_of_date else 0
        for path, count in generate(args.dir):
            print(f"{path}: {count} events")
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
