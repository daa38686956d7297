"""Field-name wildcards (``table a*``, ``values(*) AS *``, ``rename Processes.* AS *``).

Field names are case-sensitive. A pattern that does not itself start with ``_`` never matches internal
fields (``_raw``, ``_time``, ``_serial``...), as Splunk's ``*`` skips them (decision in docs/semantics.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(p) for p in pattern.split("*"))
    return re.compile("(.*?)".join(parts) + r"\Z", re.S)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern


def match(pattern: str, name: str) -> tuple[str, ...] | None:
    """The texts matched by each ``*`` when ``name`` matches ``pattern``, else None."""
    if "*" not in pattern:  # a plain name matches itself only (no regex: rename tries every field)
        return () if name == pattern else None
    if name.startswith("_") and not pattern.startswith("_"):
        return None
    m = _compiled(pattern).match(name)
    return m.groups() if m else None


def expand(pattern: str, names: Iterable[str]) -> list[str]:
    """Names matching ``pattern`` in their given order (a pattern without ``*`` is returned as is)."""
    if "*" not in pattern:
        return [pattern]
    return [n for n in names if match(pattern, n) is not None]


def substitute(template: str, captures: tuple[str, ...]) -> str:
    """Fill the ``*``s of ``template`` with the captured texts, in order (``rename foo* AS bar*``)."""
    pieces = template.split("*")
    if len(pieces) - 1 != len(captures):
        if len(pieces) == 2 and captures:
            return pieces[0] + "".join(captures) + pieces[1]
        raise ValueError("pattern and template have different numbers of '*'")
    out = pieces[0]
    for capture, piece in zip(captures, pieces[1:], strict=True):
        out += capture + piece
    return out
