"""Loading orchestration: inputs -> tasks -> (worker processes) -> batches -> one DuckDB transaction.

Parsing and normalizing are Python-bound (the evtx package holds the GIL while it renders), so threads would not
help: EVTX tasks run in a process pool when there is enough to do, each returning one columnar batch as an Arrow
IPC file in shared memory (mapped back without copying). The loading process consumes results in input order (so
``_serial`` follows input order), inserts them about ``batch_rows`` at a time (DuckDB's cost per insert grows
with the table's width, so inserts are few and large), and keeps at most a few results in flight, which bounds
memory whatever the size of the input. JSON files are streamed in the loading process.

The whole load is one transaction: an exception or Ctrl-C at any point rolls everything back, and duplicates are
removed once, at the end, by identity key.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from sqldetect.events.batch import Batch, Unified, read_spilled, unify
from sqldetect.events.inputs import InputFile, expand_inputs
from sqldetect.events.messages import MessageCatalog
from sqldetect.events.reader_evtx import PARSERS, ChunkRange, plan_ranges
from sqldetect.events.report import FileReport, LoadReport
from sqldetect.events.table import EventTable
from sqldetect.events.tasks import EvtxTask, Settings, TaskResult, init_worker, iter_json_file, run_evtx_task
from sqldetect.events.windows import RAW_FORMATS, WindowsOptions

CHUNKS_PER_TASK = {"evtx": 32, "python-evtx": 2}
LOAD_MEMORY_LIMIT = "512MB"  # DuckDB's share of the load's memory (peak RSS target: < 1 GiB for 1M records)
POOL_MIN_BYTES = 4 << 20  # below this much EVTX, starting worker processes costs more than it saves
IN_FLIGHT_PER_WORKER = 2  # measured: more does not help (CPU-bound) and costs shared memory


@dataclass(frozen=True)
class _JsonWork:
    file_no: int


Work = EvtxTask | _JsonWork


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def load(
    con: duckdb.DuckDBPyConnection,
    table: str,
    inputs: Sequence[str | os.PathLike[str]],
    *,
    parser: str = "evtx",
    raw_format: str = "xml",
    index: str = "main",
    messages: Sequence[str | os.PathLike[str]] = (),
    progress: bool | None = None,
    workers: int | None = None,
    batch_rows: int = 50_000,
) -> LoadReport:
    """Load ``inputs`` into ``table`` in one transaction; see ``EventStore.load``.

    ``batch_rows``: rows gathered before each insert (bigger inserts are cheaper per row; memory grows with it).
    """
    if parser not in PARSERS:
        raise ValueError(f"parser must be one of {PARSERS}, not {parser!r}")
    if raw_format not in RAW_FORMATS:
        raise ValueError(f"raw format must be one of {RAW_FORMATS}, not {raw_format!r}")
    started = time.perf_counter()
    catalog = MessageCatalog.load(messages)
    workers = default_workers() if workers is None else max(1, workers)
    with ExitStack() as stack:
        spool = stack.enter_context(tempfile.TemporaryDirectory(prefix="sqldetect-load-"))
        files = expand_inputs(inputs, spool)
        report = LoadReport(table, [FileReport(f.display, f.format, parser if f.format == "evtx" else "json")
                                    for f in files])  # fmt: skip
        plan = _plan(files, parser)
        evtx_bytes = sum(f.size for f in files if f.format == "evtx")
        use_pool = workers > 1 and (evtx_bytes >= POOL_MIN_BYTES or (parser == "python-evtx" and evtx_bytes))
        report.workers = workers if use_pool else 1
        spill = stack.enter_context(tempfile.TemporaryDirectory(prefix="sqldetect-", dir=_shared_memory()))
        settings = Settings(parser=parser, raw_format=raw_format, index=index, catalog=catalog,
                            batch_rows=batch_rows, spill_dir=spill if use_pool else None)  # fmt: skip
        stack.enter_context(_collector_paused())
        show = _Progress.create(progress, len(files), sum(f.size for f in files))
        stack.enter_context(show)
        stack.enter_context(_bounded_memory(con))
        con.execute("BEGIN TRANSACTION")
        try:
            _run(con, table, files, plan, settings, report, show, workers if use_pool else 0)
            con.execute("COMMIT")
        except BaseException:
            # After a failed COMMIT the transaction is already gone; the original error is what matters.
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    report.elapsed = time.perf_counter() - started
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic GC: a load creates millions of short-lived, acyclic tuples it would keep scanning."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _shared_memory() -> str | None:
    """A RAM-backed folder for batches passed between processes, when the system has one."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def _bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Cap DuckDB's memory for the load, so the uncommitted rows of a big load spill to disk, not RAM.

    The previous limit is restored afterwards (queries may use more); a lower limit is left alone.
    """
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    if _bytes(previous) <= _bytes(LOAD_MEMORY_LIMIT):
        yield
        return
    con.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{previous}'")


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread for a while (the previous setting is restored)."""
    previous = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(previous)}")


_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip


def _bytes(setting: str) -> float:
    """DuckDB's memory setting text (``18.8 GiB``, ``512MB``) in bytes (infinite when unparsable)."""
    number = setting.strip().rstrip("BbIiKkMmGgTtYyEeSs ")
    unit = setting.strip()[len(number) :].strip().upper()
    try:
        return float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        return float("inf")


def _plan(files: list[InputFile], parser: str) -> list[Work]:
    """EVTX chunk ranges grouped into tasks of at most N chunks; JSON files as they come, in input order."""
    limit = CHUNKS_PER_TASK[parser]
    plan: list[Work] = []
    pending_files: list[int] = []
    pending_parts: list[ChunkRange] = []
    pending_chunks = 0

    def close_task() -> None:
        nonlocal pending_chunks
        if pending_parts:
            plan.append(EvtxTask(tuple(pending_files), tuple(pending_parts)))
        pending_files.clear()
        pending_parts.clear()
        pending_chunks = 0

    for file_no, source in enumerate(files):
        if source.format != "evtx":
            close_task()
            plan.append(_JsonWork(file_no))
            continue
        for part in plan_ranges(source.path, source.size, limit):
            size = part.stop - part.first
            if pending_chunks + size > limit:
                close_task()
            pending_files.append(file_no)
            pending_parts.append(part)
            pending_chunks += size
    close_task()
    return plan


def _results(
    plan: list[Work], files: list[InputFile], settings: Settings, workers: int
) -> Iterator[tuple[Work, TaskResult]]:
    """Task results in plan order; EVTX tasks in a process pool when ``workers`` > 0."""
    if workers <= 0:
        for work in plan:
            if isinstance(work, EvtxTask):
                yield work, run_evtx_task(work, settings)
            else:
                for result in iter_json_file(work.file_no, files[work.file_no], settings):
                    yield work, result
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = context.Pool(workers, initializer=init_worker, initargs=(settings,))
    clean = False
    try:
        window = workers * IN_FLIGHT_PER_WORKER
        submitted: deque[tuple[Work, object]] = deque()
        next_to_submit = 0
        for position, work in enumerate(plan):
            next_to_submit = max(next_to_submit, position)
            while next_to_submit < len(plan) and len(submitted) < window:
                ahead = plan[next_to_submit]
                if isinstance(ahead, EvtxTask):
                    submitted.append((ahead, pool.apply_async(run_evtx_task, (ahead,))))
                next_to_submit += 1
            if isinstance(work, EvtxTask):
                queued, handle = submitted.popleft()
                assert queued is work
                yield work, handle.get()  # type: ignore[attr-defined]
            else:
                for result in iter_json_file(work.file_no, files[work.file_no], settings):
                    yield work, result
        clean = True
    finally:
        if clean:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def _run(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    files: list[InputFile],
    plan: list[Work],
    settings: Settings,
    report: LoadReport,
    show: _Progress,
    workers: int,
) -> None:
    table = EventTable(con, table_name, sourcetype=WindowsOptions(raw_format=settings.raw_format).sourcetype,
                       index=settings.index)  # fmt: skip
    first_serial = table.next_serial
    segments: list[tuple[int, int, int]] = []
    inserted = [0] * len(files)
    pending: list[tuple[Batch, list[int]]] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal pending_rows
        for kind in ("windows", "generic"):
            group = [(b, f) for b, f in pending if b.kind == kind]
            if group:
                unified = unify([b for b, _ in group], [f for _, f in group])
                base = table.append(unified)
                segments.extend(_segments(base, unified, inserted))
        pending.clear()
        pending_rows = 0

    remaining_parts = [0] * len(files)
    for work in plan:
        if isinstance(work, EvtxTask):
            for file_no in work.files:
                remaining_parts[file_no] += 1
    last_json: Work | None = None
    # While worker processes parse, they keep the cores busy: DuckDB's own threads would only compete with them
    # (measured: one thread inserts with 25% less CPU per row). The duplicate pass below gets them back.
    with _one_thread(con) if workers > 0 else nullcontext():
        for work, result in _results(plan, files, settings, workers):
            for slot, file_no in enumerate(result.files):
                report.files[file_no].read += result.read[slot]
                report.files[file_no].log.extend(result.logs[slot])
            arrived = 0
            for item in result.batches:
                batch = read_spilled(item) if isinstance(item, str) else item
                pending.append((batch, result.files))
                pending_rows += batch.rows
                arrived += batch.rows
            if pending_rows >= settings.batch_rows:
                flush()
            done = 0
            if isinstance(work, EvtxTask):
                for file_no in dict.fromkeys(work.files):
                    remaining_parts[file_no] -= work.files.count(file_no)
                    done += remaining_parts[file_no] == 0
            elif work is not last_json:
                done, last_json = 1, work  # counted when its first batch arrives
            advanced = _work_bytes(work, files) if isinstance(work, EvtxTask) or done else 0
            show.advance(arrived, advanced, done)
        flush()
    removed = table.remove_duplicates(first_serial, _segment_table(segments))
    for file_no, file_report in enumerate(report.files):
        file_report.duplicates = removed.get(file_no, 0)
        file_report.loaded = inserted[file_no] - file_report.duplicates
    table.record_schema()


def _segments(base: int, batch: Unified, inserted: list[int]) -> list[tuple[int, int, int]]:
    """Serial ranges of the batch's rows per file number (a file's rows are consecutive in a batch)."""
    ranges = pa.Table.from_batches(batch.batches).select(["file", "ordinal"]).group_by("file").aggregate(
        [("ordinal", "min"), ("ordinal", "max")])  # fmt: skip
    out = []
    for file_no, low, high in zip(*(ranges.column(c).to_pylist() for c in ("file", "ordinal_min", "ordinal_max")),
                                  strict=True):  # fmt: skip
        inserted[file_no] += high - low + 1
        out.append((base + low, base + high, file_no))
    return out


def _segment_table(segments: list[tuple[int, int, int]]) -> pa.Table:
    lo, hi, file_no = zip(*segments, strict=True) if segments else ((), (), ())
    return pa.table({"lo": pa.array(lo, pa.int64()), "hi": pa.array(hi, pa.int64()),
                     "file": pa.array(file_no, pa.int64())})  # fmt: skip


def _work_bytes(work: Work, files: list[InputFile]) -> int:
    if isinstance(work, EvtxTask):
        return sum((p.stop - p.first) * 65536 for p in work.parts)
    return files[work.file_no].size


class _Progress:
    """A rich progress bar (files, records, records/s) on a terminal; nothing otherwise."""

    def __init__(self, bar: object | None, files: int, total_bytes: int) -> None:
        self._bar = bar
        self._files = files
        self._done_files = 0
        self._records = 0
        self._started = time.perf_counter()
        self._task = None
        if bar is not None:
            self._task = bar.add_task("loading", total=max(total_bytes, 1), status="")  # type: ignore[attr-defined]

    @classmethod
    def create(cls, enabled: bool | None, files: int, total_bytes: int) -> _Progress:
        if enabled is None:
            enabled = sys.stderr.isatty()
        if not enabled:
            return cls(None, files, total_bytes)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
                       TimeElapsedColumn(), console=Console(stderr=True), transient=True)  # fmt: skip
        return cls(bar, files, total_bytes)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]

    def advance(self, records: int, work_bytes: int, files_done: int) -> None:
        self._records += records
        self._done_files += files_done
        if self._bar is None:
            return
        rate = self._records / max(time.perf_counter() - self._started, 1e-9)
        status = f"files {self._done_files}/{self._files}  {self._records:,} records  {rate:,.0f} records/s"
        self._bar.update(self._task, advance=work_bytes, status=status)  # type: ignore[attr-defined]
