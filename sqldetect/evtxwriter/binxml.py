"""Binary XML (BinXml) encoding: value types, element/attribute tokens, name structures and templates.

An EVTX record does not hold XML text. It holds a *template instance*: a reference to a template (a BinXml
fragment with numbered substitution slots, stored once per chunk) plus an array of typed substitution values.
This is how Windows writes every record, and it is the layout both `evtx` (Rust) and python-evtx parse best,
so the writer produces exactly that and nothing else: no element is ever written outside a template.

Names (element and attribute names) are not stored inline each time either: the first template in a chunk
that uses a name stores the name structure right where it is referenced; later templates in the same chunk
point at that offset. ``TemplateEncoder`` does that bookkeeping for one chunk.

Layouts below were worked out from the format as the `evtx` crate and python-evtx read it and checked
against real files in ../shared/evtx (e.g. the name hash and the attribute-list size).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field
from enum import IntEnum


class ValueType(IntEnum):
    """BinXml value (variant) types the writer emits."""

    NULL = 0x00
    WSTRING = 0x01
    UINT8 = 0x04
    UINT16 = 0x06
    UINT32 = 0x08
    INT64 = 0x09
    UINT64 = 0x0A
    BOOL = 0x0D
    GUID = 0x0F
    FILETIME = 0x11
    SID = 0x13
    HEX64 = 0x15


# Tokens (the high nibble 0x40 is the "more follows" / "has attributes" flag).
TOKEN_END_OF_STREAM = 0x00
TOKEN_OPEN_START_ELEMENT = 0x01
TOKEN_OPEN_START_ELEMENT_WITH_ATTRIBUTES = 0x41
TOKEN_CLOSE_START_ELEMENT = 0x02
TOKEN_CLOSE_EMPTY_ELEMENT = 0x03
TOKEN_CLOSE_ELEMENT = 0x04
TOKEN_VALUE = 0x05
TOKEN_ATTRIBUTE = 0x06
TOKEN_ATTRIBUTE_MORE = 0x46
TOKEN_TEMPLATE_INSTANCE = 0x0C
TOKEN_NORMAL_SUBSTITUTION = 0x0D
TOKEN_CONDITIONAL_SUBSTITUTION = 0x0E
FRAGMENT_HEADER = b"\x0f\x01\x01\x00"  # StartOfStream token, BinXml version 1.1, flags 0

NO_DEPENDENCY = 0xFFFF  # an element's "dependency identifier" when it does not hang on one substitution

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_NAME_HEADER = struct.Struct("<IHH")  # next name offset, hash, character count
_ELEMENT_HEADER = struct.Struct("<BHI")  # token, dependency id, data size (the name offset follows)
_ATTRIBUTE_HEADER = struct.Struct("<BI")  # token, name offset
_SUBSTITUTION = struct.Struct("<BHB")  # token, substitution index, value type
_VALUE_HEADER = struct.Struct("<BBH")  # token, value type, character count
_TEMPLATE_HEADER = struct.Struct("<I16sI")  # next template offset, GUID, data size


def name_hash(name: str) -> int:
    """The 16-bit hash Windows stores with each name: ``h = h * 65599 + unit`` over the UTF-16 code units.

    The chunk's string table files each name in bucket ``hash % 64``.
    """
    value = 0
    units = name.encode("utf-16-le")
    for (unit,) in struct.iter_unpack("<H", units):
        value = (value * 65599 + unit) & 0xFFFFFFFF
    return value & 0xFFFF


def encode_name(name: str, next_offset: int = 0) -> bytes:
    """A name structure: next-in-bucket offset, hash, length, UTF-16LE characters and a NUL terminator."""
    units = name.encode("utf-16-le")
    return _NAME_HEADER.pack(next_offset, name_hash(name), len(units) // 2) + units + b"\x00\x00"


# ---- template trees -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Substitution:
    """A numbered slot filled from the record's value array (``optional``: a conditional substitution)."""

    index: int
    value_type: ValueType
    optional: bool = False


@dataclass(frozen=True)
class Literal:
    """Fixed text stored in the template itself (e.g. the ``xmlns`` URI or a ``Data`` element's ``Name``)."""

    text: str


Content = Substitution | Literal


@dataclass(frozen=True)
class Element:
    """An element of a template: name, attributes in order, and children (elements or values) in order."""

    name: str
    attributes: tuple[tuple[str, Content], ...] = ()
    children: tuple[Element | Content, ...] = field(default_factory=tuple)


class TemplateEncoder:
    """Encodes template definitions for one chunk, sharing name structures between the chunk's templates.

    ``encode`` is side-effect free: it returns the bytes and the names it stored inline, and the caller
    ``commit``s those only once it knows the record holding the template fits in the chunk.
    """

    def __init__(self) -> None:
        self.name_offsets: dict[str, int] = {}

    def encode_definition(self, root: Element, guid: bytes, offset: int) -> tuple[bytes, list[tuple[str, int]]]:
        """The template definition (header + BinXml fragment) as stored at chunk ``offset``.

        Returns the bytes and the (name, chunk offset) pairs of names written inline.
        """
        body = bytearray(FRAGMENT_HEADER)
        new_names: list[tuple[str, int]] = []
        known = dict(self.name_offsets)
        data_start = offset + _TEMPLATE_HEADER.size
        self._element(root, body, data_start, known, new_names)
        body.append(TOKEN_END_OF_STREAM)
        header = _TEMPLATE_HEADER.pack(0, guid, len(body))
        return header + bytes(body), new_names

    def commit(self, new_names: list[tuple[str, int]]) -> None:
        for name, name_offset in new_names:
            self.name_offsets[name] = name_offset

    # The writers below append to ``out``; ``base`` is the chunk offset of ``out[0]``.

    def _name_ref(self, name: str, out: bytearray, base: int, known: dict[str, int],
                  new_names: list[tuple[str, int]]) -> None:
        """Append a name offset, followed by the name structure itself when the chunk does not hold it yet."""
        existing = known.get(name)
        if existing is not None:
            out += _U32.pack(existing)
            return
        here = base + len(out) + 4
        out += _U32.pack(here)
        out += encode_name(name)
        known[name] = here
        new_names.append((name, here))

    def _content(self, content: Content, out: bytearray) -> None:
        if isinstance(content, Substitution):
            token = TOKEN_CONDITIONAL_SUBSTITUTION if content.optional else TOKEN_NORMAL_SUBSTITUTION
            out += _SUBSTITUTION.pack(token, content.index, content.value_type)
        else:
            units = content.text.encode("utf-16-le")
            out += _VALUE_HEADER.pack(TOKEN_VALUE, ValueType.WSTRING, len(units) // 2)
            out += units

    def _element(self, element: Element, out: bytearray, base: int, known: dict[str, int],
                 new_names: list[tuple[str, int]]) -> None:
        start = len(out)
        token = TOKEN_OPEN_START_ELEMENT_WITH_ATTRIBUTES if element.attributes else TOKEN_OPEN_START_ELEMENT
        out += _ELEMENT_HEADER.pack(token, NO_DEPENDENCY, 0)  # data size patched at the end
        size_field = start + 3
        self._name_ref(element.name, out, base, known, new_names)
        if element.attributes:
            list_size_field = len(out)
            out += b"\x00\x00\x00\x00"
            list_start = len(out)
            last = len(element.attributes) - 1
            for position, (attr_name, value) in enumerate(element.attributes):
                out.append(TOKEN_ATTRIBUTE if position == last else TOKEN_ATTRIBUTE_MORE)
                self._name_ref(attr_name, out, base, known, new_names)
                self._content(value, out)
            _U32.pack_into(out, list_size_field, len(out) - list_start)
        if element.children:
            out.append(TOKEN_CLOSE_START_ELEMENT)
            for child in element.children:
                if isinstance(child, Element):
                    self._element(child, out, base, known, new_names)
                else:
                    self._content(child, out)
            out.append(TOKEN_CLOSE_ELEMENT)
        else:
            out.append(TOKEN_CLOSE_EMPTY_ELEMENT)
        # Data size: everything after the size field up to and including the closing token.
        _U32.pack_into(out, size_field, len(out) - (size_field + 4))


# ---- substitution values ----------------------------------------------------------------------------------

def encode_wstring(text: str) -> bytes:
    """UTF-16LE without a terminator: a substitution value's size already says how long it is."""
    return text.encode("utf-16-le")


def encode_guid(text: str) -> bytes:
    """A GUID in Windows' mixed-endian layout (``uuid.UUID.bytes_le``); braces are optional in ``text``."""
    return uuid.UUID(text.strip().strip("{}")).bytes_le


def encode_sid(text: str) -> bytes:
    """A SID ``S-R-A-S1-S2...``: revision, count, 48-bit big-endian authority, little-endian sub-authorities."""
    parts = text.strip().split("-")
    if len(parts) < 3 or parts[0].upper() != "S" or not all(p.isdigit() for p in parts[1:]):
        raise ValueError(f"not a SID: {text!r} (expected S-1-5-...)")
    revision, authority, *subs = (int(p) for p in parts[1:])
    if revision > 0xFF or authority >= 1 << 48 or len(subs) > 15 or any(s > 0xFFFFFFFF for s in subs):
        raise ValueError(f"SID out of range: {text!r}")
    return bytes([revision, len(subs)]) + authority.to_bytes(6, "big") + b"".join(_U32.pack(s) for s in subs)


def encode_scalar(value: object) -> tuple[ValueType, bytes]:
    """Encode one EventData/UserData value: text as a string, integers as the narrowest fitting integer.

    ``None`` becomes a NULL value (an empty element). Anything else is refused: EVTX has no float a
    parser renders the same way twice, and a silent ``str()`` would hide typos in the source.
    """
    if value is None:
        return ValueType.NULL, b""
    if isinstance(value, str):
        return ValueType.WSTRING, value.encode("utf-16-le")
    if isinstance(value, bool):
        return ValueType.BOOL, _U32.pack(1 if value else 0)
    if isinstance(value, int):
        if 0 <= value <= 0xFFFFFFFF:
            return ValueType.UINT32, _U32.pack(value)
        if 0 <= value <= 0xFFFFFFFFFFFFFFFF:
            return ValueType.UINT64, struct.pack("<Q", value)
        if -(1 << 63) <= value < 0:
            return ValueType.INT64, struct.pack("<q", value)
        raise ValueError(f"integer {value} does not fit 64 bits")
    raise TypeError(f"unsupported value type {type(value).__name__} ({value!r}): use a string, an integer or null")
