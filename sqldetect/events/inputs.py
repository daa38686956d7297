"""Turn what the user named (files, directories, globs, ``-`` for stdin; plain or ``.gz``) into input files.

EVTX needs random access, so a compressed EVTX file or EVTX arriving on stdin is first spooled to a temporary
file; JSON streams straight through (``gzip`` decompresses on the fly). A name that does not exist, or a file that
cannot be opened, is an ``EventInputError`` before anything is loaded.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqldetect.errors import EventInputError, Location
from sqldetect.events.evtx_layout import FILE_MAGIC

EVTX_SUFFIXES = (".evtx",)
JSON_SUFFIXES = (".json", ".ndjson", ".jsonl")
GZIP_MAGIC = b"\x1f\x8b"
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    """One file to load: ``display`` names it in reports, ``path`` is what is read (maybe a spooled copy)."""

    display: str
    path: str
    format: str  # "evtx" | "json"
    compressed: bool = False

    @property
    def size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def open(self) -> BinaryIO:
        """The file's (decompressed) bytes."""
        if self.compressed:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")


def expand_inputs(inputs: Sequence[str | os.PathLike[str]], spool_dir: str, stdin: BinaryIO | None = None) -> list[InputFile]:
    """Every input file, in the order given (directories and globs sorted), de-duplicated by path."""
    files: list[InputFile] = []
    seen: set[str] = set()
    for item in inputs:
        text = os.fspath(item)
        if text == "-":
            files.append(_spool_stdin(stdin or sys.stdin.buffer, spool_dir))
            continue
        for path in _paths(text):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            files.append(_classify(path, spool_dir))
    return files


def _paths(text: str) -> list[str]:
    path = Path(text)
    if path.is_dir():
        found = [
            str(p)
            for p in sorted(path.rglob("*"))
            if p.is_file() and _format_from_name(p.name) is not None
        ]
        return found
    if path.exists():
        if not os.access(path, os.R_OK):
            raise EventInputError("permission denied", Location(file=text))
        return [text]
    if _GLOB_CHARS & set(text):
        matches = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
        if not matches:
            raise EventInputError("no file matches this pattern", Location(file=text))
        return matches
    raise EventInputError("no such file or directory", Location(file=text))


def _format_from_name(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith(EVTX_SUFFIXES):
        return "evtx"
    if lower.endswith(JSON_SUFFIXES):
        return "json"
    return None


def _classify(path: str, spool_dir: str) -> InputFile:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise EventInputError(f"cannot read: {exc.strerror or exc}", Location(file=path)) from exc
    compressed = head.startswith(GZIP_MAGIC)
    if compressed:
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(8)
        except (OSError, EOFError) as exc:
            raise EventInputError(f"not a readable gzip file: {exc}", Location(file=path)) from exc
    fmt = "evtx" if head.startswith(FILE_MAGIC) else _format_from_name(os.path.basename(path)) or "json"
    if fmt == "evtx" and compressed:
        spooled = os.path.join(spool_dir, f"{len(os.listdir(spool_dir))}.evtx")
        with gzip.open(path, "rb") as source, open(spooled, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        return InputFile(path, spooled, "evtx")
    return InputFile(path, path, fmt, compressed)


def _spool_stdin(stream: BinaryIO, spool_dir: str) -> InputFile:
    """Copy stdin to a temporary file, then sniff it like any file (gzip, EVTX magic, else JSON)."""
    spooled = os.path.join(spool_dir, f"{len(os.listdir(spool_dir))}.stdin")
    with open(spooled, "wb") as target:
        shutil.copyfileobj(stream, target, 1 << 20)
    classified = _classify(spooled, spool_dir)
    return InputFile("<stdin>", classified.path, classified.format, classified.compressed)
