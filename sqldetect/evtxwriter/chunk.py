"""One 64 KiB EVTX chunk: header, string and template tables, records, and both CRC32s.

Layout (offsets inside the chunk):

    0x000  "ElfChnk\\0"
    0x008  first / last event record number, first / last event record id   4 x u64
    0x028  header size (128)                                                 u32
    0x02C  offset of the last record                                         u32
    0x030  free space offset (end of the last record)                        u32
    0x034  CRC32 of the records, bytes [0x200, free space offset)            u32
    0x038  reserved (64 bytes)
    0x078  flags (1 in every chunk of ../shared/evtx)                        u32
    0x07C  CRC32 of bytes [0, 0x78) + [0x80, 0x200)                          u32
    0x080  string table: 64 bucket heads (name hash % 64)                    64 x u32
    0x180  template table: 32 bucket heads                                   32 x u32
    0x200  records

A record is ``"**\\0\\0"``, its size, its id, its FILETIME, the BinXml (fragment header + template instance
+ substitution values), zero padding to a multiple of 8 (as every record in ../shared/evtx is), and its
size again.
"""

from __future__ import annotations

import struct
import zlib

from sqldetect.evtxwriter.binxml import (
    FRAGMENT_HEADER,
    TOKEN_TEMPLATE_INSTANCE,
    Element,
    TemplateEncoder,
    name_hash,
)

CHUNK_SIZE = 0x10000
CHUNK_HEADER_SIZE = 0x200
CHUNK_FLAGS = 1
STRING_BUCKETS = 64
TEMPLATE_BUCKETS = 32
RECORD_MAGIC = b"\x2a\x2a\x00\x00"

_RECORD_HEADER = struct.Struct("<4sIQQ")  # magic, size, record id, FILETIME
_INSTANCE = struct.Struct("<BBII")  # token, unknown (1), template id, template definition offset
_U32 = struct.Struct("<I")
_DESCRIPTOR = struct.Struct("<HBx")  # value size, value type, padding
_CHUNK_COUNTERS = struct.Struct("<8sQQQQIIII")
_OFFSET_TABLE = struct.Struct("<96I")


class RecordTooLarge(ValueError):
    """A record cannot fit even an empty chunk."""


class Chunk:
    """Accumulates records for one chunk; ``add`` says whether a record still fits."""

    def __init__(self) -> None:
        self.buffer = bytearray(CHUNK_SIZE)
        self.free = CHUNK_HEADER_SIZE
        self.last_record_offset = 0
        self.first_id: int | None = None
        self.last_id = 0
        self.count = 0
        self._encoder = TemplateEncoder()
        self._templates: dict[object, tuple[int, int]] = {}  # shape -> (template id, definition offset)
        self._string_heads = [0] * STRING_BUCKETS
        self._string_tails = [0] * STRING_BUCKETS
        self._template_heads = [0] * TEMPLATE_BUCKETS
        self._template_tails = [0] * TEMPLATE_BUCKETS

    @property
    def empty(self) -> bool:
        return self.count == 0

    def add(self, shape: object, template: Element | None, guid: bytes, values: list[tuple[int, bytes]],
            record_id: int, filetime: int) -> bool:
        """Append one record; False (chunk unchanged) when it does not fit.

        ``template`` may be None when the chunk already holds this shape's template; otherwise it is the
        tree to define inline in this record, as Windows does for the first use of a template in a chunk.
        """
        start = self.free
        known = self._templates.get(shape)
        instance_offset = start + _RECORD_HEADER.size + len(FRAGMENT_HEADER)
        new_names: list[tuple[str, int]] = []
        definition = b""
        if known is None:
            if template is None:
                raise ValueError("the chunk does not hold this template yet")
            definition_offset = instance_offset + _INSTANCE.size
            definition, new_names = self._encoder.encode_definition(template, guid, definition_offset)
            template_id = _U32.unpack_from(guid)[0]
        else:
            template_id, definition_offset = known

        parts = [
            FRAGMENT_HEADER,
            _INSTANCE.pack(TOKEN_TEMPLATE_INSTANCE, 1, template_id, definition_offset),
            definition,
            _U32.pack(len(values)),
            b"".join([_DESCRIPTOR.pack(len(data), value_type) for value_type, data in values]),
            *[data for _, data in values],
        ]
        body = b"".join(parts)
        size = _RECORD_HEADER.size + len(body) + 4
        padding = -size % 8
        size += padding
        if start + size > CHUNK_SIZE:
            if self.empty:
                raise RecordTooLarge(
                    f"the encoded record takes {size} bytes; a record must fit one 64 KiB chunk "
                    f"({CHUNK_SIZE - CHUNK_HEADER_SIZE} bytes after the chunk header)"
                )
            return False

        record = b"".join((_RECORD_HEADER.pack(RECORD_MAGIC, size, record_id, filetime), body,
                           b"\x00" * padding, _U32.pack(size)))
        self.buffer[start:start + size] = record
        if known is None:
            self._encoder.commit(new_names)
            for name, name_offset in new_names:
                self._link(self._string_heads, self._string_tails, name_hash(name) % STRING_BUCKETS, name_offset)
            self._templates[shape] = (template_id, definition_offset)
            self._link(self._template_heads, self._template_tails, template_id % TEMPLATE_BUCKETS,
                       definition_offset)
        self.free = start + size
        self.last_record_offset = start
        if self.first_id is None:
            self.first_id = record_id
        self.last_id = record_id
        self.count += 1
        return True

    def _link(self, heads: list[int], tails: list[int], bucket: int, offset: int) -> None:
        """Append ``offset`` to a bucket's chain (both name and template structures start with 'next')."""
        if heads[bucket] == 0:
            heads[bucket] = offset
        else:
            _U32.pack_into(self.buffer, tails[bucket], offset)
        tails[bucket] = offset

    def finish(self) -> bytes:
        """The chunk's 64 KiB with header fields and CRCs filled in."""
        first = self.first_id or 0
        _CHUNK_COUNTERS.pack_into(
            self.buffer, 0, b"ElfChnk\x00", first, self.last_id, first, self.last_id, 0x80,
            self.last_record_offset, self.free, zlib.crc32(memoryview(self.buffer)[CHUNK_HEADER_SIZE:self.free]),
        )
        _U32.pack_into(self.buffer, 0x78, CHUNK_FLAGS)
        _OFFSET_TABLE.pack_into(self.buffer, 0x80, *self._string_heads, *self._template_heads)
        header = memoryview(self.buffer)
        checksum = zlib.crc32(header[0x80:CHUNK_HEADER_SIZE], zlib.crc32(header[:0x78]))
        _U32.pack_into(self.buffer, 0x7C, checksum)
        return bytes(self.buffer)
