"""Event XML text: escaping, and the one *canonical* XML shape every Windows record is turned into.

The normalizer reads Windows events from one shape only: the XML the ``evtx`` package renders (double-quoted
attributes, empty elements written ``<X></X>``, text escaping only ``& < >``, no whitespace between elements).
Every other source is converted into that shape first (python-evtx records, Winlogbeat/ECS JSON, the evtx
package's JSON, Windows-rendered XML embedded in JSON), so that one code path decides every field and both
parsers produce the same event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.parsers import expat

_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _entity(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] != "#":
        return _NAMED[ref]
    try:
        return chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:]))
    except (ValueError, OverflowError):
        return match.group(0)


def unescape(text: str) -> str:
    """Resolve the XML entities (the five named ones and numeric references) in ``text``."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


def escape_text(text: str) -> str:
    """Escape element text the way the evtx package does (``&``, ``<``, ``>``)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attr(text: str) -> str:
    """Escape an attribute value for a double-quoted attribute."""
    text = escape_text(text)
    return text.replace('"', "&quot;") if '"' in text else text


def element(tag: str, content: str = "", attrs: Iterable[tuple[str, str | None]] = ()) -> str:
    """One canonical element: ``<tag a="v">content</tag>``; attributes whose value is None are left out."""
    attr_text = "".join(f' {name}="{escape_attr(value)}"' for name, value in attrs if value is not None)
    return f"<{tag}{attr_text}>{content}</{tag}>"


# System children in the order Windows (and the evtx package) writes them.
SYSTEM_KEYS = (
    "Provider", "Guid", "EventSourceName", "Qualifiers", "EventID", "Version", "Level", "Task", "Opcode",
    "Keywords", "SystemTime", "EventRecordID", "ActivityID", "RelatedActivityID", "ProcessID", "ThreadID",
    "Channel", "Computer", "UserID",
)  # fmt: skip


def system_xml(system: dict[str, str | None], extra: dict[str, list[tuple[str, str | None]]] | None = None) -> str:
    """Render a System block in canonical form from its values (missing optional elements are omitted).

    The keys ``Correlation``/``Execution`` (any value) ask for those elements even when they carry no attribute;
    ``extra`` adds attributes beyond the standard ones (``Execution``'s ``ProcessorID``, ``KernelTime``...).
    """
    get = system.get
    more = extra or {}

    def text(tag: str) -> str:
        value = get(tag)
        return "" if value is None else element(tag, escape_text(value))

    parts = [
        element("Provider", "", [("Name", get("Provider")), ("Guid", get("Guid")),
                                 ("EventSourceName", get("EventSourceName")), *more.get("Provider", [])]),
        element("EventID", escape_text(get("EventID") or ""), [("Qualifiers", get("Qualifiers"))]),
        text("Version"), text("Level"), text("Task"), text("Opcode"), text("Keywords"),
        element("TimeCreated", "", [("SystemTime", get("SystemTime"))]),
        text("EventRecordID"),
    ]  # fmt: skip
    if "Correlation" in system or get("ActivityID") is not None or get("RelatedActivityID") is not None:
        parts.append(element("Correlation", "", [("ActivityID", get("ActivityID")),
                                                 ("RelatedActivityID", get("RelatedActivityID"))]))
    if "Execution" in system or get("ProcessID") is not None or get("ThreadID") is not None:
        parts.append(element("Execution", "", [("ProcessID", get("ProcessID")), ("ThreadID", get("ThreadID")),
                                               *more.get("Execution", [])]))
    parts += [text("Channel"), text("Computer"), element("Security", "", [("UserID", get("UserID"))])]
    return "<System>" + "".join(parts) + "</System>"


EVENT_OPEN = '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'


def event_xml(
    system: dict[str, str | None],
    payload_xml: str = "",
    rendering_xml: str = "",
    extra: dict[str, list[tuple[str, str | None]]] | None = None,
) -> str:
    """A whole canonical event document from a System dict and already-canonical payload XML."""
    return f"{EVENT_OPEN}{system_xml(system, extra)}{payload_xml}{rendering_xml}</Event>"


def data_elements(items: Iterable[tuple[str | None, str]]) -> str:
    """``<Data Name="n">v</Data>`` (or ``<Data>v</Data>`` for unnamed items) for an EventData body."""
    return "".join(element("Data", escape_text(value), [("Name", name)]) for name, value in items)


_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]00:?00)?$")


def canonical_system_time(value: str) -> str:
    """``2022-04-11T09:15:32.1234567Z`` (Windows: 7 digits) -> ``2022-04-11T09:15:32.123456Z`` (6, truncated).

    The evtx package truncates FILETIME to microseconds and writes six digits; other renderings are brought to
    the same text so that the event (and its identity key) does not depend on where it was read from.
    """
    match = _FRACTION.match(value.strip())
    if match is None:
        return value
    date, clock, fraction, _zone = match.groups()
    return f"{date}T{clock}.{(fraction or '')[:6].ljust(6, '0')}Z"


_GUID = re.compile(r"\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?")


def windows_guid(value: str) -> str:
    """A GUID as Windows (and so Splunk) shows it: ``{B1E2...}``, in braces, upper case; other text unchanged.

    The canonical XML keeps the evtx package's rendering (no braces: ``B1E2...``), python-evtx's node values and
    Winlogbeat's JSON differ again; searches and ``stats by ActivityID`` must see one form whatever the source.
    """
    match = _GUID.fullmatch(value)
    if match is None or (value[0] == "{") != (value[-1] == "}"):
        return value
    return "{" + match.group(1).upper() + "}"


def canonicalize(xml: str) -> str:
    """Re-serialize any well-formed event XML (e.g. Windows' own single-quoted rendering) in canonical form.

    Whitespace-only text between elements (pretty printing) is dropped; element text is kept verbatim.
    Raises ``ValueError`` when the text is not well-formed XML.
    """
    out: list[str] = []
    stack: list[list[object]] = []  # [tag, has_children, text parts]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if stack:
            stack[-1][1] = True
            _flush_text(stack[-1], out)
        if tag == "TimeCreated" and "SystemTime" in attrs:
            attrs = {**attrs, "SystemTime": canonical_system_time(attrs["SystemTime"])}
        out.append("<" + tag + "".join(f' {k}="{escape_attr(v)}"' for k, v in attrs.items()) + ">")
        stack.append([tag, False, []])

    def end(tag: str) -> None:
        frame = stack.pop()
        _flush_text(frame, out, leaf=not frame[1])
        out.append(f"</{tag}>")

    def chars(data: str) -> None:
        if stack:
            stack[-1][2].append(data)  # type: ignore[union-attr]

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise ValueError(f"malformed event XML: {exc}") from exc
    return "".join(out)


def _flush_text(frame: list[object], out: list[str], leaf: bool = False) -> None:
    parts: list[str] = frame[2]  # type: ignore[assignment]
    if not parts:
        return
    text = "".join(parts)
    parts.clear()
    if leaf or text.strip():
        out.append(escape_text(text))
