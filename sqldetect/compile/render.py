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


def _indent(body: str, select: exp.Expression) -> str:
    """Indent a CTE body by two spaces per line. Only line feeds are line breaks here (``str.splitlines`` would
    also split at U+2028, form feeds... inside string literals, and indenting would change the literal); and a
    quoted identifier holding a line feed (a field named so in the rule) leaves the body unindented, because
    indenting would rename it."""
    if any("\n" in ident.name for ident in select.find_all(exp.Identifier)):
        return body
    return "\n".join("  " + line for line in body.split("\n"))


def render(query: CompiledQuery, *, pretty: bool = True, dialect: str = "duckdb") -> str:
    """The whole query: ``WITH s1_x AS (...), ... SELECT ... FROM last``."""
    ctes: list[str] = []
    for stage in query.stages:
        body = _indent(stage.select.sql(dialect=dialect, pretty=pretty, identify=True, copy=False), stage.select)
        name = stage.name.replace('"', '""')
        ctes.append(f"-- {comment_text(stage.spl)}\n\"{name}\" AS (\n{body}\n)")
    final = query.final.sql(dialect=dialect, pretty=pretty, identify=True, copy=False)
    if ctes:
        return "WITH\n" + ",\n".join(ctes) + "\n" + final + "\n"
    return final + "\n"
