"""Render a python-evtx record as canonical event XML (the shape the ``evtx`` package writes).

python-evtx's own XML view is lossy for our purpose: it pads hex values, writes times through a float
(``2019-03-18 11:27:05.425621+00:00``, sometimes off by a microsecond), renders GUIDs lower-case in braces,
Binary as base64, booleans as ``True``, keeps empty optional attributes (``Qualifiers=""``), and folds a
string-array value (classic providers such as MsiInstaller) into one ``<Data>`` holding escaped ``<string>``
text. Rendering its node tree ourselves, with each value formatted from its binary type the way the evtx package
does, makes both parsers produce the same event; ``tests/events/test_parsers_agree.py`` holds them to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import Evtx.Nodes as nodes

from sqldetect.events.xmltext import EVENT_OPEN, escape_attr, escape_text

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class _Null:
    """An absent substitution: attributes holding one are left out, elements stay (empty)."""


NULL = _Null()


def render_record(record: Any) -> str:
    """Canonical XML of one ``Evtx.Evtx.Record`` (raises on records python-evtx cannot decode)."""
    body = _render_root(record.root())
    if body.startswith("<Event "):
        # The evtx package always writes the namespace declaration first; python-evtx keeps the template's.
        body = EVENT_OPEN + body[body.index(">") + 1 :] if body.startswith(EVENT_OPEN[:-1]) else body
    return body


def _render_root(root: Any) -> str:
    subs = root.substitutions()
    out: list[str] = []
    for child in root.template().children():
        _render(child, subs, out)
    return "".join(out)


def _render(node: Any, subs: list[Any], out: list[str]) -> None:
    if isinstance(node, nodes.OpenStartElementNode):
        _render_element(node, subs, out)
    elif isinstance(node, nodes.ValueNode):
        out.append(escape_text(_format(node.children()[0])))
    elif isinstance(node, nodes.NormalSubstitutionNode | nodes.ConditionalSubstitutionNode):
        value = _substitution(node, subs)
        if isinstance(value, list):
            out.append("".join(escape_text(v) for v in value))
        elif isinstance(value, str):
            out.append(value if _is_xml(node, subs) else escape_text(value))
    elif isinstance(node, nodes.CharacterReferenceNode):
        out.append(escape_text(chr(node.entity())))
    elif isinstance(node, nodes.EntityReferenceNode):
        out.append(node.entity_reference())
    elif isinstance(node, nodes.CDataSectionNode):
        out.append(escape_text(node.cdata()))


def _render_element(node: Any, subs: list[Any], out: list[str]) -> None:
    tag = node.tag_name()
    attrs: list[str] = []
    content: list[Any] = []
    for child in node.children():
        if isinstance(child, nodes.AttributeNode):
            value = _attribute_value(child.attribute_value(), subs)
            if value is not None:
                attrs.append(f' {child.attribute_name().string()}="{escape_attr(value)}"')
        elif isinstance(child, _CONTENT_NODES):
            content.append(child)
    open_tag = f"<{tag}{''.join(attrs)}>"
    # A string-array substitution as an element's whole content repeats the element once per string
    # (the evtx package writes <Data>a</Data><Data>b</Data> for a classic provider's insertion strings).
    if len(content) == 1 and isinstance(content[0], nodes.NormalSubstitutionNode | nodes.ConditionalSubstitutionNode):
        value = _substitution(content[0], subs)
        if isinstance(value, list):
            out.extend(f"{open_tag}{escape_text(item)}</{tag}>" for item in value)
            return
    out.append(open_tag)
    for child in content:
        _render(child, subs, out)
    out.append(f"</{tag}>")


_CONTENT_NODES = (
    nodes.OpenStartElementNode, nodes.ValueNode, nodes.NormalSubstitutionNode, nodes.ConditionalSubstitutionNode,
    nodes.CharacterReferenceNode, nodes.EntityReferenceNode, nodes.CDataSectionNode,
)  # fmt: skip


def _attribute_value(node: Any, subs: list[Any]) -> str | None:
    if isinstance(node, nodes.ValueNode):
        return _format(node.children()[0])
    value = _substitution(node, subs)
    if value is NULL or value == "":
        return None
    if isinstance(value, list):
        return " ".join(value)
    return value  # type: ignore[return-value]


def _is_xml(node: Any, subs: list[Any]) -> bool:
    return isinstance(subs[node.index()], nodes.BXmlTypeNode)


def _substitution(node: Any, subs: list[Any]) -> str | list[str] | _Null:
    index = node.index()
    if index >= len(subs):
        raise ValueError(f"substitution {index} out of range ({len(subs)} values)")
    value = subs[index]
    if isinstance(value, nodes.NullTypeNode):
        return NULL
    if isinstance(value, nodes.BXmlTypeNode):
        return _render_root(value.root())
    if isinstance(value, nodes.WstringArrayTypeNode):
        return _string_array(value)
    return _format(value)


def _string_array(node: Any) -> list[str]:
    raw: bytes = node.binary()
    text = raw.decode("utf-16-le", errors="surrogatepass")
    items = text.split("\x00")
    if items and items[-1] == "":
        items.pop()
    return items


def _format(value: Any) -> str:
    """A substitution value as the evtx package writes it."""
    if isinstance(value, nodes.NullTypeNode):
        return ""
    if isinstance(value, nodes.WstringTypeNode | nodes.StringTypeNode):
        return value.string()
    if isinstance(value, nodes.BooleanTypeNode):
        # The evtx package writes 0/1 as false/true and any other stored number as that number.
        number = value.int32()
        return "false" if number == 0 else "true" if number == 1 else str(number)
    if isinstance(value, nodes.Hex32TypeNode | nodes.Hex64TypeNode):
        return hex(int.from_bytes(value.hex(), "little"))
    if isinstance(value, nodes.GuidTypeNode):
        return value.guid().strip("{}").upper()
    if isinstance(value, nodes.BinaryTypeNode):
        return value.binary().hex().upper()
    if isinstance(value, nodes.FiletimeTypeNode):
        return filetime_text(value.unpack_qword(0))
    if isinstance(value, nodes.SystemtimeTypeNode):
        return _systemtime_text(value)
    if isinstance(value, nodes.SizeTypeNode):
        return hex(value.num())
    if isinstance(value, nodes.FloatTypeNode | nodes.DoubleTypeNode):
        return repr(value.float() if isinstance(value, nodes.FloatTypeNode) else value.double())
    return value.string()


def filetime_text(ticks: int) -> str:
    """FILETIME (100 ns ticks since 1601) as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, truncated like the evtx package."""
    moment = _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _systemtime_text(value: Any) -> str:
    moment = value.systemtime()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
