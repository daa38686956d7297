"""Parser of the ``search`` expression language (also ``tstats where``, ``inputlookup where``, ``startswith=``).

Grammar (precedence: parentheses > NOT > OR > AND, as Splunk documents; operators only in UPPERCASE)::

    and_expr := or_expr ( [AND] or_expr )*          -- juxtaposition is AND
    or_expr  := not_expr ( OR not_expr )*
    not_expr := NOT not_expr | primary
    primary  := "(" and_expr ")" | "[" subsearch "]" | leaf
    leaf     := field IN "(" value ("," value)* ")" | field op value | TERM(x) | CASE(x) | PREFIX(x)
              | "quoted phrase" | bare-term

so ``A B OR C`` is ``A AND (B OR C)`` and ``error NOT 403 OR 404`` is ``error AND ((NOT 403) OR 404)``.

Leaves are recognised with compiled regular expressions anchored at the current offset (possessive
quantifiers, so no backtracking), and the bracket structure found by the scanner lets a group or a
subsearch be skipped in one step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqldetect.errors import Span
from sqldetect.spl.ast import (
    SearchAnd,
    SearchCompare,
    SearchExpr,
    SearchIn,
    SearchNot,
    SearchOr,
    SearchSubsearch,
    SearchTerm,
    SearchValue,
    TimeModifier,
)
from sqldetect.spl.context import ParseContext
from sqldetect.spl.strings import bare_chars, unescape

#: Field names that are time modifiers when written ``name=value`` (exact, lower-case spelling).
TIME_MODIFIERS = frozenset(
    {
        "earliest", "latest", "_index_earliest", "_index_latest", "starttime", "endtime", "starttimeu",
        "endtimeu", "daysago", "hoursago", "minutesago", "monthsago", "searchtimespandays",
        "searchtimespanhours", "searchtimespanminutes", "searchtimespanmonths", "timeformat",
    }
)

_QUOTED = r'"(?:[^"\\]++|\\.)*+"'
_NOT_IN_FIELD = r'\s()\[\]"=!<>,'
# A field name: anything up to whitespace, a bracket, a quote, a comparison operator or a comma
# (so ``Processes.process_name``, ``winlog.event_data.Image``, ``a{}.b``, ``@timestamp`` all work).
_FIELD = rf'(?:{bare_chars(_NOT_IN_FIELD)}++|{_QUOTED})'
_SPACE = re.compile(r"\s++")
_COMPARE = re.compile(rf"({_FIELD})\s*+(!=|<=|>=|=|<|>)\s*+", re.DOTALL)
_IN = re.compile(rf"({_FIELD})\s++IN\s*+\(", re.DOTALL)
_MODIFIER = re.compile(r"(TERM|CASE|PREFIX)\(")
_QUOTED_RE = re.compile(_QUOTED, re.DOTALL)
# A bare term ends at whitespace, a bracket or a quote (``NOT[ ... ]`` and ``a"b c"`` split there).
_BARE_TERM = re.compile(bare_chars(r'\s()\[\]"') + "++")
# A bare value after ``op`` ends at whitespace, a bracket or a quote, but keeps a parenthesised piece
# without spaces (``x=f(1)``).
_VALUE_PIECE = bare_chars(r'\s()\[\]"')
_BARE_VALUE = re.compile(rf"{_VALUE_PIECE}++(?:\({_VALUE_PIECE}*+\){_VALUE_PIECE}*+)*+")
_IN_VALUE = re.compile(bare_chars(r'\s(),"') + "++")

_EOF, _LPAREN, _RPAREN, _SUBSEARCH, _LEAF, _AND, _OR, _NOT, _STOP = (
    "end", "(", ")", "[", "leaf", "AND", "OR", "NOT", "stop"
)
_KEYWORDS = {"AND": _AND, "OR": _OR, "NOT": _NOT}
_ENDS_OPERAND = (_EOF, _RPAREN, _STOP, _AND, _OR)


@dataclass
class _Token:
    kind: str
    start: int
    end: int
    node: SearchExpr | None = None
    close: int = -1  # partner of "(" / "["


class SearchParser:
    """Parses ``ctx.source[start:end]`` as a search expression.

    ``stop_words`` (lower-case) end the expression when met as a bare word, e.g. ``by`` after
    ``tstats ... where``; ``self.pos`` then points at the stop word.
    """

    def __init__(self, ctx: ParseContext, start: int, end: int, stop_words: frozenset[str] = frozenset()) -> None:
        self.ctx = ctx
        self.text = ctx.source
        self.pos = start
        self.end = end
        self.stop_words = stop_words
        self._cached: _Token | None = None

    # ---------------------------------------------------------------------------------------------- grammar

    def parse(self) -> SearchExpr | None:
        """The whole expression (``None`` when there is nothing before the end or a stop word)."""
        expr = self._and()
        token = self._peek()
        if token.kind == _RPAREN:
            raise self.ctx.error("unbalanced ')': no '(' before it", token.start)
        return expr

    def _and(self) -> SearchExpr | None:
        operands: list[SearchExpr] = []
        while True:
            token = self._peek()
            if token.kind in (_EOF, _RPAREN, _STOP):
                break
            if token.kind == _AND:
                if not operands:
                    raise self.ctx.error("AND needs a search term before it", token.start, token.end)
                self._advance()
                if self._peek().kind in _ENDS_OPERAND:
                    raise self.ctx.error("AND needs a search term after it", token.start, token.end)
                continue
            if token.kind == _OR:
                raise self.ctx.error("OR needs a search term before it", token.start, token.end)
            operands.append(self._or())
        if not operands:
            return None
        if len(operands) == 1:
            return operands[0]
        return SearchAnd(operands, operands[0].span.cover(operands[-1].span))

    def _or(self) -> SearchExpr:
        operands = [self._not()]
        while self._peek().kind == _OR:
            token = self._advance()
            if self._peek().kind in _ENDS_OPERAND:
                raise self.ctx.error("OR needs a search term after it", token.start, token.end)
            operands.append(self._not())
        if len(operands) == 1:
            return operands[0]
        return SearchOr(operands, operands[0].span.cover(operands[-1].span))

    def _not(self) -> SearchExpr:
        token = self._peek()
        if token.kind != _NOT:
            return self._primary()
        self._advance()
        if self._peek().kind in _ENDS_OPERAND:
            raise self.ctx.error("NOT needs a search term after it", token.start, token.end)
        with self.ctx.nested(token.start):
            operand = self._not()
        return SearchNot(operand, Span(token.start, operand.span.end))

    def _primary(self) -> SearchExpr:
        token = self._advance()
        if token.kind == _LEAF:
            assert token.node is not None
            return token.node
        if token.kind == _LPAREN:
            with self.ctx.nested(token.start):
                inner = SearchParser(self.ctx, token.start + 1, token.close).parse()
            if inner is None:
                # ``()`` (e.g. a macro that expanded to nothing): an empty conjunction, true for every event.
                return SearchAnd([], Span(token.start, token.close + 1))
            return inner
        if token.kind == _SUBSEARCH:
            pipeline = self.ctx.subpipeline(token.start, commands_first=False)
            return SearchSubsearch(pipeline, Span(token.start, token.close + 1))
        raise self.ctx.error(f"unexpected {self.text[token.start:token.end]!r} in search", token.start, token.end)

    # ----------------------------------------------------------------------------------------------- tokens

    def _peek(self) -> _Token:
        if self._cached is None or self._cached.start < self.pos:
            self._cached = self._lex()
        return self._cached

    def _advance(self) -> _Token:
        token = self._peek()
        self.pos = token.end
        self._cached = None
        return token

    def _lex(self) -> _Token:
        text, end = self.text, self.end
        space = _SPACE.match(text, self.pos, end)
        pos = space.end() if space else self.pos
        self.pos = pos
        if pos >= end:
            return _Token(_EOF, end, end)
        char = text[pos]
        if char == "(":
            return _Token(_LPAREN, pos, self.ctx.closing[pos] + 1, close=self.ctx.closing[pos])
        if char == "[":
            return _Token(_SUBSEARCH, pos, self.ctx.closing[pos] + 1, close=self.ctx.closing[pos])
        if char == ")":
            return _Token(_RPAREN, pos, pos + 1)
        if char == "]":  # pragma: no cover - the scanner pairs every bracket and lexers skip whole pairs
            raise self.ctx.error("unexpected ']' in search", pos)
        match = _IN.match(text, pos, end)
        if match:
            return self._in_list(match)
        match = _COMPARE.match(text, pos, end)
        if match:
            return self._compare(match)
        match = _MODIFIER.match(text, pos, end)
        if match:
            value = self._modified_value(pos, match)
            return _Token(_LEAF, pos, value.span.end, node=SearchTerm(value, value.span))
        if char == '"':
            value = self._quoted_value(pos)
            return _Token(_LEAF, pos, value.span.end, node=SearchTerm(value, value.span))
        match = _BARE_TERM.match(text, pos, end)
        if match is None:  # pragma: no cover - every other character starts a bare term
            raise self.ctx.error(f"unexpected character {char!r} in search", pos)
        word = match.group()
        keyword = _KEYWORDS.get(word)
        if keyword is not None:
            return _Token(keyword, pos, match.end())
        if word.lower() in self.stop_words:
            return _Token(_STOP, pos, match.end())
        span = Span(pos, match.end())
        return _Token(_LEAF, pos, match.end(), node=SearchTerm(SearchValue(unescape(word), span), span))

    # --------------------------------------------------------------------------------------------- leaves

    def _field_name(self, raw: str) -> str:
        return unescape(raw[1:-1]) if raw.startswith('"') else raw

    def _compare(self, match: re.Match[str]) -> _Token:
        raw_field, op = match.group(1), match.group(2)
        field = self._field_name(raw_field)
        field_span = Span(match.start(1), match.end(1))
        value = self._value(match.end(), f"{raw_field}{op}", match.start(2))
        span = Span(match.start(), value.span.end)
        if op == "=" and not raw_field.startswith('"') and field in TIME_MODIFIERS:
            return _Token(_LEAF, span.start, span.end, node=TimeModifier(field, value.text, span))
        node = SearchCompare(field, op, value, span, field_span=field_span)
        return _Token(_LEAF, span.start, span.end, node=node)

    def _value(self, pos: int, after: str, op_at: int) -> SearchValue:
        text, end = self.text, self.end
        if pos < end:
            match = _MODIFIER.match(text, pos, end)
            if match and match.group(1) != "PREFIX":
                return self._modified_value(pos, match)
            if text[pos] == '"':
                return self._quoted_value(pos)
            match = _BARE_VALUE.match(text, pos, end)
            if match:
                return SearchValue(unescape(match.group()), Span(pos, match.end()))
        raise self.ctx.error(f"missing value after {after!r}", op_at, pos)

    def _quoted_value(self, pos: int) -> SearchValue:
        match = _QUOTED_RE.match(self.text, pos, self.end)
        if match is None:
            raise self.ctx.error("unbalanced quotes: this '\"' is never closed", pos)
        return SearchValue(unescape(match.group()[1:-1]), Span(pos, match.end()), quoted=True)

    def _modified_value(self, pos: int, match: re.Match[str]) -> SearchValue:
        open_at = match.end() - 1
        close = self.ctx.closing[open_at]
        inner = self.text[open_at + 1 : close].strip()
        quoted = len(inner) >= 2 and inner[0] == inner[-1] == '"'
        body = unescape(inner[1:-1]) if quoted else unescape(inner)
        if not body and not quoted:
            raise self.ctx.error(f"{match.group(1)}() needs a value", pos, close + 1)
        return SearchValue(body, Span(pos, close + 1), quoted=quoted, modifier=match.group(1))

    def _in_list(self, match: re.Match[str]) -> _Token:
        """``field IN (v1, "v 2", v3*)``. Empty entries (``a,,b`` or a trailing comma, both in ESCU) are
        ignored; values may also be separated by whitespace alone."""
        field = self._field_name(match.group(1))
        open_at = match.end() - 1
        close = self.ctx.closing[open_at]
        values: list[SearchValue] = []
        pos = open_at + 1
        text = self.text
        while True:
            space = _SPACE.match(text, pos, close)
            if space:
                pos = space.end()
            if pos >= close:
                break
            char = text[pos]
            if char == ",":
                pos += 1
                continue
            if char == '"':
                value = self._quoted_value(pos)
            else:
                bare = _IN_VALUE.match(text, pos, close)
                if bare is None:
                    raise self.ctx.error(f"unexpected {char!r} in IN list", pos)
                value = SearchValue(unescape(bare.group()), Span(pos, bare.end()))
            values.append(value)
            pos = value.span.end
        if not values:
            raise self.ctx.error(f"IN list of {field!r} is empty", open_at, close + 1)
        span = Span(match.start(), close + 1)
        return _Token(_LEAF, span.start, span.end, node=SearchIn(field, values, span))


def parse_search(
    ctx: ParseContext, start: int, end: int, stop_words: frozenset[str] = frozenset()
) -> tuple[SearchExpr | None, int]:
    """Parse a search expression in ``ctx.source[start:end]``; return it and the offset where it stopped."""
    parser = SearchParser(ctx, start, end, stop_words)
    expr = parser.parse()
    return expr, parser.pos
