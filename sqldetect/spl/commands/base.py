"""What every command parser receives, and small helpers they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqldetect.errors import Span
from sqldetect.spl.args import ArgStream, ArgToken
from sqldetect.spl.ast import Option
from sqldetect.spl.context import ParseContext


@dataclass
class Stage:
    """One stage of a pipeline: command ``name`` (lower-cased), the stage ``span`` (trimmed, without the
    leading ``|``) and the offsets of its arguments (the text after the command name)."""

    name: str
    span: Span
    args_start: int
    args_end: int

    def common(self, ctx: ParseContext, options: dict[str, Option] | None = None) -> dict[str, Any]:
        """Constructor arguments every ``Command`` takes."""
        return {
            "name": self.name,
            "span": self.span,
            "args_text": ctx.source[self.args_start : self.args_end].strip(),
            "options": options if options is not None else {},
        }

    def args(self, ctx: ParseContext) -> ArgStream:
        return ArgStream(ctx, self.args_start, self.args_end)


def to_int(ctx: ParseContext, text: str, span: Span, what: str, minimum: int = 0) -> int:
    """Parse a non-negative integer argument or option, with an error that names it."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ctx.error(f"{what} must be an integer, got {text!r}", span.start, span.end) from None
    if value < minimum:
        raise ctx.error(f"{what} must be at least {minimum}, got {value}", span.start, span.end)
    return value


def option_int(ctx: ParseContext, options: dict[str, Option], key: str, default: int | None,
               minimum: int = 0) -> int | None:
    """The integer value of option ``key`` (``default`` when absent)."""
    option = options.get(key)
    if option is None:
        return default
    return to_int(ctx, option.value, option.span, f"option {key}=", minimum)


def is_integer(token: ArgToken) -> bool:
    return token.kind == "word" and token.text.isascii() and token.text.isdigit()
