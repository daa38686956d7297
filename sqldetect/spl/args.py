"""Lexer and helpers for command arguments (everything after a command name that is not an expression).

Command arguments are words, ``key=value`` options, double-quoted strings, commas, parenthesised groups
(``values(x)``, ``ctime(t)``) and ``[...]`` subsearches. ``ArgStream`` lexes them lazily with one compiled
regex and a small look-ahead buffer; a command parser that meets an embedded expression (``where ...``,
``eval(...)``) hands the offset to the search or eval parser and ``seek``\\s past what it consumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqldetect.errors import Span
from sqldetect.spl.ast import FieldName, Option
from sqldetect.spl.context import ParseContext
from sqldetect.spl.strings import unescape

_ARG = re.compile(
    r"""
    \s*+(?:
      (?P<string>"(?:[^"\\]++|\\.)*+")
    | (?P<bracket>\[)
    | (?P<paren>\()
    | (?P<close>[)\]])
    | (?P<comma>,)
    | (?P<ne>!=)
    | (?P<eq>=)
    | (?P<word>(?:[^\s=,()\[\]"!\\]++|!(?!=)|\\["\\]?)++)
    )
    """,
    re.VERBOSE | re.DOTALL,
)

STRING, BRACKET, PAREN, CLOSE, COMMA, NE, EQ, WORD, END = (
    "string", "bracket", "paren", "close", "comma", "ne", "eq", "word", "end"
)


@dataclass(slots=True)
class ArgToken:
    """One argument token. ``value`` is the unescaped text (quotes removed for strings).

    For ``paren`` the token is the ``(`` alone and ``close`` is the offset of its ``)``; for ``bracket``
    the token spans the whole ``[...]`` and ``close`` is the offset of the ``]``.
    """

    kind: str
    text: str
    value: str
    start: int
    end: int
    close: int = -1

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def is_word(self, *words: str) -> bool:
        """True for a bare word equal (case-insensitively) to one of ``words``."""
        return self.kind == WORD and self.text.lower() in words

    @property
    def is_name(self) -> bool:
        """A bare word or a quoted string: something that can name a field or a table."""
        return self.kind in (WORD, STRING)


class ArgStream:
    """Lazy token stream over ``ctx.source[start:end]``."""

    def __init__(self, ctx: ParseContext, start: int, end: int) -> None:
        self.ctx = ctx
        self.text = ctx.source
        self.pos = start
        self.end = end
        self._buffer: list[ArgToken] = []

    # ------------------------------------------------------------------------------------------- tokens

    def _lex(self, pos: int) -> ArgToken:
        match = _ARG.match(self.text, pos, self.end)
        if match is None or match.lastgroup is None:
            return ArgToken(END, "", "", self.end, self.end)
        kind = match.lastgroup
        start, end = match.start(kind), match.end()
        text = match.group(kind)
        if kind == STRING:
            return ArgToken(kind, text, unescape(text[1:-1]), start, end)
        if kind == BRACKET:
            close = self.ctx.closing[start]
            return ArgToken(kind, self.text[start : close + 1], "", start, close + 1, close=close)
        if kind == PAREN:
            return ArgToken(kind, text, text, start, end, close=self.ctx.closing[start])
        if kind == WORD:
            return ArgToken(kind, text, unescape(text), start, end)
        return ArgToken(kind, text, text, start, end)

    def peek(self, ahead: int = 0) -> ArgToken:
        buffer = self._buffer
        if len(buffer) > ahead:  # the common case: already lexed
            return buffer[ahead]
        if buffer and buffer[-1].kind == END:  # nothing after the end: looking further gives the end again
            return buffer[-1]
        pos = buffer[-1].end if buffer else self.pos
        while True:
            token = self._lex(pos)
            buffer.append(token)
            if token.kind == END or len(buffer) > ahead:
                return token
            pos = token.end

    def next(self) -> ArgToken:
        buffer = self._buffer
        token = buffer[0] if buffer else self.peek()
        if token.kind != END:
            buffer.pop(0)
            self.pos = token.end
        return token

    def seek(self, pos: int) -> None:
        """Continue lexing at ``pos`` (after an embedded expression was parsed by another parser)."""
        self.pos = pos
        self._buffer.clear()

    def at_end(self) -> bool:
        return self.peek().kind == END

    def skip_commas(self) -> None:
        while self.peek().kind == COMMA:
            self.next()

    def glued(self, first: ArgToken, second: ArgToken) -> bool:
        """True when ``second`` starts right where ``first`` ends (no whitespace between)."""
        return first.end == second.start

    # ------------------------------------------------------------------------------------------ options

    def is_option(self) -> bool:
        """The next tokens are ``key=`` (a bare word followed by ``=``)."""
        return self.peek().kind == WORD and self.peek(1).kind == EQ

    def read_option(self) -> Option:
        key = self.next()
        self.next()  # '='
        value = self.next()
        if value.kind == STRING:
            return Option(key.text.lower(), value.value, Span(key.start, value.end), quoted=True)
        if value.kind == WORD:
            follower = self.peek()
            if follower.kind == PAREN and self.glued(value, follower):
                # ``startswith=eval(...)``, ``span=log(2)``: keep the call as written
                self.seek(follower.close + 1)
                return Option(key.text.lower(), self.text[value.start : follower.close + 1],
                              Span(key.start, follower.close + 1))
            return Option(key.text.lower(), value.value, Span(key.start, value.end))
        if value.kind == PAREN:
            self.seek(value.close + 1)
            return Option(key.text.lower(), self.text[value.start : value.close + 1],
                          Span(key.start, value.close + 1))
        raise self.ctx.error(f"missing value for option '{key.text}='", key.start, value.start)

    def read_options(self, into: dict[str, Option]) -> None:
        """Read consecutive ``key=value`` options into ``into`` (later duplicates win)."""
        while self.is_option():
            option = self.read_option()
            into[option.key] = option

    # ------------------------------------------------------------------------------------------- fields

    def field_name(self, token: ArgToken) -> FieldName:
        return FieldName(token.value, token.span, quoted=token.kind == STRING)

    def read_field_list(
        self, stop_words: tuple[str, ...] = (), options: dict[str, Option] | None = None
    ) -> list[FieldName]:
        """Field names separated by commas and/or spaces, up to the end, a stop word or a non-name token.

        When ``options`` is given, ``key=value`` options met on the way are read into it; otherwise an
        option ends the list.
        """
        fields: list[FieldName] = []
        while True:
            self.skip_commas()
            token = self.peek()
            if options is not None and self.is_option():
                option = self.read_option()
                options[option.key] = option
                continue
            if not token.is_name or token.is_word(*stop_words) or self.is_option():
                return fields
            self.next()
            fields.append(self.field_name(token))

    def read_alias(self, keyword: ArgToken) -> tuple[str, int]:
        """The name after ``AS`` (already consumed as ``keyword``): a word, a quoted string, or a word glued to
        a parenthesised group (``AS aceFlags(inheritance)``, as ESCU writes). Returns the name and its end."""
        target = self.next()
        if not target.is_name or target.is_word("as"):
            raise self.unexpected(target, "expected a name after AS")
        follower = self.peek()
        if target.kind == WORD and follower.kind == PAREN and self.glued(target, follower):
            self.seek(follower.close + 1)
            return self.text[target.start : follower.close + 1], follower.close + 1
        return target.value, target.end

    def expect_name(self, what: str) -> ArgToken:
        token = self.next()
        if not token.is_name:
            raise self.unexpected(token, f"expected {what}")
        return token

    def unexpected(self, token: ArgToken, expected: str):
        """An error for ``token`` that says what was expected instead."""
        if token.kind == END:
            return self.ctx.error(f"{expected}, but the stage ends here", max(token.start - 1, 0), token.start)
        return self.ctx.error(f"{expected}, found {token.text!r}", token.start, token.end)

    def expect_end(self, command: str) -> None:
        token = self.peek()
        if token.kind != END:
            raise self.ctx.error(f"unexpected {token.text!r} in {command}", token.start, token.end)
