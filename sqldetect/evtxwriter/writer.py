"""Stream events into an EVTX file: one chunk in memory at a time, the file header written last.

File header (the first 4 KiB; only the first 128 bytes are used):

    0x00  "ElfFile\\0"
    0x08  oldest chunk number (0), current (last) chunk number, next record id   3 x u64
    0x20  header size (128), minor version (1), major version (3)                  u32, u16, u16
    0x28  header block size (4096), chunk count                                    u16, u16
    0x2C  unused (76 bytes)
    0x78  flags (0: clean, not full)                                               u32
    0x7C  CRC32 of bytes [0, 0x78)                                                 u32

The file is written to a temporary name next to the target and renamed at the end, so an interrupted run
never leaves a half-written file under the real name.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from sqldetect.evtxwriter.binxml import Element, ValueType
from sqldetect.evtxwriter.chunk import Chunk, RecordTooLarge
from sqldetect.evtxwriter.event import EventShape, InvalidEventError, prepare_event
from sqldetect.evtxwriter.template import build_template, template_guid

FILE_HEADER_SIZE = 0x1000
MAX_CHUNKS = 0xFFFF  # the header's chunk count is 16 bits
_FILE_HEADER = struct.Struct("<8sQQQIHHHH76s")  # the 120 bytes the header CRC covers


class EvtxWriter:
    """Write events one by one; use as a context manager (or call ``close``).

    ``write`` returns the record id it used, or raises ``InvalidEventError`` for a bad event (nothing is
    written for it and the writer stays usable: the caller decides whether to skip or stop).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.written = 0
        self.chunks = 0
        self._next_id = 1
        self._templates: dict[EventShape, tuple[Element, bytes]] = {}
        self._chunk = Chunk()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        self._temp = Path(temp_name)
        self._file: BinaryIO | None = os.fdopen(handle, "wb")
        self._file.write(b"\x00" * FILE_HEADER_SIZE)

    def __enter__(self) -> EvtxWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, event: object) -> int:
        """Validate, encode and append one event dict; returns its EventRecordID."""
        if self._file is None:
            raise ValueError("the writer is closed")
        prepared = prepare_event(event)
        record_id = prepared.record_id
        if record_id is None:
            record_id = self._next_id
        elif record_id < self._next_id:
            raise InvalidEventError(
                f"must increase from event to event (a log numbers its records in order): got {record_id}, "
                f"the next free id is {self._next_id}",
                field="record_id",
            )
        values = [*prepared.head, (ValueType.UINT64, record_id.to_bytes(8, "little")), *prepared.tail]
        template, guid = self._template(prepared.shape)
        try:
            if not self._chunk.add(prepared.shape, template, guid, values, record_id, prepared.filetime):
                self._flush_chunk()
                self._chunk.add(prepared.shape, template, guid, values, record_id, prepared.filetime)
        except RecordTooLarge as exc:
            raise InvalidEventError(str(exc)) from None
        self._next_id = record_id + 1
        self.written += 1
        return record_id

    def _template(self, shape: EventShape) -> tuple[Element, bytes]:
        cached = self._templates.get(shape)
        if cached is None:
            cached = (build_template(shape), template_guid(shape))
            self._templates[shape] = cached
        return cached

    def _flush_chunk(self) -> None:
        if self._chunk.empty:
            return
        if self.chunks >= MAX_CHUNKS:
            raise OverflowError(f"an EVTX file holds at most {MAX_CHUNKS} chunks; split the input")
        assert self._file is not None
        self._file.write(self._chunk.finish())
        self.chunks += 1
        self._chunk = Chunk()

    def close(self) -> None:
        """Write the last chunk and the file header, then move the file into place."""
        if self._file is None:
            return
        try:
            self._flush_chunk()
            header = _FILE_HEADER.pack(
                b"ElfFile\x00", 0, max(self.chunks - 1, 0), self._next_id, 0x80, 1, 3, FILE_HEADER_SIZE,
                self.chunks, b"\x00" * 76,
            )
            flags = 0  # clean and not full
            self._file.seek(0)
            self._file.write(header + struct.pack("<II", flags, zlib.crc32(header)))
            self._file.close()
            self._file = None
            os.chmod(self._temp, _default_file_mode())  # mkstemp creates 0600; give the usual umask mode
            os.replace(self._temp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the partial output (the target path is left as it was)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()


def _default_file_mode() -> int:
    """The mode ``open()`` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_evtx(path: str | os.PathLike[str], events: Iterable[object], *,
               on_error: Callable[[InvalidEventError], None] | None = None) -> int:
    """Write ``events`` (event dicts) to an EVTX file at ``path``; returns the number of records written.

    Streams: memory stays at one chunk whatever the number of events. A bad event never stops the rest:
    it is skipped and passed to ``on_error`` (with its 1-based position in ``events``). Without
    ``on_error`` the file is still completed with every good event, then the first error is raised with the
    count of skipped events, so nothing goes unnoticed.
    """
    skipped: list[InvalidEventError] = []
    with EvtxWriter(path) as writer:
        for index, event in enumerate(events, start=1):
            try:
                writer.write(event)
            except InvalidEventError as exc:
                exc.locate(index=index)
                if on_error is not None:
                    on_error(exc)
                else:
                    skipped.append(exc)
    if skipped:
        first = skipped[0]
        more = f" (and {len(skipped) - 1} more; {len(skipped)} events skipped)" if len(skipped) > 1 else \
            " (1 event skipped)"
        raise InvalidEventError(first.detail + more, field=first.field, index=first.index, line=first.line,
                                file=first.location.file).locate()
    return writer.written
