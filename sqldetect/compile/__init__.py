"""SPL → DuckDB SQL translation: one CTE per SPL stage, built with sqlglot.

Entry points: ``compile_pipeline(pipeline, schema, options)`` for a parsed pipeline, and ``translate`` for SPL
text (parse + compile + render).
"""

from __future__ import annotations

from sqldetect.compile.context import CompileOptions
from sqldetect.compile.planner import CompiledQuery, compile_pipeline
from sqldetect.schema import Schema


def translate(spl: str, schema: Schema | None = None, *, options: CompileOptions | None = None,
              pretty: bool = True) -> str:
    """Translate (already macro-expanded) SPL into one self-contained DuckDB query."""
    return compile_spl(spl, schema, options=options).sql(pretty=pretty)


def compile_spl(spl: str, schema: Schema | None = None, *, options: CompileOptions | None = None) -> CompiledQuery:
    """Parse and compile SPL text against ``schema`` (default: the Windows event schema)."""
    from sqldetect.spl.parser import parse

    options = options or CompileOptions()
    if schema is None:
        schema = default_schema()
    pipeline = parse(spl, rule_id=options.rule_id)
    return compile_pipeline(pipeline, schema, options)


def default_schema() -> Schema:
    """The schema of the project's own Windows event table (what ``sqldetect load`` produces)."""
    try:
        from sqldetect.events.windows_schema import default_windows_schema
    except ImportError:  # the event package is optional for pure translation
        from sqldetect.schema import Field, FieldKind

        basics = {"_time": FieldKind.TIME, "_raw": FieldKind.STRING, "_serial": FieldKind.NUMBER,
                  "host": FieldKind.STRING, "source": FieldKind.STRING, "sourcetype": FieldKind.STRING,
                  "index": FieldKind.STRING}
        return Schema(Field(k, v) for k, v in basics.items())
    return default_windows_schema()


__all__ = ["CompileOptions", "CompiledQuery", "compile_pipeline", "compile_spl", "default_schema", "translate"]
