"""``replace X WITH Y [, X2 WITH Y2 ...] IN f1, f2``: replace whole field values.

Splunk's rules (search reference "replace"), as sqldetect applies them:

- a pattern matches the **whole** value, case-sensitively; ``*`` in it matches any run of characters (quoted or
  not: the arguments are wildcard strings);
- a ``*`` in the replacement is the text the pattern's ``*`` matched (``replace "::ffff:*" WITH * IN src``); the
  replacement must have as many ``*`` as the pattern or none;
- of several plain (wildcard-free) patterns for the same value, the later one wins;
- a multivalue field has each value replaced; a missing field stays missing; a number is replaced as its text
  (and becomes text);
- the field list is required (without it Splunk replaces in "all non-generated fields", which depends on how
  each field was made).

Refused, by name, where Splunk's rule is not exact enough to reproduce: several wildcard patterns in one
command, a wildcard pattern together with a plain one it also matches ("fuller matches take precedence"), and a
replacement with ``*`` for a pattern with several ``*`` (which text each ``*`` takes is not specified). Splitting
into several ``replace`` commands, as the Splunk documentation advises, states the precedence exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.matching import glob_match
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, lit
from sqldetect.compile.typed import Typed, as_string, map_values
from sqldetect.errors import Span
from sqldetect.spl import ast
from sqldetect.spl.args import COMMA, END, STRING, WORD, ArgStream, ArgToken


@dataclass(frozen=True)
class Pair:
    """One ``X WITH Y``: the pattern, its replacement, and where it is written (for errors)."""

    pattern: str
    replacement: str
    span: Span

    @property
    def wild(self) -> bool:
        return "*" in self.pattern


@command("replace")
def replace(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Replace whole field values: X WITH Y (wildcards captured), IN field list; case-sensitive."""
    ctx.check_options(set())
    pairs, fields = _parse(ctx, cmd)
    _check_precedence(ctx, pairs)
    changes: list[tuple[str, Typed]] = []
    for name in fields:
        current = ctx.field(name)
        if current.kind is Kind.NULL:
            continue  # a missing field has no value to replace
        if current.kind is Kind.TIME:
            raise ctx.unsupported("replace on _time", f"replace on {name}, a time, is not supported")
        if current.kind is Kind.MULTIVALUE:
            changes.append((name, map_values(current, lambda v: _replaced(v, pairs))))
        else:
            changes.append((name, _replaced(current, pairs)))
    return ctx.with_changes(changes)


# ---------------------------------------------------------------------------------------------------- syntax


def _parse(ctx: StageContext, cmd: ast.GenericCommand) -> tuple[list[Pair], list[str]]:
    """The pairs and the field names, read again from the stage text (the generic node drops the quotes,
    and a quoted ``"in"`` or ``"with"`` is a value, not a keyword)."""
    from sqldetect.spl.context import ParseContext
    from sqldetect.spl.scanner import scan

    text = cmd.args_text
    found = ctx.compiler.source.find(text, cmd.span.start) if text else -1
    offset = found if found >= 0 else cmd.span.start  # where the arguments start, for error locations
    stream = ArgStream(ParseContext(scan(text)), 0, len(text))

    def span(token: ArgToken) -> Span:
        return Span(offset + token.start, offset + token.end)

    if cmd.subsearches:
        raise ctx.error("replace takes no subsearch")
    pairs: list[Pair] = []
    while True:
        stream.skip_commas()
        first = stream.next()
        if first.kind == END:
            raise ctx.error("replace needs IN <field list> (replacing in every field is not supported)")
        if first.kind == WORD and first.is_word("in") and pairs:
            break
        keyword = stream.next()
        if first.kind not in (WORD, STRING) or not keyword.is_word("with"):
            raise ctx.error("replace expects <value> WITH <replacement> [, ...] IN <fields>", span(first))
        target = stream.next()
        if target.kind not in (WORD, STRING):
            raise ctx.error("replace expects a replacement after WITH", span(keyword))
        pair = Pair(first.value, target.value, Span(offset + first.start, offset + target.end))
        stars = target.value.count("*")
        if stars and stars != pair.pattern.count("*"):
            raise ctx.error(f"the replacement {target.value!r} must have as many '*' as {pair.pattern!r}, or none",
                            span(target))
        if stars and pair.pattern.count("*") > 1:
            raise ctx.unsupported("replace with several captured wildcards",
                                  f"which text each '*' of {pair.pattern!r} captures is not specified; "
                                  "use rex or eval replace() instead", pair.span)
        pairs.append(pair)
    fields: list[str] = []
    while True:
        token = stream.next()
        if token.kind == END:
            break
        if token.kind == COMMA:
            continue
        if token.kind not in (WORD, STRING):
            raise ctx.error("replace expects field names after IN", span(token))
        if wildcards.has_wildcard(token.value):
            raise ctx.unsupported("replace IN a wildcard field name", span=span(token))
        if token.value not in fields:
            fields.append(token.value)
    if not fields:
        raise ctx.error("replace needs at least one field after IN")
    return pairs, fields


def _check_precedence(ctx: StageContext, pairs: list[Pair]) -> None:
    """Refuse the combinations whose precedence Splunk does not state exactly."""
    wild = [p for p in pairs if p.wild]
    if len(wild) > 1:
        raise ctx.unsupported("replace with several wildcard patterns",
                              "several wildcard patterns in one replace: Splunk gives 'fuller matches' "
                              "precedence without defining it; use one replace per wildcard pattern", wild[1].span)
    for pattern in wild:
        for plain in pairs:
            if not plain.wild and wildcards.match(pattern.pattern, plain.pattern) is not None:
                raise ctx.unsupported("replace with overlapping patterns",
                                      f"{plain.pattern!r} also matches {pattern.pattern!r}, and Splunk does not "
                                      "define which wins; use separate replace commands", plain.span)


# ---------------------------------------------------------------------------------------------------- SQL


def _replaced(value: Typed, pairs: list[Pair]) -> Typed:
    """The value after the replacements: a CASE over its text, the later plain pattern first."""
    text = value.sql if value.kind is Kind.STRING else as_string(value)
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    seen: set[str] = set()
    for pair in reversed(pairs):  # the CASE takes the first match: later plain patterns win
        if pair.pattern not in seen:
            seen.add(pair.pattern)
            whens.append((glob_match(text.copy(), pair.pattern, case_sensitive=True), _result(text, pair)))
    node = exp.Case()
    for condition, result in whens:
        node = node.when(condition, result, copy=False)
    return Typed(node.else_(text.copy(), copy=False), Kind.STRING)


def _result(text: exp.Expression, pair: Pair) -> exp.Expression:
    """The replacement of a matching value: literal, or with the text of the pattern's one ``*`` inserted."""
    if "*" not in pair.replacement:
        return lit(pair.replacement)
    prefix, suffix = pair.pattern.split("*")
    before, after = pair.replacement.split("*")
    length = exp.Sub(this=anon("length", text.copy()), expression=lit(len(prefix) + len(suffix)))
    captured = anon("substring", text.copy(), lit(len(prefix) + 1), length)
    parts = [p for p in (lit(before) if before else None, captured, lit(after) if after else None) if p is not None]
    return parts[0] if len(parts) == 1 else exp.DPipe(this=parts[0], expression=_concat(parts[1:]), safe=True)


def _concat(parts: list[exp.Expression]) -> exp.Expression:
    return parts[0] if len(parts) == 1 else exp.DPipe(this=parts[0], expression=_concat(parts[1:]), safe=True)
