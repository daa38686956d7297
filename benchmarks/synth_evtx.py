"""Build a large EVTX file for load benchmarks by replicating real chunks with fresh record ids.

The lead generates a realistic 1,000,000-record file with the project's EVTX writer; until then (or to measure
on the mix of the attack samples) this copies every clean chunk of the given EVTX files over and over, giving
every copy of a record a new EventRecordID (in the record header and in the event's System values), so the
copies are distinct events to the loader's duplicate detection.

Caveat (measured): the id is replaced wherever its 8 bytes occur in a record, so small ids also overwrite other
values and some records come out damaged (the loader then walks every chunk and reports them); its files are
dirty-file benchmarks. For load-speed figures use a clean writer-made file:
``python benchmarks/evtxwriter_speed.py --records 1000000 --out /tmp/1m.evtx``.

    python benchmarks/synth_evtx.py ../shared/evtx/attack-samples /tmp/big.evtx --records 1000000
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqldetect.events import evtx_layout as layout


def clean_chunks(sources: list[Path]) -> list[bytes]:
    chunks = []
    for path in sources:
        data = path.read_bytes()
        for index in range(layout.chunk_count(len(data))):
            chunk = data[layout.chunk_offset(index) : layout.chunk_offset(index) + layout.CHUNK_SIZE]
            if layout.chunk_status(chunk) != "ok":
                continue
            walk = layout.walk_chunk(chunk)
            # Well-filled, undamaged chunks only: a sparse chunk would make the file unrealistically large.
            if not walk.gaps and walk.region_end >= layout.CHUNK_SIZE // 2:
                chunks.append(chunk)
    return chunks


def renumber(chunk: bytes, first_id: int) -> tuple[bytes, int]:
    """A copy of the chunk whose records carry ids first_id, first_id + 1, ..."""
    out = bytearray(chunk)
    next_id = first_id
    for slot in layout.walk_chunk(chunk).records:
        old = struct.pack("<Q", slot.record_id)
        new = struct.pack("<Q", next_id)
        struct.pack_into("<Q", out, slot.offset + 8, next_id)
        body_start, body_end = slot.offset + 24, slot.offset + slot.size
        body = bytes(out[body_start:body_end]).replace(old, new)
        out[body_start:body_end] = body
        next_id += 1
    return bytes(out), next_id


def synthesize(sources: list[Path], target: Path, records: int) -> int:
    chunks = clean_chunks(sources)
    if not chunks:
        raise SystemExit("no clean chunks found")
    header = bytearray(layout.HEADER_SIZE)
    header[0:8] = layout.FILE_MAGIC
    written = 0
    count = 0
    next_id = 1
    with target.open("wb") as handle:
        handle.write(bytes(header))
        while written < records:
            for chunk in chunks:
                copy, after = renumber(chunk, next_id)
                written += after - next_id
                next_id = after
                handle.write(copy)
                count += 1
                if written >= records or count >= 0xFFFF:
                    break
            if count >= 0xFFFF:
                break
        struct.pack_into("<QQQIHHHH", header, 8, 0, count - 1, next_id, 0x80, 1, 3, layout.HEADER_SIZE, count)
        struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])) & 0xFFFFFFFF)
        handle.seek(0)
        handle.write(bytes(header))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="an EVTX file or a directory of them")
    parser.add_argument("target", type=Path)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    sources = sorted(args.source.rglob("*.evtx")) if args.source.is_dir() else [args.source]
    written = synthesize(sources, args.target, args.records)
    print(f"{args.target}: {written} records, {args.target.stat().st_size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
