"""Print a compiled query as one readable, deterministic SQL text.

Each CTE body is printed by sqlglot (pretty, identifiers quoted). The WITH skeleton around them is assembled
here so that each CTE can be preceded by a ``--`` comment holding its SPL stage, on its own line, which
sqlglot's comment placement does not allow. The SPL in a comment is flattened to one line, so nothing in it can
end the comment early.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.generator import Generator

from sqldetect.compile.printer import printer

if TYPE_CHECKING:
    from sqldetect.compile.planner import CompiledQuery

_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\v\f]+")
_BLANKS = re.compile(r"\s+")


def comment_text(spl: str) -> str:
    """One-line comment text for a stage's SPL: line breaks and runs of blanks become one space."""
    return _BLANKS.sub(" ", _LINE_BREAKS.sub(" ", spl)).strip()


# a quoted SQL string or identifier (doubled quotes escape a quote inside)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
#: a text whose quoted pieces hold no line feed (the common case, checked in one pass; a doubled quote reads as
#: two adjacent pieces, which hold the same characters)
_NO_BREAK_IN_QUOTES = re.compile(r"(?:[^'\"]++|'[^'\n]*+'|\"[^\"\n]*+\")*+")


def _indent(body: str) -> str:
    """Indent a CTE body by two spaces per line. Only line feeds are line breaks here (``str.splitlines`` would
    also split at U+2028, form feeds... inside string literals, and indenting would change the literal). String
    literals never hold a raw line feed (``sql.string`` writes them as ``chr(10)``), so a line feed inside quotes
    belongs to a quoted identifier (a field named so in the rule): indenting would rename it, so such a body is
    left as it is."""
    if not _NO_BREAK_IN_QUOTES.fullmatch(body) and any("\n" in m.group(0) for m in _QUOTED.finditer(body)):
        return body
    return "  " + body.replace("\n", "\n  ")


def _stage_body(select: exp.Expression, generator: Generator, key: str) -> str:
    """The printed, indented body of a CTE. Stages shared between queries (data model CTEs are cached and
    reused by every rule) keep their text in the node's ``meta``, so they are printed once."""
    cached = select.meta.get(key)
    if cached is None:
        cached = _indent(generator.generate(select, copy=False))
        select.meta[key] = cached
    return cached


def render(query: CompiledQuery, *, pretty: bool = True, dialect: str = "duckdb") -> str:
    """The whole query: ``WITH s1_x AS (...), ... SELECT ... FROM last``."""
    # One generator prints every piece of the query: ``Expression.sql()`` would look the dialect up and build a
    # new dialect and generator for each CTE, which costs as much as printing a small CTE. ``generate`` resets
    # what it keeps between calls, so reusing it prints exactly the same text.
    generator = printer(dialect, pretty=pretty)
    key = f"sqldetect_rendered:{dialect}:{pretty}"
    ctes: list[str] = []
    for stage in query.stages:
        body = _stage_body(stage.select, generator, key)
        name = stage.name.replace('"', '""')
        ctes.append(f"-- {comment_text(stage.spl)}\n\"{name}\" AS (\n{body}\n)")
    final = generator.generate(query.final, copy=False)
    if ctes:
        return "WITH\n" + ",\n".join(ctes) + "\n" + final + "\n"
    return final + "\n"
