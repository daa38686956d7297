"""Read an EVTX file back through every parser and normalise each record to one comparable dict.

Three views: the `evtx` package's XML and JSON renderings (with checksum validation on) and python-evtx's
XML. Each parser has its own rendering habits (GUID case and braces, padded hex, time formats, indentation
whitespace around empty elements); the normalisation below undoes exactly those habits and nothing more,
so any real difference between what was written and what was read still shows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import evtx
from Evtx.BinaryParser import parse_filetime
from Evtx.Evtx import Evtx

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
_INDENT_ONLY = re.compile(r"\n[ ]*\Z")  # how evtx renders an element whose value is null


def ticks_from_iso(text: str) -> int:
    """FILETIME ticks of an ISO time with 0-9 fractional digits and Z / +00:00 (test-side, independent)."""
    text = text.strip().removesuffix(" UTC").replace(" ", "T")
    match = re.fullmatch(r"([^.]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", text)
    assert match, text
    base, fraction, zone = match.groups()
    moment = dt.datetime.fromisoformat(base + (zone if zone and zone != "Z" else "+00:00"))
    delta = moment - _FILETIME_EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return seconds * 10_000_000 + int((fraction or "0")[:7].ljust(7, "0"))


def python_evtx_time(ticks: int) -> str:
    """How python-evtx renders a FILETIME (its own float conversion, so the comparison is exact)."""
    return parse_filetime(ticks).isoformat(" ")


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, name = tag[1:].split("}", 1)
        return ns, name
    return None, tag


def _text(element: ET.Element, rust: bool) -> str:
    text = element.text or ""
    if rust and _INDENT_ONLY.fullmatch(text):
        return ""
    return text


def _guid(text: str | None) -> str | None:
    return None if text is None else str(uuid.UUID(text.strip("{}")))


def _tree(element: ET.Element, rust: bool) -> dict[str, Any]:
    ns, name = _local(element.tag)
    children = list(element)
    node: dict[str, Any] = {"name": name, "ns": ns, "attrs": dict(element.attrib)}
    if children:
        node["children"] = [_tree(child, rust) for child in children]
    else:
        node["text"] = _text(element, rust)
    return node


def _from_xml(root: ET.Element, rust: bool) -> dict[str, Any]:
    system = {_local(child.tag)[1]: child for child in root.find(f"{{{EVENT_NS}}}System")}
    provider = system["Provider"].attrib
    event_id = system["EventID"]
    execution = system.get("Execution")
    correlation = system["Correlation"].attrib
    out: dict[str, Any] = {
        "provider": provider["Name"],
        "provider_guid": _guid(provider.get("Guid")),
        "event_source_name": provider.get("EventSourceName"),
        "event_id": int(event_id.text),
        "qualifiers": int(event_id.attrib["Qualifiers"]) if "Qualifiers" in event_id.attrib else None,
        "version": int(system["Version"].text),
        "level": int(system["Level"].text),
        "task": int(system["Task"].text),
        "opcode": int(system["Opcode"].text),
        "keywords": int(system["Keywords"].text, 16),
        "time": system["TimeCreated"].attrib["SystemTime"],
        "record_id": int(system["EventRecordID"].text),
        "activity_id": _guid(correlation.get("ActivityID")),
        "related_activity_id": _guid(correlation.get("RelatedActivityID")),
        "process_id": int(execution.attrib["ProcessID"]) if execution is not None else None,
        "thread_id": int(execution.attrib["ThreadID"]) if execution is not None else None,
        "channel": system["Channel"].text,
        "computer": system["Computer"].text,
        "user_sid": system["Security"].attrib.get("UserID"),
        "data": None,
        "user_data": None,
    }
    event_data = root.find(f"{{{EVENT_NS}}}EventData")
    if event_data is not None:
        out["data"] = [(data.attrib.get("Name"), _text(data, rust)) for data in event_data]
    user_data = root.find(f"{{{EVENT_NS}}}UserData")
    if user_data is not None:
        out["user_data"] = [_tree(child, rust) for child in user_data]
    return out


def read_rust_xml(path: Path) -> list[dict[str, Any]]:
    records = []
    for record in evtx.PyEvtxParser(str(path), validate_checksums=True).records():
        parsed = _from_xml(ET.fromstring(record["data"]), rust=True)
        parsed["header_record_id"] = record["event_record_id"]
        parsed["header_ticks"] = ticks_from_iso(record["timestamp"])
        parsed["time"] = ticks_from_iso(parsed["time"])
        records.append(parsed)
    return records


def read_python_evtx(path: Path) -> list[dict[str, Any]]:
    records = []
    with Evtx(str(path)) as log:
        for record in log.records():
            parsed = _from_xml(ET.fromstring(record.xml()), rust=False)
            parsed["header_record_id"] = record.record_num()
            parsed["header_ticks"] = None
            # python-evtx converts FILETIME through a float, which can be microseconds off; keep its text
            # so a test can compare it with python_evtx_time() of the expected value.
            records.append(parsed)
    return records


def read_rust_json(path: Path) -> list[dict[str, Any]]:
    """JSON records as the evtx package gives them (parsed), with the record header id."""
    out = []
    for record in evtx.PyEvtxParser(str(path), validate_checksums=True).records_json():
        document = json.loads(record["data"])
        document["header_record_id"] = record["event_record_id"]
        out.append(document)
    return out
