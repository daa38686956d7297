"""``rex``: extract fields with a regex's named groups, or rewrite a field with ``mode=sed``.

The regex is PCRE in SPL and RE2 in DuckDB: ``(?<name>`` becomes ``(?P<name>``, and features RE2 lacks are
refused by name. Unnamed groups create no field, so they are made non-capturing; each field is then extracted
with the number of its own group (DuckDB's ``regexp_extract(s, re, ['a','b'])`` maps names to groups by
*position*, and takes group numbers up to 9 only: beyond that all groups are named in one struct). A row where
the regex does not match, or where the group is empty, keeps the field's previous value.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqldetect.compile import matching
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, coalesce, lit, null
from sqldetect.compile.typed import Typed, as_string, map_values
from sqldetect.spl import ast


def re2_pattern(ctx: StageContext, pattern: str, span) -> str:
    converted, problems = matching.pcre_to_re2(pattern)
    if problems:
        raise ctx.unsupported(f"regex {problems[0]}",
                              f"the regular expression uses {', '.join(problems)}, which RE2 (DuckDB) lacks", span)
    return converted


@command("rex")
def rex(ctx: StageContext, cmd: ast.RexCommand) -> StageResult:
    """Extract named regex groups into fields (max_match for multivalue), or mode=sed to rewrite a field."""
    source = ctx.field(cmd.field)
    if cmd.mode == "sed":
        return _sed(ctx, cmd, source)
    if cmd.mode is not None:
        raise ctx.unsupported(f"rex mode={cmd.mode}", span=ctx.option_span("mode"))
    if "offset_field" in cmd.options:
        raise ctx.unsupported("rex offset_field=", span=ctx.option_span("offset_field"))
    pattern = re2_pattern(ctx, cmd.regex, cmd.regex_span)
    if source.kind is Kind.MULTIVALUE:
        pattern = "(?m)" + pattern  # ^ and $ anchor at each value of the newline-joined text
    pattern = matching.only_named_groups(pattern)
    names = [name for name in matching.capture_groups(pattern) if name]
    if not names:
        raise ctx.error("rex needs at least one named group (?<name>...)", cmd.regex_span)
    if len(set(names)) != len(names):
        raise ctx.unsupported("rex with a repeated group name", "rex: a group name is used twice", cmd.regex_span)
    if len(names) > 9 and cmd.max_match != 1:
        raise ctx.unsupported("rex max_match with more than 9 groups",
                              "rex max_match= with more than 9 named groups is not supported", cmd.regex_span)
    text = _subject(source)
    changes: list[tuple[str, Typed]] = []
    for index, name in enumerate(names, start=1):
        if cmd.max_match == 1:
            if len(names) <= 9:
                group = anon("regexp_extract", text, lit(pattern), lit(index))
            else:  # DuckDB numbers groups 0-9 only: name them all and take this one from the struct
                every = anon("regexp_extract", text, lit(pattern), exp.Array(expressions=[lit(n) for n in names]))
                group = anon("struct_extract", every, lit(name))
            extracted = anon("nullif", group, lit(""))
            old = ctx.field(name)
            if old.kind is not Kind.NULL:
                extracted = coalesce(extracted, as_string(old) if old.kind is not Kind.STRING else old.sql)
            changes.append((name, Typed(extracted, Kind.STRING)))
        else:
            values = anon("regexp_extract_all", text, lit(pattern), lit(index))
            if cmd.max_match > 1:
                values = anon("list_slice", values, lit(1), lit(cmd.max_match))
            empty = exp.EQ(this=anon("len", values), expression=lit(0))
            changes.append((name, Typed(exp.Case().when(empty, null("VARCHAR[]"), copy=False).else_(values, copy=False), Kind.MULTIVALUE)))
    return ctx.with_changes(changes)


_SED = re.compile(r"^s(.)(.*?)(?<!\\)\1(.*?)(?<!\\)\1([gi\d]*)$", re.S)
_TRANSLITERATE = re.compile(r"^y(.)(.*?)(?<!\\)\1(.*?)(?<!\\)\1$", re.S)


def _subject(source: Typed) -> exp.Expression:
    """The text a regex runs over: a multivalue field's values joined by newlines (decision in
    docs/semantics.md, §10 #17), so a match can come from any value and ``.`` never spans two values."""
    if source.kind is Kind.STRING:
        return source.sql
    if source.kind is Kind.MULTIVALUE:
        return anon("array_to_string", source.sql, lit("\n"))
    return as_string(source)


def _sed(ctx: StageContext, cmd: ast.RexCommand, source: Typed) -> StageResult:
    """mode=sed rewrites the field in place; a multivalue field has each of its values rewritten."""
    rewrite = _sed_rewrite(ctx, cmd)
    new = map_values(source, lambda v: Typed(rewrite(v.sql if v.kind is Kind.STRING else as_string(v)),
                                             Kind.STRING))
    return ctx.with_changes([(cmd.field, new)])


def _sed_rewrite(ctx: StageContext, cmd: ast.RexCommand):
    """The sed expression as a function from a text expression to the rewritten text expression."""
    expr = cmd.regex
    m = _SED.match(expr)
    if m:
        delim, pattern, replacement, flags = m.groups()
        pattern = pattern.replace("\\" + delim, delim)
        replacement = replacement.replace("\\" + delim, delim)
        flag_letters = "".join(ch for ch in flags if not ch.isdigit())
        if any(ch.isdigit() for ch in flags):
            raise ctx.unsupported("rex mode=sed Nth occurrence", span=cmd.regex_span)
        pattern = re2_pattern(ctx, pattern, cmd.regex_span)
        if "i" in flag_letters:
            pattern = "(?i)" + pattern
        options = [lit("g")] if "g" in flag_letters else []
        return lambda text: anon("regexp_replace", text, lit(pattern), lit(_sed_replacement(replacement)), *options)
    m = _TRANSLITERATE.match(expr)
    if m:
        _, left, right = m.groups()
        if len(left) != len(right):
            raise ctx.error("rex mode=sed y/// needs two lists of the same length", cmd.regex_span)
        return lambda text: anon("translate", text, lit(left), lit(right))
    raise ctx.error("rex mode=sed expects s/regex/replacement/[g] or y/abc/xyz/", cmd.regex_span)


def _sed_replacement(replacement: str) -> str:
    """sed's ``&`` (whole match) is RE2's ``\\0``; ``\\1`` back-references are the same in both."""
    out = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch == "\\" and i + 1 < len(replacement):
            out.append(replacement[i : i + 2])
            i += 2
            continue
        out.append("\\0" if ch == "&" else ch)
        i += 1
    return "".join(out)
