"""Eval functions: one table of small translations, SPL function name → SQL.

Each entry says how many arguments the function takes and how to translate a call. Adding a function means
adding one entry (and its conformance cases). Unknown functions are refused by name, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sqldetect.compile import matching
from sqldetect.compile.relation import FieldInfo, Kind, Relation
from sqldetect.compile.sql import (
    FALSE,
    TRUE,
    anon,
    cast,
    epoch,
    from_epoch,
    func,
    lam,
    lit,
    null,
    number_to_string,
    paren_if_needed,
    try_cast,
)
from sqldetect.compile.typed import (
    ELEMENT,
    Typed,
    any_value,
    as_list,
    as_number,
    as_string,
    is_present,
    map_values,
)
from sqldetect.spl import ast

if TYPE_CHECKING:
    from sqldetect.compile.eval_expr import EvalTranslator

Translate = Callable[["EvalTranslator", ast.Call], Typed]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    translate: Translate
    min_args: int
    max_args: int | None  # None: any number
    summary: str


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(name: str, min_args: int, max_args: int | None = -1, *, aliases: tuple[str, ...] = (),
             summary: str = "") -> Callable[[Translate], Translate]:
    """Register a translation; ``max_args=-1`` means exactly ``min_args``."""

    def decorate(fn: Translate) -> Translate:
        spec = FunctionSpec(name, fn, min_args, min_args if max_args == -1 else max_args,
                            summary or (fn.__doc__ or "").strip().splitlines()[0])
        for key in (name, *aliases):
            FUNCTIONS[key] = spec
        return fn

    return decorate


def translate_call(tr: EvalTranslator, node: ast.Call) -> Typed:
    name = node.name.lower()
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise tr.ctx.unsupported(f"{node.name}()", f"eval function {node.name}() is not supported",
                                 node.name_span or node.span)
    n = len(node.args)
    if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
        expected = (str(spec.min_args) if spec.max_args == spec.min_args
                    else f"{spec.min_args} or more" if spec.max_args is None
                    else f"{spec.min_args} to {spec.max_args}")
        raise tr.ctx.error(f"{node.name}() takes {expected} arguments, got {n}", node.span)
    return spec.translate(tr, node)


# ----------------------------------------------------------------------------------------------- helpers


def _arg(tr: EvalTranslator, node: ast.Call, i: int) -> Typed:
    return tr.translate(node.args[i])


def _literal_text(tr: EvalTranslator, node: ast.Call, i: int, what: str) -> str:
    arg = node.args[i]
    if isinstance(arg, ast.Literal) and isinstance(arg.value, str):
        return arg.value
    raise tr.ctx.unsupported(f"{node.name}() with a non-literal {what}",
                             f"{node.name}(): the {what} must be a quoted string literal", arg.span)


def _literal_number(node: ast.Call, i: int) -> int | float | None:
    arg = node.args[i]
    if isinstance(arg, ast.Literal) and not isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.UnaryOp) and arg.op == "-" and isinstance(arg.operand, ast.Literal) and not isinstance(
        arg.operand.value, str
    ):
        return -arg.operand.value
    return None


def unify(values: list[Typed]) -> tuple[list[exp.Expression], Kind]:
    """Bring branch values (if/case/coalesce) to one kind: equal kinds stay; NULLs adopt the others' kind;
    a multivalue among scalars makes lists; otherwise everything becomes text."""
    kinds = {v.kind for v in values} - {Kind.NULL}
    if not kinds:
        return [exp.Null() for _ in values], Kind.NULL
    if len(kinds) == 1:
        kind = kinds.pop()
        return [null(kind.sql_type) if v.kind is Kind.NULL else v.sql for v in values], kind
    if Kind.MULTIVALUE in kinds:
        return [as_list(v) for v in values], Kind.MULTIVALUE
    if kinds <= {Kind.NUMBER, Kind.TIME}:
        return [as_number(v) for v in values], Kind.NUMBER
    return [null() if v.kind is Kind.NULL else as_string(v) for v in values], Kind.STRING


def regex_arg(tr: EvalTranslator, node: ast.Call, i: int) -> exp.Expression:
    """A regex argument converted from PCRE to RE2 (refusing features RE2 lacks)."""
    arg = node.args[i]
    if isinstance(arg, ast.Literal) and isinstance(arg.value, str):
        converted, problems = matching.pcre_to_re2(arg.value)
        if problems:
            raise tr.ctx.unsupported(f"regex {problems[0]}",
                                     f"the regular expression uses {', '.join(problems)}, which RE2 (DuckDB) lacks",
                                     arg.span)
        return lit(converted)
    return as_string(tr.translate(arg))


def regex_call(name: str, subject: exp.Expression, rx: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    """``name(subject, rx, ...)``; wrapped in ``TRY`` when the pattern is computed from the events.

    A pattern built from data (``match(process_name, "(?i)" . original_file_name)``) can be an invalid regex
    for some rows (Sysmon writes ``?`` for an unknown OriginalFileName); that row gets NULL (no match) instead
    of the whole rule failing. A constant pattern (a literal, or literals joined) stays unguarded: it was checked
    when it was translated or fails the query cleanly, for every event alike.
    """
    call = anon(name, subject, rx, *rest)
    return call if rx.find(exp.Column) is None else anon("TRY", call)


def _rebind(tr: EvalTranslator, body: ast.EvalExpr, field_name: str) -> Typed:
    """Translate ``body`` with ``field_name`` standing for one value of a multivalue field (the lambda's
    parameter), for mvfilter/mvmap."""
    from sqldetect.compile.eval_expr import EvalTranslator

    relation = Relation(dict(tr.relation.fields), [], list(tr.relation.hidden))
    relation.fields[field_name] = FieldInfo(field_name, Kind.STRING, ELEMENT)
    inner = EvalTranslator(tr.ctx, relation)
    return inner.translate(body)


def _fields_in(node: ast.EvalExpr) -> list[str]:
    out: list[str] = []

    def walk(n: object) -> None:
        if isinstance(n, ast.FieldRef):
            if n.name not in out:
                out.append(n.name)
        elif isinstance(n, ast.Call):
            for a in n.args:
                walk(a)
        elif isinstance(n, ast.BinaryOp):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ast.UnaryOp):
            walk(n.operand)
        elif isinstance(n, ast.InList):
            walk(n.operand)
            for v in n.values:
                walk(v)

    walk(node)
    return out


def _nonempty_list(e: exp.Expression) -> exp.Expression:
    """NULL instead of an empty list: an SPL field with no values does not exist."""
    return exp.Case().when(exp.EQ(this=anon("len", e), expression=lit(0)), null("VARCHAR[]"), copy=False).else_(e, copy=False)


# ----------------------------------------------------------------------------------------------- logic


@function("if", 3)
def _if(tr: EvalTranslator, node: ast.Call) -> Typed:
    """if(cond, a, b): a when cond is true, else b (false or NULL)."""
    cond = tr.condition(node.args[0])
    (a, b), kind = unify([_arg(tr, node, 1), _arg(tr, node, 2)])
    return Typed(exp.Case().when(cond, a, copy=False).else_(b, copy=False), kind)


@function("case", 2, None)
def _case(tr: EvalTranslator, node: ast.Call) -> Typed:
    """case(c1, v1, c2, v2, ...): the value of the first true condition, else NULL."""
    if len(node.args) % 2:
        raise tr.ctx.error("case() takes condition/value pairs", node.span)
    conds = [tr.condition(node.args[i]) for i in range(0, len(node.args), 2)]
    values, kind = unify([_arg(tr, node, i) for i in range(1, len(node.args), 2)])
    out = exp.Case()
    for c, v in zip(conds, values, strict=True):
        out = out.when(c, v, copy=False)
    return Typed(out, kind)


@function("coalesce", 1, None, aliases=("ifnull",))
def _coalesce(tr: EvalTranslator, node: ast.Call) -> Typed:
    """coalesce(a, b, ...): the first non-NULL argument."""
    values, kind = unify([tr.translate(a) for a in node.args])
    return Typed(exp.Coalesce(this=values[0], expressions=values[1:]), kind)


@function("nullif", 2)
def _nullif(tr: EvalTranslator, node: ast.Call) -> Typed:
    """nullif(a, b): NULL when a equals b, else a."""
    (a, b), kind = unify([_arg(tr, node, 0), _arg(tr, node, 1)])
    return Typed(exp.Nullif(this=a, expression=b), kind)


@function("validate", 2, None)
def _validate(tr: EvalTranslator, node: ast.Call) -> Typed:
    """validate(c1, msg1, ...): the message of the first condition that is false, else NULL."""
    if len(node.args) % 2:
        raise tr.ctx.error("validate() takes condition/message pairs", node.span)
    out = exp.Case()
    for i in range(0, len(node.args), 2):
        cond = tr.condition(node.args[i])
        out = out.when(exp.Not(this=exp.Coalesce(this=paren_if_needed(cond), expressions=[FALSE])),
                       as_string(_arg(tr, node, i + 1)), copy=False)
    return Typed(out, Kind.STRING)


@function("true", 0)
def _true(tr: EvalTranslator, node: ast.Call) -> Typed:
    """true(): the boolean true."""
    return Typed(TRUE, Kind.BOOLEAN)


@function("false", 0)
def _false(tr: EvalTranslator, node: ast.Call) -> Typed:
    """false(): the boolean false."""
    return Typed(FALSE, Kind.BOOLEAN)


@function("null", 0)
def _null(tr: EvalTranslator, node: ast.Call) -> Typed:
    """null(): no value."""
    return Typed(exp.Null(), Kind.NULL)


# ----------------------------------------------------------------------------------------------- matching


@function("like", 2)
def _like(tr: EvalTranslator, node: ast.Call) -> Typed:
    """like(s, pattern): SQL LIKE on the whole value (% and _), case-sensitive."""
    pattern = as_string(_arg(tr, node, 1))
    return Typed(any_value(_arg(tr, node, 0), lambda v: exp.Like(this=as_string(v), expression=pattern)),
                 Kind.BOOLEAN)


@function("match", 2)
def _match(tr: EvalTranslator, node: ast.Call) -> Typed:
    """match(s, regex): the regex matches somewhere in the value (unanchored)."""
    arg = node.args[1]
    if isinstance(arg, ast.Literal) and isinstance(arg.value, str) \
            and matching.pcre_to_re2(arg.value)[1] == ["look-around assertions"] \
            and (form := matching.search_form(arg.value)) is not None:
        converted, problems = matching.pcre_to_re2(form[0])
        if not problems:  # a look-around rewritten exactly for a match test (see matching.search_form)
            def test(v: Typed) -> exp.Expression:
                found = anon("regexp_matches", as_string(v), lit(converted))
                return exp.Not(this=found) if form[1] else found

            return Typed(any_value(_arg(tr, node, 0), test), Kind.BOOLEAN)
    rx = regex_arg(tr, node, 1)
    return Typed(any_value(_arg(tr, node, 0), lambda v: regex_call("regexp_matches", as_string(v), rx)), Kind.BOOLEAN)


@function("in", 2, None)
def _in(tr: EvalTranslator, node: ast.Call) -> Typed:
    """in(f, v1, v2, ...): exact, case-sensitive membership."""
    value = _arg(tr, node, 0)
    checks = [tr.compare("=", value, tr.translate(a)) for a in node.args[1:]]
    out = checks[0]
    for c in checks[1:]:
        out = exp.Or(this=out, expression=c)
    return Typed(exp.Paren(this=out) if len(checks) > 1 else out, Kind.BOOLEAN)


@function("cidrmatch", 2)
def _cidrmatch(tr: EvalTranslator, node: ast.Call) -> Typed:
    """cidrmatch(cidr, ip): the IPv4 address lies in the subnet (false for non-addresses)."""
    cidr = _literal_text(tr, node, 0, "CIDR")
    if not matching.is_cidr(cidr):
        raise tr.ctx.unsupported("cidrmatch() with a non-IPv4 CIDR", f"cidrmatch(): '{cidr}' is not an IPv4 CIDR range (IPv6 is not supported)",
                                 node.args[0].span)
    check = any_value(_arg(tr, node, 1), lambda v: matching.cidr_match(as_string(v), cidr))
    return Typed(exp.Coalesce(this=paren_if_needed(check), expressions=[FALSE]), Kind.BOOLEAN)


@function("searchmatch", 1)
def _searchmatch(tr: EvalTranslator, node: ast.Call) -> Typed:
    """searchmatch("search string"): the row matches the search expression (search semantics)."""
    from sqldetect.spl.parser import parse

    text = _literal_text(tr, node, 0, "search string")
    pipeline = parse("search " + text)
    command = pipeline.commands[0]
    expr = getattr(command, "expr", None)
    return Typed(tr.ctx.search_condition(expr, tr.relation) if expr is not None else TRUE, Kind.BOOLEAN)


# ----------------------------------------------------------------------------------------------- strings


def _string_fn(sql_name: str) -> Translate:
    def translate(tr: EvalTranslator, node: ast.Call) -> Typed:
        return map_values(_arg(tr, node, 0), lambda v: Typed(func(sql_name, as_string(v)), Kind.STRING))

    return translate


function("lower", 1, summary="lower(s): lower-case")(_string_fn("lower"))
function("upper", 1, summary="upper(s): upper-case")(_string_fn("upper"))
function("urldecode", 1, summary="urldecode(s): decode %XX escapes")(_string_fn("url_decode"))
function("md5", 1, summary="md5(s): hex digest")(_string_fn("md5"))
function("sha1", 1, summary="sha1(s): hex digest")(_string_fn("sha1"))
function("sha256", 1, summary="sha256(s): hex digest")(_string_fn("sha256"))


@function("sha512", 1)
def _sha512(tr: EvalTranslator, node: ast.Call) -> Typed:
    """sha512(s): refused by name; plain DuckDB (no extensions) has md5, sha1 and sha256 only."""
    raise tr.ctx.unsupported("sha512()", "eval function sha512() is not supported: DuckDB has no SHA-512 "
                             "without extensions (md5, sha1 and sha256 are)", node.name_span or node.span)


@function("len", 1)
def _len(tr: EvalTranslator, node: ast.Call) -> Typed:
    """len(s): number of characters."""
    return Typed(anon("length", as_string(_arg(tr, node, 0))), Kind.NUMBER)


@function("substr", 2, 3)
def _substr(tr: EvalTranslator, node: ast.Call) -> Typed:
    """substr(s, start[, length]): 1-based; a negative start counts from the end; start 0 acts as 1."""
    start_literal = _literal_number(node, 1)
    start: exp.Expression
    if start_literal is not None:
        start = lit(1 if start_literal == 0 else int(start_literal))
    else:
        n = as_number(_arg(tr, node, 1))
        start = exp.Case().when(exp.EQ(this=n, expression=lit(0)), lit(1), copy=False).else_(try_cast(n, "BIGINT"), copy=False)
    args = [start]
    if len(node.args) == 3:
        args.append(try_cast(as_number(_arg(tr, node, 2)), "BIGINT"))

    def one(v: Typed) -> Typed:
        return Typed(anon("substring", as_string(v), *args), Kind.STRING)

    return map_values(_arg(tr, node, 0), one)


@function("replace", 3)
def _replace(tr: EvalTranslator, node: ast.Call) -> Typed:
    """replace(s, regex, replacement): replace every match; \\1 back-references in the replacement."""
    rx = regex_arg(tr, node, 1)
    repl = as_string(_arg(tr, node, 2))
    return map_values(_arg(tr, node, 0),
                      lambda v: Typed(regex_call("regexp_replace", as_string(v), rx, repl, lit("g")), Kind.STRING))


def _trim_fn(sql_name: str) -> Translate:
    def translate(tr: EvalTranslator, node: ast.Call) -> Typed:
        chars = as_string(_arg(tr, node, 1)) if len(node.args) > 1 else lit(" \t")
        return map_values(_arg(tr, node, 0), lambda v: Typed(anon(sql_name, as_string(v), chars), Kind.STRING))

    return translate


function("trim", 1, 2, summary="trim(s[, chars]): strip characters (default space, tab) at both ends")(
    _trim_fn("trim"))
function("ltrim", 1, 2, summary="ltrim(s[, chars]): strip characters at the start")(_trim_fn("ltrim"))
function("rtrim", 1, 2, summary="rtrim(s[, chars]): strip characters at the end")(_trim_fn("rtrim"))


@function("split", 2)
def _split(tr: EvalTranslator, node: ast.Call) -> Typed:
    """split(s, delim): multivalue of the pieces ("" splits into characters)."""
    return Typed(anon("string_split", as_string(_arg(tr, node, 0)), as_string(_arg(tr, node, 1))), Kind.MULTIVALUE)


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@function("tonumber", 1, 2)
def _tonumber(tr: EvalTranslator, node: ast.Call) -> Typed:
    """tonumber(s[, base]): the number in s (base 2 to 36, default 10), else NULL."""
    value = _arg(tr, node, 0)
    base = _literal_number(node, 1) if len(node.args) > 1 else 10
    if base is None or base != int(base) or not 2 <= base <= 36:
        span = node.args[1].span if len(node.args) > 1 else node.span
        raise tr.ctx.unsupported("tonumber() base", "tonumber()'s base must be a whole number from 2 to 36", span)
    if base == 10:
        return Typed(as_number(value), Kind.NUMBER)
    return Typed(_parse_in_base(as_string(value), int(base)), Kind.NUMBER)


def _parse_in_base(text: exp.Expression, base: int) -> exp.Expression:
    """The integer written in ``text`` in ``base`` (optional sign; 0x allowed in base 16), NULL when ``text``
    has a character that is not a digit of that base. DuckDB only casts bases 2 and 16, so the digits are
    folded by hand: each character's position in 0-9A-Z is its digit value."""
    upper = anon("upper", anon("trim", text))
    prefix = "^[+-]?(0X)?" if base == 16 else "^[+-]?"
    body = anon("regexp_replace", upper, lit(prefix), lit(""))
    digits = func("list_transform", anon("string_split", body, lit("")),
                  lam("_c", exp.Sub(this=anon("instr", lit(_DIGITS), exp.column("_c")), expression=lit(1))))
    fold = exp.Lambda(this=exp.Add(this=exp.Mul(this=exp.column("_n"), expression=lit(base)),
                                   expression=exp.column("_d")),
                      expressions=[exp.to_identifier("_n"), exp.to_identifier("_d")])
    magnitude = anon("list_reduce", digits, fold, lit(0))
    valid = anon("regexp_full_match", body.copy(), lit(f"[{_DIGITS[:base]}]+"))
    sign = exp.Case().when(anon("starts_with", upper.copy(), lit("-")), lit(-1), copy=False).else_(lit(1), copy=False)
    return exp.Case().when(valid, cast(exp.Mul(this=sign, expression=magnitude), "DOUBLE"), copy=False)


@function("tostring", 1, 2)
def _tostring(tr: EvalTranslator, node: ast.Call) -> Typed:
    """tostring(x[, "hex"|"commas"|"duration"]): x as text."""
    value = _arg(tr, node, 0)
    if len(node.args) == 1:
        return Typed(as_string(value), Kind.STRING)
    fmt = _literal_text(tr, node, 1, "format")
    n = as_number(value)
    if fmt == "hex":
        return Typed(anon("printf", lit("0x%X"), try_cast(n, "BIGINT")), Kind.STRING)
    if fmt == "commas":
        # whole numbers without decimals, others rounded to two decimals
        whole = exp.EQ(this=n, expression=anon("round", n.copy()))
        text = exp.Case().when(whole, anon("printf", lit("%,d"), try_cast(n.copy(), "BIGINT")), copy=False).else_(
            anon("printf", lit("%,.2f"), cast(n.copy(), "DOUBLE")), copy=False)
        return Typed(text, Kind.STRING)
    if fmt == "duration":
        # [D+]HH:MM:SS (integer division: DuckDB's `/` on integers gives a DOUBLE)
        secs = try_cast(anon("floor", n), "BIGINT")
        clock = anon("printf", lit("%02d:%02d:%02d"),
                     exp.Mod(this=exp.IntDiv(this=secs.copy(), expression=lit(3600)), expression=lit(24)),
                     exp.Mod(this=exp.IntDiv(this=secs.copy(), expression=lit(60)), expression=lit(60)),
                     exp.Mod(this=secs.copy(), expression=lit(60)))
        days = exp.Case().when(exp.GTE(this=secs.copy(), expression=lit(86400)),
                               exp.DPipe(this=cast(exp.IntDiv(this=secs.copy(), expression=lit(86400)), "VARCHAR"),
                                         expression=lit("+")), copy=False).else_(lit(""), copy=False)
        return Typed(exp.DPipe(this=days, expression=clock), Kind.STRING)
    raise tr.ctx.unsupported(f"tostring() format {fmt!r}", span=node.args[1].span)


@function("typeof", 1)
def _typeof(tr: EvalTranslator, node: ast.Call) -> Typed:
    """typeof(x): "Number", "String", "Boolean", "Multivalue" or "Invalid" (NULL)."""
    value = _arg(tr, node, 0)
    kind_name = {Kind.NUMBER: "Number", Kind.TIME: "Number", Kind.BOOLEAN: "Boolean",
                 Kind.MULTIVALUE: "Multivalue", Kind.STRING: "String"}.get(value.kind)
    if kind_name is None:
        return Typed(lit("Invalid"), Kind.STRING)
    is_null = exp.Is(this=paren_if_needed(value.sql), expression=exp.Null())
    out = exp.Case().when(is_null, lit("Invalid"), copy=False)
    if value.kind is Kind.STRING and not isinstance(value.sql, exp.Literal):
        out = out.when(exp.Not(this=exp.Is(this=try_cast(value.sql, "DOUBLE"), expression=exp.Null())),
                       lit("Number"), copy=False)
    return Typed(out.else_(lit(kind_name), copy=False), Kind.STRING)


# ----------------------------------------------------------------------------------------------- tests


@function("isnull", 1)
def _isnull(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isnull(x): x has no value."""
    return Typed(exp.Not(this=paren_if_needed(is_present(_arg(tr, node, 0)))), Kind.BOOLEAN)


@function("isnotnull", 1)
def _isnotnull(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isnotnull(x): x has a value."""
    return Typed(is_present(_arg(tr, node, 0)), Kind.BOOLEAN)


@function("isnum", 1)
def _isnum(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isnum(x): x is a number (or text holding one)."""
    return Typed(exp.Not(this=exp.Is(this=as_number(_arg(tr, node, 0)), expression=exp.Null())), Kind.BOOLEAN)


@function("isint", 1)
def _isint(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isint(x): x is a whole number."""
    # x % 1 = 0 names x once (a volatile argument such as random() must be evaluated once)
    n = as_number(_arg(tr, node, 0))
    whole = exp.EQ(this=exp.Mod(this=paren_if_needed(n), expression=lit(1)), expression=lit(0))
    return Typed(exp.Coalesce(this=whole, expressions=[FALSE]), Kind.BOOLEAN)


@function("isstr", 1)
def _isstr(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isstr(x): x is text that is not a number."""
    value = _arg(tr, node, 0)
    if value.kind is not Kind.STRING:
        return Typed(FALSE, Kind.BOOLEAN)
    return Typed(exp.And(this=exp.Not(this=exp.Is(this=value.sql, expression=exp.Null())),
                         expression=exp.Is(this=try_cast(value.sql, "DOUBLE"), expression=exp.Null())), Kind.BOOLEAN)


@function("isbool", 1)
def _isbool(tr: EvalTranslator, node: ast.Call) -> Typed:
    """isbool(x): x is a boolean."""
    return Typed(TRUE if _arg(tr, node, 0).kind is Kind.BOOLEAN else FALSE, Kind.BOOLEAN)


# ----------------------------------------------------------------------------------------------- multivalue


@function("mvcount", 1)
def _mvcount(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvcount(f): number of values; NULL when the field has none."""
    value = _arg(tr, node, 0)
    if value.kind is Kind.MULTIVALUE:
        return Typed(anon("nullif", anon("len", value.sql), lit(0)), Kind.NUMBER)
    return Typed(exp.Case().when(exp.Is(this=paren_if_needed(value.sql), expression=exp.Null()), exp.Null(), copy=False)
                 .else_(lit(1), copy=False), Kind.NUMBER)


def _list_index(n: exp.Expression) -> exp.Expression:
    """SPL's 0-based (negative from the end) index as DuckDB's 1-based (negative from the end) index."""
    return exp.Case().when(exp.GTE(this=n, expression=lit(0)), exp.Add(this=n, expression=lit(1)), copy=False).else_(n, copy=False)


@function("mvindex", 2, 3)
def _mvindex(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvindex(f, start[, end]): value(s) by 0-based position (negative from the end; end inclusive)."""
    values = as_list(_arg(tr, node, 0))
    start_lit = _literal_number(node, 1)
    start = lit(int(start_lit) + 1 if start_lit >= 0 else int(start_lit)) if start_lit is not None else _list_index(
        try_cast(as_number(_arg(tr, node, 1)), "BIGINT"))
    if len(node.args) == 2:
        return Typed(anon("list_extract", values, start), Kind.STRING)
    end_lit = _literal_number(node, 2)
    end = lit(int(end_lit) + 1 if end_lit >= 0 else int(end_lit)) if end_lit is not None else _list_index(
        try_cast(as_number(_arg(tr, node, 2)), "BIGINT"))
    return Typed(_nonempty_list(anon("list_slice", values, start, end)), Kind.MULTIVALUE)


@function("mvjoin", 2)
def _mvjoin(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvjoin(f, delim): the values joined into one string."""
    return Typed(anon("array_to_string", as_list(_arg(tr, node, 0)), as_string(_arg(tr, node, 1))), Kind.STRING)


@function("mvappend", 1, None)
def _mvappend(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvappend(a, b, ...): all values of all arguments, in order."""
    lists = [as_list(tr.translate(a)) for a in node.args]
    out = lists[0]
    for item in lists[1:]:
        out = anon("list_concat", out, item)
    if len(lists) == 1:
        return Typed(out, Kind.MULTIVALUE)
    return Typed(_nonempty_list(out), Kind.MULTIVALUE)


@function("mvdedup", 1)
def _mvdedup(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvdedup(f): values without repeats, first occurrence kept."""
    values = as_list(_arg(tr, node, 0))
    keep = exp.Lambda(
        this=exp.EQ(this=anon("list_position", values, exp.column(ELEMENT)), expression=exp.column("_i")),
        expressions=[exp.to_identifier(ELEMENT), exp.to_identifier("_i")],
    )
    return Typed(anon("list_filter", values, keep), Kind.MULTIVALUE)


@function("mvsort", 1)
def _mvsort(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvsort(f): values sorted lexicographically."""
    return Typed(anon("list_sort", as_list(_arg(tr, node, 0))), Kind.MULTIVALUE)


@function("mvfind", 2)
def _mvfind(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvfind(f, regex): 0-based index of the first value matching the regex, else NULL."""
    rx = regex_arg(tr, node, 1)
    values = as_list(_arg(tr, node, 0))
    matches = func("list_transform", values, lam(ELEMENT, regex_call("regexp_matches", exp.column(ELEMENT), rx)))
    return Typed(exp.Sub(this=anon("list_position", matches, TRUE), expression=lit(1)), Kind.NUMBER)


@function("mvzip", 2, 3)
def _mvzip(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvzip(a, b[, delim]): pairwise joined values (delim default ","), as long as the shorter list."""
    delim = as_string(_arg(tr, node, 2)) if len(node.args) == 3 else lit(",")
    left, right = as_list(_arg(tr, node, 0)), as_list(_arg(tr, node, 1))
    length = anon("least", anon("len", left), anon("len", right))
    i = exp.column("_i")
    pair = exp.DPipe(this=exp.DPipe(this=anon("list_extract", left.copy(), i), expression=delim),
                     expression=anon("list_extract", right.copy(), i.copy()))
    return Typed(_nonempty_list(func("list_transform", anon("range", lit(1), exp.Add(this=length, expression=lit(1))),
                                     lam("_i", pair))), Kind.MULTIVALUE)


@function("mvrange", 2, 3)
def _mvrange(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvrange(start, end[, step]): numbers from start up to (not including) end."""
    args = [try_cast(as_number(_arg(tr, node, i)), "BIGINT") for i in range(len(node.args))]
    numbers = anon("range", *args)
    return Typed(func("list_transform", numbers, lam(ELEMENT, cast(exp.column(ELEMENT), "VARCHAR"))),
                 Kind.MULTIVALUE)


def _single_field(tr: EvalTranslator, node: ast.Call, body: ast.EvalExpr, fname: str) -> str:
    fields = _fields_in(body)
    if len(fields) != 1:
        raise tr.ctx.unsupported(f"{fname}() over {len(fields)} fields",
                                 f"{fname}() must refer to exactly one field", node.span)
    return fields[0]


@function("mvfilter", 1)
def _mvfilter(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvfilter(expr): the values of the one field in expr for which expr is true."""
    body = node.args[0]
    field_name = _single_field(tr, node, body, "mvfilter")
    values = as_list(tr.ctx.field(field_name, tr.relation))
    cond_sql = tr.boolean(_rebind(tr, body, field_name), body)
    return Typed(_nonempty_list(anon("list_filter", values, lam(ELEMENT, cond_sql))), Kind.MULTIVALUE)


@function("mvmap", 2)
def _mvmap(tr: EvalTranslator, node: ast.Call) -> Typed:
    """mvmap(f, expr): expr evaluated for each value of f (expr refers to f)."""
    target = node.args[0]
    if not isinstance(target, ast.FieldRef):
        raise tr.ctx.unsupported("mvmap() over an expression", "mvmap()'s first argument must be a field",
                                 target.span)
    values = as_list(tr.ctx.field(target.name, tr.relation))
    mapped = _rebind(tr, node.args[1], target.name)
    return Typed(func("list_transform", values, lam(ELEMENT, as_string(mapped))), Kind.MULTIVALUE)


# ----------------------------------------------------------------------------------------------- time


@function("now", 0)
def _now(tr: EvalTranslator, node: ast.Call) -> Typed:
    """now(): the search's start time, epoch seconds."""
    from sqldetect.compile.timemod import now_sql

    return Typed(epoch(now_sql(tr.ctx)), Kind.NUMBER)


@function("time", 0)
def _time(tr: EvalTranslator, node: ast.Call) -> Typed:
    """time(): the wall-clock time, epoch seconds."""
    return Typed(epoch(anon("timezone", lit("UTC"), exp.CurrentTimestamp())), Kind.NUMBER)


@function("relative_time", 2)
def _relative_time(tr: EvalTranslator, node: ast.Call) -> Typed:
    """relative_time(t, "-1d@d"): a relative time modifier applied to epoch t."""
    from sqldetect.compile.timemod import TimeSpecError, relative_sql

    spec = _literal_text(tr, node, 1, "time modifier")
    base = from_epoch(as_number(_arg(tr, node, 0)))
    try:
        return Typed(epoch(relative_sql(base, spec)), Kind.NUMBER)
    except TimeSpecError as err:
        raise tr.ctx.error(f"bad time modifier {spec!r}: {err}", node.args[1].span) from None


def strftime_sql(ts: exp.Expression, fmt: str) -> exp.Expression:
    """Format a TIMESTAMP with a Splunk time format (UTC; see ``timeformat``)."""
    from sqldetect.compile.timeformat import convert

    parts: list[exp.Expression] = []
    for kind, text in convert(fmt):
        if kind == "fmt":
            parts.append(anon("strftime", ts, lit(text)))
        elif text == "epoch":
            parts.append(cast(cast(anon("floor", epoch(ts)), "BIGINT"), "VARCHAR"))
        else:  # space-padded day / hour
            code = {"space_day": "%-d", "space_hour24": "%-H", "space_hour12": "%-I"}[text]
            parts.append(anon("lpad", anon("strftime", ts, lit(code)), lit(2), lit(" ")))
    if not parts:
        return lit("")
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


@function("strftime", 2)
def _strftime(tr: EvalTranslator, node: ast.Call) -> Typed:
    """strftime(t, format): epoch t as text (UTC)."""
    fmt = _literal_text(tr, node, 1, "time format")
    ts = from_epoch(as_number(_arg(tr, node, 0)))
    return Typed(strftime_sql(ts, fmt), Kind.STRING)


def strptime_sql(text: exp.Expression, fmt: str) -> exp.Expression | None:
    """Epoch seconds of ``text`` read with a Splunk time format (UTC unless the format has a zone); None when
    the format cannot be read by DuckDB (``%s`` mixed with other codes). Shared by strptime() and convert
    mktime()."""
    from sqldetect.compile.timeformat import convert

    if fmt.strip() == "%s":
        return try_cast(text, "DOUBLE")
    pieces = convert(fmt, parsing=True)
    if len(pieces) != 1 or pieces[0][0] != "fmt":
        return None
    # a format with %z gives a TIMESTAMPTZ; epoch() of either type is the UTC epoch
    return epoch(anon("try_strptime", text, lit(pieces[0][1])))


@function("strptime", 2)
def _strptime(tr: EvalTranslator, node: ast.Call) -> Typed:
    """strptime(s, format): the time in s as epoch seconds (UTC unless the format has a zone)."""
    fmt = _literal_text(tr, node, 1, "time format")
    parsed = strptime_sql(as_string(_arg(tr, node, 0)), fmt)
    if parsed is None:
        raise tr.ctx.unsupported("strptime() with %s", "strptime() can read %s only as the whole format",
                                 node.args[1].span)
    return Typed(parsed, Kind.NUMBER)


# ----------------------------------------------------------------------------------------------- math


def _math1(sql_name: str) -> Translate:
    def translate(tr: EvalTranslator, node: ast.Call) -> Typed:
        return Typed(anon(sql_name, as_number(_arg(tr, node, 0))), Kind.NUMBER)

    return translate


function("floor", 1, summary="floor(x)")(_math1("floor"))
function("ceiling", 1, aliases=("ceil",), summary="ceiling(x)")(_math1("ceil"))
function("abs", 1, summary="abs(x)")(_math1("abs"))
function("sqrt", 1, summary="sqrt(x)")(_math1("sqrt"))
function("exp", 1, summary="exp(x)")(_math1("exp"))
function("ln", 1, summary="ln(x): natural logarithm")(_math1("ln"))


@function("round", 1, 2)
def _round(tr: EvalTranslator, node: ast.Call) -> Typed:
    """round(x[, digits]): rounded half away from zero."""
    args = [as_number(_arg(tr, node, 0))]
    if len(node.args) == 2:
        args.append(try_cast(as_number(_arg(tr, node, 1)), "INTEGER"))
    return Typed(anon("round", *args), Kind.NUMBER)


@function("pow", 2, aliases=("power",))
def _pow(tr: EvalTranslator, node: ast.Call) -> Typed:
    """pow(x, y): x to the power y."""
    return Typed(anon("pow", as_number(_arg(tr, node, 0)), as_number(_arg(tr, node, 1))), Kind.NUMBER)


@function("log", 1, 2)
def _log(tr: EvalTranslator, node: ast.Call) -> Typed:
    """log(x[, base]): logarithm, base 10 by default."""
    x = as_number(_arg(tr, node, 0))
    if len(node.args) == 1:
        return Typed(anon("log10", x), Kind.NUMBER)
    return Typed(anon("log", as_number(_arg(tr, node, 1)), x), Kind.NUMBER)


@function("pi", 0)
def _pi(tr: EvalTranslator, node: ast.Call) -> Typed:
    """pi(): the constant."""
    return Typed(anon("pi"), Kind.NUMBER)


@function("random", 0)
def _random(tr: EvalTranslator, node: ast.Call) -> Typed:
    """random(): a pseudo-random integer from 0 to 2^31-1."""
    return Typed(anon("floor", exp.Mul(this=anon("random"), expression=lit(2147483647))), Kind.NUMBER)


def _extreme(largest: bool) -> Translate:
    """eval max()/min(): numbers compare numerically, strings lexicographically, and every string ranks
    above every number (semantics doc §6.2); a multivalue argument contributes each of its values. So max()
    is the largest text when there is one, else the largest number; min() the smallest number when there
    is one, else the smallest text. Each argument is split into its number part and its text part."""
    pick = "greatest" if largest else "least"
    pick_list = "list_max" if largest else "list_min"

    def translate(tr: EvalTranslator, node: ast.Call) -> Typed:
        values = [v for v in (tr.translate(a) for a in node.args) if v.kind is not Kind.NULL]
        if not values:
            return Typed(exp.Null(), Kind.NULL)
        numbers: list[exp.Expression] = []
        texts: list[exp.Expression] = []
        for v in values:
            if v.kind in (Kind.NUMBER, Kind.TIME):
                numbers.append(as_number(v))
            elif v.kind is Kind.MULTIVALUE:
                element = exp.column(ELEMENT)
                numbers.append(anon(pick_list, func("list_transform", v.sql, lam(ELEMENT, try_cast(element, "DOUBLE")))))
                texts.append(anon(pick_list, func("list_filter", v.sql.copy(), lam(ELEMENT, exp.Is(
                    this=try_cast(element.copy(), "DOUBLE"), expression=exp.Null())))))
            elif isinstance(v.sql, exp.Literal) and v.sql.is_string:
                (texts if _is_plain_text(v.sql.this) else numbers).append(
                    v.sql if _is_plain_text(v.sql.this) else lit(float(v.sql.this)))
            else:
                text = as_string(v)
                numbers.append(try_cast(text, "DOUBLE"))
                texts.append(exp.Case().when(exp.Is(this=try_cast(text.copy(), "DOUBLE"), expression=exp.Null()),
                                             text.copy(), copy=False))
        def best(items: list[exp.Expression]) -> exp.Expression:
            return items[0] if len(items) == 1 else anon(pick, *items)

        if not texts:
            return Typed(best(numbers), Kind.NUMBER)
        number = number_to_string(best(numbers)) if numbers else None
        text = best(texts)
        if number is None:
            return Typed(text, Kind.STRING)
        return Typed(exp.Coalesce(this=text, expressions=[number]) if largest
                     else exp.Coalesce(this=number, expressions=[text]), Kind.STRING)

    return translate


def _is_plain_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


function("min", 1, None, summary="min(a, b, ...): the smallest argument (numbers below strings)")(_extreme(False))
function("max", 1, None, summary="max(a, b, ...): the largest argument (strings above numbers)")(_extreme(True))


@function("exact", 1)
def _exact(tr: EvalTranslator, node: ast.Call) -> Typed:
    """exact(x): x at full precision (DOUBLE arithmetic already keeps it)."""
    return Typed(as_number(_arg(tr, node, 0)), Kind.NUMBER)


_PRINTF_SPEC = re.compile(r"%([-+ 0#']*)(\d*)(?:\.(\d+))?([diouxXeEfFgGs%])")


@function("printf", 1, None)
def _printf(tr: EvalTranslator, node: ast.Call) -> Typed:
    """printf(format, args...): C-style formatting (%d %i %u %o %x %X %e %f %g %s, flags, width, precision)."""
    fmt = _literal_text(tr, node, 0, "format")
    args = list(node.args[1:])
    converted: list[exp.Expression] = []
    pieces: list[str] = []
    last = 0
    for m in _PRINTF_SPEC.finditer(fmt):
        flags, width, precision, conv = m.groups()
        if "%" in fmt[last : m.start()]:
            raise tr.ctx.unsupported("printf() format", f"printf(): cannot read the format at "
                                     f"'{fmt[last:]}'", node.args[0].span)
        pieces.append(fmt[last : m.start()])
        last = m.end()
        if conv == "%":
            pieces.append("%%")
            continue
        if not args:
            raise tr.ctx.error(f"printf(): the format needs more arguments than the {len(node.args) - 1} given",
                               node.span)
        value = tr.translate(args.pop(0))
        if conv in "diouxX":
            converted.append(try_cast(anon("trunc", as_number(value)), "BIGINT"))
            conv = "d" if conv in "iu" else conv
        elif conv in "eEfFgG":
            converted.append(cast(as_number(value), "DOUBLE"))
        else:
            converted.append(as_string(value))
        spec = "%" + flags.replace("'", ",") + width + (f".{precision}" if precision is not None else "") + conv
        pieces.append(spec)
    if "%" in fmt[last:]:
        raise tr.ctx.unsupported("printf() format", f"printf(): cannot read the format at '{fmt[last:]}'",
                                 node.args[0].span)
    pieces.append(fmt[last:])
    return Typed(anon("printf", lit("".join(pieces)), *converted), Kind.STRING)


# ----------------------------------------------------------------------------------------------- json


def _json_path(path: str) -> str:
    """Splunk's path syntax (``a.b{}.c``, ``a{1}``) as a JSONPath for DuckDB."""
    out = "$"
    for part in path.split("."):
        if not part:
            continue
        name, _, rest = part.partition("{")
        if name:
            out += "." + (name if name.isidentifier() else '"' + name.replace('"', '\\"') + '"')
        while rest:
            index, _, rest = rest.partition("}")
            out += "[*]" if index == "" else f"[{int(index) - 1 if index.isdigit() else index}]"
            rest = rest.lstrip("{")
    return out


def _when_json(source: exp.Expression, value: exp.Expression) -> exp.Expression:
    """``value`` when ``source`` is valid JSON, else NULL: DuckDB's JSON functions raise on malformed text,
    which would stop the whole query, while Splunk just gives no value for that event."""
    return exp.Case().when(anon("json_valid", source), value, copy=False)


@function("json_extract", 1, None)
def _json_extract(tr: EvalTranslator, node: ast.Call) -> Typed:
    """json_extract(json, path, ...): the value at a path as text; an object or array (a `{}` path, or
    several paths) comes back as JSON text, as Splunk returns "either a JSON array or a native value"."""
    source = as_string(_arg(tr, node, 0))
    if len(node.args) == 1:
        return Typed(source, Kind.STRING)
    paths = [_json_path(_literal_text(tr, node, i, "path")) for i in range(1, len(node.args))]
    if len(paths) > 1:  # several paths: a JSON array of their values
        values = exp.Array(expressions=[anon("json_extract", source.copy(), lit(path)) for path in paths])
        return Typed(_when_json(source, cast(anon("to_json", values), "VARCHAR")), Kind.STRING)
    path = paths[0]
    found = anon("json_extract", source.copy(), lit(path))
    if "[*]" in path:  # every element: a JSON array
        return Typed(_when_json(source, cast(anon("to_json", found), "VARCHAR")), Kind.STRING)
    nested = exp.In(this=anon("json_type", found), expressions=[lit("OBJECT"), lit("ARRAY")])
    value = exp.Case().when(nested, cast(found.copy(), "VARCHAR"), copy=False).else_(
        anon("json_extract_string", source.copy(), lit(path)), copy=False)
    return Typed(_when_json(source, value), Kind.STRING)


@function("spath", 2)
def _spath(tr: EvalTranslator, node: ast.Call) -> Typed:
    """spath(json, path): the value at a path of a JSON string; a `{}` path gives every element
    (multivalue), like the spath command."""
    source = as_string(_arg(tr, node, 0))
    path = _json_path(_literal_text(tr, node, 1, "path"))
    value = anon("json_extract_string", source.copy(), lit(path))
    if "[*]" in path:
        return Typed(_when_json(source, _nonempty_list(value)), Kind.MULTIVALUE)
    return Typed(_when_json(source, value), Kind.STRING)


__all__ = ["FUNCTIONS", "number_to_string", "strftime_sql", "translate_call", "unify"]
