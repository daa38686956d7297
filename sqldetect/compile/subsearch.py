"""A subsearch inside ``search`` (``search [ search ... | fields user ]``) or a tstats WHERE as a SQL ``EXISTS``.

Splunk runs the subsearch first and rewrites its rows with ``format`` into a search expression:
``( ( user="a" AND host="h" ) OR ( user="b" ) )``: one AND group per row over the fields the row has, OR-ed
together. sqldetect keeps that meaning without building text: a row matches when *some* subsearch row has
all of its fields matching the row's values with search semantics (case-insensitive, ``*`` wildcards, CIDR
values, any value of a multivalue field on either side). So the SQL is

    EXISTS (SELECT 1 FROM (<subsearch, first 10,000 rows>) AS sub
            WHERE <sub row has a field> AND (sub.f IS NULL OR <row's f matches sub.f>) AND ...)

Decisions (docs/semantics.md): internal fields (``_time``, ``_raw``...) are left out as ``format`` does; an
empty value counts as no value; a subsearch with no rows (ambiguity 23) becomes ``NOT ()``, which matches
nothing. A subsearch returning a ``search`` or ``query`` field (raw search text spliced into the outer
search) is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile.relation import Kind, Relation
from sqldetect.compile.sql import FALSE, and_, anon, col, lit, or_
from sqldetect.compile.typed import Typed, any_value, as_string
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

SUB = "sub"
FORMAT_MAXOUT = 10_000
_CIDR = r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$"


def glob_pattern(value: exp.Expression) -> exp.Expression:
    """An SPL glob held in a column as a LIKE pattern (escape ``\\ % _``, then ``*`` → ``%``)."""
    escaped = anon("replace", anon("replace", anon("replace", value, lit("\\"), lit("\\\\")), lit("%"), lit("\\%")),
                   lit("_"), lit("\\_"))
    return anon("replace", escaped, lit("*"), lit("%"))


def matches_value(outer: Typed, value: exp.Expression) -> exp.Expression:
    """Search-language ``field=<value>`` where the value comes from a column (any value of a multivalue
    ``outer`` field; a CIDR value matches addresses in the subnet)."""
    from sqldetect.compile.commands.lookup import cidr_contains

    def scalar(v: Typed) -> exp.Expression:
        text = v.sql if v.kind is Kind.STRING else as_string(v)
        glob = exp.Escape(this=exp.ILike(this=text, expression=glob_pattern(value.copy())), expression=lit("\\"))
        cidr = cidr_contains(value.copy(), text.copy())
        return exp.Case().when(anon("regexp_matches", value.copy(), lit(_CIDR)), cidr, copy=False).else_(glob, copy=False)

    return any_value(outer, scalar)


def subsearch_condition(ctx: StageContext, relation: Relation, node: ast.SearchSubsearch) -> exp.Expression:
    """The boolean a ``[subsearch]`` inside a search expression stands for (see the module docstring)."""
    if ctx.subsearch_rows is not None and relation is ctx.subsearch_rows[0]:
        outer_table = ctx.subsearch_rows[1]  # tstats WHERE: the data set's rows
    elif relation is ctx.input and ctx.source_name is not None:
        outer_table = ctx.source_name
    else:
        raise ctx.unsupported("subsearch here", "a [subsearch] is only supported in the search command and the "
                              "tstats WHERE clause", node.span)
    sub_name, sub_rel = ctx.subpipeline(node.pipeline, ctx.tag("sub"))
    spliced = [n for n in ("search", "query") if sub_rel.get(n) is not None]
    if spliced:
        raise ctx.unsupported(f"subsearch returning '{spliced[0]}'", f"the subsearch returns a '{spliced[0]}' "
                              "field, whose text Splunk splices into the search; sqldetect cannot", node.span)
    fields = [f for f in sub_rel if not f.name.startswith("_") and f.kind not in (Kind.NULL, Kind.BOOLEAN)]
    if not fields:
        return FALSE
    has_a_field: list[exp.Expression] = []
    per_field: list[exp.Expression] = []
    for info in fields:
        sub_value = _non_empty(Typed(col(info.column, SUB), info.kind))
        has_a_field.append(exp.Not(this=exp.Is(this=sub_value.copy(), expression=exp.Null())))
        mine = relation.get(info.name)
        if mine is None or mine.kind is Kind.NULL:
            row_matches: exp.Expression = FALSE
        else:
            outer = Typed(col(mine.column, outer_table), mine.kind)
            if info.kind is Kind.MULTIVALUE:
                row_matches = anon("list_bool_or", anon("list_transform", col(info.column, SUB), exp.Lambda(
                    this=matches_value(outer, exp.column("_s")), expressions=[exp.to_identifier("_s")])))
            else:
                row_matches = matches_value(outer, sub_value.copy())
        per_field.append(exp.Paren(this=or_(exp.Is(this=sub_value.copy(), expression=exp.Null()), row_matches)))
    limited = exp.select(exp.Star()).from_(exp.Table(this=exp.to_identifier(sub_name, quoted=True)), copy=False)
    from sqldetect.compile.commands.join import subsearch_limit

    limited = limited.qualify(subsearch_limit(sub_rel, FORMAT_MAXOUT), copy=False)
    rows = exp.Subquery(this=limited, alias=exp.TableAlias(this=exp.to_identifier(SUB, quoted=True)))
    where = and_(exp.Paren(this=or_(*has_a_field)), *per_field)
    return exp.Exists(this=exp.select(lit(1)).from_(rows, copy=False).where(where, copy=False))


def _non_empty(value: Typed) -> exp.Expression:
    """The subsearch value as text for the pattern, with the empty string as no value."""
    if value.kind is Kind.MULTIVALUE:
        return anon("nullif", anon("len", value.sql), lit(0))
    text = value.sql if value.kind is Kind.STRING else as_string(value)
    return anon("nullif", text, lit(""))


__all__ = ["glob_pattern", "matches_value", "subsearch_condition"]
