"""``tstats``: statistics over a CIM data set (``from datamodel=M.D``) or over the index-time fields of the events.

Splunk answers tstats from accelerated summaries; sqldetect computes the same rows from the events: the data set
is compiled into CTEs before this stage (``sqldetect.datamodels``), and this stage is a GROUP BY over it with the
stats rules of ``commands.stats.group_select``. Semantics (semantics doc §5 "tstats", decisions in
docs/semantics.md):

- fields are named with the data set prefix (``Processes.process_name``; a child data set's own fields with its
  lineage, ``All_Changes.Account_Management.src_user``), plus ``_time``, ``host``, ``source``, ``sourcetype``;
  output names keep the prefix;
- WHERE has search semantics (case-insensitive, wildcards, IN, NOT/!=, time modifiers, a ``[subsearch]`` as in
  ``search``); bare terms and ``PREFIX()`` are refused;
- a row whose BY value is null (or empty) is dropped, unless ``fillnull_value=<s>`` is given, in which case the
  BY value becomes that string; ``BY _time span=1h`` buckets time as ``bin`` does, while the aggregations (``min(_time)``)
  still see each event's own time;
- ``summariesonly``/``allow_old_summaries`` do not change the answer (every event is "summarised");
  ``prestats=true`` and ``append=true`` are refused;
- without FROM only the index-time fields ``_time``, ``index``, ``sourcetype``, ``host``, ``source`` exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqldetect.compile.commands.bin import time_bucket_sql
from sqldetect.compile.commands.stats import group_select
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import alias, and_, anon, case, ident, lit, star
from sqldetect.compile.typed import Typed, as_string
from sqldetect.datamodels import BASE_FIELDS, emit_dataset, resolve_dataset, text_span
from sqldetect.spl import ast

#: Fields tstats can use without a data model: the ones Splunk indexes with every event.
INDEX_TIME_FIELDS = ("_time", "index", "sourcetype", "host", "source")
_IGNORED_OPTIONS = {"summariesonly", "allow_old_summaries", "local", "chunk_size", "include_reduced_buckets"}
_TRUE = {"t", "true", "1", "yes"}
_FALSE = {"f", "false", "0", "no"}
_SYNTHETIC = "_sqld_by_"


@dataclass
class _ByField:
    """One BY field: its name, and the SQL it is grouped on when it is not the plain column (a time bucket, a
    filled null)."""

    name: str
    transformed: Typed | None = None


@command("tstats", generating=True, resets_order=True)
def tstats(ctx: StageContext, cmd: ast.TstatsCommand) -> StageResult:
    """Statistics over a CIM data set (from datamodel=M.D, nodename) or the index-time fields; BY span=, fillnull_value."""
    if ctx.source_name is not None:
        raise ctx.error("tstats must be the first command of a search (| tstats ...)")
    _check_options(ctx, cmd)
    if cmd.datamodel:
        relation, source = _datamodel_relation(ctx, cmd)
    else:
        relation, source = _index_time_relation(ctx)
    by = _by_fields(ctx, cmd, relation)
    # An empty BY value is no value (Splunk does not keep empty extracted values): dropped like a null one.
    nonempty = [exp.NEQ(this=value.sql, expression=lit("")) for b in by if b.transformed is None
                and (value := ctx.field(b.name, relation)).kind is Kind.STRING]
    assert isinstance(source, exp.Table)
    ctx.subsearch_rows = (relation, source.name)  # a [subsearch] in WHERE correlates with the data set's rows
    where = [c for c in (_where(ctx, cmd, relation), *nonempty) if c is not None]
    condition = and_(*where) if where else None
    # A subsearch condition names the data set's table: it must sit in a SELECT reading that table directly.
    correlated = condition is not None and any(True for _ in condition.find_all(exp.Exists))

    if not correlated and not any(b.transformed is not None for b in by):
        return group_select(ctx, cmd.aggregations, [b.name for b in by], source=source, relation=relation,
                            extra_where=condition)

    # Group on computed columns (time buckets, filled nulls) added by an inner SELECT, then give them their
    # field names back: the aggregations keep reading the original columns (min(_time) is the event's time).
    inner_relation = relation.copy()
    items: list[exp.Expression] = [star()]
    names: list[str] = []
    renames: dict[str, str] = {}
    for index, b in enumerate(by, start=1):
        if b.transformed is None:
            names.append(b.name)
            continue
        synthetic = f"{_SYNTHETIC}{index}"
        inner_relation.fields[synthetic] = FieldInfo(synthetic, b.transformed.kind, synthetic)
        items.append(alias(b.transformed.sql, synthetic))
        names.append(synthetic)
        renames[synthetic] = b.name
    inner = exp.select(*items, copy=False).from_(source, copy=False)
    if condition is not None:
        inner = inner.where(condition, copy=False)
    subquery = exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("tstats_input")))
    result = group_select(ctx, cmd.aggregations, names, source=subquery, relation=inner_relation)
    return _rename_outputs(ctx, result, renames)


# ---------------------------------------------------------------------------------------------------- options


def _check_options(ctx: StageContext, cmd: ast.TstatsCommand) -> None:
    for key, opt in cmd.options.items():
        if key in _IGNORED_OPTIONS or key in ("fillnull_value", "span"):
            continue
        if key in ("prestats", "append"):
            value = opt.value.lower()
            if value in _TRUE:
                raise ctx.unsupported(f"tstats {key}=true",
                                      f"tstats {key}=true (partial results for a later stats) is not supported",
                                      opt.span)
            if value not in _FALSE:
                raise ctx.error(f"tstats {key}= needs true or false, not {opt.value!r}", opt.span)
            continue
        raise ctx.unsupported(f"tstats {key}=", span=opt.span)


# ---------------------------------------------------------------------------------------------------- sources


def _datamodel_relation(ctx: StageContext, cmd: ast.TstatsCommand) -> tuple[Relation, exp.Expression]:
    """The data set as CTEs before this stage, and the relation tstats sees over the last one: each data set
    field under its prefixed name, plus the base fields."""
    assert cmd.datamodel is not None
    span = text_span(ctx, cmd.datamodel)
    dataset = resolve_dataset(ctx, cmd.datamodel, cmd.nodename, span)
    level = emit_dataset(ctx, dataset, span)
    relation = Relation(order=list(level.relation.order), hidden=list(level.relation.hidden))
    for name in BASE_FIELDS:
        info = level.relation.get(name)
        if info is not None:
            relation.fields[name] = info
    for prefixed, name in dataset.prefixed_fields():
        info = level.relation.fields[name]
        relation.fields[prefixed] = FieldInfo(prefixed, info.kind, info.column)
    return relation, exp.Table(this=ident(level.name))


def _index_time_relation(ctx: StageContext) -> tuple[Relation, exp.Expression]:
    source, base = ctx.compiler.event_source()
    fields = {name: base.fields[name] for name in INDEX_TIME_FIELDS if name in base.fields}
    return Relation(fields=fields, order=list(base.order)), exp.Table(this=ident(source))


# ---------------------------------------------------------------------------------------------------- clauses


def _where(ctx: StageContext, cmd: ast.TstatsCommand, relation: Relation) -> exp.Expression | None:
    if cmd.where is None:
        return None
    _refuse_in_where(ctx, cmd.where)
    return ctx.search_condition(cmd.where, relation)


def _refuse_in_where(ctx: StageContext, node: ast.SearchExpr) -> None:
    """Constructs of a tstats WHERE that cannot be answered from the data set's fields: bare terms (they search
    the index's raw tokens) and a nodename= that is not a top-level condition."""
    if isinstance(node, (ast.SearchAnd, ast.SearchOr)):
        for operand in node.operands:
            _refuse_in_where(ctx, operand)
    elif isinstance(node, ast.SearchNot):
        _refuse_in_where(ctx, node.operand)
    elif isinstance(node, ast.SearchTerm):
        if node.value.modifier is None and not node.value.text.strip("*"):
            return  # `*` matches every row
        construct = f"{node.value.modifier}()" if node.value.modifier else "bare terms in tstats WHERE"
        raise ctx.unsupported(construct, f"{construct} searches raw index tokens, which sqldetect does not keep; "
                              "compare a field instead", node.span)
    elif isinstance(node, (ast.SearchCompare, ast.SearchIn)) and node.field.lower() == "nodename":
        raise ctx.unsupported("nodename inside a tstats condition",
                              "nodename= must be a top-level condition of the tstats WHERE", node.span)


def _by_fields(ctx: StageContext, cmd: ast.TstatsCommand, relation: Relation) -> list[_ByField]:
    fill = cmd.option("fillnull_value")
    span_text = cmd.span_value
    out: list[_ByField] = []
    seen: set[str] = set()
    for f in cmd.by:
        if f.name.upper().startswith("PREFIX("):
            raise ctx.unsupported("PREFIX()", "PREFIX() groups by raw index tokens, which sqldetect does not keep",
                                  f.span)
        if "*" in f.name:
            raise ctx.unsupported("wildcard BY fields", span=f.span)
        if f.name in seen:
            continue
        seen.add(f.name)
        value = ctx.field(f.name, relation)
        transformed: Typed | None = None
        if f.name == "_time" and span_text and value.kind is Kind.TIME:
            transformed = Typed(time_bucket_sql(ctx, value.sql, span_text, ctx.option_span("span")), Kind.TIME)
        elif fill is not None and value.kind is not Kind.TIME:
            transformed = _filled(value, fill)
        out.append(_ByField(f.name, transformed))
    if span_text and "_time" not in seen:
        ctx.notes.append(f"tstats span={span_text} ignored: _time is not a BY field")
    return out


def _filled(value: Typed, fill: str) -> Typed:
    """The BY value with nulls (and multivalue fields without values) replaced by ``fillnull_value``."""
    if value.kind is Kind.NULL:
        return Typed(lit(fill), Kind.STRING)
    if value.kind is Kind.MULTIVALUE:
        empty = exp.Or(this=exp.Is(this=value.sql, expression=exp.Null()),
                       expression=exp.EQ(this=anon("len", value.sql.copy()), expression=lit(0)))
        return Typed(case([(empty, exp.Array(expressions=[lit(fill)]))], value.sql.copy()), Kind.MULTIVALUE)
    if value.kind is Kind.STRING:
        text: exp.Expression = exp.Nullif(this=value.sql, expression=lit(""))  # empty counts as null
    else:
        text = as_string(value)
    return Typed(exp.Coalesce(this=text, expressions=[lit(fill)]), Kind.STRING)


def _rename_outputs(ctx: StageContext, result: StageResult, renames: dict[str, str]) -> StageResult:
    """Give the synthetic BY columns their field names back, in place (same position, same row order)."""
    output = Relation(hidden=list(result.relation.hidden))
    columns: dict[str, str] = {}
    for info in result.relation:
        name = renames.get(info.name, info.name)
        column = info.column
        if info.name in renames:
            probe = Relation({k: v for k, v in result.relation.fields.items() if k != info.name})
            column = ctx.new_column(name, probe)
            columns[info.column] = column
        output.fields[name] = FieldInfo(name, info.kind, column)
    select = result.select
    expressions = []
    for item in select.expressions:
        target = item.alias_or_name
        if target in columns:
            inner = item.this if isinstance(item, exp.Alias) else item
            item = alias(inner, columns[target])  # the old item is dropped: its expression moves
        expressions.append(item)
    select.set("expressions", expressions)
    output.order = [OrderKey(columns.get(k.column, k.column), k.descending, k.mode) for k in result.relation.order]
    return StageResult(select, output)


__all__ = ["INDEX_TIME_FIELDS", "tstats"]
