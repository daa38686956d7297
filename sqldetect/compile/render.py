"""Print a compiled query as one readable, deterministic SQL text.

Each CTE body is printed by sqlglot (pretty, identifiers quoted). The WITH skeleton around them is assembled
here so that each CTE can be preceded by a ``--`` comment holding its SPL stage, on its own line, which
sqlglot's comment placement does not allow. The SPL in a comment is flattened to one line, so nothing in it can
end the comment early.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqldetect.compile.planner import CompiledQuery

_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\v\f]+")


def comment_text(spl: str) -> str:
    """One-line comment text for a stage's SPL: line breaks and runs of blanks become one space."""
    return re.sub(r"\s+", " ", _LINE_BREAKS.sub(" ", spl)).strip()


def render(query: CompiledQuery, *, pretty: bool = True, dialect: str = "duckdb") -> str:
    """The whole query: ``WITH s1_x AS (...), ... SELECT ... FROM last``."""
    ctes: list[str] = []
    for stage in query.stages:
        body = stage.select.sql(dialect=dialect, pretty=pretty, identify=True)
        body = "\n".join("  " + line for line in body.splitlines())
        name = stage.name.replace('"', '""')
        ctes.append(f"-- {comment_text(stage.spl)}\n\"{name}\" AS (\n{body}\n)")
    final = query.final.sql(dialect=dialect, pretty=pretty, identify=True)
    if ctes:
        return "WITH\n" + ",\n".join(ctes) + "\n" + final + "\n"
    return final + "\n"
