"""The evtx reader's shortcut: chunks are walked only when the parser's result disagrees with the chunk headers."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from sqldetect.events import evtx_layout as layout
from sqldetect.events.reader_evtx import ChunkRange, read_evtx_rs
from sqldetect.events.report import IssueLog
from sqldetect.evtxwriter import write_evtx

RECORDS = 400  # three chunks of the writer's Security events


def security_event(n: int) -> dict[str, object]:
    return {
        "provider": "Microsoft-Windows-Security-Auditing", "channel": "Security", "event_id": 4624,
        "time": f"2024-05-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000000Z", "computer": "WS01.corp.example",
        "data": {"TargetUserName": f"user{n}", "LogonType": "3", "IpAddress": f"10.0.0.{n % 250}"},
    }  # fmt: skip


@pytest.fixture
def evtx_file(tmp_path: Path) -> Path:
    path = tmp_path / "security.evtx"
    assert write_evtx(path, (security_event(n) for n in range(RECORDS))) == RECORDS
    return path


def whole_file(path: Path) -> ChunkRange:
    return ChunkRange(str(path), 0, layout.chunk_count(path.stat().st_size))


def record_ids(xmls: list[str]) -> list[int]:
    return [int(xml.split("<EventRecordID>")[1].split("<")[0]) for xml in xmls]


def test_a_clean_file_is_read_without_walking_its_chunks(evtx_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_walk(chunk: bytes) -> layout.ChunkWalk:
        raise AssertionError("a clean chunk was walked")

    monkeypatch.setattr(layout, "walk_chunk", no_walk)
    log = IssueLog()
    xmls = read_evtx_rs(whole_file(evtx_file), log)
    assert record_ids(xmls) == list(range(1, RECORDS + 1))
    assert log.issues == [] and log.skipped == 0


def test_a_header_announcing_a_missing_record_makes_the_reader_walk(
    evtx_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[int] = []
    walk_chunk = layout.walk_chunk

    def counting_walk(chunk: bytes) -> layout.ChunkWalk:
        walked.append(1)
        return walk_chunk(chunk)

    monkeypatch.setattr(layout, "walk_chunk", counting_walk)
    data = bytearray(evtx_file.read_bytes())
    second = layout.chunk_offset(1)
    _first_id, last_id = struct.unpack_from("<QQ", data, second + 24)
    struct.pack_into("<Q", data, second + 32, last_id + 1)  # one record more than the chunk holds
    evtx_file.write_bytes(bytes(data))
    log = IssueLog()
    xmls = read_evtx_rs(whole_file(evtx_file), log)
    # Walked: every record is still read, and the walk (not the header) says what the chunk holds.
    assert record_ids(xmls) == list(range(1, RECORDS + 1))
    assert log.skipped == 0
    assert len(walked) == layout.chunk_count(evtx_file.stat().st_size)


def test_a_damaged_record_is_reported_and_the_rest_of_its_chunk_read(evtx_file: Path) -> None:
    data = bytearray(evtx_file.read_bytes())
    chunk = layout.chunk_offset(1)
    walk = layout.walk_chunk(bytes(data[chunk : chunk + layout.CHUNK_SIZE]))
    victim = walk.records[5]
    data[chunk + victim.offset : chunk + victim.offset + 4] = b"XXXX"  # destroy one record's magic
    evtx_file.write_bytes(bytes(data))
    log = IssueLog()
    xmls = read_evtx_rs(whole_file(evtx_file), log)
    assert victim.record_id not in record_ids(xmls)
    assert len(xmls) == RECORDS - 1
    assert log.skipped == 1 and log.issues[0].where.startswith("chunk 1 offset")
