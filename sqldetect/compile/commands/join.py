"""``join [type=inner|left|outer] [max=1] [overwrite=true] [fields] [subsearch]``: add subsearch fields to rows.

- Keys: the listed fields, or without a list every field both sides have (refused when either side still
  has the event table's fields: which of those the rows really share depends on the data). A row lacking a key
  field matches nothing.
- Keys compare exactly and case-sensitively as text (numbers as Splunk prints them); a multivalue key
  compares as its whole list (ambiguity 16, decision in docs/semantics.md).
- ``max=1`` (default): each row joins the first matching subsearch row in the subsearch's own result order;
  ``max=N`` the first N, ``max=0`` all (each match makes a row, in subsearch order).
- ``type=inner`` (default) drops rows without a match; ``left``/``outer`` keep them unchanged.
- Fields both sides have (other than keys): with ``overwrite=true`` (default) the subsearch value replaces
  the row's when the subsearch row has one; with ``overwrite=false`` the row keeps its value and only gains
  the subsearch's where it had none.
- Only the first 50,000 subsearch rows take part (Splunk's ``subsearch_maxout`` for join).
- ``usetime``, ``earlier`` and the ``left=``/``right=``/``where`` form are refused by name.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.combine import coerce, qualified_field, unify_kinds
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import alias, and_, col, lit, star
from sqldetect.compile.typed import Typed, as_list, as_string
from sqldetect.spl import ast

MAIN = "main"
SUB = "sub"
RANK = "_sqld_rank"
SUBSEARCH_MAXOUT = 50_000


def subsearch_limit(relation: Relation, limit: int) -> exp.Expression:
    """``ROW_NUMBER() OVER (<subsearch order>) <= limit``: the first ``limit`` rows of a subsearch."""
    order = order_by_expressions(relation.order)
    number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order) if order else None, over="OVER")
    return exp.LTE(this=number, expression=lit(limit))


def key_text(value: Typed, as_lists: bool) -> exp.Expression:
    return as_list(value) if as_lists else (value.sql if value.kind is Kind.STRING else as_string(value))


@command("join")
def join(ctx: StageContext, cmd: ast.JoinCommand) -> StageResult:
    """Join subsearch rows on key fields (type=inner|left|outer, max=N first matches, overwrite=)."""
    ctx.check_options({"type", "max", "overwrite"}, {
        "usetime": "time-ordered joins are not supported", "earlier": "time-ordered joins are not supported",
        "left": "the left=/right= alias form is not supported", "right": "the left=/right= alias form is not supported",
        "where": "the left=/right= alias form is not supported"})
    join_type = cmd.join_type
    if join_type not in ("inner", "left", "outer"):
        raise ctx.unsupported(f"join type={join_type}", f"join type={join_type} is not supported (inner, left, "
                              "outer)", ctx.option_span("type"))
    overwrite = ctx.flag("overwrite", True)
    assert cmd.subsearch is not None
    sub_name, sub_rel = ctx.subpipeline(cmd.subsearch.pipeline, ctx.tag("sub"))

    keys = [f.name for f in cmd.fields]
    if not keys:
        if sub_rel.events or ctx.input.events:
            raise ctx.unsupported("join without fields over raw events", "join without a field list needs the "
                                  "fields both sides share, which for raw events depends on the data: list the "
                                  "join fields (or reduce the fields with table/stats first)", cmd.span)
        keys = [f.name for f in sub_rel if f.kind is not Kind.NULL and (mine := ctx.input.get(f.name)) is not None
                and mine.kind is not Kind.NULL]
        if not keys:
            raise ctx.error("join without fields: the subsearch shares no field with the rows")
    conditions: list[exp.Expression] = []
    partition: list[exp.Expression] = []
    for name in keys:
        mine = qualified_field(ctx, name, ctx.input, MAIN)
        theirs = qualified_field(ctx, name, sub_rel, SUB)
        if Kind.NULL in (mine.kind, theirs.kind):
            conditions.append(exp.Boolean(this=False))
            continue
        lists = Kind.MULTIVALUE in (mine.kind, theirs.kind)
        conditions.append(exp.EQ(this=key_text(mine, lists), expression=key_text(theirs, lists)))
        partition.append(key_text(ctx.field(name, sub_rel), lists))
    order = order_by_expressions(sub_rel.order)
    rank = exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order)
                      if order else None, over="OVER")
    ranked = exp.select(exp.Star(), alias(rank, RANK)).from_(exp.Table(this=exp.to_identifier(sub_name, quoted=True)), copy=False)
    ranked = ranked.qualify(subsearch_limit(sub_rel, SUBSEARCH_MAXOUT), copy=False)
    if cmd.max > 0:
        conditions.append(exp.LTE(this=col(RANK, SUB), expression=lit(cmd.max)))

    output = ctx.input.copy()
    replaced: dict[str, exp.Expression] = {}
    added: list[exp.Expression] = []
    for info in sub_rel:
        if info.name in keys:
            continue
        theirs = qualified_field(ctx, info.name, sub_rel, SUB)
        existing = output.get(info.name)
        if existing is None:
            new = ctx.set_field(output, info.name, info.kind)
            added.append(alias(theirs.sql, new.column))
            continue
        mine = qualified_field(ctx, info.name, ctx.input, MAIN)
        kind = unify_kinds([mine.kind, theirs.kind], info.name)
        first, second = (theirs, mine) if overwrite else (mine, theirs)
        value = exp.Coalesce(this=coerce(first, kind), expressions=[coerce(second, kind)])
        output.fields[info.name] = FieldInfo(info.name, kind, existing.column)
        replaced[existing.column] = value
    main_star = exp.Column(this=star(replace=[alias(v, c) for c, v in replaced.items()]),
                           table=exp.to_identifier(MAIN, quoted=True))
    items: list[exp.Expression] = [main_star, *added]
    main_table = exp.Table(this=exp.to_identifier(ctx.source().name, quoted=True),
                           alias=exp.TableAlias(this=exp.to_identifier(MAIN, quoted=True)))
    sub_table = exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier(SUB, quoted=True)))
    select = exp.select(*items).from_(main_table, copy=False).join(
        sub_table, join_type="LEFT" if join_type in ("left", "outer") else "INNER", on=and_(*conditions), copy=False)

    multiplies = cmd.max != 1
    reordered = {k.column for k in ctx.input.order} & set(replaced)
    if ctx.order_needed and ctx.input.order and (multiplies or reordered):
        order_keys = order_by_expressions(ctx.input.order, MAIN)
        if multiplies:
            order_keys.append(exp.Ordered(this=col(RANK, SUB), desc=False, nulls_first=False))
        if SEQ_COLUMN in ctx.input.hidden:
            main_star.this.set("except_", [col(SEQ_COLUMN)])
        else:
            output.hidden.append(SEQ_COLUMN)
        select = select.select(alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order_keys),
                                                over="OVER"), SEQ_COLUMN), append=True)
        output.order = [OrderKey(SEQ_COLUMN)]
    elif not ctx.order_needed or reordered:
        output.order = []
    return StageResult(select, output)
