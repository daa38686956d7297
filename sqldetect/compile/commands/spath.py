"""``spath [input=_raw] [output=f] [path=]p``: extract a value from JSON or XML text by path.

Paths (``a.b{}.c``, ``a.b{2}``, ``{}``): ``.`` steps into an object key; ``{}`` takes every element of an array
(the result is multivalue); ``{N}`` takes element N, counted from 1 (ambiguity 20, decision in
docs/semantics.md). The output field is ``output=`` or else the path itself.

- JSON (the input is valid JSON): a scalar comes out as text, an object or array (without ``{}``) as its JSON
  text; with ``{}`` every matching element is a value.
- XML (the input starts with ``<``): the path names nested elements from the root (``Event.System.EventID``),
  optionally ending in ``{@attr}`` for an attribute; without ``{}`` the first match is the value, with
  ``{}`` every match. Matching is by regular expressions over the text, which suits the flat, well-formed
  XML of Windows events (``{N}`` is not supported on XML).
- A path that does not match leaves the output field as it was; input that is neither JSON nor XML gives
  nothing. A multivalue input is read from its first value.
- Without a path, Splunk extracts every path the data has. sqldetect extracts the paths the rest of the
  pipeline uses (``demand.py``: the later stages must name their fields, e.g. end in ``table`` or ``stats``),
  with the same names and values; in that form only leaf values are extracted, as Splunk does.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.demand import fields_used_later
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, lam, lit
from sqldetect.compile.typed import ELEMENT, Typed, as_list, as_string
from sqldetect.spl import ast

_STEP = re.compile(r"([^.{}]+)|\{(\d*|@[^}]*)\}|(\.)")


class PathError(ValueError):
    """A path spath cannot read."""


def parse_path(path: str) -> list[tuple[str, str]]:
    """``a.b{}.c{2}{@x}`` → [("key","a"), ("key","b"), ("all",""), ("key","c"), ("index","2"), ("attr","x")]."""
    steps: list[tuple[str, str]] = []
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if not m:
            raise PathError(f"cannot read spath path {path!r} at character {pos + 1}")
        if m.group(1) is not None:
            steps.append(("key", m.group(1)))
        elif m.group(2) is not None:
            inner = m.group(2)
            if inner == "":
                steps.append(("all", ""))
            elif inner.startswith("@"):
                steps.append(("attr", inner[1:]))
            else:
                steps.append(("index", inner))
        pos = m.end()
    if not steps:
        raise PathError("empty spath path")
    return steps


def json_path(steps: list[tuple[str, str]]) -> str:
    """The DuckDB JSONPath of parsed spath steps (keys quoted, ``{}`` → ``[*]``, ``{N}`` → ``[N-1]``)."""
    out = "$"
    for kind, text in steps:
        if kind == "key":
            out += '."' + text.replace('"', '\\"') + '"'
        elif kind == "all":
            out += "[*]"
        elif kind == "index":
            out += f"[{max(int(text) - 1, 0)}]"
        else:
            raise PathError("{@attribute} steps only apply to XML")
    return out


def _xml_regex_name(name: str) -> str:
    return re.escape(name)


def xml_values(text: exp.Expression, steps: list[tuple[str, str]]) -> exp.Expression | None:
    """Every value the path selects in XML text (a VARCHAR[]), or None when the path cannot apply to XML."""
    keys = [t for k, t in steps if k == "key"]
    attrs = [t for k, t in steps if k == "attr"]
    if any(k == "index" for k, _ in steps) or not keys or len(attrs) > 1 or (attrs and steps[-1][0] != "attr"):
        return None
    content = text
    for name in keys[:-1]:
        element = _xml_regex_name(name)
        content = anon("regexp_extract", content, lit(rf"(?s)<{element}(?:\s[^>]*)?>(.*)</{element}\s*>"), lit(1))
    last = _xml_regex_name(keys[-1])
    if attrs:
        attribute = re.escape(attrs[0])
        pattern = rf"<{last}(?:\s[^>]*?)?\s{attribute}\s*=\s*[\"']([^\"']*)[\"']"
    else:
        pattern = rf"(?s)<{last}(?:\s[^>]*)?>(.*?)</{last}\s*>"
    return anon("regexp_extract_all", content, lit(pattern), lit(1))


def extract(text: exp.Expression, path: str, *, leaves_only: bool = False) -> Typed:
    """The spath value at ``path`` in ``text`` (JSON or XML, decided per row)."""
    steps = parse_path(path)
    multi = any(kind == "all" for kind, _ in steps)
    is_json = anon("json_valid", text)
    is_xml = exp.Like(this=anon("ltrim", text.copy()), expression=lit("<%"))
    json_steps_ok = not any(kind == "attr" for kind, _ in steps)
    json_value: exp.Expression | None = None
    if json_steps_ok:
        location = lit(json_path(steps))
        json_value = anon("json_extract_string", text.copy(), location)
        if leaves_only and not multi:
            scalar = exp.Not(this=anon("json_type", text.copy(), location.copy()).isin(lit("OBJECT"), lit("ARRAY")))
            json_value = exp.Case().when(scalar, json_value, copy=False)
        elif leaves_only:
            kinds = anon("json_type", text.copy(), location.copy())
            pairs = anon("list_zip", json_value, kinds)
            json_value = anon("list_transform", anon("list_filter", pairs, lam(ELEMENT, exp.Not(
                this=anon("struct_extract", exp.column(ELEMENT), lit(2)).isin(lit("OBJECT"), lit("ARRAY"))))),
                lam(ELEMENT, anon("struct_extract", exp.column(ELEMENT), lit(1))))
        if multi:
            json_value = _non_null(json_value)
    xml_list = xml_values(text.copy(), [s for s in steps if s[0] != "all"])
    xml_value: exp.Expression | None = None
    if xml_list is not None:
        xml_value = xml_list if multi else anon("list_extract", xml_list, lit(1))
    case = exp.Case()
    if json_value is not None:
        case = case.when(is_json, json_value, copy=False)
    if xml_value is not None:
        case = case.when(is_xml, xml_value, copy=False)
    if json_value is None and xml_value is None:
        return Typed(exp.Null(), Kind.NULL)
    value: exp.Expression = case
    if multi:
        value = exp.Case().when(exp.GT(this=anon("len", case), expression=lit(0)), case.copy(), copy=False)
    return Typed(value, Kind.MULTIVALUE if multi else Kind.STRING)


def _non_null(values: exp.Expression) -> exp.Expression:
    return anon("list_filter", values, lam(ELEMENT, exp.Not(this=exp.Is(this=exp.column(ELEMENT),
                                                                         expression=exp.Null()))))


def kept_if_missing(ctx: StageContext, name: str, found: Typed) -> Typed:
    """``found``, or the field's current value where nothing was found (extraction never erases a field)."""
    current = ctx.field(name)
    if current.kind is Kind.NULL or found.kind is Kind.NULL:
        return found if found.kind is not Kind.NULL else current
    if found.kind is Kind.MULTIVALUE or current.kind is Kind.MULTIVALUE:
        return Typed(exp.Coalesce(this=as_list(found), expressions=[as_list(current)]), Kind.MULTIVALUE)
    return Typed(exp.Coalesce(this=found.sql, expressions=[as_string(current)]), Kind.STRING)


def input_text(ctx: StageContext, name: str) -> exp.Expression | None:
    value = ctx.field(name)
    if value.kind is Kind.NULL:
        return None
    return value.sql if value.kind is Kind.STRING else as_string(value)


def demanded(ctx: StageContext, what: str) -> set[str]:
    """The fields later stages use, or a refusal explaining why a data-named extraction cannot be done."""
    names = fields_used_later(ctx.later)
    if names is None:
        raise ctx.unsupported(what, f"{what} creates fields named by the data; sqldetect extracts the ones the "
                              "rest of the pipeline names, so it must end in a command that names its fields "
                              "(table, fields, stats...) and use no wildcard, field-less addtotals or join "
                              "before that")
    return {n for n in names if n and not n.startswith("_") and "*" not in n}


@command("spath")
def spath(ctx: StageContext, cmd: ast.SpathCommand) -> StageResult:
    """Extract a value from JSON/XML by path (input=, output=, path=); without a path, the paths later used."""
    ctx.check_options({"input", "output", "path"})
    text = input_text(ctx, cmd.input)
    if cmd.path is None:
        if cmd.output is not None:
            raise ctx.error("spath output= needs a path", ctx.option_span("output"))
        names = demanded(ctx, "spath without a path")
        if text is None:
            return ctx.with_changes([])
        changes = []
        for name in sorted(names):
            try:
                found = extract(text, name, leaves_only=True)
            except PathError:
                continue  # not a path spath could have produced
            if found.kind is not Kind.NULL:
                changes.append((name, kept_if_missing(ctx, name, found)))
        return ctx.with_changes(changes)
    target = cmd.output or cmd.path
    if text is None:
        return ctx.with_changes([])
    try:
        found = extract(text, cmd.path)
    except PathError as err:
        raise ctx.error(str(err), ctx.option_span("path")) from None
    if found.kind is Kind.NULL:
        raise ctx.unsupported("spath path", f"spath cannot apply the path {cmd.path!r}", ctx.option_span("path"))
    return ctx.with_changes([(target, kept_if_missing(ctx, target, found))])


__all__ = ["extract", "parse_path", "spath"]
