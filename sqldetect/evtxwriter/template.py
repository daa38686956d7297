"""The template (BinXml element tree) for an event shape, laid out as Windows lays out its event XML.

Substitution indices are handed out in document order; ``event.prepare_event`` emits its values in the same
order (head values, EventRecordID, tail values), so index ``i`` of the template is value ``i`` of the record.
The read-back tests in tests/evtxwriter check every field through both parsers, which is what keeps the two
orders in step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import count

from sqldetect.evtxwriter.binxml import Content, Element, Literal, Substitution, ValueType
from sqldetect.evtxwriter.event import EventShape

EVENT_NAMESPACE = "http://schemas.microsoft.com/win/2004/08/events/event"


def template_guid(shape: EventShape) -> bytes:
    """A stable 16-byte id per shape, so the same input always gives byte-identical files."""
    return hashlib.md5(repr(shape).encode("utf-8"), usedforsecurity=False).digest()


def build_template(shape: EventShape) -> Element:
    """The ``<Event>`` element tree for ``shape`` with numbered substitutions."""
    numbers = count()

    def sub(value_type: ValueType, optional: bool = False) -> Substitution:
        return Substitution(next(numbers), value_type, optional)

    # Arguments are evaluated left to right, so building the tree in document order numbers it in order.
    provider_attributes: list[tuple[str, Content]] = [("Name", Literal(shape.provider))]
    if shape.has_provider_guid:
        provider_attributes.append(("Guid", sub(ValueType.GUID)))
    if shape.event_source_name is not None:
        provider_attributes.append(("EventSourceName", Literal(shape.event_source_name)))
    provider = Element("Provider", tuple(provider_attributes))
    qualifiers = (("Qualifiers", sub(ValueType.UINT16)),) if shape.has_qualifiers else ()
    event_id = Element("EventID", qualifiers, (sub(ValueType.UINT16),))
    version = Element("Version", (), (sub(ValueType.UINT8),))
    level = Element("Level", (), (sub(ValueType.UINT8),))
    task = Element("Task", (), (sub(ValueType.UINT16),))
    opcode = Element("Opcode", (), (sub(ValueType.UINT8),))
    keywords = Element("Keywords", (), (sub(ValueType.HEX64),))
    time_created = Element("TimeCreated", (("SystemTime", sub(ValueType.FILETIME)),))
    record_id = Element("EventRecordID", (), (sub(ValueType.UINT64),))
    correlation_attributes: list[tuple[str, Content]] = []
    if shape.has_activity_id:
        correlation_attributes.append(("ActivityID", sub(ValueType.GUID)))
    if shape.has_related_activity_id:
        correlation_attributes.append(("RelatedActivityID", sub(ValueType.GUID)))
    correlation = Element("Correlation", tuple(correlation_attributes))
    system_children: list[Element] = [provider, event_id, version, level, task, opcode, keywords, time_created,
                                      record_id, correlation]
    if shape.has_execution:
        system_children.append(
            Element("Execution", (("ProcessID", sub(ValueType.UINT32)), ("ThreadID", sub(ValueType.UINT32))))
        )
    system_children.append(Element("Channel", (), (Literal(shape.channel),)))
    system_children.append(Element("Computer", (), (sub(ValueType.WSTRING),)))
    security = (("UserID", sub(ValueType.SID)),) if shape.has_user_sid else ()
    system_children.append(Element("Security", security))
    children: list[Element] = [Element("System", (), tuple(system_children))]

    data = _data_element(shape.data, sub)
    if data is not None:
        children.append(data)
    return Element("Event", (("xmlns", Literal(EVENT_NAMESPACE)),), tuple(children))


def _data_element(data: tuple | None, sub: Callable[..., Substitution]) -> Element | None:
    if data is None:
        return None
    kind, items = data
    if kind == "unnamed":
        return Element("EventData", (), tuple(Element("Data", (), (_value(sub, t),)) for t in items))
    if kind == "named":
        return Element(
            "EventData", (),
            tuple(Element("Data", (("Name", Literal(name)),), (_value(sub, t),)) for name, t in items),
        )
    return Element("UserData", (), tuple(_user_node(node, sub) for node in items))


def _value(sub: Callable[..., Substitution], value_type: int) -> Substitution:
    # A null value goes through a conditional substitution, as Windows writes optional values.
    value_type = ValueType(value_type)
    return sub(value_type, value_type == ValueType.NULL)


def _user_node(node: tuple, sub: Callable[..., Substitution]) -> Element | Substitution:
    if node[0] == "value":
        return _value(sub, node[1])
    _, name, attributes, children = node
    return Element(
        name,
        tuple((attr, Literal(text)) for attr, text in attributes),
        tuple(_user_node(child, sub) for child in children),
    )
