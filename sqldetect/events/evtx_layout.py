"""The on-disk structure of EVTX files: file header, 64 KiB chunks, and the records inside a chunk.

Both parsers are handed chunks that this module has walked first, because neither can be trusted to find every
good record on its own: the ``evtx`` package stops a chunk at the first record it cannot parse (a zero-size record
or a corrupt template hides every later record of that chunk), and python-evtx only walks as many chunks as the
file header claims. Walking the structure ourselves gives the expected record count to compare against, lets us
skip chunks whose header is destroyed, and lets us *patch* a damaged stretch of a chunk into a placeholder record
that the parser skips cleanly, so the good records after it are still read.

Layout (all little-endian):

* file header: 4096 bytes, magic ``ElfFile\\0``;
* chunk: 65536 bytes, magic ``ElfChnk\\0``; ``free_space_offset`` (u32 at 48) ends the record area; records start
  at offset 512;
* record: magic ``**\\0\\0``, ``size`` (u32 at 4), ``record_id`` (u64 at 8), FILETIME (u64 at 16), BinXML, and a
  copy of ``size`` in its last four bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
RECORD_MAGIC = b"\x2a\x2a\x00\x00"
HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000
FIRST_RECORD_OFFSET = 0x200
MIN_RECORD_SIZE = 28

# Record id given to the placeholder records that replace damaged stretches; readers drop anything carrying it.
PLACEHOLDER_RECORD_ID = 0xFFFF_FFFF_FFFF_FFF0

_ZERO_CHUNK = bytes(CHUNK_SIZE)
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_RANGE = struct.Struct("<QQ")


@dataclass(frozen=True)
class RecordSlot:
    """Where one structurally valid record sits inside its chunk."""

    offset: int
    size: int
    record_id: int


@dataclass(frozen=True)
class Gap:
    """A stretch ``[start, end)`` of a chunk's record area that holds no valid record (damaged data)."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class ChunkWalk:
    """The records and damaged stretches found in one chunk."""

    records: list[RecordSlot] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    region_end: int = CHUNK_SIZE


def is_evtx(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a stream) starts like an EVTX file."""
    return head.startswith(FILE_MAGIC)


def chunk_count(file_size: int) -> int:
    """Number of (possibly partial) chunk slots after the file header."""
    if file_size <= HEADER_SIZE:
        return 0
    return (file_size - HEADER_SIZE + CHUNK_SIZE - 1) // CHUNK_SIZE


def chunk_offset(index: int) -> int:
    return HEADER_SIZE + index * CHUNK_SIZE


def chunk_status(chunk: bytes) -> str:
    """``ok`` (valid magic), ``empty`` (all zero: unused, preallocated space) or ``damaged``."""
    if len(chunk) == CHUNK_SIZE and chunk.startswith(CHUNK_MAGIC):
        return "ok"
    if chunk == _ZERO_CHUNK[: len(chunk)]:
        return "empty"
    return "damaged"


def record_id_range(chunk: bytes) -> tuple[int, int]:
    """The first and last record ids the chunk header announces (u64 at 24 and 32)."""
    first, last = _RANGE.unpack_from(chunk, 24)
    return first, last


def _record_at(chunk: bytes, pos: int, limit: int, strict: bool) -> RecordSlot | None:
    """The record starting at ``pos`` if its header is plausible.

    ``strict`` also requires the trailing size copy to match: used when resynchronising after damage, where a
    stray ``**\\0\\0`` inside other data must not be mistaken for a record.
    """
    if chunk[pos : pos + 4] != RECORD_MAGIC or pos + 16 > limit:
        return None
    size = _U32.unpack_from(chunk, pos + 4)[0]
    if size < MIN_RECORD_SIZE or pos + size > limit:
        return None
    if strict and _U32.unpack_from(chunk, pos + size - 4)[0] != size:
        return None
    return RecordSlot(pos, size, _U64.unpack_from(chunk, pos + 8)[0])


def walk_chunk(chunk: bytes) -> ChunkWalk:
    """Find every record in the chunk's record area, resynchronising after damaged stretches.

    The record area ends at the chunk header's ``free_space_offset`` (bytes after it are slack left over from an
    earlier use of the chunk, not part of the log). Inside the area, records follow each other by their size
    fields; where that chain breaks, the next record is searched for by its magic plus a matching size copy.
    """
    free = _U32.unpack_from(chunk, 48)[0]
    limit = free if FIRST_RECORD_OFFSET <= free <= CHUNK_SIZE else CHUNK_SIZE
    walk = ChunkWalk(region_end=limit)
    pos = FIRST_RECORD_OFFSET
    while pos + MIN_RECORD_SIZE <= limit:
        slot = _record_at(chunk, pos, limit, strict=False)
        if slot is not None:
            walk.records.append(slot)
            pos += slot.size
            continue
        resume = _resync(chunk, pos + 1, limit)
        walk.gaps.append(Gap(pos, resume if resume is not None else limit))
        if resume is None:
            break
        pos = resume
    return walk


def _resync(chunk: bytes, start: int, limit: int) -> int | None:
    pos = chunk.find(RECORD_MAGIC, start, limit)
    while pos >= 0:
        if _record_at(chunk, pos, limit, strict=True) is not None:
            return pos
        pos = chunk.find(RECORD_MAGIC, pos + 1, limit)
    return None


def patch_gaps(chunk: bytes, gaps: list[Gap]) -> tuple[bytes, list[Gap]]:
    """Turn each damaged stretch into a placeholder record the parser will reject and step over.

    A placeholder keeps the record chain intact (its size spans the gap exactly), so the parser continues with
    the next good record instead of abandoning the chunk. Returns the patched chunk and the gaps that could not
    be patched (too short to hold a record header, or running to the end of the record area).
    """
    patched = bytearray(chunk)
    unpatched: list[Gap] = []
    for gap in gaps:
        if gap.size < MIN_RECORD_SIZE + 8:
            unpatched.append(gap)
            continue
        struct.pack_into("<IIQ", patched, gap.start, 0x2A2A, gap.size, PLACEHOLDER_RECORD_ID)
        # An empty BinXML stream (all zero) makes the parser fail this record, which is what we want.
        patched[gap.start + 16 : gap.end - 4] = bytes(gap.size - 20)
        _U32.pack_into(patched, gap.end - 4, gap.size)
    return bytes(patched), unpatched


def synthetic_header(chunks: int) -> bytes:
    """A minimal valid file header, used when a file's own header is damaged but its chunks are not."""
    header = bytearray(HEADER_SIZE)
    header[0:8] = FILE_MAGIC
    struct.pack_into("<QQQIHHHH", header, 8, 0, max(chunks - 1, 0), 1, 0x80, 1, 3, HEADER_SIZE, chunks)
    struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])) & 0xFFFFFFFF)
    return bytes(header)
