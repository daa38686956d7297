"""Turn an events source file (YAML / JSON / NDJSON) into an EVTX file, reporting each bad event by place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqldetect.evtxwriter.event import InvalidEventError
from sqldetect.evtxwriter.inputs import read_events
from sqldetect.evtxwriter.writer import EvtxWriter


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion did: records written, events skipped as invalid, chunks in the file."""

    written: int
    skipped: int
    chunks: int


def convert_file(source: str | Path, output: str | Path, *,
                 on_error: Callable[[InvalidEventError], None] | None = None,
                 strict: bool = False) -> ConvertResult:
    """Write every valid event of ``source`` to ``output``.

    A bad event is skipped and handed to ``on_error`` (file, event number, line and field filled in); the
    rest are still written. With ``strict`` the first bad event raises instead and no output is left behind.
    """
    skipped = 0
    with EvtxWriter(output) as writer:
        for item in read_events(source):
            error = item if isinstance(item, InvalidEventError) else None
            if error is None:
                try:
                    writer.write(item.event)
                except InvalidEventError as exc:
                    error = exc.locate(index=item.index, line=item.line, file=str(source))
            if error is not None:
                error.locate(file=str(source))
                if strict:
                    raise error
                skipped += 1
                if on_error is not None:
                    on_error(error)
    return ConvertResult(writer.written, skipped, writer.chunks)
