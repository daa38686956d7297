"""Build the ``s0_source`` CTE: the event table plus derived fields (see ``derived.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile.context import StageContext
from sqldetect.compile.derived import DerivedField, DerivedFieldError
from sqldetect.compile.relation import Kind, Relation
from sqldetect.compile.sql import coalesce, col
from sqldetect.compile.typed import Typed, as_list, as_string
from sqldetect.errors import Span, SqlDetectError
from sqldetect.schema import Field, Schema
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.planner import Compiler


def _eval_expression(text: str, name: str) -> ast.EvalExpr:
    from sqldetect.spl.parser import parse

    try:
        pipeline = parse(f"* | eval x = {text}")
    except SqlDetectError as err:
        raise DerivedFieldError(f"field '{name}': not an eval expression: {text!r} ({err.message})") from None
    command = pipeline.commands[-1]
    assert isinstance(command, ast.EvalCommand)
    return command.assignments[0].expr


def _sql_value(field: DerivedField, relation: Relation) -> Typed:
    kind = Kind.of_field(field.kind) if field.kind is not None else None
    assert field.sql is not None
    named = relation.get(field.sql)
    if named is not None:  # a column name as it is, dots and all (`process.command_line`)
        return Typed(col(named.column), kind or named.kind)
    parsed = field.sql_expression()
    if isinstance(parsed, exp.Column) and not parsed.table:
        info = relation.get(parsed.name)
        if info is not None:
            return Typed(col(info.column), kind or info.kind)
        if kind is None:
            kind = Kind.STRING
    return Typed(parsed, kind or Kind.STRING)


def source_stage(compiler: Compiler, fields: list[DerivedField], relation: Relation,
                 table: str) -> tuple[exp.Select, Relation]:
    command = ast.Command(name="source", span=Span(0, 0))
    # the order is rebuilt below from the output's _time/_serial, so the stage never numbers rows itself
    ctx = StageContext(compiler, command, 0, "s0_source", relation, table, order_needed=False)
    changes: list[tuple[str, Typed]] = []
    defined: dict[str, Typed] = {}  # later definitions may read earlier ones (a calculated field over a mapping)
    for field in fields:
        stored = relation.get(field.name)
        if not field.replaces_stored and stored is not None and (field.sql is not None or field.override is False):
            continue
        if field.sql is not None:
            value = _sql_value(field, relation)
        else:
            assert field.eval is not None
            value = ctx.eval(_eval_expression(field.eval, field.name), overrides=defined)
            if field.kind is not None:
                value = Typed(value.sql, Kind.of_field(field.kind))
            if stored is not None and not field.replaces_stored:  # fill only the events that lack a value
                value = _fill(Typed(col(stored.column), stored.kind), value)
        if value.kind is Kind.BOOLEAN:
            raise DerivedFieldError(f"field '{field.name}' is a condition, not a value")
        changes.append((field.name, value))
        defined[field.name] = value
    result = ctx.with_changes(changes)
    result.relation.order = Relation.from_schema(_order_fields(result.relation)).order
    return result.select, result.relation


def _fill(stored: Typed, computed: Typed) -> Typed:
    """The event's own value where it has one, else the calculated one (one kind for both: the event's, or a
    list / string when they differ)."""
    if stored.kind is computed.kind:
        return Typed(coalesce(stored.sql, computed.sql), stored.kind)
    if Kind.MULTIVALUE in (stored.kind, computed.kind):
        return Typed(coalesce(as_list(stored), as_list(computed)), Kind.MULTIVALUE)
    return Typed(coalesce(as_string(stored), as_string(computed)), Kind.STRING)


def _order_fields(relation: Relation) -> Schema:
    """The events arrive newest first by ``_time`` (then ``_serial``) as the source defines them: a mapping that
    supplies ``_time`` (``@timestamp``) gives a warehouse table the same row order as the project's own table."""
    return Schema(Field(name, info.kind.to_field_kind(), info.column)
                  for name in ("_time", "_serial") if (info := relation.get(name)) is not None)
