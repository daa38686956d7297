"""The project's exception types.

Every failure a user can cause (a bad rule, bad SPL, an unsupported construct, a bad event file) is one of
these, so the CLI can print one clear line plus a caret excerpt instead of a traceback, and so callers can
tell "this rule is wrong" from "sqldetect cannot do this yet" from "this input file is damaged".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` into a source text (usually the expanded SPL)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def cover(self, other: Span) -> Span:
        """The smallest span holding both spans."""
        return Span(min(self.start, other.start), max(self.end, other.end))

    def shift(self, offset: int) -> Span:
        return Span(self.start + offset, self.end + offset)


@dataclass(frozen=True)
class Location:
    """Where a problem is: which rule, which stage, and which characters of the SPL.

    ``source`` is the full (macro-expanded) SPL text the span points into; ``stage_span`` is the span of the
    whole stage, used to print the stage with a caret under the problem.
    """

    rule_id: str | None = None
    stage_index: int | None = None  # 1-based, as the catalog page numbers stages
    stage_name: str | None = None
    source: str | None = None
    span: Span | None = None
    stage_span: Span | None = None
    file: str | None = None

    @property
    def column(self) -> int | None:
        """1-based column of the span inside its stage (or inside the source when no stage is known)."""
        if self.span is None:
            return None
        base = self.stage_span.start if self.stage_span is not None else 0
        return self.span.start - base + 1


class SqlDetectError(Exception):
    """Base class of every error sqldetect raises on purpose."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def with_location(self, **changes: object) -> SqlDetectError:
        """Return the same error with more context filled in (keeps what is already known)."""
        current = self.location.__dict__.copy()
        for key, value in changes.items():
            if current.get(key) is None and value is not None:
                current[key] = value
        self.location = Location(**current)  # type: ignore[arg-type]
        return self

    def headline(self) -> str:
        """One line: where, then what."""
        loc = self.location
        parts: list[str] = []
        if loc.file:
            parts.append(loc.file)
        if loc.rule_id:
            parts.append(f"rule {loc.rule_id}")
        if loc.stage_index is not None:
            stage = f"stage {loc.stage_index}"
            if loc.stage_name:
                stage += f" ({loc.stage_name})"
            parts.append(stage)
        if loc.column is not None:
            parts.append(f"column {loc.column}")
        where = ", ".join(parts)
        return f"{where}: {self.message}" if where else self.message

    def excerpt(self) -> str:
        """The stage text with a caret line under the offending span (empty when no span is known)."""
        loc = self.location
        if loc.source is None or loc.span is None:
            return ""
        region = loc.stage_span or Span(0, len(loc.source))
        text = loc.source[region.start : region.end]
        start = max(0, loc.span.start - region.start)
        end = max(start + 1, min(loc.span.end, region.end) - region.start)
        # Show the single physical line that holds the start of the span.
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if line_end == -1:
            line_end = len(text)
        line = text[line_start:line_end].replace("\t", " ")
        caret_from = start - line_start
        caret_len = max(1, min(end, line_end) - start)
        return f"    {line}\n    {' ' * caret_from}{'^' * caret_len}"

    def __str__(self) -> str:
        excerpt = self.excerpt()
        return f"{self.headline()}\n{excerpt}" if excerpt else self.headline()


class RuleError(SqlDetectError):
    """A rule file or rule record is invalid (missing key, wrong logic_format, duplicate id, bad YAML)."""


class MacroError(SqlDetectError):
    """A macro is unknown, recursive, called with the wrong arguments, or defined in an unsupported way."""


class SplSyntaxError(SqlDetectError):
    """The SPL text does not parse."""


class UnsupportedError(SqlDetectError):
    """Valid SPL that sqldetect refuses to translate; ``construct`` names the command, function or option."""

    def __init__(self, message: str, location: Location | None = None, construct: str | None = None) -> None:
        super().__init__(message, location)
        self.construct = construct


class TranslationError(SqlDetectError):
    """Valid, supported SPL that cannot be translated in this context (e.g. a field type conflict)."""


class EventInputError(SqlDetectError):
    """An event input (file, directory, stream) cannot be read at all."""


class LookupError_(SqlDetectError):
    """A lookup table is unknown or unreadable (trailing underscore: do not shadow the builtin)."""


class DataModelError(SqlDetectError):
    """A data model definition (``sqldetect/data/datamodels/*.yaml`` or a user's file) is invalid: bad YAML, an
    unknown key, or a constraint/field expression that does not parse. The message names file, data set, field."""


class FieldMappingError(SqlDetectError):
    """A field-mapping file (``sqldetect.mapping``) is invalid, or one of its entries does not fit the table it
    is applied to: bad YAML, an unknown key or kind, a SQL expression that does not parse or bind. The message
    names the file and the field (and the line when known)."""


class QueryError(SqlDetectError):
    """The translated SQL failed when DuckDB ran it (a translator gap or a resource limit, e.g. a regex too
    large to compile); the message is DuckDB's first line, the location names the rule."""


def first_line(exc: BaseException) -> str:
    """The first line of a foreign exception's message (DuckDB's carry SQL excerpts and hints after it), for
    wrapping it in one of ours."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
