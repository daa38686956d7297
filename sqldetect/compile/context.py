"""Per-stage translation context: everything a command handler needs, and nothing it must build itself.

A handler receives a ``StageContext`` (input relation, the name of the CTE it reads from, error helpers that
know the rule/stage/span, expression translators) and returns a ``StageResult`` (one SELECT and the relation it
produces). Handlers never format error locations or quote identifiers by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation, order_by_expressions
from sqldetect.compile.sql import alias, col, null
from sqldetect.compile.typed import Typed
from sqldetect.errors import Location, Span, TranslationError, UnsupportedError

if TYPE_CHECKING:
    from sqldetect.compile.planner import Compiler
    from sqldetect.spl import ast


@dataclass
class CompileOptions:
    """Knobs of a translation. All optional; the defaults translate for the project's own event table."""

    table: str = "events"
    dialect: str = "duckdb"
    #: fixed "now" for relative time modifiers (tests, reproducible runs); None → the SQL engine's now()
    now: datetime | None = None
    #: resolves lookup table names to CSV files / definitions (``sqldetect.compile.lookups``)
    lookups: Any = None
    #: data model definitions for tstats / from datamodel (``sqldetect.datamodels``)
    datamodels: Any = None
    #: SPL field name → column name or SQL expression over the event table (warehouse field mappings)
    field_mapping: dict[str, str] | None = None
    #: fields computed when a rule runs (mappings and calculated fields, ``sqldetect.compile.derived``)
    derived_fields: list[Any] = field(default_factory=list)
    rule_id: str | None = None
    #: expands macros in search strings parsed at translation time (``map search="..."``)
    macros: Any = None


@dataclass
class StageResult:
    """One translated stage: its SELECT (reading from ``ctx.source``) and the relation it outputs."""

    select: exp.Select
    relation: Relation


@dataclass
class StageContext:
    compiler: Compiler
    command: ast.Command
    index: int  # 1-based stage number within its pipeline
    name: str  # CTE name of this stage
    input: Relation
    source_name: str | None  # CTE / table this stage reads from (None: nothing, a generating command)
    #: whether the row order this stage outputs is needed by a later stage (or the final output)
    order_needed: bool = True
    #: the commands after this one in its pipeline (for commands whose output fields depend on what later
    #: stages use: ``xmlkv``, ``fromjson``, ``spath`` without a path; see ``demand.py``)
    later: list[ast.Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the rows a ``[subsearch]`` in a search condition is matched against when they are not this stage's input:
    #: (their relation, the table the condition's SELECT reads), set by tstats for its WHERE over a data set
    subsearch_rows: tuple[Relation, str] | None = None
    _tags: dict[str, int] = field(default_factory=dict)

    # ---------------------------------------------------------------- errors

    def location(self, span: Span | None = None) -> Location:
        return Location(
            rule_id=self.compiler.options.rule_id,
            stage_index=self.index,
            stage_name=self.command.name,
            source=self.compiler.source,
            span=span or self.command.span,
            stage_span=self.command.span,
        )

    def error(self, message: str, span: Span | None = None) -> TranslationError:
        return TranslationError(message, self.location(span))

    def unsupported(self, construct: str, message: str | None = None, span: Span | None = None) -> UnsupportedError:
        text = message or f"{construct} is not supported"
        return UnsupportedError(text, self.location(span), construct=construct)

    def option_span(self, key: str) -> Span | None:
        opt = self.command.options.get(key)
        return opt.span if opt is not None else None

    def check_options(self, allowed: set[str], refused: dict[str, str] | None = None) -> None:
        """Refuse, by name, every option of the command that is not in ``allowed`` (``refused`` gives a
        reason for the options known to be out of reach)."""
        for key, opt in self.command.options.items():
            if key in allowed:
                continue
            reason = (refused or {}).get(key)
            text = f"{self.command.name} {key}= is not supported" + (f": {reason}" if reason else "")
            raise self.unsupported(f"{self.command.name} {key}=", text, opt.span)

    def flag(self, key: str, default: bool) -> bool:
        """A boolean option (``t/true/1/yes`` or ``f/false/0/no``); anything else is an error naming it."""
        opt = self.command.options.get(key)
        if opt is None:
            return default
        text = opt.value.strip().lower()
        if text in ("t", "true", "1", "yes", "y"):
            return True
        if text in ("f", "false", "0", "no", "n"):
            return False
        raise self.error(f"{key}= must be true or false, got {opt.value!r}", opt.span)

    def int_option(self, key: str, default: int | None, minimum: int = 0) -> int | None:
        """A non-negative integer option, with an error naming it when it is not one."""
        opt = self.command.options.get(key)
        if opt is None:
            return default
        try:
            value = int(opt.value.strip())
        except ValueError:
            raise self.error(f"{key}= must be an integer, got {opt.value!r}", opt.span) from None
        if value < minimum:
            raise self.error(f"{key}= must be at least {minimum}, got {value}", opt.span)
        return value

    def note(self, text: str) -> None:
        """Tell the user something about the translation (shown once per query)."""
        if text not in self.notes:
            self.notes.append(text)

    def tag(self, base: str) -> str:
        """A name unique within this stage (``sub1``, ``sub2``...), for subsearch CTE prefixes and aliases."""
        n = self._tags.get(base, 0) + 1
        self._tags[base] = n
        return f"{base}{n}"

    # ---------------------------------------------------------------- fields

    def source(self) -> exp.Table:
        """The FROM of this stage."""
        if self.source_name is None:
            raise self.error("this command needs input rows")
        return exp.Table(this=exp.to_identifier(self.source_name, quoted=True))

    def field(self, name: str, relation: Relation | None = None) -> Typed:
        """A field of the input as a typed expression; a field that does not exist is a typed NULL."""
        rel = relation or self.input
        info = rel.get(name)
        if info is None:
            return Typed(null(), Kind.NULL)
        return Typed(col(info.column), info.kind)

    def new_column(self, name: str, relation: Relation, reuse: str | None = None) -> str:
        """A column name for field ``name`` that does not collide (case-insensitively) with another field's
        column in ``relation``. ``reuse`` is the column the field already has (kept when still free)."""
        taken = relation.columns()
        if reuse is not None:
            taken.discard(reuse.lower())
            if reuse.lower() == name.lower():
                return reuse
        if name.lower() not in taken:
            return name
        n = 2
        while f"{name}__{n}".lower() in taken:
            n += 1
        return f"{name}__{n}"

    def set_field(self, relation: Relation, name: str, kind: Kind) -> FieldInfo:
        """Add or replace field ``name`` in ``relation`` (keeping its position when it exists)."""
        existing = relation.fields.get(name)
        if existing is not None:
            info = FieldInfo(name, kind, existing.column)
            relation.fields[name] = info
            return info
        info = FieldInfo(name, kind, self.new_column(name, relation))
        relation.fields[name] = info
        return info

    # ---------------------------------------------------------------- expressions

    def search_condition(self, expr: ast.SearchExpr, relation: Relation | None = None) -> exp.Expression:
        from sqldetect.compile.search_expr import SearchTranslator

        return SearchTranslator(self, relation or self.input).condition(expr)

    def eval(self, expr: ast.EvalExpr, relation: Relation | None = None,
             overrides: dict[str, Typed] | None = None) -> Typed:
        from sqldetect.compile.eval_expr import EvalTranslator

        return EvalTranslator(self, relation or self.input, overrides).translate(expr)

    def eval_condition(self, expr: ast.EvalExpr, relation: Relation | None = None) -> exp.Expression:
        """An eval expression used as a filter (``where``): must be boolean."""
        from sqldetect.compile.eval_expr import EvalTranslator

        return EvalTranslator(self, relation or self.input).condition(expr)

    # ---------------------------------------------------------------- order

    def order_by(self, relation: Relation | None = None, table: str | None = None) -> list[exp.Ordered]:
        return order_by_expressions((relation or self.input).order, table)

    def keep_order(self, output: Relation, select: exp.Select, changed: set[str]) -> None:
        """Make ``output`` keep the input's row order although this stage drops or rewrites the columns in
        ``changed``: when the order depends on one of them (and a later stage needs the order), number the
        rows in this stage (hidden ``_sqld_seq``) and order by that from now on."""
        if not self.input.order:
            output.order = []
            return
        depends = {k.column.lower() for k in self.input.order} & {c.lower() for c in changed}
        if not depends:
            output.order = list(self.input.order)
            return
        if not self.order_needed:
            output.order = []
            return
        row_number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=self.order_by()))
        if SEQ_COLUMN in self.input.hidden:
            _drop_passed_column(select, SEQ_COLUMN)  # the new sequence replaces the old one
        select.select(alias(row_number, SEQ_COLUMN), append=True, copy=False)
        if SEQ_COLUMN not in output.hidden:
            output.hidden.append(SEQ_COLUMN)
        output.order = [OrderKey(SEQ_COLUMN)]

    def with_changes(
        self,
        changes: list[tuple[str, Typed]],
        *,
        drop: list[str] | None = None,
        where: exp.Expression | None = None,
    ) -> StageResult:
        """The common streaming stage: pass every column through, replacing or adding the given fields (in
        order; a later change of the same field wins) and dropping ``drop``. Used by eval, rex, convert,
        fillnull and friends so they all produce the same readable ``SELECT * REPLACE (...), new AS x``."""
        output = self.input.copy()
        replaced: dict[str, exp.Expression] = {}
        added: dict[str, exp.Expression] = {}
        for name, value in changes:
            info = output.fields.get(name)
            if info is not None and name not in added:
                output.fields[name] = FieldInfo(name, value.kind, info.column)
                replaced[info.column] = value.sql
            else:
                if info is None:
                    info = self.set_field(output, name, value.kind)
                else:
                    output.fields[name] = FieldInfo(name, value.kind, info.column)
                added[info.column] = value.sql
        excluded: list[str] = []
        for name in drop or []:
            info = output.fields.pop(name, None)
            if info is not None:
                excluded.append(info.column)
                replaced.pop(info.column, None)
                added.pop(info.column, None)
        from sqldetect.compile.sql import star

        items: list[exp.Expression] = [
            star(exclude=excluded, replace=[alias(e, c) for c, e in replaced.items()])
        ]
        items.extend(alias(e, c) for c, e in added.items())
        select = exp.select(*items, copy=False).from_(self.source(), copy=False)
        if where is not None:
            select = select.where(where, copy=False)
        self.keep_order(output, select, set(replaced) | set(excluded))
        return StageResult(select, output)

    def subpipeline(self, pipeline: ast.Pipeline, tag: str, *, continue_from_input: bool = False
                    ) -> tuple[str, Relation]:
        """Translate a subsearch into CTEs placed before this stage; returns its last CTE and relation.

        ``continue_from_input``: the sub-pipeline processes this stage's input rows (appendpipe, foreach)
        instead of searching the events."""
        if continue_from_input:
            return self.compiler.compile_subpipeline(pipeline, prefix=f"{self.name}_{tag}_",
                                                     source=self.source_name, relation=self.input)
        return self.compiler.compile_subpipeline(pipeline, prefix=f"{self.name}_{tag}_")

    def add_file(self, path: str) -> None:
        """Record a file the generated SQL reads (a lookup CSV)."""
        self.compiler.add_file(path)


def _drop_passed_column(select: exp.Select, column: str) -> None:
    """Stop ``select`` from passing ``column`` through: remove it from an explicit column list and add it to
    the EXCLUDE list of a ``*``."""
    kept: list[exp.Expression] = []
    for item in select.expressions:
        if isinstance(item, exp.Column) and item.name == column:
            continue
        star_ = item.this if isinstance(item, exp.Column) and isinstance(item.this, exp.Star) else item
        if isinstance(star_, exp.Star):
            excluded = list(star_.args.get("except_") or [])
            if not any(isinstance(e, exp.Column) and e.name == column for e in excluded):
                excluded.append(col(column))
            star_.set("except_", excluded)
        kept.append(item)
    select.set("expressions", kept)
