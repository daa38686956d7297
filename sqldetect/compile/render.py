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

if TYPE_CHECKING:
    from sqldetect.compile.planner import CompiledQuery

_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\v\f]+")


def comment_text(spl: str) -> str:
    """One-line comment text for a stage's SPL: line breaks and runs of blanks become one space."""
    return re.sub(r"\s+", " ", _LINE_BREAKS.sub(" ", spl)).strip()


# a quoted SQL string or identifier (doubled quotes escape a quote inside)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def _indent(body: str) -> str:
    """Indent a CTE body by two spaces per line. Only line feeds are line breaks here (``str.splitlines`` would
    also split at U+2028, form feeds... inside string literals, and indenting would change the literal). String
    literals never hold a raw line feed (``sql.string`` writes them as ``chr(10)``), so a line feed inside quotes
    belongs to a quoted identifier (a field named so in the rule): indenting would rename it, so such a body is
    left as it is."""
    if any("\n" in m.group(0) for m in _QUOTED.finditer(body)):
        return body
    return "\n".join("  " + line for line in body.split("\n"))


def _stage_body(select: exp.Expression, dialect: str, pretty: bool) -> str:
    """The printed, indented body of a CTE. Stages shared between queries (data model CTEs are cached and
    reused by every rule) keep their text in the node's ``meta``, so they are printed once."""
    key = f"sqldetect_rendered:{dialect}:{pretty}"
    cached = select.meta.get(key)
    if cached is None:
        cached = _indent(select.sql(dialect=dialect, pretty=pretty, identify=True, copy=False))
        select.meta[key] = cached
    return cached


def render(query: CompiledQuery, *, pretty: bool = True, dialect: str = "duckdb") -> str:
    """The whole query: ``WITH s1_x AS (...), ... SELECT ... FROM last``."""
    ctes: list[str] = []
    for stage in query.stages:
        body = _stage_body(stage.select, dialect, pretty)
        name = stage.name.replace('"', '""')
        ctes.append(f"-- {comment_text(stage.spl)}\n\"{name}\" AS (\n{body}\n)")
    final = query.final.sql(dialect=dialect, pretty=pretty, identify=True, copy=False)
    if ctes:
        return "WITH\n" + ",\n".join(ctes) + "\n" + final + "\n"
    return final + "\n"
