"""Validate one event dict and turn it into a template shape plus typed substitution values.

The event dict is the writer's input contract (documented in ``sqldetect.evtxwriter``). Every problem is an
``InvalidEventError`` naming the field (``data.CommandLine``, ``user_data.LogFileCleared.SubjectUserSid``)
and saying what was expected, so a bad line in a fixture source is found at once. Unknown keys are errors
too: a misspelt ``event_code`` must not silently produce an event without an EventID.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqldetect.errors import Location, SqlDetectError
from sqldetect.evtxwriter.binxml import (
    ValueType,
    encode_guid,
    encode_scalar,
    encode_sid,
    encode_wstring,
)

DEFAULT_VERSION = 0
DEFAULT_LEVEL = 4  # Information
DEFAULT_TASK = 0
DEFAULT_OPCODE = 0
DEFAULT_KEYWORDS = 0x80000000000000  # "Classic": what classic providers such as MsiInstaller log

KNOWN_FIELDS = (
    "provider", "provider_guid", "event_source_name", "channel", "event_id", "qualifiers", "version", "level",
    "task", "opcode", "keywords", "time", "record_id", "computer", "user_sid", "process_id", "thread_id",
    "activity_id", "related_activity_id", "data", "user_data",
)
REQUIRED_FIELDS = ("provider", "channel", "event_id", "time", "computer")

# XML names the writer accepts for Data names and UserData elements/attributes. Stricter than XML allows, on
# purpose: python-evtx refuses names outside roughly this set when it renders a record.
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_ISO_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*(Z|[+-]\d\d:?\d\d)?\Z", re.IGNORECASE
)
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)

Value = tuple[int, bytes]  # (ValueType, encoded bytes)


class InvalidEventError(SqlDetectError):
    """An event dict given to the EVTX writer is malformed: a missing field, a wrong type, a value out of range.

    ``index`` is the 1-based position of the event in its input, ``line`` its line in the source file when
    known, ``field`` the dotted path of the offending field.
    """

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None,
                 line: int | None = None, file: str | None = None) -> None:
        super().__init__(message, Location(file=file))
        self.field = field
        self.index = index
        self.line = line
        self.detail = message

    def locate(self, *, index: int | None = None, line: int | None = None,
               file: str | None = None) -> InvalidEventError:
        """Add where the event is (keeps what is already known) and rebuild the message."""
        self.index = self.index if self.index is not None else index
        self.line = self.line if self.line is not None else line
        if file is not None and self.location.file is None:
            self.with_location(file=file)
        where = []
        if self.index is not None:
            where.append(f"event #{self.index}")
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        self.message = f"{', '.join(where)}: {self.detail}" if where else self.detail
        self.args = (self.message,)
        return self


# ---- the template shape ----------------------------------------------------------------------------------

# Data part of a shape:
#   None                                 no EventData / UserData element
#   ("unnamed", (type, ...))             <EventData><Data>v</Data>...  (classic providers)
#   ("named", ((name, type), ...))       <EventData><Data Name="n">v</Data>...
#   ("user", (node, ...))                <UserData>...; node = ("element", name, ((attr, text), ...), (node, ...))
#                                        or ("value", type)
DataShape = tuple | None


@dataclass(frozen=True, slots=True)
class EventShape:
    """Everything that decides an event's template: structure, literal texts and substitution types.

    Two events with equal shapes share one template (per chunk), like events of one provider and event id
    do in a real log.
    """

    provider: str
    event_source_name: str | None
    has_provider_guid: bool
    has_qualifiers: bool
    has_activity_id: bool
    has_related_activity_id: bool
    has_execution: bool
    channel: str
    has_user_sid: bool
    data: DataShape


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    """A validated event: its shape, the values before and after EventRecordID, its id (if fixed) and time."""

    shape: EventShape
    head: list[Value]  # substitution values before EventRecordID, in document order
    tail: list[Value]  # substitution values after it
    record_id: int | None
    filetime: int


# ---- field parsers ---------------------------------------------------------------------------------------


def _fail(field: str, message: str) -> InvalidEventError:
    return InvalidEventError(message, field=field)


def _text(event: Mapping, field: str, *, required: bool = True) -> str | None:
    value = event.get(field)
    if value is None:
        if required:
            raise _fail(field, "is required")
        return None
    if not isinstance(value, str):
        raise _fail(field, f"must be a string, got {type(value).__name__} {value!r}")
    _check_text(value, field)
    return value


def _check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise _fail(field, "contains a NUL character, which EVTX strings cannot hold")
    try:
        value.encode("utf-16-le")
    except UnicodeEncodeError as exc:
        raise _fail(field, f"is not valid Unicode ({exc.reason})") from None


def _integer(event: Mapping, field: str, maximum: int, default: int | None = None) -> int | None:
    value = event.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        raise _fail(field, f"must be an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise _fail(field, f"must be an integer, got {value!r}") from None
    if not isinstance(value, int):
        raise _fail(field, f"must be an integer, got {type(value).__name__} {value!r}")
    if not 0 <= value <= maximum:
        raise _fail(field, f"must be between 0 and {maximum}, got {value}")
    return value


def parse_time(value: object, field: str = "time") -> int:
    """A time as a FILETIME (100 ns ticks since 1601-01-01 UTC).

    Accepts ISO 8601 text (``2024-05-01T10:00:00.1234567Z``; up to 7 fractional digits, the FILETIME
    resolution; an offset or ``Z``; no offset means UTC) or a ``datetime`` (YAML turns unquoted timestamps
    into one; a naive one is taken as UTC).
    """
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        delta = moment - _FILETIME_EPOCH
        return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    if isinstance(value, dt.date):
        raise _fail(field, f"needs a time of day, got the date {value.isoformat()}")
    if not isinstance(value, str):
        raise _fail(field, f"must be an ISO 8601 time string, got {type(value).__name__} {value!r}")
    match = _ISO_TIME.match(value.strip())
    if not match:
        raise _fail(field, f"is not an ISO 8601 time like 2024-05-01T10:00:00.123456Z: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if fraction and len(fraction) > 7 and set(fraction[7:]) != {"0"}:
        raise _fail(field, f"has more than 7 fractional digits (EVTX keeps 100 ns): {value!r}")
    try:
        moment = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC)
    except ValueError as exc:
        raise _fail(field, f"is not a valid time ({exc}): {value!r}") from None
    ticks = int((fraction or "0")[:7].ljust(7, "0"))
    offset_seconds = 0
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset_seconds = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    delta = moment - _FILETIME_EPOCH
    seconds = delta.days * 86400 + delta.seconds - offset_seconds
    if seconds < 0:
        raise _fail(field, f"is before 1601-01-01, which FILETIME cannot hold: {value!r}")
    return seconds * 10_000_000 + ticks


def _guid(event: Mapping, field: str) -> bytes | None:
    value = _text(event, field, required=False)
    if value is None:
        return None
    try:
        return encode_guid(value)
    except ValueError:
        raise _fail(field, f"is not a GUID like {{54849625-5478-4994-a5ba-3e3b0328c30d}}: {value!r}") from None


_checked_names: set[str] = set()  # names already validated: a 1M-event run sees the same few hundred


def _xml_name(name: object, field: str) -> str:
    if name in _checked_names:
        return name  # type: ignore[return-value]
    if not isinstance(name, str) or not _XML_NAME.match(name):
        raise _fail(field, f"{name!r} is not a usable XML name (letters, digits, '_', '-', '.'; "
                           "not starting with a digit)")
    _checked_names.add(name)
    return name


def _scalar(value: object, field: str) -> Value:
    if type(value) is str:  # the common case, kept short: one encode validates and encodes
        if "\x00" in value:
            raise _fail(field, "contains a NUL character, which EVTX strings cannot hold")
        try:
            encoded: Value = (ValueType.WSTRING, value.encode("utf-16-le"))
        except UnicodeEncodeError as exc:
            raise _fail(field, f"is not valid Unicode ({exc.reason})") from None
    else:
        try:
            encoded = encode_scalar(value)
        except (TypeError, ValueError) as exc:
            raise _fail(field, str(exc)) from None
    if len(encoded[1]) > 0xFFFF:
        raise _fail(field, f"is too long: {len(encoded[1])} bytes encoded, a value holds at most 65535 "
                           "(32767 UTF-16 characters)")
    return encoded


# ---- EventData / UserData --------------------------------------------------------------------------------


def _event_data(data: object, values: list[Value]) -> DataShape:
    if isinstance(data, list | tuple):
        types = []
        for position, item in enumerate(data):
            value = _scalar(item, f"data[{position}]")
            values.append(value)
            types.append(value[0])
        return ("unnamed", tuple(types))
    if isinstance(data, Mapping):
        named = []
        for name, item in data.items():
            _xml_name(name, f"data.{name}")
            if isinstance(item, Mapping | list | tuple):
                raise _fail(f"data.{name}", "EventData values must be scalars (string, integer, null); "
                                            "use user_data for nested values")
            value = _scalar(item, f"data.{name}")
            values.append(value)
            named.append((name, value[0]))
        return ("named", tuple(named))
    raise _fail("data", f"must be a list (unnamed Data) or a mapping (named Data), got {type(data).__name__}")


def _user_nodes(mapping: Mapping, path: str, values: list[Value], *, allow_attributes: bool) -> tuple:
    """The children of one UserData element, collecting substitution values in document order."""
    attributes = []
    children = []
    for key, item in mapping.items():
        here = f"{path}.{key}"
        if isinstance(key, str) and key.startswith("@"):
            if not allow_attributes:
                raise _fail(here, "UserData itself takes no attributes; put them on its child element")
            _xml_name(key[1:], here)
            if not isinstance(item, str) or '"' in item:
                raise _fail(here, "an attribute value must be a string without '\"'")
            _check_text(item, here)
            attributes.append((key[1:], item))
            continue
        _xml_name(key, here)
        items = item if isinstance(item, list | tuple) else [item]
        for position, element_value in enumerate(items):
            where = f"{here}[{position}]" if isinstance(item, list | tuple) else here
            children.append(_user_element(key, element_value, where, values))
    return tuple(attributes), tuple(children)


def _user_element(name: str, item: object, path: str, values: list[Value]) -> tuple:
    if isinstance(item, Mapping):
        attributes, children = _user_nodes(item, path, values, allow_attributes=True)
        return ("element", name, attributes, children)
    value = _scalar(item, path)
    values.append(value)
    return ("element", name, (), (("value", value[0]),))


def _user_data(data: object, values: list[Value]) -> DataShape:
    if not isinstance(data, Mapping):
        raise _fail("user_data", f"must be a mapping of element names to values, got {type(data).__name__}")
    _, children = _user_nodes(data, "user_data", values, allow_attributes=False)
    return ("user", children)


# ---- the whole event -------------------------------------------------------------------------------------


def prepare_event(event: object) -> PreparedEvent:
    """Validate ``event`` and encode its values; raises ``InvalidEventError`` naming the bad field."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"an event must be a mapping, got {type(event).__name__}")
    unknown = [key for key in event if key not in KNOWN_FIELDS]
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(str(key), KNOWN_FIELDS, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else f" (known fields: {', '.join(KNOWN_FIELDS)})"
        raise _fail(str(key), f"unknown field{suggestion}")
    for key in REQUIRED_FIELDS:
        if event.get(key) is None:
            raise _fail(key, "is required")

    provider = _text(event, "provider")
    channel = _text(event, "channel")
    computer = _text(event, "computer")
    source_name = _text(event, "event_source_name", required=False)
    for key, text in (("provider", provider), ("event_source_name", source_name)):
        if text is not None and '"' in text:  # stored as attribute text, which python-evtx cannot quote
            raise _fail(key, "must not contain '\"'")
    provider_guid = _guid(event, "provider_guid")
    activity_id = _guid(event, "activity_id")
    related_activity_id = _guid(event, "related_activity_id")
    event_id = _integer(event, "event_id", 0xFFFF)
    qualifiers = _integer(event, "qualifiers", 0xFFFF)
    version = _integer(event, "version", 0xFF, DEFAULT_VERSION)
    level = _integer(event, "level", 0xFF, DEFAULT_LEVEL)
    task = _integer(event, "task", 0xFFFF, DEFAULT_TASK)
    opcode = _integer(event, "opcode", 0xFF, DEFAULT_OPCODE)
    keywords = _integer(event, "keywords", 0xFFFFFFFFFFFFFFFF, DEFAULT_KEYWORDS)
    record_id = _integer(event, "record_id", 0xFFFFFFFFFFFFFFFF)
    if record_id == 0:
        raise _fail("record_id", "must be at least 1")
    process_id = _integer(event, "process_id", 0xFFFFFFFF)
    thread_id = _integer(event, "thread_id", 0xFFFFFFFF)
    filetime = parse_time(event["time"])
    user_sid = _text(event, "user_sid", required=False)
    sid_bytes = None
    if user_sid is not None:
        try:
            sid_bytes = encode_sid(user_sid)
        except ValueError as exc:
            raise _fail("user_sid", str(exc)) from None

    head: list[Value] = []
    if provider_guid is not None:
        head.append((ValueType.GUID, provider_guid))
    if qualifiers is not None:
        head.append((ValueType.UINT16, qualifiers.to_bytes(2, "little")))
    head += [
        (ValueType.UINT16, event_id.to_bytes(2, "little")),  # type: ignore[union-attr]
        (ValueType.UINT8, version.to_bytes(1, "little")),  # type: ignore[union-attr]
        (ValueType.UINT8, level.to_bytes(1, "little")),  # type: ignore[union-attr]
        (ValueType.UINT16, task.to_bytes(2, "little")),  # type: ignore[union-attr]
        (ValueType.UINT8, opcode.to_bytes(1, "little")),  # type: ignore[union-attr]
        (ValueType.HEX64, keywords.to_bytes(8, "little")),  # type: ignore[union-attr]
        (ValueType.FILETIME, filetime.to_bytes(8, "little")),
    ]
    tail: list[Value] = []
    if activity_id is not None:
        tail.append((ValueType.GUID, activity_id))
    if related_activity_id is not None:
        tail.append((ValueType.GUID, related_activity_id))
    has_execution = process_id is not None or thread_id is not None
    if has_execution:
        tail.append((ValueType.UINT32, (process_id or 0).to_bytes(4, "little")))
        tail.append((ValueType.UINT32, (thread_id or 0).to_bytes(4, "little")))
    tail.append((ValueType.WSTRING, encode_wstring(computer)))  # type: ignore[arg-type]
    if sid_bytes is not None:
        tail.append((ValueType.SID, sid_bytes))

    data = event.get("data")
    user_data = event.get("user_data")
    if data is not None and user_data is not None:
        raise _fail("user_data", "an event has either data (EventData) or user_data (UserData), not both")
    data_shape: DataShape = None
    if data is not None:
        data_shape = _event_data(data, tail)
    elif user_data is not None:
        data_shape = _user_data(user_data, tail)

    shape = EventShape(
        provider=provider,  # type: ignore[arg-type]
        event_source_name=source_name,
        has_provider_guid=provider_guid is not None,
        has_qualifiers=qualifiers is not None,
        has_activity_id=activity_id is not None,
        has_related_activity_id=related_activity_id is not None,
        has_execution=has_execution,
        channel=channel,  # type: ignore[arg-type]
        has_user_sid=sid_bytes is not None,
        data=data_shape,
    )
    return PreparedEvent(shape, head, tail, record_id, filetime)
