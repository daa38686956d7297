"""Parser of the eval expression language (``eval``, ``where``, ``eval(...)`` in aggregations, ``head (...)``).

Precedence, lowest to highest (docs/semantics.md, "SPL parser")::

    XOR < OR < AND < NOT (keyword) < comparison (= == != < <= > >= LIKE, [NOT] IN (...))
        < + - . (concatenation) < * / % < unary - + ! NOT < call / atom

Keywords ``AND OR XOR NOT LIKE IN`` are case-insensitive here (the seed rule writes ``and``). ``!`` binds
tightly like in C (``!isnull(x)``), while the keyword ``NOT`` at the start of an operand negates a whole
comparison (``NOT a=b`` is ``NOT (a=b)``). Binary levels are parsed by precedence climbing, so a group
costs a few Python frames, not one per precedence level.

Atoms: numbers (``12``, ``1.5``, ``1e3``, ``0x1F``), double-quoted strings (unescaped), single-quoted field
names (``'Processes.process'``), bare field names (``a.b``, ``x{}.y``, ``@t``, ``a:b``; ``-`` is minus), and
calls ``name(args)``; ``true()``, ``false()``, ``null()`` are calls. A bare name followed by ``(`` is a
call, so ``in(x, "a")`` and ``like(x, "a%")`` work as functions too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqldetect.errors import Span
from sqldetect.spl.ast import BinaryOp, Call, EvalExpr, FieldRef, InList, Literal, UnaryOp
from sqldetect.spl.context import ParseContext
from sqldetect.spl.strings import unescape, unescape_single

_TOKEN = re.compile(
    r"""
    \s*+(?:
      (?P<number>0[xX][0-9a-fA-F]++|(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?)
    | (?P<string>"(?:[^"\\]++|\\.)*+")
    | (?P<quoted_field>'(?:[^'\\]++|\\.)*+')
    | (?P<name>[A-Za-z_@{}$][\w@:{}$]*+(?:\.[\w@:{}$]++)*+)
    | (?P<op>==|!=|<=|>=|[=<>+\-*/%.!(),])
    | (?P<other>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)

_BINARY_PRECEDENCE = {
    "XOR": 1,
    "OR": 2,
    "AND": 3,
    # 4: the NOT keyword (prefix)
    "=": 5, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5, "LIKE": 5, "IN": 5,
    "+": 6, "-": 6, ".": 6,
    "*": 7, "/": 7, "%": 7,
}
_NOT_PRECEDENCE = 4
_COMPARISON = 5
_KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "IN"})
#: Deepest eval tree accepted (see ``_check_depth``); real rules stay far below it.
MAX_TREE_DEPTH = 200


@dataclass
class _Token:
    kind: str  # number | string | quoted_field | name | op | keyword | other | end
    text: str
    start: int
    end: int


class EvalParser:
    """Parses one eval expression starting at ``start``, never reading at or past ``end``."""

    def __init__(self, ctx: ParseContext, start: int, end: int) -> None:
        self.ctx = ctx
        self.text = ctx.source
        self.pos = start
        self.end = end
        self._cached: _Token | None = None

    # ----------------------------------------------------------------------------------------------- tokens

    def peek(self) -> _Token:
        if self._cached is None:
            self._cached = self._lex(self.pos)
        return self._cached

    def advance(self) -> _Token:
        token = self.peek()
        self.pos = token.end
        self._cached = None
        return token

    def _lex(self, pos: int) -> _Token:
        match = _TOKEN.match(self.text, pos, self.end)
        if match is None:  # only whitespace is left
            return _Token("end", "", self.end, self.end)
        kind = match.lastgroup or "end"
        text = match.group(kind)
        if kind == "name" and text.upper() in _KEYWORDS:
            return _Token("keyword", text.upper(), match.start(kind), match.end())
        return _Token(kind, text, match.start(kind), match.end())

    def _is_binary(self, token: _Token) -> str | None:
        if token.kind == "op" and token.text in _BINARY_PRECEDENCE:
            return token.text
        if token.kind == "keyword" and token.text in _BINARY_PRECEDENCE:
            return token.text
        return None

    # ---------------------------------------------------------------------------------------------- grammar

    def parse_expression(self) -> EvalExpr:
        """One full expression; stops before a token that cannot continue it (``,``, ``)``, end)."""
        expr = self._binary(1)
        _check_depth(self.ctx, expr)
        return expr

    def _binary(self, min_precedence: int) -> EvalExpr:
        if min_precedence <= _NOT_PRECEDENCE:
            token = self.peek()
            if token.kind == "keyword" and token.text == "NOT":
                self.advance()
                with self.ctx.nested(token.start):
                    operand = self._binary(_NOT_PRECEDENCE)
                left: EvalExpr = UnaryOp("NOT", operand, Span(token.start, operand.span.end))
                return self._binary_rest(left, min_precedence)
        return self._binary_rest(self._unary(), min_precedence)

    def _binary_rest(self, left: EvalExpr, min_precedence: int) -> EvalExpr:
        while True:
            token = self.peek()
            op = self._is_binary(token)
            negated_in = False
            if op is None and token.kind == "keyword" and token.text == "NOT" and min_precedence <= _COMPARISON:
                # ``x NOT IN (...)`` / ``x NOT LIKE y``
                after = self._lex(token.end)
                if after.kind == "keyword" and after.text in ("IN", "LIKE"):
                    op, negated_in = after.text, True
                    self.advance()
                    token = after
            if op is None:
                return left
            precedence = _BINARY_PRECEDENCE[op]
            if precedence < min_precedence:
                if negated_in:  # pragma: no cover - NOT IN only reached at comparison level or below
                    raise self.ctx.error("misplaced NOT", token.start)
                return left
            self.advance()
            if op == "IN":
                left = self._in_list(left, token, negated_in)
                continue
            right = self._binary(precedence + 1)
            span = left.span.cover(right.span)
            node: EvalExpr = BinaryOp(op, left, right, span)
            if negated_in:  # NOT LIKE
                node = UnaryOp("NOT", node, span)
            left = node

    def _in_list(self, operand: EvalExpr, token: _Token, negated: bool) -> EvalExpr:
        opening = self.advance()
        if opening.text != "(" or opening.kind != "op":
            raise self.ctx.error("expected '(' after IN", opening.start, opening.end)
        values = self._arguments(opening)
        if not values:
            raise self.ctx.error("IN list is empty", opening.start, self.pos)
        return InList(operand, values, Span(operand.span.start, self.pos), negated=negated)

    def _unary(self) -> EvalExpr:
        token = self.peek()
        if (token.kind == "op" and token.text in ("-", "+", "!")) or (
            token.kind == "keyword" and token.text == "NOT"
        ):
            self.advance()
            with self.ctx.nested(token.start):
                operand = self._unary()
            op = "NOT" if token.text in ("!", "NOT") else token.text
            return UnaryOp(op, operand, Span(token.start, operand.span.end))
        return self._atom()

    def _atom(self) -> EvalExpr:
        token = self.advance()
        kind = token.kind
        span = Span(token.start, token.end)
        if kind == "number":
            return Literal(_number(token.text), span, text=token.text)
        if kind == "string":
            return Literal(unescape(token.text[1:-1]), span, text=token.text)
        if kind == "quoted_field":
            return FieldRef(unescape_single(token.text), span, quoted=True)
        if kind in ("name", "keyword"):
            following = self.peek()
            if following.kind == "op" and following.text == "(" and token.text not in ("AND", "OR", "XOR", "NOT"):
                self.advance()
                name = token.text if kind == "name" else self.text[token.start : token.end]
                args = self._arguments(following)
                return Call(name, args, Span(token.start, self.pos), name_span=span)
            if kind == "keyword":
                raise self.ctx.error(f"expected a value, found the keyword {token.text}", token.start, token.end)
            return FieldRef(token.text, span)
        if kind == "op" and token.text == "(":
            with self.ctx.nested(token.start):
                inner = self._binary(1)
            closing = self.advance()
            if closing.kind != "op" or closing.text != ")":
                raise self._unexpected(closing, "expected ')'")
            return inner
        if kind == "end":
            raise self.ctx.error("expression ends too early: expected a value", token.start)
        raise self._unexpected(token, "expected a value")

    def _arguments(self, opening: _Token) -> list[EvalExpr]:
        """Comma-separated expressions up to the ``)`` matching ``opening``."""
        args: list[EvalExpr] = []
        if self.peek().kind == "op" and self.peek().text == ")":
            self.advance()
            return args
        with self.ctx.nested(opening.start):
            while True:
                args.append(self._binary(1))
                token = self.advance()
                if token.kind == "op" and token.text == ")":
                    return args
                if token.kind != "op" or token.text != ",":
                    raise self._unexpected(token, "expected ',' or ')' in argument list")

    def _unexpected(self, token: _Token, expected: str):
        if token.kind == "end":
            return self.ctx.error(f"expression ends too early: {expected}", token.start)
        return self.ctx.error(f"{expected}, found {self.text[token.start:token.end]!r}", token.start, token.end)


def _check_depth(ctx: ParseContext, expr: EvalExpr) -> None:
    """Reject trees deeper than ``MAX_TREE_DEPTH``: a long operator chain (``a+b+c+...``) is parsed in a loop
    but becomes a deep tree, which would break every recursive consumer (printer, translator)."""
    stack: list[tuple[EvalExpr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise ctx.error(f"expression too deeply nested (more than {MAX_TREE_DEPTH} levels)", expr.span.start,
                            expr.span.end)
        if isinstance(node, BinaryOp):
            stack.append((node.left, depth + 1))
            stack.append((node.right, depth + 1))
        elif isinstance(node, UnaryOp):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, Call):
            stack.extend((arg, depth + 1) for arg in node.args)
        elif isinstance(node, InList):
            stack.append((node.operand, depth + 1))
            stack.extend((value, depth + 1) for value in node.values)


def _number(text: str) -> int | float:
    if text[:2] in ("0x", "0X"):
        return int(text, 16)
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def parse_eval(ctx: ParseContext, start: int, end: int) -> EvalExpr:
    """Parse ``ctx.source[start:end]`` as exactly one eval expression (an error if anything is left over)."""
    parser = EvalParser(ctx, start, end)
    if parser.peek().kind == "end":
        raise ctx.error("missing expression", start, end)
    expr = parser.parse_expression()
    token = parser.peek()
    if token.kind != "end":
        raise ctx.error(
            f"unexpected {ctx.source[token.start:token.end]!r} after the expression", token.start, token.end
        )
    return expr
