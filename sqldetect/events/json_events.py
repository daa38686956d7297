"""JSON events: recognise Windows events in their JSON forms, and flatten every other object into fields.

Windows events arrive as JSON in two common shapes, and both are turned into canonical event XML so they are
normalized exactly like records read from an EVTX file:

* Winlogbeat / Elastic Common Schema: ``winlog.event_id``, ``winlog.channel``, ``winlog.event_data.*``, ...
  (nested objects or dotted keys). When the event carries its original XML (``event.original``) that XML is used.
* the evtx package's JSON (``evtx_dump -o json``): ``{"Event": {"System": {...}, "EventData": {...}}}``, with
  attributes either under ``#attributes`` or in ``<Name>_attributes`` siblings.

Any other object is a generic event: nested objects are flattened with ``.``, arrays become multivalue fields,
``_time`` comes from ``_time``/``@timestamp``/``TimeCreated``/``timestamp``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqldetect.events import xmltext
from sqldetect.events.classic import KEYWORD_NAMES, OPCODE_NAMES

TIME_KEYS = ("_time", "@timestamp", "TimeCreated", "timestamp")
SPECIAL_KEYS = frozenset({"_time", "_raw", "host", "source", "sourcetype", "index"})
_LEVELS = {"critical": "1", "error": "2", "warning": "3", "information": "4", "info": "4", "verbose": "5"}
_OPCODES = {name.lower(): code for code, name in OPCODE_NAMES.items()}
_KEYWORD_BITS = {name.lower(): bit for bit, name in KEYWORD_NAMES}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- Windows shapes


def windows_xml(obj: dict[str, Any]) -> str | None:
    """Canonical event XML when ``obj`` is a Windows event in a known JSON shape, else None.

    Raises ``ValueError`` when the object claims to be a Windows event but cannot be converted.
    """
    event = obj.get("Event")
    if isinstance(event, dict) and isinstance(event.get("System"), dict):
        return _from_evtx_json(event)
    if _lookup(obj, "winlog", "event_id") is not None or _lookup(obj, "winlog", "channel") is not None:
        return _from_winlogbeat(obj)
    return None


def _lookup(obj: dict[str, Any], *path: str) -> Any:
    """``obj[a][b]`` or ``obj["a.b"]`` (ECS documents come both nested and with dotted keys)."""
    current: Any = obj
    for index, key in enumerate(path):
        if not isinstance(current, dict):
            return None
        if key in current:
            current = current[key]
            continue
        dotted = ".".join(path[index:])
        return current.get(dotted)
    return current


def _text(value: Any) -> str | None:
    """A JSON scalar as event text (the evtx package's own rendering of the same value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dict):
        return _text(value.get("#text"))
    if isinstance(value, list):
        return " ".join(t for t in (_text(v) for v in value) if t is not None)
    return str(value)


def _attributes(parent: dict[str, Any], name: str) -> dict[str, Any]:
    """Attributes of element ``name``: ``{"Name": {"#attributes": {...}}}`` or ``{"Name_attributes": {...}}``."""
    value = parent.get(name)
    if isinstance(value, dict) and isinstance(value.get("#attributes"), dict):
        return value["#attributes"]
    separate = parent.get(f"{name}_attributes")
    return separate if isinstance(separate, dict) else {}


def _from_evtx_json(event: dict[str, Any]) -> str:
    system = event["System"]
    provider = _attributes(system, "Provider")
    execution = _attributes(system, "Execution")
    correlation = _attributes(system, "Correlation")
    values: dict[str, str | None] = {
        "Provider": _text(provider.get("Name")),
        "Guid": _text(provider.get("Guid")),
        "EventSourceName": _text(provider.get("EventSourceName")),
        "Qualifiers": _text(_attributes(system, "EventID").get("Qualifiers")),
        "EventID": _text(system.get("EventID")),
        "SystemTime": _system_time(_text(_attributes(system, "TimeCreated").get("SystemTime"))),
        "ProcessID": _text(execution.get("ProcessID")),
        "ThreadID": _text(execution.get("ThreadID")),
        "ActivityID": _text(correlation.get("ActivityID")),
        "RelatedActivityID": _text(correlation.get("RelatedActivityID")),
        "UserID": _text(_attributes(system, "Security").get("UserID")),
    }
    for tag in ("Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel", "Computer"):
        if tag in system:
            values[tag] = _text(system[tag]) or ""
    for tag in ("Correlation", "Execution"):
        if tag in system or f"{tag}_attributes" in system:
            values[tag] = ""
    standard = {"Provider": ("Name", "Guid", "EventSourceName"), "Execution": ("ProcessID", "ThreadID")}
    extra = {tag: [(k, _text(v)) for k, v in _attributes(system, tag).items() if k not in known]
             for tag, known in standard.items()}  # fmt: skip
    payload = ""
    for name, body in event.items():
        if name in ("System", "RenderingInfo") or name.endswith("_attributes") or name == "#attributes":
            continue
        payload += _element_from_json(name, body, _attributes(event, name))
    rendering = ""
    info = event.get("RenderingInfo")
    if isinstance(info, dict) and info.get("Message") is not None:
        rendering = xmltext.element("RenderingInfo", xmltext.element("Message", xmltext.escape_text(
            _text(info["Message"]) or "")))  # fmt: skip
    return xmltext.event_xml(values, payload, rendering, extra)


def _element_from_json(tag: str, body: Any, attrs: dict[str, Any]) -> str:
    """One element (and its children) from the evtx package's JSON rendering of it."""
    attr_pairs = [(k, _text(v)) for k, v in attrs.items()]
    if isinstance(body, list):
        return "".join(_element_from_json(tag, item, attrs) for item in body)
    if not isinstance(body, dict):
        return xmltext.element(tag, xmltext.escape_text(_text(body) or ""), attr_pairs)
    inner: list[str] = []
    for key, value in _items(body):
        if key == "#attributes":
            continue
        if key.endswith("_attributes"):
            base = key[: -len("_attributes")]
            if base not in body and isinstance(value, dict):  # an element with attributes only
                tag_name = _repeated_key(base, body)
                inner.append(xmltext.element(tag_name, "", [(k, _text(v)) for k, v in value.items()]))
            continue
        key = _repeated_key(key, body)
        if key == "#text":
            texts = value if isinstance(value, list) else [value]
            if tag == "EventData" or (tag == "Data" and isinstance(value, list)):
                # {"Data": {"#text": [...]}}: unnamed <Data> elements, one per string.
                inner.extend(xmltext.element("Data", xmltext.escape_text(_text(t) or "")) for t in texts)
            else:
                inner.append(xmltext.escape_text(" ".join(_text(t) or "" for t in texts)))
            continue
        child_attrs = _attributes(body, key)
        if tag == "EventData" and key not in ("Data", "Binary") and not isinstance(value, dict):
            inner.append(xmltext.element("Data", xmltext.escape_text(_text(value) or ""), [("Name", key)]))
        elif tag == "EventData" and key == "Data" and isinstance(value, dict) and "#text" in value:
            texts = value["#text"] if isinstance(value["#text"], list) else [value["#text"]]
            inner.extend(xmltext.element("Data", xmltext.escape_text(_text(t) or "")) for t in texts)
        else:
            inner.append(_element_from_json(key, value, child_attrs))
    return xmltext.element(tag, "".join(inner), attr_pairs)


class PairsDict(dict):  # type: ignore[type-arg]
    """A JSON object that also remembers repeated keys (the evtx package writes one per repeated <Data Name>)."""

    pairs: list[tuple[str, Any]]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> PairsDict:
        made = cls(pairs)
        made.pairs = pairs
        return made


def _items(body: dict[str, Any]) -> list[tuple[str, Any]]:
    return body.pairs if isinstance(body, PairsDict) else list(body.items())


def _repeated_key(key: str, siblings: dict[str, Any]) -> str:
    """The evtx package renames a repeated element ``X`` to ``X_1``, ``X_2``... in JSON; undo that."""
    base, _, number = key.rpartition("_")
    if base and number.isdigit() and (base in siblings or f"{base}_attributes" in siblings):
        return base
    return key


def _from_winlogbeat(obj: dict[str, Any]) -> str:
    original = _lookup(obj, "event", "original")
    if isinstance(original, str) and original.lstrip().startswith("<Event"):
        return xmltext.canonicalize(original)
    level = _lookup(obj, "log", "level") or _lookup(obj, "winlog", "level")
    opcode = _lookup(obj, "winlog", "opcode")
    task = _lookup(obj, "winlog", "task")
    values: dict[str, str | None] = {
        "Provider": _text(_lookup(obj, "winlog", "provider_name")),
        "Guid": _text(_lookup(obj, "winlog", "provider_guid")),
        "EventID": _text(_lookup(obj, "winlog", "event_id")) or _text(_lookup(obj, "event", "code")),
        "Version": _text(_lookup(obj, "winlog", "version")),
        "Level": _LEVELS.get(str(level).lower()) if level is not None else None,
        "Task": _text(task) if _text(task) and str(_text(task)).isdigit() else None,
        "Opcode": _OPCODES.get(str(opcode).lower()) if opcode is not None else None,
        "Keywords": _keywords(_lookup(obj, "winlog", "keywords")),
        "SystemTime": _system_time(_text(obj.get("@timestamp"))),
        "EventRecordID": _text(_lookup(obj, "winlog", "record_id")),
        "ActivityID": _text(_lookup(obj, "winlog", "activity_id")),
        "ProcessID": _text(_lookup(obj, "winlog", "process", "pid")),
        "ThreadID": _text(_lookup(obj, "winlog", "process", "thread", "id")),
        "Channel": _text(_lookup(obj, "winlog", "channel")),
        "Computer": _text(_lookup(obj, "winlog", "computer_name")),
        "UserID": _text(_lookup(obj, "winlog", "user", "identifier")),
    }
    payload = ""
    event_data = _lookup(obj, "winlog", "event_data")
    if isinstance(event_data, dict):
        payload = xmltext.element("EventData", xmltext.data_elements(
            (k, _text(v) or "") for k, v in _flat_items(event_data)))  # fmt: skip
    user_data = _lookup(obj, "winlog", "user_data")
    if isinstance(user_data, dict):
        wrapper = str(user_data.get("xml_name") or "EventXML")
        leaves = "".join(xmltext.element(k, xmltext.escape_text(_text(v) or ""))
                         for k, v in _flat_items(user_data) if k != "xml_name")  # fmt: skip
        payload += xmltext.element("UserData", xmltext.element(wrapper, leaves))
    rendering = ""
    message = obj.get("message")
    if isinstance(message, str):
        rendering = xmltext.element("RenderingInfo", xmltext.element("Message", xmltext.escape_text(message)))
    return xmltext.event_xml(values, payload, rendering)


def _flat_items(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        if isinstance(value, dict):
            yield from _flat_items(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _keywords(value: Any) -> str | None:
    if value is None:
        return None
    names = value if isinstance(value, list) else [value]
    mask = 0
    for name in names:
        text = str(name)
        if text.lower().startswith("0x"):
            try:
                mask |= int(text, 16)
            except ValueError:
                continue
        else:
            mask |= _KEYWORD_BITS.get(text.lower(), 0)
    return hex(mask)


def _system_time(value: str | None) -> str | None:
    if value is None:
        return None
    micros = parse_time(value)
    formatted = format_micros(micros) if micros is not None else None
    return formatted if formatted is not None else xmltext.canonical_system_time(value)


# ---------------------------------------------------------------------------------------------- generic events


def flatten(obj: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Field names and values of a generic JSON object (values: str/int/float, or a list for a multivalue)."""
    names: list[str] = []
    values: list[Any] = []
    multi: dict[str, list[Any]] = {}
    _flatten_into(obj, "", names, values, multi, top=True)
    return names, values


def _flatten_into(obj: dict[str, Any], prefix: str, names: list[str], values: list[Any],
                  multi: dict[str, list[Any]], top: bool = False) -> None:  # fmt: skip
    for key, value in obj.items():
        if top and key in SPECIAL_KEYS:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten_into(value, f"{name}.", names, values, multi)
        elif isinstance(value, list):
            _flatten_list(name, value, names, values, multi)
        elif value is not None:
            names.append(name)
            values.append("true" if value is True else "false" if value is False else value)


def _flatten_list(name: str, items: list[Any], names: list[str], values: list[Any],
                  multi: dict[str, list[Any]]) -> None:  # fmt: skip
    """Array items become one multivalue field; objects inside arrays contribute to ``name.key`` fields."""
    scalars: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            sub_names: list[str] = []
            sub_values: list[Any] = []
            _flatten_into(item, f"{name}.", sub_names, sub_values, {})
            for sub_name, sub_value in zip(sub_names, sub_values, strict=True):
                _append_multi(sub_name, sub_value, names, values, multi)
        elif isinstance(item, list):
            _flatten_list(name, item, names, values, multi)
        elif item is not None:
            scalars.append("true" if item is True else "false" if item is False else item)
    for scalar in scalars:
        _append_multi(name, scalar, names, values, multi)


def _append_multi(name: str, value: Any, names: list[str], values: list[Any], multi: dict[str, list[Any]]) -> None:
    existing = multi.get(name)
    if existing is None:
        existing = multi[name] = []
        names.append(name)
        values.append(existing)
    if isinstance(value, list):
        existing.extend(value)
    else:
        existing.append(value)


def event_time(obj: dict[str, Any]) -> tuple[int | None, str | None]:
    """``(microseconds since the epoch, None)`` from the first time key present, or ``(None, problem)``."""
    for key in TIME_KEYS:
        if key in obj and obj[key] is not None:
            value = obj[key]
            micros = parse_time(value)
            if micros is None:
                return None, f"{key} {value!r} is not a recognised timestamp"
            return micros, None
    return None, None


def parse_time(value: Any) -> int | None:
    """ISO-8601 text (zone offset honoured, none = UTC) or epoch seconds/milliseconds -> UTC microseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _epoch_micros(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return _epoch_micros(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(_trim_fraction(text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _trim_fraction(text: str) -> str:
    """Python parses at most 6 fractional digits; Windows writes 7 (truncate, as the evtx package does)."""
    dot = text.find(".")
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[: dot + 7] + text[end:] if end - dot - 1 > 6 else text


def _epoch_micros(number: float) -> int | None:
    if not math.isfinite(number):
        return None
    # Epoch milliseconds: anything beyond 1e11 seconds (year 5138) must be milliseconds.
    seconds = number / 1000 if abs(number) >= 1e11 else number
    return round(seconds * 1_000_000)


def format_micros(micros: int) -> str | None:
    """UTC microseconds -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (the canonical SystemTime text); None out of range."""
    seconds, fraction = divmod(micros, 1_000_000)
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{fraction:06d}Z"
