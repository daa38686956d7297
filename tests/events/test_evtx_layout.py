"""The EVTX structure walk on hand-built chunks: records, damaged stretches, placeholder patches."""

from __future__ import annotations

import struct

from sqldetect.events import evtx_layout as layout


def record(record_id: int, size: int = 64) -> bytes:
    body = struct.pack("<IIQQ", 0x2A2A, size, record_id, 0) + bytes(size - 28)
    return body + struct.pack("<I", size)


def chunk(*pieces: bytes) -> bytes:
    area = b"".join(pieces)
    free = layout.FIRST_RECORD_OFFSET + len(area)
    header = bytearray(layout.FIRST_RECORD_OFFSET)
    header[0:8] = layout.CHUNK_MAGIC
    struct.pack_into("<I", header, 48, free)
    data = bytes(header) + area
    return data + bytes(layout.CHUNK_SIZE - len(data))


def test_walk_finds_consecutive_records_up_to_free_space() -> None:
    walk = layout.walk_chunk(chunk(record(1), record(2, 96), record(3)))
    assert [(r.record_id, r.size) for r in walk.records] == [(1, 64), (2, 96), (3, 64)]
    assert walk.gaps == [] and walk.region_end == 512 + 224


def test_walk_resynchronises_after_a_zero_size_record() -> None:
    broken = struct.pack("<IIQ", 0x2A2A, 0, 99) + bytes(40)  # a record header claiming size 0
    walk = layout.walk_chunk(chunk(record(1), broken, record(2), record(3)))
    assert [r.record_id for r in walk.records] == [1, 2, 3]
    assert walk.gaps == [layout.Gap(512 + 64, 512 + 64 + 56)]


def test_patched_gap_is_a_placeholder_record_spanning_it() -> None:
    broken = bytes(range(200)) * 1  # garbage, no record magic
    data = chunk(record(1), broken[:96], record(2))
    walk = layout.walk_chunk(data)
    assert walk.gaps == [layout.Gap(576, 672)]
    patched, unpatched = layout.patch_gaps(data, walk.gaps)
    assert unpatched == []
    again = layout.walk_chunk(patched)
    assert [r.record_id for r in again.records] == [1, layout.PLACEHOLDER_RECORD_ID, 2]
    assert again.gaps == []


def test_chunk_status_and_counts() -> None:
    assert layout.chunk_status(chunk(record(1))) == "ok"
    assert layout.chunk_status(bytes(layout.CHUNK_SIZE)) == "empty"
    assert layout.chunk_status(b"\x01" + bytes(layout.CHUNK_SIZE - 1)) == "damaged"
    assert layout.chunk_count(layout.HEADER_SIZE) == 0
    assert layout.chunk_count(layout.HEADER_SIZE + layout.CHUNK_SIZE + 1) == 2
    header = layout.synthetic_header(3)
    assert layout.is_evtx(header) and struct.unpack_from("<H", header, 42)[0] == 3
