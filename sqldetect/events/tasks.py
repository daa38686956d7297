"""Units of work: read + normalize + batch, runnable in a worker process or in the loading process.

An EVTX task covers up to a fixed number of chunks, either a slice of one large file or several small files
(grouping keeps the number of DuckDB inserts small); its result is one columnar batch plus, per file, the number
of records read and the damage found. JSON files are streamed in the loading process, a batch at a time.
"""

from __future__ import annotations

import gc
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from sqldetect.events.batch import Batch, GenericBatchBuilder, WindowsBatchBuilder, write_spilled
from sqldetect.events.inputs import InputFile
from sqldetect.events.json_events import PairsDict, event_time, flatten, windows_xml
from sqldetect.events.messages import MessageCatalog
from sqldetect.events.reader_evtx import READERS, ChunkRange
from sqldetect.events.reader_json import iter_json
from sqldetect.events.report import IssueLog
from sqldetect.events.windows import RecordError, WindowsNormalizer, WindowsOptions


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to turn input into batches (picklable)."""

    parser: str = "evtx"
    raw_format: str = "xml"
    index: str = "main"
    catalog: MessageCatalog = field(default_factory=MessageCatalog)
    batch_rows: int = 50_000
    spill_dir: str | None = None  # workers write batches here (Arrow IPC) instead of pickling them

    def windows_options(self) -> WindowsOptions:
        return WindowsOptions(raw_format=self.raw_format, index=self.index, catalog=self.catalog)


@dataclass(frozen=True)
class EvtxTask:
    """Chunk ranges of one or more EVTX files; ``files[i]`` is the load's file number of ``parts[i]``."""

    files: tuple[int, ...]
    parts: tuple[ChunkRange, ...]


@dataclass
class TaskResult:
    """Batches produced by a task, with per-file counts; ``files[slot]`` maps a batch slot to a file number."""

    files: list[int]
    batches: list[Batch | str]  # a str is the path of a spilled batch (see batch.read_spilled)
    read: list[int]
    logs: list[IssueLog]


_worker_settings: Settings | None = None
_spilled = 0
_normalizers: dict[Settings, WindowsNormalizer] = {}


def init_worker(settings: Settings) -> None:
    """Process-pool initializer: remember the settings; leave Ctrl-C to the loading process."""
    global _worker_settings
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # rows are acyclic; the collector would only re-scan millions of young tuples
    _worker_settings = settings


def _normalizer(settings: Settings) -> WindowsNormalizer:
    normalizer = _normalizers.get(settings)
    if normalizer is None:
        normalizer = _normalizers[settings] = WindowsNormalizer(settings.windows_options())
    return normalizer


def run_evtx_task(task: EvtxTask, settings: Settings | None = None) -> TaskResult:
    """Read, normalize and batch every record of the task's chunk ranges."""
    settings = settings or _worker_settings
    assert settings is not None, "worker not initialised"
    read_records = READERS[settings.parser]
    normalize = _normalizer(settings).normalize
    builder = WindowsBatchBuilder()
    files: list[int] = []
    reads: list[int] = []
    logs: list[IssueLog] = []
    for file_no, part in zip(task.files, task.parts, strict=True):
        if not files or files[-1] != file_no:
            files.append(file_no)
            reads.append(0)
            logs.append(IssueLog())
        slot = len(files) - 1
        log = logs[slot]
        before = builder.rows
        for xml in read_records(part, log):
            try:
                builder.add(slot, normalize(xml))
            except (RecordError, ValueError) as exc:
                log.add(f"chunks {part.first}-{part.stop - 1}", f"record not normalized: {exc}")
        reads[slot] += builder.rows - before
    batches: list[Batch | str] = [builder.build()] if builder.rows else []
    if batches and settings.spill_dir is not None:
        global _spilled
        _spilled += 1
        path = os.path.join(settings.spill_dir, f"{os.getpid()}-{_spilled}.arrow")
        batches = [write_spilled(batches[0], path)]  # type: ignore[arg-type]
    return TaskResult(files, batches, reads, logs)


def iter_json_file(file_no: int, source: InputFile, settings: Settings) -> Iterator[TaskResult]:
    """Stream a JSON/NDJSON file as results of at most ``settings.batch_rows`` events each."""
    normalize = _normalizer(settings).normalize
    windows = WindowsBatchBuilder()
    generic = GenericBatchBuilder()
    log = IssueLog()
    untimed = 0
    display = source.display

    def flush(final: bool) -> Iterator[TaskResult]:
        nonlocal log
        batches = [b.build() for b in (windows, generic) if b.rows and (final or b.rows >= settings.batch_rows)]
        if batches or final:
            yield TaskResult([file_no], batches, [sum(b.rows for b in batches)], [log])
            log = IssueLog()

    with source.open() as stream:
        for line, text, value in iter_json(stream, log):
            if not isinstance(value, dict):
                log.add(f"line {line}", f"not a JSON object ({type(value).__name__}); skipped")
                continue
            if "Event" in value:
                # The evtx package's JSON repeats keys for repeated <Data Name>: keep every value.
                value = json.loads(text, object_pairs_hook=PairsDict.from_pairs)
            try:
                xml = windows_xml(value)
            except (ValueError, TypeError) as exc:
                log.add(f"line {line}", f"Windows event in JSON could not be converted: {exc}")
                continue
            if xml is not None:
                try:
                    windows.add(0, normalize(xml))
                except (RecordError, ValueError) as exc:
                    log.add(f"line {line}", f"record not normalized: {exc}")
            else:
                core, names, values, problem = generic_row(value, text, display, settings.index)
                if problem:
                    log.note(f"line {line}", problem)
                if core[0] is None:
                    untimed += 1
                generic.add(0, core, names, values)
            if windows.rows >= settings.batch_rows or generic.rows >= settings.batch_rows:
                yield from flush(final=False)
    if untimed:
        log.note("", f"{untimed} events carry no timestamp (_time, @timestamp, TimeCreated, timestamp): _time is NULL")
    yield from flush(final=True)


def generic_row(
    obj: dict[str, Any], text: str, source: str, default_index: str
) -> tuple[tuple[object, ...], tuple[str, ...], list[Any], str | None]:
    """The fixed columns (``batch.GENERIC_COLUMNS``) and the fields of one generic JSON event."""
    micros, problem = event_time(obj)
    raw = obj.get("_raw")
    raw = raw if isinstance(raw, str) else text
    host = _string(obj.get("host"))
    origin = _string(obj.get("source")) or source
    sourcetype = _string(obj.get("sourcetype")) or "_json"
    index = _string(obj.get("index"))
    identity = f"{index or default_index}\x1f{sourcetype}\x1f{raw}"
    key = blake2b(identity.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    names, values = flatten(obj)
    return (micros, raw, host, origin, sourcetype, index, key), tuple(names), values, problem


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
