"""Typed syntax tree of an SPL pipeline.

This module is the contract between the parser (``sqldetect.spl.parser``) and everything downstream
(translator, ``explain``, ``parse``). Every node remembers the span of the text it came from (offsets into
``Pipeline.source``, the macro-expanded SPL), so any later error can point at the offending characters.

Three small languages live here:

* the **search** expression language (``search``, ``tstats where``, ``inputlookup where``, ``startswith=``):
  ``SearchAnd``/``SearchOr``/``SearchNot`` over ``SearchTerm`` (bare term / phrase against ``_raw``),
  ``SearchCompare`` (``field op value``), ``SearchIn``, ``TimeModifier`` and ``SearchSubsearch``;
* the **eval** expression language (``eval``, ``where``, aggregation ``eval(...)``): ``Literal``,
  ``FieldRef``, ``Call``, ``BinaryOp``, ``UnaryOp``, ``InList``;
* **commands**: one dataclass per command the project understands, plus ``GenericCommand`` for any other.

Values are kept as the user wrote them after SPL string unescaping (``"C:\\\\x"`` becomes ``C:\\x``), with a
``quoted`` flag where quoting changes meaning (a quoted ``*`` is still a wildcard in search, a quoted word in
eval is a string and an unquoted one a field).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqldetect.errors import Span

# --------------------------------------------------------------------------------------------------------------
# Search expression language
# --------------------------------------------------------------------------------------------------------------


@dataclass
class SearchValue:
    """A right-hand value in ``search``: ``admin``, ``"a b"``, ``*.exe``, ``TERM(x)``, ``CASE(X)``.

    ``text`` is unescaped. ``modifier`` is ``"TERM"``, ``"CASE"`` or ``None`` (``"PREFIX"`` for a tstats
    ``PREFIX(x)`` term). ``span`` covers the value as written, quotes and modifier included.
    """

    text: str
    span: Span
    quoted: bool = False
    modifier: str | None = None

    @property
    def has_wildcard(self) -> bool:
        return "*" in self.text


@dataclass
class SearchTerm:
    """A bare term, quoted phrase, ``TERM(x)``, ``CASE(x)`` or (tstats only) ``PREFIX(x)``, matched on ``_raw``."""

    value: SearchValue
    span: Span


@dataclass
class SearchCompare:
    """``field op value`` with op one of ``= != < <= > >=``. The right side is always a literal."""

    field: str
    op: str
    value: SearchValue
    span: Span
    field_span: Span | None = None


@dataclass
class SearchIn:
    """``field IN (v1, v2, ...)``: true when the field matches any of the values (search semantics)."""

    field: str
    values: list[SearchValue]
    span: Span


@dataclass
class TimeModifier:
    """``earliest=``, ``latest=``, ``_index_earliest=``, ``_index_latest=``, ``starttime=``, ``endtime=``..."""

    name: str
    value: str
    span: Span


@dataclass
class SearchSubsearch:
    """``[ ... ]`` inside a search: replaced by the boolean expression built from its results (``format``)."""

    pipeline: Pipeline
    span: Span


@dataclass
class SearchNot:
    operand: SearchExpr
    span: Span


@dataclass
class SearchAnd:
    """Explicit ``AND`` or juxtaposition. ``operands`` is empty for an empty group ``()`` (e.g. a macro that
    expanded to nothing inside parentheses): an empty conjunction, true for every event."""

    operands: list[SearchExpr]
    span: Span


@dataclass
class SearchOr:
    operands: list[SearchExpr]
    span: Span


SearchExpr = (
    SearchTerm | SearchCompare | SearchIn | TimeModifier | SearchSubsearch | SearchNot | SearchAnd | SearchOr
)


# --------------------------------------------------------------------------------------------------------------
# Eval expression language
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Literal:
    """A string or number literal. ``value`` is ``str`` for strings, ``int``/``float`` for numbers."""

    value: str | int | float
    span: Span
    text: str = ""  # the source text, e.g. "1e3" or "0x1F"

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, str)


@dataclass
class FieldRef:
    """A field name: bare (``user``) or single-quoted (``'Processes.process'``). May contain ``*`` in
    argument positions that accept wildcards (``values(*)``)."""

    name: str
    span: Span
    quoted: bool = False

    def dot_parts(self) -> list[str]:
        """The pieces of a bare dotted name (``a.b`` → ``["a", "b"]``), or ``[]`` when the name is quoted or
        has no dot. Splunk reads such a name as the concatenation ``a . b``; ESCU also writes it meaning one
        field (``actor.alternateId``), so the translator picks the reading from the input's fields
        (docs/semantics.md, "Eval names")."""
        if self.quoted or "." not in self.name:
            return []
        parts = self.name.split(".")
        return parts if all(parts) else []


@dataclass
class Call:
    """A function call ``name(args...)``; ``name`` is as written (eval functions are case-insensitive)."""

    name: str
    args: list[EvalExpr]
    span: Span
    name_span: Span | None = None


@dataclass
class BinaryOp:
    """``op`` is one of ``+ - * / % . = == != < <= > >= AND OR XOR LIKE`` (keywords upper-cased)."""

    op: str
    left: EvalExpr
    right: EvalExpr
    span: Span


@dataclass
class UnaryOp:
    """``op`` is ``NOT`` (also written ``!``), ``-`` or ``+``."""

    op: str
    operand: EvalExpr
    span: Span


@dataclass
class InList:
    """``expr IN (v1, v2, ...)`` in eval/where: exact, case-sensitive membership."""

    operand: EvalExpr
    values: list[EvalExpr]
    span: Span
    negated: bool = False


EvalExpr = Literal | FieldRef | Call | BinaryOp | UnaryOp | InList


# --------------------------------------------------------------------------------------------------------------
# Shared pieces of command arguments
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Option:
    """A ``key=value`` option of a command. ``value`` is unescaped text; ``quoted`` says if it was quoted."""

    key: str
    value: str
    span: Span
    quoted: bool = False


@dataclass
class FieldName:
    """A field name in an argument list (``table a, b*``); may hold ``*`` wildcards."""

    name: str
    span: Span
    quoted: bool = False


@dataclass
class Aggregation:
    """One aggregation of stats/eventstats/streamstats/tstats/timechart.

    ``func`` is lower-cased and canonical as written (``count``, ``dc``, ``perc95``, ``values``...).
    ``arg`` is ``None`` (``count``), a ``FieldName`` (possibly a wildcard), or an eval expression when written
    ``func(eval(expr))``. ``alias`` is the ``AS`` name, else ``None`` (the output name is then ``text``).
    ``text`` is the call as written, normalized without spaces (``count(src)``), which is Splunk's output name.
    """

    func: str
    arg: FieldName | EvalExpr | None
    alias: str | None
    text: str
    span: Span
    arg_is_eval: bool = False


@dataclass
class SortKey:
    """One ``sort`` key: ``-field``, ``+num(field)``..."""

    field: str
    descending: bool
    span: Span
    kind: str = "auto"  # auto | num | str | ip


@dataclass
class Subsearch:
    """A ``[ ... ]`` argument of join/append/appendpipe/... parsed recursively."""

    pipeline: Pipeline
    span: Span


# --------------------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Command:
    """Base of all commands.

    ``name`` is the command as written, lower-cased (``bucket`` stays ``bucket``; see ``canonical``).
    ``span`` covers the whole stage text (without the leading ``|``); ``args_text`` is the raw text after the
    command name; ``options`` holds every ``key=value`` option in order of appearance, by lower-cased key.
    """

    name: str
    span: Span
    args_text: str = ""
    options: dict[str, Option] = field(default_factory=dict)

    #: Canonical command name for registries (``bucket`` → ``bin``). Subclasses set it.
    canonical: str = ""

    def __post_init__(self) -> None:
        if not self.canonical:
            self.canonical = self.name

    def option(self, key: str, default: str | None = None) -> str | None:
        opt = self.options.get(key.lower())
        return opt.value if opt is not None else default


@dataclass
class SearchCommand(Command):
    """``search <expr>`` (also the implicit first stage). ``expr`` is ``None`` for an empty search."""

    expr: SearchExpr | None = None


@dataclass
class WhereCommand(Command):
    expr: EvalExpr | None = None


@dataclass
class Assignment:
    field: str
    expr: EvalExpr
    span: Span
    field_span: Span | None = None


@dataclass
class EvalCommand(Command):
    assignments: list[Assignment] = field(default_factory=list)


@dataclass
class RexCommand(Command):
    """``rex [field=f] [max_match=n] [offset_field=f] [mode=sed] "regex"``. ``regex`` is the unescaped string."""

    field: str = "_raw"
    regex: str = ""
    regex_span: Span | None = None
    mode: str | None = None  # None | "sed"
    max_match: int = 1


@dataclass
class RegexCommand(Command):
    """``regex [field=|field!=] "regex"``: keep (or with ``!=`` drop) rows whose field matches."""

    field: str = "_raw"
    negate: bool = False
    regex: str = ""
    regex_span: Span | None = None


@dataclass
class TableCommand(Command):
    fields: list[FieldName] = field(default_factory=list)


@dataclass
class FieldsCommand(Command):
    """``fields [+|-] a, b``; ``remove`` is True for ``-``."""

    fields: list[FieldName] = field(default_factory=list)
    remove: bool = False


@dataclass
class RenamePair:
    source: FieldName
    target: FieldName
    span: Span


@dataclass
class RenameCommand(Command):
    pairs: list[RenamePair] = field(default_factory=list)


@dataclass
class BinCommand(Command):
    """``bin|bucket|discretize [options] field [AS alias]``; ``field`` defaults to ``_time``."""

    field: str = "_time"
    alias: str | None = None
    span_value: str | None = None  # option span=
    bins: int | None = None


@dataclass
class StatsCommand(Command):
    """stats / eventstats / streamstats / chart-like aggregations. ``canonical`` tells which.

    ``by`` holds the BY fields in order.
    """

    aggregations: list[Aggregation] = field(default_factory=list)
    by: list[FieldName] = field(default_factory=list)


@dataclass
class TstatsCommand(Command):
    """``| tstats [options] aggs [from datamodel=M.D] [where <search>] [by fields [span=]]``."""

    aggregations: list[Aggregation] = field(default_factory=list)
    datamodel: str | None = None  # "Endpoint.Processes" (dataset path as written)
    nodename: str | None = None
    where: SearchExpr | None = None
    by: list[FieldName] = field(default_factory=list)
    span_value: str | None = None  # the BY clause's span=


@dataclass
class TimechartCommand(Command):
    aggregations: list[Aggregation] = field(default_factory=list)
    by: list[FieldName] = field(default_factory=list)
    span_value: str | None = None


@dataclass
class DedupCommand(Command):
    fields: list[FieldName] = field(default_factory=list)
    count: int = 1
    sortby: list[SortKey] = field(default_factory=list)


@dataclass
class SortCommand(Command):
    keys: list[SortKey] = field(default_factory=list)
    limit: int | None = None  # None: Splunk's default 10,000
    reverse: bool = False  # trailing "d"/"desc"


@dataclass
class HeadCommand(Command):
    """``head [N]`` / ``tail [N]`` (``canonical`` tells which); ``expr`` for ``head (<eval>)``."""

    count: int = 10
    expr: EvalExpr | None = None


@dataclass
class TopCommand(Command):
    """``top`` / ``rare`` (``canonical`` tells which)."""

    fields: list[FieldName] = field(default_factory=list)
    by: list[FieldName] = field(default_factory=list)
    limit: int = 10


@dataclass
class FillnullCommand(Command):
    value: str = "0"
    fields: list[FieldName] = field(default_factory=list)


@dataclass
class Conversion:
    """``func(field) [AS alias]`` inside ``convert``; ``func`` lower-cased (ctime, mktime, dur2sec, ...)."""

    func: str
    field: FieldName
    alias: str | None
    span: Span


@dataclass
class ConvertCommand(Command):
    conversions: list[Conversion] = field(default_factory=list)


@dataclass
class LookupField:
    """``lookup_field [AS event_field]``."""

    lookup_field: str
    event_field: str
    span: Span


@dataclass
class LookupCommand(Command):
    """``lookup [local=t] [update=t] table in [AS ev] ... [OUTPUT|OUTPUTNEW out [AS ev] ...]``."""

    table: str = ""
    inputs: list[LookupField] = field(default_factory=list)
    output_mode: str | None = None  # None | "OUTPUT" | "OUTPUTNEW"
    outputs: list[LookupField] = field(default_factory=list)


@dataclass
class InputlookupCommand(Command):
    table: str = ""
    where: SearchExpr | None = None


@dataclass
class JoinCommand(Command):
    """``join [type=..] [max=..] fields [subsearch]``. ``join_type`` defaults to ``inner``."""

    fields: list[FieldName] = field(default_factory=list)
    subsearch: Subsearch | None = None
    join_type: str = "inner"
    max: int = 1


@dataclass
class SubsearchCommand(Command):
    """``append`` / ``appendpipe`` / ``appendcols`` / ``union`` style commands with one subsearch."""

    subsearch: Subsearch | None = None


@dataclass
class MvexpandCommand(Command):
    field: str = ""
    limit: int | None = None


@dataclass
class MakemvCommand(Command):
    field: str = ""
    delim: str | None = None
    tokenizer: str | None = None


@dataclass
class SpathCommand(Command):
    input: str = "_raw"
    output: str | None = None
    path: str | None = None


@dataclass
class TransactionCommand(Command):
    fields: list[FieldName] = field(default_factory=list)
    startswith: SearchExpr | EvalExpr | None = None
    endswith: SearchExpr | EvalExpr | None = None


@dataclass
class ForeachCommand(Command):
    """``foreach [mode=..] fields... [ subpipeline with <<FIELD>> ]``; the template is kept as text because
    it is only meaningful after ``<<FIELD>>`` substitution; ``template_span`` points at it."""

    fields: list[FieldName] = field(default_factory=list)
    template: str = ""
    template_span: Span | None = None


@dataclass
class MakeresultsCommand(Command):
    count: int = 1


@dataclass
class FromCommand(Command):
    """``| from datamodel:M.D`` / ``| from inputlookup:x`` / ``| from <dataset>``."""

    dataset: str = ""


@dataclass
class GenericCommand(Command):
    """Any command without a dedicated node: name plus raw argument tokens, for inspection and refusal.

    ``words`` are the top-level argument tokens (quotes removed), ``subsearches`` any ``[...]`` arguments.
    """

    words: list[str] = field(default_factory=list)
    subsearches: list[Subsearch] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """A parsed SPL pipeline. ``source`` is the whole text that every span in the tree points into (for a
    subsearch: the same text as the outer pipeline). ``generating`` is True when it starts with ``|``.

    ``source`` is the text as parsed: triple-backtick comments are blanked to spaces of the same length.
    Inside a subsearch a generating command may be named without ``|`` (``[inputlookup x]``); such a
    pipeline is ``generating`` too."""

    commands: list[Command]
    source: str
    span: Span
    generating: bool = False

    def stage_text(self, index: int) -> str:
        """Source text of stage ``index`` (0-based)."""
        command = self.commands[index]
        return self.source[command.span.start : command.span.end]
