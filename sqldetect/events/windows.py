"""The Windows normalizer: one canonical event XML document in, one Splunk-shaped event row out.

Splunk users expect fields named as Splunk_TA_windows extracts them (``EventCode``, ``Channel``, ``host``,
every ``EventData`` value under its ``Name``, ``Message``...) and a ``_raw`` in the rendering their rules
search. This module decides all of that for every source; readers only hand it canonical XML
(see ``xmltext``).

Speed matters here (it runs once per record, after a parser that renders ~300k records/s), so the common shape
is parsed with one compiled regex for ``System`` and plain ``str`` operations for a named-``Data`` EventData;
other payloads (UserData, unnamed Data, Binary) use a leaf regex; any System block the fast regex does not
recognise falls back to a full XML parse. All three paths produce the same result (tested).

A row is ``(core, names, values)``: ``core`` follows ``WINDOWS_COLUMNS``; ``names``/``values`` are the
event's own fields in document order (a name repeats when the event repeats it: a multivalue field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import blake2b as _blake2b
from xml.parsers import expat

from sqldetect.events import classic
from sqldetect.events.messages import MessageCatalog
from sqldetect.events.xmltext import EVENT_OPEN, canonical_system_time, escape_text, unescape, windows_guid

# Columns of a normalized Windows row, in order; the store turns them into Splunk fields (see store.py).
WINDOWS_COLUMNS = (
    "system_time", "provider", "source_name", "qualifiers", "event_id", "version", "level", "task", "opcode",
    "keywords", "record_id", "activity_id", "related_activity_id", "process_id", "thread_id", "channel", "computer",
    "user_id", "message", "raw", "data", "key",
)  # fmt: skip

# Field names the normalizer itself produces. An EventData/UserData value with one of these exact names is stored
# as ``<Section>_<Name>`` (e.g. ``UserData_Channel``) so that it neither overwrites nor is overwritten.
RESERVED_FIELDS = frozenset({
    "_time", "_raw", "_serial", "host", "source", "sourcetype", "index", "EventCode", "EventID", "EventRecordID",
    "RecordNumber", "Channel", "Computer", "Provider", "SourceName", "Level", "Task", "Opcode", "Keywords",
    "UserID", "Version", "ProcessID", "ThreadID", "Qualifiers", "signature_id", "Message", "Data",
    "ActivityID", "RelatedActivityID",
})  # fmt: skip

RAW_FORMATS = ("xml", "classic")

# Matches the System block as the evtx package writes it. Text never holds a double quote and attribute values
# never hold an apostrophe here, so a match also guarantees the cheap Splunk-quoting below is exact; anything
# else takes the full-parse path.
_SYSTEM = re.compile(
    r"<System><Provider(?: Name=\"([^\"']*)\")?(?: Guid=\"([^\"']*)\")?(?: EventSourceName=\"([^\"']*)\")?></Provider>"
    r"<EventID(?: Qualifiers=\"([^\"']*)\")?>([^<\"]*)</EventID>"
    r'(?:<Version>([^<"]*)</Version>)?'
    r'(?:<Level>([^<"]*)</Level>)?'
    r'(?:<Task>([^<"]*)</Task>)?'
    r'(?:<Opcode>([^<"]*)</Opcode>)?'
    r'(?:<Keywords>([^<"]*)</Keywords>)?'
    r"(?:<TimeCreated SystemTime=\"([^\"']*)\"></TimeCreated>)?"
    r'(?:<EventRecordID>([^<"]*)</EventRecordID>)?'
    r"(?:<Correlation(?: ActivityID=\"([^\"']*)\")?(?: RelatedActivityID=\"([^\"']*)\")?></Correlation>)?"
    r"(?:<Execution(?: ProcessID=\"([^\"']*)\")?(?: ThreadID=\"([^\"']*)\")?(?: \w+=\"[^\"']*\")*></Execution>)?"
    r'(?:<Channel>([^<"]*)</Channel>)?'
    r'(?:<Computer>([^<"]*)</Computer>)?'
    r"(?:<Security(?: UserID=\"([^\"']*)\")?></Security>)?"
    r"</System>"
)
_SYSTEM_TEXT_TAGS = frozenset({"EventID", "Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID",
                               "Channel", "Computer"})  # fmt: skip
_SYSTEM_TAGS = ("Provider", "Guid", "EventSourceName", "Qualifiers", "EventID", "Version", "Level", "Task",
                "Opcode", "Keywords", "SystemTime", "EventRecordID", "ActivityID", "RelatedActivityID", "ProcessID",
                "ThreadID", "Channel", "Computer", "UserID")  # fmt: skip
_LEAF = re.compile(r'<(?:Data Name="([^"]*)"[^>]*|([\w:.-]+)[^>]*)>([^<]*)</')
_RENDERED_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_SECTION = re.compile(r"<([\w:.-]+)")
_FAST_DATA = '<EventData><Data Name="'
_EMPTY_SYSTEM_ELEMENT = re.compile(r"></[A-Za-z]+>")
_SPLUNK_EVENT_OPEN = EVENT_OPEN.replace('"', "'")
_ANY_TAG = re.compile(r"<[^<>]+>")
_EMPTY_ELEMENT = re.compile(r"(<[^/<>][^<>]*)></[^<>]+>")


# Control characters are not allowed in XML 1.0, but the evtx package writes them as they are (they do occur in
# real Security events). The full parser maps them into a private-use plane and back.
_CONTROL_CHARS = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
_HIDE_CONTROL = str.maketrans({c: chr(0xF0000 + ord(c)) for c in _CONTROL_CHARS})
_SHOW_CONTROL = str.maketrans({chr(0xF0000 + ord(c)): c for c in _CONTROL_CHARS})


class RecordError(ValueError):
    """One record cannot be normalized (reported and skipped; the rest of the file still loads)."""


@dataclass(frozen=True)
class WindowsOptions:
    """Per-load choices that change the normalized rows."""

    raw_format: str = "xml"
    index: str = "main"
    catalog: MessageCatalog = field(default_factory=MessageCatalog)

    @property
    def sourcetype(self) -> str:
        return "XmlWinEventLog" if self.raw_format == "xml" else "WinEventLog"


@dataclass
class _Parsed:
    system: tuple[str | None, ...]  # _SYSTEM_TAGS order
    section: str | None
    names: list[str]
    values: list[str]
    data: list[str] | None
    positional: list[str]
    rendered_message: str | None
    fast_payload: bool


class WindowsNormalizer:
    """Turns canonical event XML into rows; holds the per-load options and message templates."""

    def __init__(self, options: WindowsOptions) -> None:
        if options.raw_format not in RAW_FORMATS:
            raise ValueError(f"raw format must be one of {RAW_FORMATS}, not {options.raw_format!r}")
        self.options = options
        self._classic = options.raw_format == "classic"
        self._key_prefix = f"{options.index}\x1f{options.sourcetype}\x1f"
        self._catalog_get = options.catalog.get
        self._has_templates = len(options.catalog) > 0

    def normalize(self, xml: str) -> tuple[tuple[object, ...], tuple[str, ...], list[str]]:
        """One row for one canonical event document; raises ``RecordError`` when it is not an event."""
        start = xml.find("<System>")
        match = _SYSTEM.match(xml, start) if start >= 0 else None
        if match is None:
            parsed = _parse_slow(xml)
            sys_end = xml.find("</System>") + len("</System>")
            return self._row(xml, xml.find("<System"), sys_end, parsed)
        pos = match.end()
        if xml.startswith(_FAST_DATA, pos):
            # Inline fast path: EventData of named <Data> only (most Security/Sysmon/PowerShell events).
            end = xml.find("</EventData>", pos)
            body = xml[pos + 23 : end]
            if end > 0 and body.endswith("</Data>") and "\x00" not in body:
                flat = body[:-7].replace('</Data><Data Name="', "\x00").replace('">', "\x00")
                if "<" not in flat:
                    parts = flat.split("\x00")
                    if not len(parts) % 2:
                        names = parts[0::2]
                        if "" not in names:
                            values = parts[1::2]
                            system = match.groups()
                            if "&" in xml:
                                names = [unescape(n) for n in names]
                                values = [unescape(v) for v in values]
                                if "&" in xml[start:pos]:
                                    system = tuple(None if v is None else unescape(v) for v in system)
                            if not RESERVED_FIELDS.isdisjoint(names):
                                names = [f"EventData_{n}" if n in RESERVED_FIELDS else n for n in names]
                            tail_ok = xml.startswith("</Event>", end + 12)
                            rendered = None if tail_ok else _rendered_message(xml, end)
                            return self._finish(xml, start, pos, system, names, values, None, values, rendered,
                                                tail_ok and "'" not in flat)  # fmt: skip
        parsed = _parse_payload(xml, match)
        return self._row(xml, start, pos, parsed, system_simple=True)

    def _row(
        self, xml: str, sys_start: int, sys_end: int, parsed: _Parsed, system_simple: bool = False
    ) -> tuple[tuple[object, ...], tuple[str, ...], list[str]]:
        return self._finish(xml, sys_start, sys_end, parsed.system, parsed.names, parsed.values, parsed.data,
                            parsed.positional, parsed.rendered_message, parsed.fast_payload, system_simple)  # fmt: skip

    def _finish(
        self,
        xml: str,
        sys_start: int,
        sys_end: int,
        system: tuple[str | None, ...],
        names: list[str],
        values: list[str],
        data: list[str] | None,
        positional: list[str],
        rendered_message: str | None,
        fast_payload: bool,
        system_simple: bool = True,
    ) -> tuple[tuple[object, ...], tuple[str, ...], list[str]]:
        (provider, guid, event_source, qualifiers, event_id, version, level, task, opcode, keywords,
         system_time, record_id, activity_id, related_activity_id, process_id, thread_id, channel, computer,
         user_id) = system  # fmt: skip
        if system_time is not None and (len(system_time) != 27 or system_time[26] != "Z"):
            system_time = canonical_system_time(system_time)  # e.g. a string-typed time with 7 or 9 digits
        edits: list[tuple[str, str]] = []  # the evtx package writes GUIDs bare; Windows and Splunk in braces
        if guid is not None and not self._classic:
            _braced(guid, " Guid=", edits)  # only _raw shows the provider GUID
        if activity_id is not None:
            activity_id = _braced(activity_id, " ActivityID=", edits)
        if related_activity_id is not None:
            related_activity_id = _braced(related_activity_id, " RelatedActivityID=", edits)
        template = self._catalog_get(provider, event_id) if self._has_templates else None
        message = template.render(positional) if template is not None else rendered_message
        source_name = event_source or provider
        if self._classic:
            body = message if message is not None else "\n".join(positional)
            raw = classic.classic_raw(
                system_time=system_time, channel=channel, event_id=event_id, level=level, computer=computer,
                source_name=source_name, record_id=record_id, keywords=keywords, task=task, opcode=opcode,
                message=body,
            )  # fmt: skip
            if message:
                extra = [(k, v) for k, v in classic.message_fields(message)
                         if k not in RESERVED_FIELDS and k not in names]  # fmt: skip
                if extra:
                    names = [*names, *(k for k, _ in extra)]
                    values = [*values, *(v for _, v in extra)]
        else:
            raw = splunk_xml(xml, sys_start, sys_end, system_simple, fast_payload, edits)
            if "&" in xml:
                # XmlWinEventLog fields are the text between the tags of _raw, entities and all (Splunk's
                # Windows add-on extracts them with regexes): `&gt;` stays `&gt;`, as ESCU rules expect. Canonical
                # XML escapes exactly & < > in text, so a decoded value holds one only where _raw has an entity.
                values = [escape_text(v) for v in values]
                if data is not None:
                    data = [escape_text(v) for v in data]
        if record_id:
            identity = f"{self._key_prefix}{provider}\x1f{channel}\x1f{computer}\x1f{record_id}\x1f{system_time}\x1f{event_id}"
        else:
            identity = self._key_prefix + xml
        key = _blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        core = (system_time, provider, source_name, qualifiers, event_id, version, level, task, opcode, keywords,
                record_id, activity_id, related_activity_id, process_id, thread_id, channel, computer, user_id,
                message, raw, data, key)  # fmt: skip
        return core, tuple(names), values


@lru_cache(maxsize=4096)
def _windows_guid(value: str) -> str:
    return windows_guid(value)  # one activity spans many events: most look-ups hit


def _braced(value: str, attribute: str, edits: list[tuple[str, str]]) -> str:
    """``value`` as Windows shows a GUID; records the matching edit of the ``_raw`` System block if it changed.

    A GUID holds no XML entity, so its canonical text is the value itself; ``attribute`` (``" ActivityID="``,
    with its leading space) cannot match inside ``RelatedActivityID``.
    """
    shown = _windows_guid(value)
    if shown != value:
        edits.append((f'{attribute}"{value}"', f'{attribute}"{shown}"'))
    return shown


def _system_values(match: re.Match[str], xml: str) -> tuple[str | None, ...]:
    values = match.groups()
    if "&" in xml[match.start() : match.end()]:
        values = tuple(None if v is None else unescape(v) for v in values)
    return values


def _parse_payload(xml: str, match: re.Match[str]) -> _Parsed:
    """Payload of a record whose System block matched the fast regex."""
    system = _system_values(match, xml)
    pos = match.end()
    if xml.startswith(_FAST_DATA, pos):
        parsed = _fast_event_data(xml, pos, system)
        if parsed is not None:
            return parsed
    end = xml.find("<RenderingInfo", pos)
    rendered = None
    if end >= 0:
        rendered = _rendered_message(xml, end)
    else:
        end = xml.rfind("</Event>")
    return _leaf_payload(xml[pos:end], system, rendered)


def _rendered_message(xml: str, start: int) -> str | None:
    """``RenderingInfo/Message`` (forwarded events carry the text Windows rendered), if present."""
    info = xml.find("<RenderingInfo", start)
    found = _RENDERED_MESSAGE.search(xml, info) if info >= 0 else None
    return unescape(found.group(1)) if found else None


def _fast_event_data(xml: str, pos: int, system: tuple[str | None, ...]) -> _Parsed | None:
    """EventData made only of named ``<Data>``: split with str operations, no regex per field."""
    end = xml.find("</EventData>", pos)
    body = xml[pos + len(_FAST_DATA) : end]
    if end < 0 or not body.endswith("</Data>") or "\x00" in body:
        return None
    flat = body[:-7].replace('</Data><Data Name="', "\x00").replace('">', "\x00")
    if "<" in flat:
        return None
    parts = flat.split("\x00")
    if len(parts) % 2:
        return None
    names = parts[0::2]
    values = parts[1::2]
    if "" in names:
        return None
    if "&" in flat:
        names = [unescape(n) for n in names]
        values = [unescape(v) for v in values]
    if not RESERVED_FIELDS.isdisjoint(names):
        names = [f"EventData_{n}" if n in RESERVED_FIELDS else n for n in names]
    tail_ok = xml.startswith("</Event>", end + len("</EventData>")) and "'" not in flat
    return _Parsed(system, "EventData", names, values, None, values, None, tail_ok)


def _leaf_payload(payload: str, system: tuple[str | None, ...], rendered: str | None) -> _Parsed:
    """Any other payload: every leaf element is a value (UserData leaves by tag, Data by Name)."""
    head = _SECTION.match(payload)
    section = head.group(1) if head else None
    names: list[str] = []
    values: list[str] = []
    positional: list[str] = []
    data: list[str] | None = None
    for data_name, tag, text in _LEAF.findall(payload):
        value = unescape(text)
        if tag == "":  # <Data Name="...">
            if data_name:
                name = unescape(data_name)
                names.append(f"{section}_{name}" if name in RESERVED_FIELDS else name)
                values.append(value)
            else:
                data = [] if data is None else data
                data.append(value)
            positional.append(value)
        elif tag == "Data":
            data = [] if data is None else data
            data.append(value)
            positional.append(value)
        else:
            names.append(f"{section}_{tag}" if tag in RESERVED_FIELDS else tag)
            values.append(value)
            if not (tag == "Binary" and section == "EventData"):
                positional.append(value)
    return _Parsed(system, section, names, values, data, positional, rendered, False)


def _parse_slow(xml: str) -> _Parsed:
    """Full XML parse for System blocks the fast regex does not recognise (unusual order or attributes)."""
    system: dict[str, str] = {}
    path: list[str] = []
    texts: list[list[str]] = []
    rendered: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        path.append(tag)
        texts.append([])
        if len(path) == 3 and path[1] == "System":
            if tag == "Provider":
                _take(system, attrs, ("Name", "Provider"), ("Guid", "Guid"), ("EventSourceName", "EventSourceName"))
            elif tag == "EventID":
                _take(system, attrs, ("Qualifiers", "Qualifiers"))
            elif tag == "TimeCreated":
                _take(system, attrs, ("SystemTime", "SystemTime"))
            elif tag == "Correlation":
                _take(system, attrs, ("ActivityID", "ActivityID"), ("RelatedActivityID", "RelatedActivityID"))
            elif tag == "Execution":
                _take(system, attrs, ("ProcessID", "ProcessID"), ("ThreadID", "ThreadID"))
            elif tag == "Security":
                _take(system, attrs, ("UserID", "UserID"))

    def end(tag: str) -> None:
        text = "".join(texts.pop())
        if len(path) == 3 and path[1] == "System" and tag in _SYSTEM_TEXT_TAGS:
            system[tag] = text
        elif len(path) == 3 and path[1] == "RenderingInfo" and tag == "Message":
            rendered.append(text)
        path.pop()

    def chars(data: str) -> None:
        if texts:
            texts[-1].append(data)

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(xml.translate(_HIDE_CONTROL), True)
    except expat.ExpatError as exc:
        raise RecordError(f"malformed event XML: {exc}") from exc
    system = {key: value.translate(_SHOW_CONTROL) for key, value in system.items()}
    rendered[:] = [text.translate(_SHOW_CONTROL) for text in rendered]
    if "EventID" not in system and "Provider" not in system:
        raise RecordError("not a Windows event (no System/EventID)")
    values = tuple(system.get(tag) for tag in _SYSTEM_TAGS)
    sys_end = xml.find("</System>")
    end = xml.find("<RenderingInfo", sys_end)
    if end < 0:
        end = xml.rfind("</Event>")
    payload = xml[sys_end + len("</System>") : end] if sys_end >= 0 else ""
    return _leaf_payload(payload, values, rendered[0] if rendered else None)


def _take(system: dict[str, str], attrs: dict[str, str], *pairs: tuple[str, str]) -> None:
    for attr, key in pairs:
        if attr in attrs:
            system[key] = attrs[attr]


def splunk_xml(
    xml: str, sys_start: int, sys_end: int, system_simple: bool, fast_payload: bool,
    system_edits: list[tuple[str, str]] | tuple[()] = (),
) -> str:
    """The event as Splunk's XmlWinEventLog stores it: one line, single-quoted attributes, empty elements closed.

    Canonical XML never has a raw ``>`` or ``<`` in text, so everything between ``<`` and ``>`` is markup; the
    common shapes are converted with plain string replacements, anything else tag by tag. ``system_edits`` are
    ``(old, new)`` replacements in the System block (attribute values shown as Windows shows them).
    """
    event_start = xml.find("<Event")
    head = xml[event_start:sys_start]
    head = _SPLUNK_EVENT_OPEN if head == EVENT_OPEN else head.replace('"', "'")
    system = xml[sys_start:sys_end]
    for old, new in system_edits:
        system = system.replace(old, new, 1)
    if system_simple:
        system = _EMPTY_SYSTEM_ELEMENT.sub("/>", system.replace('"', "'"))
    else:
        system = _general_splunk(system)
    rest = xml[sys_end:]
    if fast_payload:
        rest = rest.replace('<Data Name="', "<Data Name='").replace('">', "'>").replace("'></Data>", "'/>")
    else:
        rest = _general_splunk(rest)
    return head + system + rest


def _quote_tag(match: re.Match[str]) -> str:
    tag = match.group(0)
    if '"' not in tag:
        return tag
    return tag.replace("'", "&apos;").replace('"', "'")


def _general_splunk(fragment: str) -> str:
    return _EMPTY_ELEMENT.sub(r"\1/>", _ANY_TAG.sub(_quote_tag, fragment))
