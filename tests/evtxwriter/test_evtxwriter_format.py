"""Format details checked against Windows' own files in ../shared/evtx (skipped without them)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sqldetect.evtxwriter.binxml import encode_name, name_hash

SAMPLES = ["evtx-crate/security.evtx", "evtx-crate/sysmon.evtx", "attack-samples/Execution/rogue_msi_url_1040_1042.evtx"]


def _string_table_names(chunk: bytes) -> list[tuple[str, int, int]]:
    """(name, stored hash, bucket) for every name reachable from a chunk's string table."""
    names = []
    for bucket, head in enumerate(struct.unpack_from("<64I", chunk, 0x80)):
        offset, seen = head, set()
        while offset and offset not in seen and offset + 8 <= len(chunk):
            seen.add(offset)
            next_offset, stored_hash, length = struct.unpack_from("<IHH", chunk, offset)
            name = chunk[offset + 8:offset + 8 + 2 * length].decode("utf-16-le")
            names.append((name, stored_hash, bucket))
            offset = next_offset
    return names


@pytest.mark.shared
@pytest.mark.parametrize("sample", SAMPLES)
def test_name_hash_and_bucket_match_windows(shared_dir: Path, sample: str) -> None:
    data = (shared_dir / "evtx" / sample).read_bytes()
    chunk = data[0x1000:0x11000]
    assert chunk[:8] == b"ElfChnk\x00"
    names = _string_table_names(chunk)
    assert len(names) > 20
    for name, stored_hash, bucket in names:
        assert name_hash(name) == stored_hash, name
        assert stored_hash % 64 == bucket, name


@pytest.mark.shared
def test_name_structure_layout_matches_windows(shared_dir: Path) -> None:
    data = (shared_dir / "evtx" / SAMPLES[2]).read_bytes()
    chunk = data[0x1000:0x11000]
    offset = chunk.find(encode_name("EventData")[4:])  # a name stored by Windows, minus its next-offset field
    assert offset > 0
    assert chunk[offset - 4:offset - 4 + len(encode_name("EventData"))][4:] == encode_name("EventData")[4:]


def test_name_hash_known_values() -> None:
    # Values Windows stores for these names (see test_name_hash_and_bucket_match_windows for the proof).
    assert [name_hash(n) for n in ("Event", "System", "Provider", "Name")] == [0x0CBA, 0x546F, 0x7BF1, 0x954B]
