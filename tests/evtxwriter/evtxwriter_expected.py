"""What a reader should see for an input event dict, written from the writer's documented contract.

Kept apart from the writer's code on purpose: the defaults and renderings here are restated from the
module docstring of ``sqldetect.evtxwriter``, so a change in the writer that breaks the contract fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from evtxwriter_readback import EVENT_NS, ticks_from_iso

DEFAULTS = {"version": 0, "level": 4, "task": 0, "opcode": 0, "keywords": 0x80000000000000}


def _text(value: object, xml: bool) -> str:
    if value is None:
        return ""
    text = str(value)
    return text.replace("\r\n", "\n") if xml else text  # XML parsers normalise line ends


def _user_tree(name: str, value: object, ns: str, xml: bool) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [node for item in value for node in _user_tree(name, item, ns, xml)]
    if isinstance(value, Mapping):
        own_ns = value.get("@xmlns", ns)
        attrs = {key[1:]: text for key, text in value.items() if key.startswith("@") and key != "@xmlns"}
        children = [node for key, item in value.items() if not key.startswith("@")
                    for node in _user_tree(key, item, own_ns, xml)]
        node: dict[str, Any] = {"name": name, "ns": own_ns, "attrs": attrs}
        if children:
            node["children"] = children
        else:
            node["text"] = ""
        return [node]
    return [{"name": name, "ns": ns, "attrs": {}, "text": _text(value, xml)}]


def expected_view(event: Mapping[str, Any], record_id: int, *, xml: bool = True) -> dict[str, Any]:
    """The normalised record (see readback.py) an event dict must read back as."""
    def integer(key: str) -> int | None:
        value = event.get(key, DEFAULTS.get(key))
        if isinstance(value, str):
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        return value

    guid = lambda key: str(uuid.UUID(event[key].strip("{}"))) if event.get(key) else None  # noqa: E731
    has_execution = "process_id" in event or "thread_id" in event
    data = event.get("data")
    out: dict[str, Any] = {
        "provider": event["provider"],
        "provider_guid": guid("provider_guid"),
        "event_source_name": event.get("event_source_name"),
        "event_id": int(event["event_id"]),
        "qualifiers": integer("qualifiers"),
        "version": integer("version"),
        "level": integer("level"),
        "task": integer("task"),
        "opcode": integer("opcode"),
        "keywords": integer("keywords"),
        "time": ticks_from_iso(event["time"]),
        "record_id": record_id,
        "activity_id": guid("activity_id"),
        "related_activity_id": guid("related_activity_id"),
        "process_id": event.get("process_id", 0) if has_execution else None,
        "thread_id": event.get("thread_id", 0) if has_execution else None,
        "channel": event["channel"],
        "computer": event["computer"],
        "user_sid": event.get("user_sid"),
        "data": None,
        "user_data": None,
    }
    if isinstance(data, list):
        out["data"] = [(None, _text(value, xml)) for value in data]
    elif isinstance(data, Mapping):
        out["data"] = [(name, _text(value, xml)) for name, value in data.items()]
    if event.get("user_data") is not None:
        out["user_data"] = [node for name, value in event["user_data"].items()
                            for node in _user_tree(name, value, EVENT_NS, xml)]
    return out
