"""JSON readers: NDJSON (one object a line) and JSON documents (an array of objects, or objects one after another).

Both stream in bounded memory and never give up on a file because of one bad record: a malformed NDJSON line is
skipped and reported with its line number; in a JSON document the reader resynchronises at the next line that
starts a new value. Each yielded record keeps its exact source text, which becomes ``_raw`` when the event has
no ``_raw`` of its own.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from sqldetect.events.report import IssueLog

_BLOCK = 1 << 20
_MAX_VALUE = 64 << 20  # a single JSON value larger than this is reported as malformed, not buffered forever
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def iter_json(stream: BinaryIO, log: IssueLog) -> Iterator[tuple[int, str, object]]:
    """``(line number, source text, value)`` for every top-level JSON value (array elements count as values)."""
    first = stream.read(_BLOCK)
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    head = first.lstrip()
    if not head:
        return
    line_end = head.find(b"\n")
    first_line = head if line_end < 0 else head[:line_end]
    if head[:1] == b"{" and _complete_object(first_line):
        yield from _ndjson(first, stream, log)
    else:
        yield from _document(first, stream, log)


def _complete_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _ndjson(first: bytes, stream: BinaryIO, log: IssueLog) -> Iterator[tuple[int, str, object]]:
    number = 0
    pending = b""
    block = first
    while block:
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            yield from _ndjson_line(number, line, log)
        block = stream.read(_BLOCK)
    if pending.strip():
        yield from _ndjson_line(number + 1, pending, log)


def _ndjson_line(number: int, line: bytes, log: IssueLog) -> Iterator[tuple[int, str, object]]:
    line = line.strip()
    if not line:
        return
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.add(f"line {number}", f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        log.add(f"line {number}", f"malformed JSON: {exc}")
        return
    yield number, text, value


def _document(first: bytes, stream: BinaryIO, log: IssueLog) -> Iterator[tuple[int, str, object]]:
    """Values of a JSON document: the elements of a top-level array, or a sequence of top-level values."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = decoder.decode(first)
    eof = False
    pos = 0
    line = 1
    in_array = False
    started = False

    def refill() -> bool:
        nonlocal buffer, pos, eof
        if eof:
            return False
        block = stream.read(_BLOCK)
        if not block:
            eof = True
            buffer = buffer[pos:] + decoder.decode(b"", final=True)
        else:
            buffer = buffer[pos:] + decoder.decode(block)
        pos = 0
        return True

    while True:
        # Skip whitespace and (inside the top-level array) separators, counting lines.
        while True:
            while pos < len(buffer) and (buffer[pos] in _WHITESPACE or (in_array and buffer[pos] == ",")):
                if buffer[pos] == "\n":
                    line += 1
                pos += 1
            if pos < len(buffer) or not refill():
                break
        if pos >= len(buffer):
            return
        if not started and buffer[pos] == "[":
            in_array = started = True
            pos += 1
            continue
        started = True
        if in_array and buffer[pos] == "]":
            pos += 1
            in_array = False
            continue
        try:
            value, end = _DECODER.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            cut = exc.pos >= len(buffer) - 1 or exc.msg.startswith("Unterminated string")
            if cut and not eof and len(buffer) - pos < _MAX_VALUE and refill():
                continue  # the value is only cut by the block boundary: read on
            log.add(f"line {line}", f"malformed JSON: {exc.msg}")
            resume = buffer.find("\n", max(exc.pos, pos + 1))
            skipped = buffer[pos : resume if resume >= 0 else len(buffer)]
            line += skipped.count("\n")
            pos = resume if resume >= 0 else len(buffer)
            continue
        text = buffer[pos:end]
        yield line, text, value
        line += text.count("\n")
        pos = end
