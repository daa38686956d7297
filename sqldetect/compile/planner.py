"""Turn a parsed pipeline into a chain of CTEs, one per SPL stage, plus a final SELECT.

The planner walks the stages in order, hands each to its registered handler with the relation (fields, kinds,
row order) produced by the stage before, and collects the resulting SELECTs. It also works out, before
translating, which stages' row order is still needed later, so that order is kept as data only when some later
command (head, dedup, streamstats, the final output...) depends on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlglot import exp

from sqldetect.compile import gcpause
from sqldetect.compile.context import CompileOptions, StageContext
from sqldetect.compile.registry import lookup
from sqldetect.compile.relation import Relation
from sqldetect.compile.sql import alias, col
from sqldetect.errors import Location, SqlDetectError, TranslationError, UnsupportedError
from sqldetect.schema import Schema
from sqldetect.spl import ast


@dataclass
class CompiledStage:
    """One CTE: its name, the SPL it came from, and its SELECT."""

    name: str
    spl: str
    select: exp.Select
    relation: Relation


@dataclass
class CompiledQuery:
    """The translation of a whole pipeline."""

    stages: list[CompiledStage]
    final: exp.Select
    relation: Relation
    notes: list[str] = field(default_factory=list)
    #: files the SQL reads (lookup CSVs): a locked-down runner allows exactly these paths
    files: list[str] = field(default_factory=list)
    _rendered: dict[bool, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def output_fields(self) -> list[str]:
        return self.relation.names()

    def sql(self, pretty: bool = True) -> str:
        if pretty not in self._rendered:  # printing a big query costs as much as translating it: once
            paused = gcpause.pause()  # first thing: see gcpause
            try:
                from sqldetect.compile.render import render

                with _depth_guard(None):
                    self._rendered[pretty] = render(self, pretty=pretty)
            finally:
                gcpause.resume(paused)
        return self._rendered[pretty]


class Compiler:
    """Translates one pipeline (and its subsearches) against one event-table schema."""

    def __init__(self, schema: Schema, options: CompileOptions | None = None) -> None:
        self.schema = schema
        self.options = options or CompileOptions()
        self.source = ""
        self.stages: list[CompiledStage] = []
        self.notes: list[str] = []
        self.files: list[str] = []
        self._source: tuple[str, Relation] | None = None
        #: the fields the whole query may read by name (None: any field), for choosing derived fields
        self._pipeline: ast.Pipeline | None = None

    # ------------------------------------------------------------------------------------------------
    def compile(self, pipeline: ast.Pipeline) -> CompiledQuery:
        paused = gcpause.pause()
        try:
            with _depth_guard(self.options.rule_id):
                return self._compile(pipeline)
        finally:
            gcpause.resume(paused)  # last thing: see gcpause

    def _compile(self, pipeline: ast.Pipeline) -> CompiledQuery:
        self.source = pipeline.source
        self.stages = []
        self._source = None
        self._pipeline = pipeline  # its field demand is worked out only if derived fields need it
        last_name, relation = self._compile_chain(pipeline, prefix="s")
        final = self._final_select(last_name, relation)
        return CompiledQuery(list(self.stages), final, relation, list(self.notes), list(self.files))

    def compile_subpipeline(self, pipeline: ast.Pipeline, prefix: str, *, source: str | None = None,
                            relation: Relation | None = None) -> tuple[str, Relation]:
        """Compile a subsearch into CTEs named ``<prefix><N>_<command>``; returns its last CTE and relation.

        Without ``relation`` the subsearch reads the event table (or starts with a generating command). With
        ``relation`` (and its CTE ``source``) it continues from those rows instead: ``appendpipe [...]`` and
        ``foreach`` templates run their commands over the current results, so a leading ``|`` there does not
        make the pipeline generating."""
        return self._compile_chain(pipeline, prefix=prefix, source=source, relation=relation)

    def compile_text(self, pipeline: ast.Pipeline, prefix: str, source: str | None,
                     relation: Relation) -> tuple[str, Relation]:
        """Compile a pipeline parsed from generated text (a ``foreach`` template after substitution) over the
        given rows: its stage comments and spans refer to that text, not to the rule's SPL."""
        saved = self.source
        self.source = pipeline.source
        try:
            return self._compile_chain(pipeline, prefix=prefix, source=source, relation=relation, label="template")
        finally:
            self.source = saved

    def add_note(self, note: str) -> None:
        """Record a note for the user once (several stages may have the same thing to say)."""
        if note not in self.notes:
            self.notes.append(note)

    def add_file(self, path: str) -> None:
        if path not in self.files:
            self.files.append(path)

    def base_relation(self) -> Relation:
        return Relation.from_schema(self.schema)

    def derived_fields(self) -> list:  # list[DerivedField]
        """Mappings first (``field_mapping``: a ``{field: column-or-sql}`` dict or a ``sqldetect.mapping``
        ``FieldMapping``), then ``derived_fields`` (resolved mappings, calculated fields), which may read them."""
        from sqldetect.compile.derived import DerivedField

        mapping = self.options.field_mapping
        if mapping is None:
            mapped = []
        elif hasattr(mapping, "derived_fields"):
            mapped = mapping.derived_fields()
        else:
            mapped = [DerivedField(name, sql=sql) for name, sql in mapping.items()]
        return mapped + list(self.options.derived_fields)

    def event_source(self) -> tuple[str, Relation]:
        """What a search over the events reads: the event table, or the ``s0_source`` CTE that adds the derived
        fields this query may read (``sqldetect.compile.derived``). Built once per query (subsearches and data
        model data sets share it), with every derived field any part of the query can reach."""
        if self._source is None:
            self._source = self._build_event_source()
        return self._source[0], self._source[1].copy()

    def _build_event_source(self) -> tuple[str, Relation]:
        table, relation = self.options.table, self.base_relation()
        fields = self.derived_fields()
        if not fields:
            return table, relation
        from sqldetect.compile.derived import referenced

        needed = referenced(fields, self.source, query_demand(self._pipeline))
        defined = assigned_before_read(self._pipeline, self.source)
        needed = [f for f in needed if f.eval is None or f.name not in defined]
        if not needed:
            return table, relation
        from sqldetect.compile.source import source_stage

        name = "s0_source"
        select, relation = source_stage(self, needed, relation, table)
        self.stages.append(CompiledStage(name, "derived fields: " + ", ".join(f.name for f in needed), select,
                                         relation))
        return name, relation

    # ------------------------------------------------------------------------------------------------
    def _compile_chain(self, pipeline: ast.Pipeline, prefix: str, source: str | None = None,
                       relation: Relation | None = None, label: str = "subsearch") -> tuple[str, Relation]:
        commands = pipeline.commands
        continues = relation is not None
        # `| search ...` at the start searches the events like the implicit search (ESCU writes
        # `join x [| search ...]`)
        generating = pipeline.generating and commands[0].canonical != "search"
        specs = []
        for i, cmd in enumerate(commands, start=1):
            spec = lookup(cmd.canonical) or lookup(cmd.name)
            if spec is None:
                raise self._unsupported_command(cmd, i)
            if i == 1 and generating and not spec.generating and not continues:
                raise UnsupportedError(
                    f"'{cmd.name}' cannot start a pipeline with '|'",
                    self._location(cmd, i),
                    construct=cmd.name,
                )
            specs.append(spec)
        needed = _order_needed(commands, specs)

        source_name: str | None
        if continues:
            source_name = source
        elif generating:
            relation = Relation()
            source_name = None
        else:
            source_name, relation = self.event_source()
        assert relation is not None
        for i, (cmd, spec) in enumerate(zip(commands, specs, strict=True), start=1):
            name = f"{prefix}{i}_{_slug(spec.name)}"
            ctx = StageContext(self, cmd, i, name, relation, source_name, order_needed=needed[i - 1],
                               later=commands[i:])
            try:
                result = spec.handler(ctx, cmd)
            except SqlDetectError as err:
                if prefix != "s":  # a subsearch: name its stage, let the outer stage give the location
                    if not getattr(err, "_subsearch_stage_noted", False):
                        err.message = f"in {label} stage {i} ({cmd.name}): {err.message}"
                        err.args = (err.message,)
                        err._subsearch_stage_noted = True  # type: ignore[attr-defined]
                        loc = err.location
                        err.location = Location(rule_id=loc.rule_id, source=loc.source, span=loc.span or cmd.span,
                                                file=loc.file)
                    raise
                raise err.with_location(
                    rule_id=self.options.rule_id,
                    stage_index=i,
                    stage_name=cmd.name,
                    source=self.source,
                    span=cmd.span,
                    stage_span=cmd.span,
                ) from None
            for note in ctx.notes:
                self.add_note(note)
            spl = self.source[cmd.span.start : cmd.span.end]
            self.stages.append(CompiledStage(name, spl, result.select, result.relation))
            relation = result.relation
            source_name = name
        return source_name or self.options.table, relation

    def _final_select(self, last: str, relation: Relation) -> exp.Select:
        items: list[exp.Expression] = []
        for info in relation:
            column = col(info.column)
            items.append(column if info.column == info.name else alias(column, info.name))
        if not items:
            items = [exp.Star()]
        select = exp.select(*items, copy=False).from_(exp.Table(this=exp.to_identifier(last, quoted=True)), copy=False)
        if relation.order:
            from sqldetect.compile.relation import order_by_expressions

            # what ``select.order_by(...)`` builds, without wrapping each key in an ORDER BY of its own first
            select.set("order", exp.Order(expressions=order_by_expressions(relation.order)))
        return select

    def _location(self, cmd: ast.Command, index: int) -> Location:
        return Location(
            rule_id=self.options.rule_id,
            stage_index=index,
            stage_name=cmd.name,
            source=self.source,
            span=cmd.span,
            stage_span=cmd.span,
        )

    def _unsupported_command(self, cmd: ast.Command, index: int) -> UnsupportedError:
        loc = self._location(cmd, index)
        name_span = ast_name_span(cmd, self.source)
        loc = Location(loc.rule_id, loc.stage_index, loc.stage_name, loc.source, name_span, loc.stage_span)
        return UnsupportedError(f"command '{cmd.name}' is not supported", loc, construct=cmd.name)


def ast_name_span(cmd: ast.Command, source: str):
    """The span of the command word at the start of a stage (for pointing at an unsupported command)."""
    from sqldetect.errors import Span

    text = source[cmd.span.start : cmd.span.end]
    offset = text.lower().find(cmd.name.lower())
    if offset < 0:
        return cmd.span
    return Span(cmd.span.start + offset, cmd.span.start + offset + len(cmd.name))


def _order_needed(commands: list[ast.Command], specs: list) -> list[bool]:
    """For each stage: is the row order it outputs used later? Walk backwards: the final output uses the
    order; a consumer uses the order of its input; a command that resets the order makes the order before it
    irrelevant (unless it also consumes it, e.g. stats first())."""
    needed = [False] * len(commands)
    downstream = True  # the final SELECT shows rows in order
    for i in range(len(commands) - 1, -1, -1):
        needed[i] = downstream
        spec = specs[i]
        if spec.consumes(commands[i]):
            downstream = True
        elif spec.resets_order:
            downstream = False
    return needed


@contextmanager
def _depth_guard(rule_id: str | None) -> Iterator[None]:
    """A rule wide or deep enough to exhaust Python's stack while its SQL tree is built or printed (thousands of
    mvappend() arguments...) is a translation error like any other, not a crash."""
    try:
        yield
    except RecursionError:
        raise TranslationError("the rule is too deeply nested or too wide to translate",
                               Location(rule_id=rule_id)) from None


def query_demand(pipeline: ast.Pipeline) -> set[str] | None:
    """The field names a whole query may read (``demand.fields_used_later`` of the pipeline and of every
    subsearch in it, united), or None when some part may read any field (a wildcard, an unbounded end, or a data
    model, whose definitions name fields the rule does not)."""
    from sqldetect.compile.demand import fields_used_later

    names: set[str] = set()
    for nested in _pipelines(pipeline):
        if any((cmd.canonical or cmd.name) in ("tstats", "from", "datamodel") for cmd in nested.commands):
            return None
        used = fields_used_later(nested.commands)
        if used is None:
            return None
        names |= used
    return names


def assigned_before_read(pipeline: ast.Pipeline, spl: str) -> set[str]:
    """Fields an ``eval`` of the query assigns before any text of it names them (``eval process_name=...``
    first thing): the rule's own value hides a calculated field of that name, so it need not be computed.
    Empty for a query with subsearches (they read the events afresh)."""
    import re

    if len(_pipelines(pipeline)) > 1:
        return set()
    word = re.compile(r"[A-Za-z0-9_.:@{}\-]+")
    out: set[str] = set()
    read: set[str] = set()
    for cmd in pipeline.commands:
        if not isinstance(cmd, ast.EvalCommand):
            continue
        read |= set(word.findall(spl[:cmd.span.start]))
        for assignment in cmd.assignments:
            read |= set(word.findall(spl[assignment.expr.span.start:assignment.expr.span.end]))
            if assignment.field not in read:
                out.add(assignment.field)
    return out


def _pipelines(node: object) -> list[ast.Pipeline]:
    """``node`` and every pipeline nested in it (subsearches, appendpipe), outermost first."""
    import dataclasses

    found: list[ast.Pipeline] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Pipeline):
            found.append(item)
            stack.extend(reversed(item.commands))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item)
                         if f.name not in ("span", "source", "name", "canonical", "args_text"))
    return found


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower())


def compile_pipeline(pipeline: ast.Pipeline, schema: Schema, options: CompileOptions | None = None) -> CompiledQuery:
    """Translate a parsed pipeline into a ``CompiledQuery`` (CTEs + final SELECT)."""
    return Compiler(schema, options).compile(pipeline)
