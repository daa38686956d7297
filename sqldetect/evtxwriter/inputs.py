"""Read event dicts from YAML, JSON or NDJSON sources, remembering where each event came from.

A source is either a list of events or a mapping ``{defaults: {...}, events: [...]}``; ``defaults`` fills
keys an event leaves out (shallow: an event's ``data`` replaces the default ``data`` whole), which keeps
fixture sources short (one channel, provider and computer for a whole file). Other top-level keys must start
with ``x-`` and are ignored: a place to define YAML anchors that events then merge in with ``<<: *name``.

YAML is read with a deliberately small set of implicit types: decimal integers, ``true``/``false`` and null.
Everything else stays text, so ``0x1f4`` (a hex process id), ``10:00`` or ``2024-05-01 10:00:01.123``
(Sysmon's UtcTime) reach the file exactly as written rather than as the number or datetime plain YAML 1.1
would make of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from sqldetect.errors import EventInputError, Location
from sqldetect.evtxwriter.event import InvalidEventError

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson"}


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One event of a source: the dict (defaults applied), its 1-based index and line (None if unknown)."""

    event: object
    index: int
    line: int | None


class _EventLoader(yaml.SafeLoader):
    """SafeLoader that resolves only decimal integers, true/false and null; all else is a string."""


_EventLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:timestamp"}]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_EventLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))
_EventLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                   list("-+0123456789"))


class _JsonDataLoader(_EventLoader):
    """The event loader plus decimal floats, for free-form JSON fixtures (the EVTX writer refuses floats)."""


_JsonDataLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def read_events(path: str | Path, *, floats: bool = False) -> Iterator[SourceEvent | InvalidEventError]:
    """Yield each event of the file at ``path``, or an ``InvalidEventError`` for an entry that is not one.

    ``floats`` makes YAML read ``41.7`` as a number (for free-form JSON fixtures); by default it stays text.

    Raises ``EventInputError`` when the file as a whole cannot be read (missing, unknown suffix, broken
    YAML/JSON syntax, wrong top-level shape).
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise EventInputError(f"unknown input type '{path.suffix}': use .yaml, .yml, .json, .ndjson or .jsonl",
                              Location(file=str(path)))
    try:
        if kind == "ndjson":
            yield from _read_ndjson(path)
            return
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventInputError(f"cannot read: {exc}", Location(file=str(path))) from None
    if kind == "yaml":
        yield from _read_yaml(text, path, _JsonDataLoader if floats else _EventLoader)
    else:
        yield from _read_json(text, path)


def _split_document(document: object, path: Path) -> tuple[Mapping, list]:
    """(defaults, events) from a top-level list or ``{defaults, events}`` mapping."""
    if isinstance(document, list):
        return {}, document
    if isinstance(document, Mapping) and "events" in document:
        extra = {key for key in document if key not in {"defaults", "events"} and not str(key).startswith("x-")}
        if extra:
            raise EventInputError(f"unknown top-level key(s) {sorted(extra)}: expected 'defaults' and 'events'",
                                  Location(file=str(path)))
        defaults = document.get("defaults") or {}
        events = document.get("events") or []
        if not isinstance(defaults, Mapping) or not isinstance(events, list):
            raise EventInputError("'defaults' must be a mapping and 'events' a list", Location(file=str(path)))
        return defaults, events
    raise EventInputError("expected a list of events or a mapping with 'events' (and optional 'defaults')",
                          Location(file=str(path)))


def _with_defaults(defaults: Mapping, event: object) -> object:
    if defaults and isinstance(event, Mapping):
        return {**defaults, **event}
    return event


def _read_yaml(text: str, path: Path, loader_class: type[yaml.SafeLoader]) -> Iterator[SourceEvent | InvalidEventError]:
    loader = loader_class(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise EventInputError(f"{where}invalid YAML: {getattr(exc, 'problem', exc)}",
                                  Location(file=str(path))) from None
        if root is None:
            return
        defaults: Mapping = {}
        if isinstance(root, yaml.MappingNode):
            document = loader.construct_object(root, deep=True)
            defaults, _ = _split_document(document, path)
            item_nodes = next((value.value for key, value in root.value if key.value == "events"), [])
        elif isinstance(root, yaml.SequenceNode):
            item_nodes = root.value
        else:
            raise EventInputError("expected a list of events or a mapping with 'events'", Location(file=str(path)))
        for index, node in enumerate(item_nodes, start=1):
            event = loader.construct_object(node, deep=True)
            yield SourceEvent(_with_defaults(defaults, event), index, node.start_mark.line + 1)
    finally:
        loader.dispose()


def _read_json(text: str, path: Path) -> Iterator[SourceEvent | InvalidEventError]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventInputError(f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}",
                              Location(file=str(path))) from None
    defaults, events = _split_document(document, path)
    for index, event in enumerate(events, start=1):
        yield SourceEvent(_with_defaults(defaults, event), index, None)


def _read_ndjson(path: Path) -> Iterator[SourceEvent | InvalidEventError]:
    index = 0
    with path.open(encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            index += 1
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                yield InvalidEventError(f"invalid JSON at column {exc.colno}: {exc.msg}").locate(
                    index=index, line=line_number, file=str(path))
                continue
            yield SourceEvent(event, index, line_number)
