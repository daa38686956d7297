"""Splunk search macros: load their definitions and expand backtick calls in SPL, as text, before parsing.

Splunk expands macros purely textually (spl-semantics §4): the body replaces the backtick expression and the
surrounding text decides precedence, so ``index=a OR `m``` with ``m = index=b sourcetype=x`` regroups into
``(index=a OR index=b) AND sourcetype=x``. Expanding on the syntax tree instead would silently change what
such rules mean, which is why this module works on strings and runs before the parser.

What it does, in the order a call is handled:

* triple-backtick comments (```` ```like this``` ````) become one space;
* nothing inside a double-quoted string is touched (Splunk does not expand macros there);
* a call is ```name``` or ```name(a, b)```; arguments are split on top-level commas (commas inside double
  quotes or parentheses do not split), may be named (```m(x=1, y="a,b")```), may themselves contain macro
  calls (expanded first), and lose their enclosing double quotes (with ``\\"`` unescaped) when quoted whole;
* the definition is chosen by name *and* number of arguments (``m``, ``m(1)`` and ``m(2)`` are different
  macros), ``$arg$`` is replaced everywhere in it (even inside quotes), and the result is expanded again, so
  definitions may call other macros; a macro that reaches itself is an error, not a hang;
* a call that makes up a whole pipeline stage and expands to nothing (``... | `x_filter```) removes that
  stage's ``|`` too, because Splunk ships such macros as ``search *``, a stage that keeps every row.

Built-ins used when the library has no definition of that name and arity: any ``<name>_filter`` with no
arguments expands to nothing (ESCU's per-detection tuning placeholders), and ``drop_dm_object_name(X)``
means ``rename X.* AS *`` (it lives in Splunk's CIM app, not in ESCU).

Every failure is a ``MacroError`` naming the macro, its arity and the rule, with the span of the offending
call in the original text, so the CLI can put a caret under it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sqldetect.errors import Location, MacroError, Span

__all__ = ["Expansion", "Macro", "MacroLibrary", "Segment", "parse_macros_conf"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]*")
_ARG_NAME = re.compile(r"[A-Za-z0-9_\-]+\Z")
_NAMED_ARG = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*=(?!=)(.*)\Z", re.S)
_STANZA_ARITY = re.compile(r"(.+?)\((\d+)\)\Z")
_INTERESTING = re.compile(r'["`\\]')
_QUOTE_OR_ESCAPE = re.compile(r'["\\]')
_PLACEHOLDER = re.compile(r"\$([A-Za-z0-9_\-]+)\$")
_STRING_LITERAL = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*\Z', re.S)
_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n", ""})

#: The project's shipped defaults (seed-rule data macros, ESCU helpers), loaded by ``MacroLibrary.default()``.
DEFAULT_MACROS_RESOURCE = "macros.conf"


@dataclass(frozen=True)
class Macro:
    """One macro definition. Identity is ``(name, arity)``: Splunk overloads macros by argument count."""

    name: str
    definition: str
    args: tuple[str, ...] = ()
    iseval: bool = False
    source: str | None = None  # "file:line" of the definition, for error messages

    @property
    def arity(self) -> int:
        return len(self.args)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, len(self.args))

    @property
    def label(self) -> str:
        """``name`` or ``name(N)``, the spelling of a ``macros.conf`` stanza."""
        return _label(self.name, len(self.args))


@dataclass(frozen=True)
class Segment:
    """A region of the original text that expansion replaced: a macro call (``macro`` is its label, e.g.
    ``security_content_ctime(1)``) or a comment (``macro`` is ``None``)."""

    original: Span
    expanded: Span
    macro: str | None


@dataclass
class Expansion:
    """Expanded SPL plus the map back to the text the author wrote.

    Text outside ``segments`` was copied unchanged, so any position there maps back exactly; a position
    strictly inside a replaced region has no original counterpart.
    """

    original: str
    text: str
    segments: list[Segment] = field(default_factory=list)

    def to_original(self, span: Span) -> Span | None:
        """The original span an expanded span came from, or ``None`` when an end falls inside an expansion."""
        start = self._map(span.start, at_end=False)
        end = self._map(span.end, at_end=True)
        if start is None or end is None or end < start:
            return None
        return Span(start, end)

    def _map(self, pos: int, at_end: bool) -> int | None:
        delta = 0
        for seg in self.segments:
            exp, orig = seg.expanded, seg.original
            if pos < exp.start:
                break
            if exp.start == exp.end == pos:
                # Text that vanished (an empty stage): a span ends before it and starts after it.
                return orig.start if at_end else orig.end
            if pos == exp.start:
                return orig.start
            if pos < exp.end:
                return None
            if pos == exp.end:
                return orig.end
            delta = orig.end - exp.end
        return pos + delta

    @property
    def macros_used(self) -> list[str]:
        """Labels of the top-level macros called, in order of appearance."""
        return [s.macro for s in self.segments if s.macro is not None]


@dataclass(frozen=True)
class _Context:
    """Where the text being scanned sits, so errors can point into the original SPL."""

    rule_id: str | None
    original: str
    offset: int | None  # offset of the scanned text inside ``original``; None inside a macro body
    anchor: Span | None  # span of the outermost call, used when ``offset`` is None
    stack: tuple[tuple[str, int], ...] = ()

    def span(self, start: int, end: int) -> Span | None:
        if self.offset is not None:
            return Span(self.offset + start, self.offset + end)
        return self.anchor

    def inside_call(self, key: tuple[str, int], call_span: Span | None) -> _Context:
        """Context for scanning the body of the macro just called."""
        return _Context(self.rule_id, self.original, None, call_span, (*self.stack, key))

    def inside_argument(self, start: int) -> _Context:
        """Context for scanning an argument that starts at ``start`` of the current text."""
        offset = None if self.offset is None else self.offset + start
        return _Context(self.rule_id, self.original, offset, self.anchor, self.stack)


@dataclass
class _Call:
    name: str
    arg_spans: list[tuple[int, int]]
    start: int
    end: int


class MacroLibrary:
    """A set of macro definitions keyed by ``(name, arity)``, and the expander that uses them.

    Later definitions of the same name and arity replace earlier ones, as Splunk's configuration layering
    does, so ``MacroLibrary.default()`` followed by ``load(user_file)`` lets the user's file win.
    """

    def __init__(self, macros: Iterable[Macro] = ()) -> None:
        self._macros: dict[tuple[str, int], Macro] = {}
        self._arities: dict[str, set[int]] = {}
        #: Problems found while loading definition files (one bad stanza/record never stops the rest).
        self.errors: list[MacroError] = []
        for macro in macros:
            self.add_macro(macro)

    # ---------------------------------------------------------------------------------------------------
    # Building the library
    # ---------------------------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> MacroLibrary:
        """A library holding the project's shipped ``sqldetect/data/macros.conf``."""
        text = resources.files("sqldetect.data").joinpath(DEFAULT_MACROS_RESOURCE).read_text(encoding="utf-8")
        macros, errors = parse_macros_conf(text, f"sqldetect/data/{DEFAULT_MACROS_RESOURCE}")
        if errors:  # a broken shipped file is a packaging bug, not a user error
            raise errors[0]
        return cls(macros)

    def add(
        self,
        name: str,
        definition: str,
        args: Iterable[str] = (),
        *,
        iseval: bool = False,
        source: str | None = None,
    ) -> Macro:
        """Define (or redefine) ``name`` with the given argument names; returns the stored ``Macro``."""
        macro = Macro(name, definition, tuple(args), iseval=iseval, source=source)
        _check_macro(macro)
        self.add_macro(macro)
        return macro

    def add_macro(self, macro: Macro) -> None:
        self._macros[macro.key] = macro
        self._arities.setdefault(macro.name, set()).add(macro.arity)

    def load(self, path: str | Path) -> int:
        """Load definitions from a file chosen by extension: ``.conf`` (Splunk ``macros.conf``),
        ``.yml``/``.yaml`` (security_content macro files), ``.jsonl`` or ``.json``.

        Returns how many macros were added. A file that cannot be read or parsed at all raises
        ``MacroError``; a bad stanza or record is appended to ``errors`` and the rest still load.
        """
        p = Path(path)
        suffix = p.suffix.lower()
        loaders = {
            ".conf": parse_macros_conf,
            ".yml": _parse_yaml,
            ".yaml": _parse_yaml,
            ".jsonl": _parse_jsonl,
            ".json": _parse_json,
        }
        loader = loaders.get(suffix)
        if loader is None:
            raise MacroError(
                f"cannot tell the macro file format from the extension {suffix or '(none)'!r}; "
                "use .conf, .yml, .yaml, .jsonl or .json",
                Location(file=str(p)),
            )
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise MacroError(f"cannot read the macro file: {exc}", Location(file=str(p))) from exc
        macros, errors = loader(text, str(p))
        for macro in macros:
            self.add_macro(macro)
        self.errors.extend(errors)
        return len(macros)

    def get(self, name: str, arity: int) -> Macro | None:
        return self._macros.get((name, arity))

    def __contains__(self, key: object) -> bool:
        return key in self._macros

    def __len__(self) -> int:
        return len(self._macros)

    def __iter__(self) -> Iterator[Macro]:
        return iter(self._macros.values())

    # ---------------------------------------------------------------------------------------------------
    # Expansion
    # ---------------------------------------------------------------------------------------------------

    def expand(self, spl: str, rule_id: str | None = None) -> str:
        """Expand every macro call and comment in ``spl``; raises ``MacroError`` on the first bad call."""
        return self.expand_with_map(spl, rule_id).text

    def expand_with_map(self, spl: str, rule_id: str | None = None) -> Expansion:
        """Like ``expand`` but also return where each replaced region came from in ``spl``."""
        if "`" not in spl:
            return Expansion(spl, spl)
        segments: list[Segment] = []
        text = self._scan(spl, _Context(rule_id, spl, 0, None), segments)
        return Expansion(spl, text, segments)

    def _scan(self, text: str, ctx: _Context, segments: list[Segment] | None = None) -> str:
        """Expand one text (the rule, an argument, or a macro body); ``segments`` collects replaced regions."""
        if "`" not in text:
            return text
        out: list[str] = []
        out_len = 0
        pos = 0  # start of text not yet copied to ``out``
        i = 0
        n = len(text)
        while True:
            m = _INTERESTING.search(text, i)
            if m is None:
                break
            j = m.start()
            ch = text[j]
            if ch == "\\":  # an escaped character is never a quote or a backtick
                i = j + 2
                continue
            if ch == '"':
                i = _string_end(text, j)
                continue
            # a backtick: comment or macro call
            label: str | None
            if text.startswith("```", j):
                close = text.find("```", j + 3)
                if close < 0:
                    raise _error("unterminated ``` comment (no closing ```)", ctx, ctx.span(j, n))
                start, end, replacement, label = j, close + 3, " ", None
            else:
                call = _lex_call(text, j, ctx)
                replacement, label = self._expand_call(text, call, ctx)
                start, end = j, call.end
                if not replacement.strip():
                    start = _empty_stage_start(text, start, end, pos)
            out.append(text[pos:start])
            out_len += start - pos
            out.append(replacement)
            if segments is not None:
                segments.append(Segment(Span(start, end), Span(out_len, out_len + len(replacement)), label))
            out_len += len(replacement)
            pos = i = end
        out.append(text[pos:])
        return "".join(out)

    def _expand_call(self, text: str, call: _Call, ctx: _Context) -> tuple[str, str]:
        """Expand one call found in ``text``; returns the replacement text and the macro's label."""
        call_span = ctx.span(call.start, call.end)
        raw_args = [text[a:b] for a, b in call.arg_spans]
        if len(raw_args) == 1 and not raw_args[0].strip():
            raw_args = []  # `m()` is the zero-argument macro
        arity = len(raw_args)
        key = (call.name, arity)
        label = _label(call.name, arity)

        macro = self._macros.get(key) or _builtin(call.name, arity)
        if macro is None:
            known = sorted(self._arities.get(call.name, ()))
            if known:
                defined = ", ".join(_label(call.name, k) for k in known)
                raise _error(
                    f"macro `{call.name}` is not defined with {arity} argument{'s' if arity != 1 else ''} "
                    f"(defined: {defined})",
                    ctx,
                    call_span,
                )
            raise _error(f"unknown macro `{label}`", ctx, call_span)
        if key in ctx.stack:
            cycle = " → ".join(f"`{_label(*k)}`" for k in (*ctx.stack[ctx.stack.index(key) :], key))
            raise _error(f"macro cycle: {cycle}", ctx, call_span, chain=False)
        # Arguments may hold macro calls: expand them first, then drop enclosing quotes.
        values = [
            self._scan(raw, ctx.inside_argument(a))
            for raw, (a, _b) in zip(raw_args, call.arg_spans, strict=False)
        ]
        bound = _bind_arguments(macro, values, ctx, call_span)
        body = _PLACEHOLDER.sub(lambda m: bound.get(m.group(1), m.group(0)), macro.definition)
        if macro.iseval:
            literal = _STRING_LITERAL.match(body)
            if literal is None:
                where = f" (defined at {macro.source})" if macro.source else ""
                raise _error(
                    f"macro `{label}` is an eval-based macro (iseval = true){where}: unsupported, "
                    "only an eval macro whose definition is a single string literal can be expanded",
                    ctx,
                    call_span,
                )
            body = _unescape_quotes(literal.group(1)).replace("\\\\", "\\")
        return self._scan(body, ctx.inside_call(key, call_span)), label


# --------------------------------------------------------------------------------------------------------------
# Lexing helpers
# --------------------------------------------------------------------------------------------------------------


def _string_end(text: str, start: int) -> int:
    """Index just past the double-quoted string opening at ``start`` (end of text when unterminated)."""
    i = start + 1
    while True:
        m = _QUOTE_OR_ESCAPE.search(text, i)
        if m is None:
            return len(text)
        if m.group() == "\\":
            i = m.start() + 2
            continue
        return m.start() + 1


def _lex_call(text: str, start: int, ctx: _Context) -> _Call:
    """Read the macro call whose opening backtick is at ``start`` (arguments are located, not expanded)."""
    n = len(text)
    m = _NAME.match(text, start + 1)
    if m is None:
        raise _error(
            "a backtick must open a macro call like `name` or `name(arg, ...)` (or a ``` comment)",
            ctx,
            ctx.span(start, start + 1),
        )
    name = m.group()
    i = m.end()
    if i < n and text[i] == "`":
        return _Call(name, [], start, i + 1)
    if i >= n or text[i] != "(":
        raise _error(
            f"macro call `{name}` is not closed: expected ` or ( after the name",
            ctx,
            ctx.span(start, min(i + 1, n)),
        )
    args: list[tuple[int, int]] = []
    depth = 1
    arg_start = i + 1
    i += 1
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
            continue
        if c == "\\":
            i += 2
            continue
        if c == "`":  # a nested call or comment inside an argument: skip over it whole
            if text.startswith("```", i):
                close = text.find("```", i + 3)
                i = n if close < 0 else close + 3
            else:
                i = _lex_call(text, i, ctx).end
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append((arg_start, i))
                i += 1
                break
        elif c == "," and depth == 1:
            args.append((arg_start, i))
            arg_start = i + 1
        i += 1
    else:
        raise _error(f"macro call `{name}(...` is not closed: missing )", ctx, ctx.span(start, n))
    if i >= n or text[i] != "`":
        raise _error(
            f"macro call `{name}(...)` is not closed: expected a backtick after )",
            ctx,
            ctx.span(start, min(i + 1, n)),
        )
    return _Call(name, args, start, i + 1)


def _empty_stage_start(text: str, start: int, end: int, copied_from: int) -> int:
    """If the call at ``start..end`` is a whole pipeline stage, return where its ``|`` (and the space before
    it) starts, so the stage goes away with the call; otherwise return ``start`` unchanged."""
    k = start - 1
    while k >= copied_from and text[k].isspace():
        k -= 1
    if k < copied_from or text[k] != "|":
        return start
    after = end
    while after < len(text) and text[after].isspace():
        after += 1
    if after == len(text) or text[after] in "|]":
        while k > copied_from and text[k - 1].isspace():  # the space before the `|` goes with it
            k -= 1
        return k
    return start


def _bind_arguments(macro: Macro, values: list[str], ctx: _Context, call_span: Span | None) -> dict[str, str]:
    """Map argument names to values, positionally or by name.

    A call is taken as *named* when every argument looks like ``name=value`` and those names are the
    macro's argument names. When none of the names is an argument name the call is positional (the ``=`` is
    part of a value such as ``index=main``); a mix of known and unknown names is an error.
    """
    label = macro.label
    named = [_NAMED_ARG.match(v) for v in values]
    if values and all(named):
        names = [m.group(1) for m in named if m is not None]
        declared = set(macro.args)
        hits = [nm for nm in names if nm in declared]
        if hits:
            unknown = [nm for nm in names if nm not in declared]
            if unknown:
                raise _error(
                    f"macro `{label}` has no argument named `{unknown[0]}` (arguments: {', '.join(macro.args)})",
                    ctx,
                    call_span,
                )
            if len(set(names)) != len(names):
                dup = next(nm for nm in names if names.count(nm) > 1)
                raise _error(f"macro `{label}`: argument `{dup}` is given twice", ctx, call_span)
            return {m.group(1): _strip_quotes(m.group(2)) for m in named if m is not None}
    return {name: _strip_quotes(v) for name, v in zip(macro.args, values, strict=True)}


def _strip_quotes(value: str) -> str:
    """Trim an argument; when it is one double-quoted string, drop the quotes and unescape ``\\"``."""
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and _string_end(value, 0) == len(value) and value[-1] == '"':
        return _unescape_quotes(value[1:-1])
    return value


def _unescape_quotes(value: str) -> str:
    return value.replace('\\"', '"')


def _label(name: str, arity: int) -> str:
    return f"{name}({arity})" if arity else name


def _builtin(name: str, arity: int) -> Macro | None:
    """Macros every ESCU rule assumes but the ESCU macro files do not define."""
    if arity == 0 and name.endswith("_filter"):
        return Macro(name, "", source="built-in (per-detection tuning placeholder)")
    if name == "drop_dm_object_name" and arity == 1:
        return Macro(name, "rename $object$.* AS *", ("object",), source="built-in (Splunk CIM app)")
    return None


def _error(message: str, ctx: _Context, span: Span | None, chain: bool = True) -> MacroError:
    """A MacroError at ``span``; ``chain`` appends the macros being expanded when the error happened."""
    if chain and ctx.stack:
        chain = " → ".join(f"`{_label(*k)}`" for k in ctx.stack)
        message = f"{message} (while expanding {chain})"
    return MacroError(message, Location(rule_id=ctx.rule_id, source=ctx.original, span=span))


# --------------------------------------------------------------------------------------------------------------
# Definition files
# --------------------------------------------------------------------------------------------------------------


def _check_macro(macro: Macro) -> None:
    """Reject argument lists Splunk would reject: bad names or repeats."""
    where = Location(file=macro.source)
    if not _NAME.fullmatch(macro.name):
        raise MacroError(f"invalid macro name {macro.name!r}", where)
    for arg in macro.args:
        if not _ARG_NAME.match(arg):
            raise MacroError(
                f"macro `{macro.label}`: invalid argument name {arg!r} (letters, digits, _ and - only)", where
            )
    if len(set(macro.args)) != len(macro.args):
        raise MacroError(f"macro `{macro.label}`: an argument name is repeated in {list(macro.args)}", where)


def parse_macros_conf(text: str, source: str | None = None) -> tuple[list[Macro], list[MacroError]]:
    """Parse Splunk ``macros.conf`` text into macros and per-stanza errors.

    Understood: ``[name]`` / ``[name(N)]`` stanzas, ``args``, ``definition``, ``iseval``, ``#`` comment
    lines, and a trailing backslash continuing a value on the next line (the line break is kept as a
    newline, which SPL treats as a space). ``iseval = true`` macros are loaded but refuse to expand unless
    the definition is a single string literal. ``validation``, ``errormsg`` and ``description`` are ignored:
    they only guard interactive use in Splunk and never change an expansion. Keys before the first stanza and
    the ``[default]`` stanza are ignored. A stanza repeated later in the file overrides earlier keys.
    """
    stanzas: dict[str, tuple[int, dict[str, str]]] = {}
    order: list[str] = []
    errors: list[MacroError] = []
    current: dict[str, str] | None = None
    for lineno, line in _conf_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1].strip()
            if name not in stanzas:
                stanzas[name] = (lineno, {})
                order.append(name)
            current = stanzas[name][1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            errors.append(
                MacroError(
                    f"line {lineno}: expected `key = value` or `[stanza]`, got {stripped!r}", _loc(source)
                )
            )
            continue
        if current is not None:
            current[key.strip().lower()] = value.strip()
    macros: list[Macro] = []
    for name in order:
        lineno, keys = stanzas[name]
        if name == "default":
            continue
        try:
            macros.append(_conf_macro(name, keys, f"{source}:{lineno}" if source else f"line {lineno}"))
        except MacroError as exc:
            errors.append(MacroError(f"line {lineno}: stanza [{name}]: {exc.message}", _loc(source)))
    return macros, errors


def _conf_lines(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with the number of their first physical line; ``\\`` + newline joins lines."""
    physical = text.splitlines()
    i = 0
    while i < len(physical):
        start = i
        line = physical[i]
        while line.endswith("\\") and i + 1 < len(physical):
            i += 1
            line = line[:-1] + "\n" + physical[i]
        yield start + 1, line
        i += 1


def _conf_macro(stanza: str, keys: dict[str, str], source: str) -> Macro:
    m = _STANZA_ARITY.match(stanza)
    name, arity = (m.group(1).strip(), int(m.group(2))) if m else (stanza, 0)
    args = tuple(a.strip() for a in keys.get("args", "").split(",") if a.strip())
    if len(args) != arity:
        raise MacroError(
            f"the stanza name says {arity} argument{'s' if arity != 1 else ''} but `args` lists {len(args)}",
            _loc(source),
        )
    if "definition" not in keys:
        raise MacroError("missing `definition`", _loc(source))
    iseval = _conf_bool(keys.get("iseval", "false"), "iseval", source)
    macro = Macro(name, keys["definition"], args, iseval=iseval, source=source)
    _check_macro(macro)
    return macro


def _conf_bool(value: str, key: str, source: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise MacroError(f"`{key}` must be true or false, got {value!r}", _loc(source))


def _record_macro(record: Any, source: str) -> Macro:
    """A security_content-style record: ``name``, ``definition``, ``arguments`` (list of names)."""
    if not isinstance(record, dict):
        raise MacroError(f"a macro record must be a mapping, got {type(record).__name__}", _loc(source))
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MacroError("missing or non-string `name`", _loc(source))
    if "definition" not in record:
        raise MacroError(f"macro `{name}`: missing `definition`", _loc(source))
    definition = record["definition"]
    if definition is None:
        definition = ""
    elif not isinstance(definition, str):
        raise MacroError(
            f"macro `{name}`: `definition` must be a string, got {type(definition).__name__}", _loc(source)
        )
    arguments = record.get("arguments") or record.get("args") or []
    if isinstance(arguments, str):
        arguments = [a.strip() for a in arguments.split(",") if a.strip()]
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise MacroError(f"macro `{name}`: `arguments` must be a list of names", _loc(source))
    m = _STANZA_ARITY.match(name)
    if m:
        name = m.group(1).strip()
        if int(m.group(2)) != len(arguments):
            raise MacroError(
                f"macro `{name}`: the name says {m.group(2)} arguments but `arguments` lists {len(arguments)}",
                _loc(source),
            )
    iseval = record.get("iseval", False)
    iseval = _conf_bool(str(iseval), "iseval", source) if not isinstance(iseval, bool) else iseval
    macro = Macro(name.strip(), definition, tuple(arguments), iseval=iseval, source=source)
    _check_macro(macro)
    return macro


def _records(items: Iterable[tuple[Any, str]]) -> tuple[list[Macro], list[MacroError]]:
    macros: list[Macro] = []
    errors: list[MacroError] = []
    for record, where in items:
        try:
            macros.append(_record_macro(record, where))
        except MacroError as exc:
            errors.append(exc)
    return macros, errors


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]


class _MacroLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe YAML loader that keeps a scalar ``definition`` as the text written.

    ESCU writes ``definition: false`` and ``definition: null``; as SPL those are the words ``false`` and
    ``null``, not a boolean and a missing value.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "definition"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag != "tag:yaml.org,2002:str"
            ):
                mapping["definition"] = value_node.value
        return mapping


def _parse_yaml(text: str, source: str) -> tuple[list[Macro], list[MacroError]]:
    try:
        docs = [d for d in yaml.load_all(text, Loader=_MacroLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise MacroError(f"YAML syntax error{at}: {getattr(exc, 'problem', exc)}", _loc(source)) from exc
    items: list[Any] = []
    for doc in docs:
        items.extend(doc if isinstance(doc, list) else [doc])
    return _records((item, source) for item in items)


def _parse_jsonl(text: str, source: str) -> tuple[list[Macro], list[MacroError]]:
    items: list[tuple[Any, str]] = []
    errors: list[MacroError] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((json.loads(line), f"{source}:{lineno}"))
        except json.JSONDecodeError as exc:
            errors.append(MacroError(f"line {lineno}: invalid JSON ({exc.msg})", _loc(source)))
    macros, more = _records(items)
    return macros, errors + more


def _parse_json(text: str, source: str) -> tuple[list[Macro], list[MacroError]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MacroError(f"invalid JSON at line {exc.lineno}: {exc.msg}", _loc(source)) from exc
    if isinstance(doc, dict) and isinstance(doc.get("macros"), list):
        doc = doc["macros"]
    items = doc if isinstance(doc, list) else [doc]
    return _records((item, f"{source}[{i}]") for i, item in enumerate(items))


def _loc(source: str | None) -> Location:
    return Location(file=source)
