"""EVTX readers: a range of chunks of one file in, canonical event XML strings out (plus a log of damage).

Both parsers read chunks that ``evtx_layout`` has walked first:

* damaged chunk headers and all-zero (unused) chunks are skipped before a parser sees them;
* a damaged stretch inside a chunk is patched into a placeholder record, so the ``evtx`` package (whose
  iteration stops a chunk at the first record it cannot parse) carries on with the good records after it;
* the walk's record ids are compared with what the parser returned, so a record lost silently is still
  reported.

The default parser is the Rust-backed ``evtx`` package; ``python-evtx`` is the pure-Python alternative (about a
thousand times slower), rendered through ``pyevtx_render`` so both yield the same XML.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqldetect.events import evtx_layout as layout
from sqldetect.events.report import IssueLog

PARSERS = ("evtx", "python-evtx")
_RECORD_FAILURE = re.compile(r"record number (\d+): (.*)", re.DOTALL)


@dataclass(frozen=True)
class ChunkRange:
    """Chunks ``[first, stop)`` of one EVTX file: the unit of work handed to a worker."""

    path: str
    first: int
    stop: int


def plan_ranges(path: str, file_size: int, chunks_per_task: int) -> list[ChunkRange]:
    """Split a file into chunk ranges of at most ``chunks_per_task`` chunks each."""
    total = max(layout.chunk_count(file_size), 1)
    return [ChunkRange(path, start, min(start + chunks_per_task, total)) for start in range(0, total, chunks_per_task)]


@dataclass
class _Chunks:
    """The good chunks of a range, ready for a parser, and the record ids their walk found."""

    header: bytes
    chunks: list[tuple[int, bytes]]  # (chunk index, chunk as the parser should read it)
    expected: dict[int, int] = field(default_factory=dict)  # record id -> chunk index
    damaged: dict[int, bytes] = field(default_factory=dict)  # chunk index -> original bytes of a patched chunk


def _file_header(part: ChunkRange, log: IssueLog) -> bytes:
    """The file header, or a synthetic one when it is damaged (reported once, with the range at chunk 0)."""
    with open(part.path, "rb") as handle:
        header = handle.read(layout.HEADER_SIZE)
    if layout.is_evtx(header):
        return header
    if part.first == 0:
        log.note("file header", "not a valid EVTX header; reading its chunks anyway")
    return layout.synthetic_header(part.stop)


def _good_chunks(part: ChunkRange, log: IssueLog) -> Iterator[tuple[int, bytes]]:
    """``(index, chunk)`` of each chunk with a valid header; unused and destroyed ones are left out (the latter
    reported)."""
    with open(part.path, "rb") as handle:
        for index in range(part.first, part.stop):
            handle.seek(layout.chunk_offset(index))
            chunk = handle.read(layout.CHUNK_SIZE)
            if not chunk:
                break
            if len(chunk) < layout.CHUNK_SIZE:
                if chunk.strip(b"\x00"):
                    log.note(f"chunk {index}", f"file ends inside this chunk ({len(chunk)} of 65536 bytes)")
                chunk = chunk.ljust(layout.CHUNK_SIZE, b"\x00")
            status = layout.chunk_status(chunk)
            if status == "empty":
                continue
            if status == "damaged":
                log.note(f"chunk {index}", "damaged chunk header; the chunk's records cannot be located, skipped")
                continue
            yield index, chunk


def _read_chunks(part: ChunkRange, log: IssueLog) -> _Chunks:
    """The range's good chunks as they are, not walked."""
    header = _file_header(part, log)
    return _Chunks(header, list(_good_chunks(part, log)))


def _collect(part: ChunkRange, log: IssueLog) -> _Chunks:
    """The range's good chunks, walked: expected record ids, damaged stretches patched (and reported)."""
    header = _file_header(part, log)
    chunks: list[tuple[int, bytes]] = []
    expected: dict[int, int] = {}
    damaged: dict[int, bytes] = {}
    for index, chunk in _good_chunks(part, log):
        walk = layout.walk_chunk(chunk)
        if walk.gaps:
            damaged[index] = chunk
            chunk, _unpatched = layout.patch_gaps(chunk, walk.gaps)
            for gap in walk.gaps:
                log.add(f"chunk {index} offset {gap.start:#x}", f"{gap.size} bytes of damaged record data")
        for slot in walk.records:
            expected[slot.record_id] = index
        chunks.append((index, chunk))
    return _Chunks(header, chunks, expected, damaged)


def _parse_rs(header: bytes, chunks: list[bytes]) -> tuple[list[tuple[int, str]], list[str]]:
    """``(record id, XML)`` of every record the evtx package returns for these chunks, and its warnings."""
    import evtx

    blob = io.BytesIO(header + b"".join(chunks))
    parser = evtx.PyEvtxParser(blob, number_of_threads=1, indent=False, skip_errors=True)
    records: list[tuple[int, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for record in parser.records():
            record_id = record["event_record_id"]
            if record_id == layout.PLACEHOLDER_RECORD_ID:
                continue
            data = record["data"]
            # The evtx package prefixes each document with an XML declaration line.
            records.append((record_id, data[data.index("\n") + 1 :] if data.startswith("<?xml") else data))
    return records, [str(w.message) for w in caught]


def read_evtx_rs(part: ChunkRange, log: IssueLog) -> list[str]:
    """Event XML of every good record in the range, parsed by the ``evtx`` package.

    First every chunk is parsed as it is, without walking it: when the parser warns of nothing and returns
    exactly the record ids the chunk headers announce, that is the answer (the common case, and the walk costs
    about as much as the parse). Otherwise the chunks are walked: clean chunks are parsed together. A damaged chunk is parsed twice, patched and as it is, and the union
    kept: the patch lets the parser reach records after the damage, while the original may still hold a
    record the walk could not vouch for (its trailing size copy broken) that the parser reads fine.
    """
    notes = IssueLog()
    clean = _parse_clean(_read_chunks(part, notes))
    if clean is not None:
        log.extend(notes)
        return clean
    collected = _collect(part, log)  # read again: damage is reported in file order
    clean = [chunk for index, chunk in collected.chunks if index not in collected.damaged]
    records, messages = _parse_rs(collected.header, clean) if clean else ([], [])
    for index, patched in collected.chunks:
        original = collected.damaged.get(index)
        if original is None:
            continue
        got, noise = _parse_rs(collected.header, [patched])
        more, _ = _parse_rs(collected.header, [original])
        have = {record_id for record_id, _ in got}
        records.extend(sorted(got + [r for r in more if r[0] not in have]))
        messages.extend(noise)
    seen = {record_id for record_id, _ in records}
    failed: set[int] = set()
    for text in messages:
        match = _RECORD_FAILURE.search(text)
        if match is None:
            if "2a2a0000" in text or "data size" in text:
                continue  # the parser stepping onto damage the walk already reported
            log.note(_where(part), _short(text))
            continue
        record_id = int(match.group(1))
        if record_id == layout.PLACEHOLDER_RECORD_ID or record_id in seen or record_id in failed:
            continue
        failed.add(record_id)
        log.add(f"chunk {collected.expected.get(record_id, '?')} record {record_id}", _short(match.group(2)))
    for record_id, chunk_index in collected.expected.items():
        if record_id not in seen and record_id not in failed:
            log.add(f"chunk {chunk_index} record {record_id}", "the parser returned no event for this record")
    return [xml for _, xml in records]


def _parse_clean(read: _Chunks) -> list[str] | None:
    """Every record's XML when the parser read each chunk completely and silently, else None."""
    if not read.chunks:
        return []
    records, messages = _parse_rs(read.header, [chunk for _, chunk in read.chunks])
    if messages:
        return None
    ids = [record_id for record_id, _ in records]
    position = 0
    for _, chunk in read.chunks:
        first, last = layout.record_id_range(chunk)
        count = last - first + 1
        if count <= 0 or ids[position : position + count] != list(range(first, last + 1)):
            return None
        position += count
    return [xml for _, xml in records] if position == len(records) else None


def read_python_evtx(part: ChunkRange, log: IssueLog) -> list[str]:
    """Event XML of every good record in the range, decoded by python-evtx (slow, pure Python)."""
    import Evtx.Evtx as pyevtx

    from sqldetect.events.pyevtx_render import render_record

    collected = _collect(part, log)
    out: list[str] = []
    for index, chunk in collected.chunks:
        header = pyevtx.ChunkHeader(chunk, 0)
        for slot in layout.walk_chunk(chunk).records:
            if slot.record_id == layout.PLACEHOLDER_RECORD_ID:
                continue
            try:
                out.append(render_record(pyevtx.Record(chunk, slot.offset, header)))
            except Exception as exc:  # python-evtx raises anything from KeyError to struct.error on damage
                log.add(f"chunk {index} record {slot.record_id}", f"python-evtx cannot decode it: {_short(str(exc))}")
    return out


READERS: dict[str, Callable[[ChunkRange, IssueLog], list[str]]] = {
    "evtx": read_evtx_rs,
    "python-evtx": read_python_evtx,
}


def _where(part: ChunkRange) -> str:
    return f"chunks {part.first}-{part.stop - 1}"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    for prefix in ("Skipping EVTX data: RuntimeError: ", "RuntimeError: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text if len(text) <= limit else text[: limit - 3] + "..."
