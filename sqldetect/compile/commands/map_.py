"""``map search="search ... field=$field$"``: run a search once per input row, values taken from that row.

Splunk substitutes each ``$name$`` of the search string with the value of the row's field ``name`` and runs the
search, for the first ``maxsearches`` rows (default 10); the output is every search's results, one search after
the other. ESCU uses it as ``appendpipe [| map search="search `wineventlog_security` EventCode=4624
TargetLogonId=$TargetLogonId$"]`` (the logon events of the sessions found so far).

One search per row is a join: the search without its ``field=$name$`` terms runs once over the events, and its
events are joined to the first ``maxsearches`` rows on each such term, the row's value matched as a search
matches a value from a subsearch (``subsearch.matches_value``: whole value, case-insensitive, ``*`` a wildcard,
any value of a multivalue field, a CIDR value by subnet). Two rows with the same value
give that value's events twice, as the two searches would. Results come in row order, each search's in the
search's own order.

Translated shape, refused by name otherwise: the search string is one ``search`` (macros expanded, as Splunk
parses the string as a new search), and each ``$name$`` is the whole value of a ``field=$name$`` term ANDed at
its top level. A row without the field matches nothing (Splunk would search for the literal ``$name$``); a row's
multivalue field gives its first value.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import FALSE, alias, and_, lit, star
from sqldetect.compile.subsearch import matches_value
from sqldetect.compile.typed import Typed, as_string
from sqldetect.errors import Span, SqlDetectError
from sqldetect.spl import ast

MAP_MAXSEARCHES = 10
_VARIABLE = re.compile(r"\$([^$\s]+)\$")
_PLACEHOLDER = "sqldmapvar{}x"
_ROW = "_sqld_map_row"


@command("map", consumes_order=True)
def map_(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Run a search per input row (first maxsearches, default 10) with $field$ values from that row."""
    ctx.check_options({"search", "maxsearches"})
    option = cmd.options.get("search")
    if option is None:
        raise ctx.unsupported("map savedsearch", "map runs only an ad hoc search=\"...\" here, not a saved search",
                              cmd.span)
    limit = ctx.int_option("maxsearches", MAP_MAXSEARCHES, minimum=1) or MAP_MAXSEARCHES
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return _PLACEHOLDER.format(names.index(match.group(1)))

    text = _VARIABLE.sub(placeholder, option.value)
    pipeline = _parse(ctx, text, option.span)
    search = pipeline.commands[0]
    assert isinstance(search, ast.SearchCommand)
    terms, rest = _split_terms(ctx, search.expr, names, option.span)
    reduced = dataclasses.replace(pipeline, commands=[dataclasses.replace(search, expr=rest)])
    source, relation = ctx.compiler.event_source()
    prefix = f"{ctx.name}_{ctx.tag('map')}_"
    found_name, found = ctx.compiler.compile_text(reduced, prefix, source, relation)
    for stage in ctx.compiler.stages:  # its comment shows the search as written, $name$ and all
        if stage.name.startswith(prefix):
            for number, name in enumerate(names):
                stage.spl = stage.spl.replace(_PLACEHOLDER.format(number), f"${name}$")

    # The driving rows: the first `limit` input rows, numbered, with the values the search string names.
    driver_items: list[exp.Expression] = [
        alias(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=ctx.order_by()) if ctx.input.order
                         else None, over="OVER"), _ROW)]
    for number, name in enumerate(names):
        info = ctx.input.get(name)
        value = exp.Null() if info is None else as_string(Typed(exp.column(info.column, quoted=True), info.kind))
        driver_items.append(alias(value, _PLACEHOLDER.format(number)))
    driver = exp.select(*driver_items).from_(ctx.source(), copy=False)
    driver = exp.select(star()).from_(exp.Subquery(this=driver, alias=exp.TableAlias(this=exp.to_identifier("rows"))),
                                      copy=False).where(exp.LTE(this=exp.column(_ROW), expression=lit(limit)), copy=False)

    # Each field=$name$ term as the search would test it, the row's value standing for the typed text.
    tests = [FALSE] if any(found.get(field) is None for field, _ in terms) else [  # a field no event has: no match
        matches_value(Typed(exp.column(found.fields[field].column, table="found", quoted=True),
                            found.fields[field].kind), exp.column(_PLACEHOLDER.format(number), table="driver"))
        for field, number in terms]
    condition = and_(*tests)

    hidden = [h for h in found.hidden if h != SEQ_COLUMN]
    excluded = [exp.column(SEQ_COLUMN)] if SEQ_COLUMN in found.hidden else []
    order = [exp.Ordered(this=exp.column(_ROW, table="driver"))]
    order += order_by_expressions(found.order, "found")
    sequence = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=order), over="OVER")
    select = exp.select(
        exp.Column(this=exp.Star(**({"except_": excluded} if excluded else {})), table=exp.to_identifier("found")),
        alias(sequence, SEQ_COLUMN),
    ).from_(exp.Table(this=exp.to_identifier(found_name, quoted=True), alias=exp.TableAlias(
        this=exp.to_identifier("found"))), copy=False).join(
        exp.Subquery(this=driver, alias=exp.TableAlias(this=exp.to_identifier("driver"))), on=condition,
        join_type="inner", copy=False)
    output = Relation(dict(found.fields), [OrderKey(SEQ_COLUMN)], [*hidden, SEQ_COLUMN], found.events)
    return StageResult(select, output)


def _parse(ctx: StageContext, text: str, span: Span) -> ast.Pipeline:
    """The search string as a pipeline of exactly one ``search``, macros expanded."""
    from sqldetect.spl.parser import parse

    macros: Any = ctx.compiler.options.macros
    if "`" in text:
        if macros is None:
            raise ctx.unsupported("map search with macros", "map: the search string uses macros and no macro "
                                  "library was given to expand them", span)
        text = macros.expand(text, rule_id=ctx.compiler.options.rule_id)
    try:
        pipeline = parse(text, rule_id=ctx.compiler.options.rule_id)
    except SqlDetectError as exc:
        raise ctx.error(f"map: its search string does not parse: {exc}", span) from None
    if len(pipeline.commands) != 1 or not isinstance(pipeline.commands[0], ast.SearchCommand) \
            or pipeline.commands[0].canonical != "search":
        raise ctx.unsupported("map over a pipeline", "map: only a search string that is one 'search' command "
                              "is translated", span)
    return pipeline


def _split_terms(ctx: StageContext, expr: ast.SearchExpr, names: list[str], span: Span
                 ) -> tuple[list[tuple[str, int]], ast.SearchExpr]:
    """The top-level ``field=$name$`` terms (field, variable number) and the search without them."""
    operands = list(expr.operands) if isinstance(expr, ast.SearchAnd) else [expr]
    placeholders = {_PLACEHOLDER.format(n): n for n in range(len(names))}
    terms: list[tuple[str, int]] = []
    rest: list[ast.SearchExpr] = []
    for operand in operands:
        if isinstance(operand, ast.SearchCompare) and operand.op == "=" and operand.value.text in placeholders:
            terms.append((operand.field, placeholders[operand.value.text]))
        else:
            rest.append(operand)
    if any(_mentions(part, tuple(placeholders)) for part in rest):
        raise ctx.unsupported("map $field$ inside a search term", "map: each $field$ must be the whole value of a "
                              "field=$field$ term of the search (ANDed at its top level)", span)
    if not rest:
        return terms, ast.SearchTerm(ast.SearchValue("*", expr.span), expr.span)
    if len(rest) == 1:
        return terms, rest[0]
    return terms, ast.SearchAnd(rest, expr.span)


def _mentions(node: object, placeholders: tuple[str, ...]) -> bool:
    if isinstance(node, str):
        return any(p in node for p in placeholders)
    if isinstance(node, list):
        return any(_mentions(item, placeholders) for item in node)
    if dataclasses.is_dataclass(node):
        return any(_mentions(getattr(node, f.name), placeholders) for f in dataclasses.fields(node))
    return False
