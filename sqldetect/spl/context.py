"""State shared by every piece of the parser while it parses one SPL text.

One ``ParseContext`` holds the (comment-blanked) source, its bracket structure, a nesting guard, and the
callback that parses a subsearch. Passing it around (instead of importing the pipeline parser from the
command parsers) keeps the modules free of import cycles and lets every error carry a span into the same
source text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqldetect.errors import Location, Span, SplSyntaxError, UnsupportedError
from sqldetect.spl.scanner import TOP_LEVEL, Structure, scan

if TYPE_CHECKING:
    from sqldetect.spl.ast import Pipeline

#: Deepest nesting of groups, subsearches and unary operators the parser accepts. Real rules nest a few
#: levels; the limit keeps hostile input from exhausting Python's recursion limit.
MAX_NESTING = 50


class ParseContext:
    """The source being parsed and the services every sub-parser needs."""

    def __init__(self, structure: Structure, rule_id: str | None = None) -> None:
        self.structure = structure
        self.source = structure.text
        self.closing = structure.closing
        self.rule_id = rule_id
        self.depth = 0
        #: Set by the pipeline parser: parses ``[...]`` contents ``(start, end, commands_first)``.
        self.parse_subpipeline: Callable[[int, int, bool], Pipeline] | None = None

    def location(self, start: int, end: int | None = None) -> Location:
        """Where ``source[start:end]`` is (one character when ``end`` is omitted or not after ``start``)."""
        if end is None or end <= start:
            end = start + 1 if start < len(self.source) else start
        return Location(rule_id=self.rule_id, source=self.source, span=Span(start, end))

    def error(self, message: str, start: int, end: int | None = None) -> SplSyntaxError:
        """A syntax error at ``source[start:end]``."""
        return SplSyntaxError(message, self.location(start, end))

    def unsupported(self, message: str, construct: str, start: int, end: int | None = None) -> UnsupportedError:
        """Valid SPL this syntax tree cannot represent (``construct`` names it)."""
        return UnsupportedError(message, self.location(start, end), construct=construct)

    @contextmanager
    def nested(self, at: int) -> Iterator[None]:
        """Guard one level of recursion (a group, a subsearch, a unary operator)."""
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.error(f"expression nested too deeply (more than {MAX_NESTING} levels)", at)
            yield
        finally:
            self.depth -= 1

    def open_string(self, start: int, end: int) -> None:
        """Make ``source[start:end]`` (the inside of a quoted string that holds a search, such as
        ``transaction startswith="..."``) parseable in place: scan it for brackets and parentheses and add
        what it finds to the structure, so spans still point into the one source text."""
        inner = scan(self.source[start:end])
        if inner.problem is not None:
            problem = inner.problem
            raise self.error(f"in quoted search: {problem.message}", problem.span.start + start,
                             problem.span.end + start)
        for open_at, close_at in inner.closing.items():
            self.closing[open_at + start] = close_at + start
        for owner, pipes in inner.pipes.items():
            if owner != TOP_LEVEL:
                self.structure.pipes[owner + start] = [pipe + start for pipe in pipes]

    def subpipeline(self, open_at: int, commands_first: bool) -> Pipeline:
        """Parse the subsearch whose ``[`` is at ``open_at``."""
        assert self.parse_subpipeline is not None
        close_at = self.closing[open_at]
        with self.nested(open_at):
            return self.parse_subpipeline(open_at + 1, close_at, commands_first)
