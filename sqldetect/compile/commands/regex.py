"""``regex [field=|field!=] "regex"``: keep rows whose field matches a regular expression (``!=``: does not).

The field defaults to ``_raw``; the match is unanchored and case-sensitive unless the pattern says ``(?i)``;
PCRE is converted to RE2 as for ``rex`` and PCRE-only features are refused by name, except the look-arounds
``matching.search_form`` rewrites exactly for a match test. A multivalue field
matches when any value does. A row without the field does not match, so ``field=`` drops it and ``field!=``
keeps it (decision in docs/semantics.md).
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import matching
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import FALSE, anon, coalesce, lit, not_, star
from sqldetect.compile.typed import Typed, any_value, as_string
from sqldetect.spl import ast


@command("regex")
def regex(ctx: StageContext, cmd: ast.RegexCommand) -> StageResult:
    """Keep (field=) or drop (field!=) rows whose field matches the regex (default field _raw)."""
    converted, problems = matching.pcre_to_re2(cmd.regex)
    inverted = False
    if problems == ["look-around assertions"] and (form := matching.search_form(cmd.regex)) is not None:
        (converted, problems), inverted = matching.pcre_to_re2(form[0]), form[1]
    if problems:
        raise ctx.unsupported(f"regex {problems[0]}", f"the regular expression uses {', '.join(problems)}, "
                              "which RE2 (DuckDB) lacks", cmd.regex_span)
    value = ctx.field(cmd.field)

    def one(v: Typed) -> exp.Expression:  # a scalar value's match test
        test = anon("regexp_matches", as_string(v), lit(converted))
        return exp.Not(this=test) if inverted else test

    if value.kind is Kind.NULL:
        matches: exp.Expression = FALSE
    else:
        matches = any_value(value, one)
    condition = not_(coalesce(matches, FALSE)) if cmd.negate else matches
    return StageResult(exp.select(star()).from_(ctx.source(), copy=False).where(condition, copy=False), ctx.input.copy())
