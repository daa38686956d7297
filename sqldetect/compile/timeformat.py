"""Splunk time formats (``strftime``/``strptime``/``convert timeformat=``) as DuckDB format strings.

Splunk formats are C ``strftime`` plus Splunk's sub-second codes (``%3N``, ``%6N``, ``%9N``, ``%Q``) and ``%s``
(epoch seconds). DuckDB's ``strftime`` knows most codes but not ``%s``, ``%e``, ``%k``, the shorthands ``%D``,
``%F``, ``%R``, ``%r``, ``%c``, ``%x``, nor ``%z``/``%Z`` for a time without a zone. Times are shown in the
user's time zone, which is UTC for sqldetect (docs/semantics.md), so ``%z`` is ``+0000`` and ``%Z`` ``UTC``.
A format becomes a list of pieces: DuckDB format text, or a named piece of SQL the caller builds.
"""

from __future__ import annotations

from functools import lru_cache

from sqldetect.errors import UnsupportedError

#: codes DuckDB formats and parses exactly like C strftime
_NATIVE = set("aAbBdHIjmMpSUwWyYGuVf")
#: shorthands, expanded before anything else (C / POSIX meanings, C locale)
_SHORTHANDS = {
    "c": "%a %b %e %H:%M:%S %Y",
    "x": "%m/%d/%y",
    "X": "%H:%M:%S",
    "T": "%H:%M:%S",
    "D": "%m/%d/%y",
    "F": "%Y-%m-%d",
    "R": "%H:%M",
    "r": "%I:%M:%S %p",
    "h": "%b",
}
#: sub-second codes → DuckDB (%g milliseconds, %f microseconds, %n nanoseconds)
_SUBSECONDS = {"3N": "%g", "6N": "%f", "9N": "%n", "N": "%n", "Q": "%g", "3Q": "%g", "6Q": "%f"}
#: the sub-second codes longest first, so ``%3N`` is not read as ``%N`` after a 3
_SUBSECOND_CODES = tuple(sorted(_SUBSECONDS, key=len, reverse=True))

Piece = tuple[str, str]  # ("fmt", duckdb format text) or ("sql", "epoch" | "space_day" | "space_hour24" ...)


def _expand(fmt: str) -> str:
    out = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in _SHORTHANDS:
            out.append(_SHORTHANDS[fmt[i + 1]])
            i += 2
        elif fmt[i] == "%" and i + 1 < len(fmt):
            out.append(fmt[i : i + 2])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def convert(fmt: str, *, parsing: bool = False) -> list[Piece]:
    """Pieces for a Splunk time format. ``parsing`` (strptime) keeps ``%z``/``%Z`` as zone readers and reads
    ``%e``/``%k`` like ``%d``/``%H``; formatting shows UTC for them and pads with spaces. Unknown codes raise
    ``UnsupportedError`` naming the code."""
    return list(_convert(fmt, parsing))


@lru_cache(maxsize=256)
def _convert(fmt: str, parsing: bool) -> tuple[Piece, ...]:
    # Cached: nearly every ESCU rule formats firstTime and lastTime with the same one or two formats.
    fmt = _expand(fmt)
    pieces: list[Piece] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            pieces.append(("fmt", "".join(buf)))
            buf.clear()

    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%" or i + 1 >= len(fmt):
            buf.append(ch)
            i += 1
            continue
        rest = fmt[i + 1 :]
        sub = next((k for k in _SUBSECOND_CODES if rest.startswith(k)), None)
        if sub is not None:
            buf.append(_SUBSECONDS[sub])
            i += 1 + len(sub)
            continue
        code = rest[0]
        i += 2
        if code in _NATIVE:
            buf.append("%" + code)
        elif code == "%":
            buf.append("%%")
        elif code == "n":
            buf.append("\n")
        elif code == "t":
            buf.append("\t")
        elif code in "zZ":
            buf.append("%" + code if parsing else ("+0000" if code == "z" else "UTC"))
        elif code in "ekl":
            if parsing:
                buf.append({"e": "%d", "k": "%H", "l": "%I"}[code])
            else:
                flush()
                pieces.append(("sql", {"e": "space_day", "k": "space_hour24", "l": "space_hour12"}[code]))
        elif code == "s":
            flush()
            pieces.append(("sql", "epoch"))
        else:
            raise UnsupportedError(f"time format code %{code} is not supported", construct=f"%{code}")
    flush()
    return tuple(pieces)
