"""``makemv [delim=" "|tokenizer="regex"] [allowempty=f] [setsv=f] field``: split text into a multivalue field.

- ``delim`` (default one space) splits on that exact string; ``allowempty=false`` (the default) drops the
  empty pieces consecutive delimiters leave, ``allowempty=true`` keeps them.
- ``tokenizer`` instead keeps each match of the regex (its first capturing group when it has one).
- A multivalue input has each value split; a number is split as its text; a null stays null and a field
  with no pieces left becomes null.
- ``setsv=true`` is refused by name.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import matching
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, lam, lit
from sqldetect.compile.typed import ELEMENT, Typed, as_list
from sqldetect.spl import ast


@command("makemv")
def makemv(ctx: StageContext, cmd: ast.MakemvCommand) -> StageResult:
    """Split a field into a multivalue field by delim= (default space) or tokenizer= regex."""
    ctx.check_options({"delim", "tokenizer", "allowempty", "setsv"})
    if ctx.flag("setsv", False):
        raise ctx.unsupported("makemv setsv=true", span=ctx.option_span("setsv"))
    if cmd.delim is not None and cmd.tokenizer is not None:
        raise ctx.error("makemv takes delim= or tokenizer=, not both", ctx.option_span("tokenizer"))
    allow_empty = ctx.flag("allowempty", False)
    value = ctx.field(cmd.field)
    if value.kind is Kind.NULL:
        return ctx.with_changes([])
    element = exp.column(ELEMENT)
    if cmd.tokenizer is not None:
        converted, problems = matching.pcre_to_re2(cmd.tokenizer)
        if problems:
            raise ctx.unsupported(f"regex {problems[0]}", f"the tokenizer uses {', '.join(problems)}, which RE2 "
                                  "(DuckDB) lacks", ctx.option_span("tokenizer"))
        group = 1 if matching.capture_groups(converted) else 0
        pieces = anon("regexp_extract_all", element, lit(converted), lit(group))
    else:
        pieces = anon("string_split", element, lit(cmd.delim if cmd.delim is not None else " "))
    if not allow_empty:
        pieces = anon("list_filter", pieces, lam("piece", exp.NEQ(this=exp.column("piece"), expression=lit(""))))
    split = anon("flatten", anon("list_transform", as_list(value), lam(ELEMENT, pieces)))
    result = exp.Case().when(exp.GT(this=anon("len", split), expression=lit(0)), split.copy(), copy=False)
    return ctx.with_changes([(cmd.field, Typed(result, Kind.MULTIVALUE))])
