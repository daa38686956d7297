"""``foreach [mode=multifield] <fields> [ <template> ]``: run a template once per matching field.

The template is text: for each field (the listed names, wildcards expanded against the current fields in
their order) ``<<FIELD>>`` is replaced by the field name, ``<<MATCHSTR>>`` by what the ``*`` matched and
``<<MATCHSEG1>>``, ``<<MATCHSEG2>>``... by what each ``*`` matched (``fieldstr=``, ``matchstr=``,
``matchseg1=``... rename the placeholders). The substituted text is parsed as a pipeline and applied to the
rows, field after field, each run seeing the previous ones' results.

Templates made only of ``eval`` become one SELECT (the usual case:
``foreach * [eval <<FIELD>>=if(<<FIELD>>="null", null(), <<FIELD>>)]``); others become one CTE per
substituted command before this stage (a template may use the row order, so foreach counts as using its
input's order). ``mode=multivalue``/``json_array`` are refused.

Over rows that still have every column of the event table (raw events), a wildcard expands against the event
table's columns, but a column is one of the *results'* fields only when some row has a value in it (the rule
``fillnull`` without a list follows). So each run for such a column is guarded: its assignments take effect only
when ``COUNT(column) OVER ()`` is not 0, which gives the same rows as iterating over the fields the results
have. That guard exists for eval templates only; a wildcard template of other commands over raw events stays
refused.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.commands.eval import stored_value
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import lit, star
from sqldetect.compile.typed import Typed
from sqldetect.errors import SqlDetectError
from sqldetect.spl import ast


def _expansions(ctx: StageContext, cmd: ast.ForeachCommand) -> list[tuple[str, tuple[str, ...]]]:
    """(field, what each * matched) for every field the command iterates over."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for f in cmd.fields:
        if not wildcards.has_wildcard(f.name):
            if f.name not in [n for n, _ in out]:
                out.append((f.name, ()))
            continue
        for info in ctx.input:
            captures = wildcards.match(f.name, info.name)
            if captures is not None and info.kind is not Kind.NULL and info.name not in [n for n, _ in out]:
                out.append((info.name, captures))
    return out


def _guarded(ctx: StageContext, cmd: ast.ForeachCommand) -> set[str]:
    """The fields a wildcard reached over raw events: each run for them needs the "some row has it" guard."""
    if not ctx.input.events:
        return set()
    explicit = {f.name for f in cmd.fields if not wildcards.has_wildcard(f.name)}
    patterns = [f.name for f in cmd.fields if wildcards.has_wildcard(f.name)]
    return {info.name for info in ctx.input if info.name not in explicit
            and any(wildcards.match(p, info.name) is not None for p in patterns)}


def _substitute(cmd: ast.ForeachCommand, name: str, captures: tuple[str, ...]) -> str:
    text = cmd.template
    placeholders = {
        cmd.option("fieldstr") or "<<FIELD>>": name,
        cmd.option("matchstr") or "<<MATCHSTR>>": "".join(captures),
    }
    for i in range(1, 10):
        key = cmd.option(f"matchseg{i}") or f"<<MATCHSEG{i}>>"
        placeholders[key] = captures[i - 1] if i <= len(captures) else ""
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    return text


def _relocated(ctx: StageContext, cmd: ast.ForeachCommand, name: str, err: SqlDetectError) -> SqlDetectError:
    """An error from the substituted template, pointed at the template in the rule's SPL."""
    message = f"in the foreach template for field '{name}': {err.message}"
    clone = type(err).__new__(type(err))
    SqlDetectError.__init__(clone, message, ctx.location(cmd.template_span))
    if hasattr(err, "construct"):
        clone.construct = err.construct  # type: ignore[attr-defined]
    return clone


@command("foreach", consumes_order=True)
def foreach(ctx: StageContext, cmd: ast.ForeachCommand) -> StageResult:
    """Run a template (eval or other commands) once per matching field: <<FIELD>>, <<MATCHSTR>>, <<MATCHSEGn>>."""
    from sqldetect.spl.parser import parse

    ctx.check_options({"mode", "fieldstr", "matchstr", *(f"matchseg{i}" for i in range(1, 10))})
    mode = (cmd.option("mode") or "multifield").lower()
    if mode != "multifield":
        raise ctx.unsupported(f"foreach mode={mode}", span=ctx.option_span("mode"))
    pipelines: list[tuple[str, ast.Pipeline]] = []
    for name, captures in _expansions(ctx, cmd):
        text = "| " + _substitute(cmd, name, captures)
        try:
            pipelines.append((name, parse(text, rule_id=ctx.compiler.options.rule_id)))
        except SqlDetectError as err:
            raise _relocated(ctx, cmd, name, err) from None
    if not pipelines:
        return ctx.with_changes([])
    guarded = _guarded(ctx, cmd)
    all_eval = all(c.canonical == "eval" for _, p in pipelines for c in p.commands)
    if all_eval and guarded:
        return _guarded_evals(ctx, cmd, pipelines, guarded)
    if all_eval:
        return _merged_eval(ctx, cmd, pipelines)
    if guarded:
        wild = next(f for f in cmd.fields if wildcards.has_wildcard(f.name))
        raise ctx.unsupported("foreach with a wildcard over raw events",
                              "foreach with a wildcard over rows that still have every event-table column runs only "
                              "eval templates (a field is iterated when some row has it); reduce the fields with "
                              "table/fields/stats first for other commands", wild.span)
    source, relation = ctx.source_name, ctx.input
    for number, (name, pipeline) in enumerate(pipelines, start=1):
        try:
            source, relation = ctx.compiler.compile_text(pipeline, f"{ctx.name}_{number}_", source, relation)
        except SqlDetectError as err:
            raise _relocated(ctx, cmd, name, err) from None
    assert source is not None
    select = exp.select(star()).from_(exp.Table(this=exp.to_identifier(source, quoted=True)), copy=False)
    return StageResult(select, relation.copy())


def _merged_eval(ctx: StageContext, cmd: ast.ForeachCommand, pipelines: list[tuple[str, ast.Pipeline]]
                 ) -> StageResult:
    """All expansions are evals: one SELECT, assignments in order, each seeing the earlier ones."""
    overrides: dict[str, Typed] = {}
    changes: list[tuple[str, Typed]] = []
    for name, pipeline in pipelines:
        try:
            for command_ in pipeline.commands:
                assert isinstance(command_, ast.EvalCommand)
                for assignment in command_.assignments:
                    value = ctx.eval(assignment.expr, overrides=overrides)
                    stored = stored_value(ctx, assignment.field, value, assignment.span)
                    overrides[assignment.field] = stored
                    changes.append((assignment.field, stored))
        except SqlDetectError as err:
            raise _relocated(ctx, cmd, name, err) from None
    return ctx.with_changes(changes)


def _guarded_evals(ctx: StageContext, cmd: ast.ForeachCommand, pipelines: list[tuple[str, ast.Pipeline]],
                   guarded: set[str]) -> StageResult:
    """Eval runs over raw events, one CTE per run (runs read the previous run's columns rather than inlining
    its expressions, which would grow the SQL exponentially for ``x=mvappend(x, '<<FIELD>>')``). A first CTE
    records, for each guarded field, whether some row has it (hidden columns); a guarded run's assignments
    apply only where that flag is set, so a column no result row has is not iterated."""
    from sqldetect.compile.planner import CompiledStage
    from sqldetect.compile.sql import alias, col

    relation = ctx.input.copy()
    flags: dict[str, str] = {}
    items: list[exp.Expression] = [star()]
    for name, _ in pipelines:
        if name in guarded and name not in flags:
            flags[name] = ctx.new_column(f"_sqld_has_{len(flags) + 1}", relation)
            relation.hidden.append(flags[name])
            present = exp.GT(this=exp.Window(this=exp.Count(this=ctx.field(name).sql), over="OVER"), expression=lit(0))
            items.append(alias(present, flags[name]))
    source = f"{ctx.name}_0_present"
    select = exp.select(*items).from_(ctx.source(), copy=False)
    ctx.compiler.stages.append(CompiledStage(source, f"{_spl_of(ctx)} (which fields the rows have)", select,
                                             relation.copy()))
    for number, (name, pipeline) in enumerate(pipelines, start=1):
        for command_ in pipeline.commands:
            assert isinstance(command_, ast.EvalCommand)
            step = StageContext(ctx.compiler, command_, ctx.index, f"{ctx.name}_{number}_eval", relation, source,
                                later=ctx.later)
            changes: list[tuple[str, Typed]] = []
            overrides: dict[str, Typed] = {}
            try:
                for assignment in command_.assignments:
                    value = stored_value(step, assignment.field, step.eval(assignment.expr, overrides=overrides),
                                         assignment.span)
                    if name in flags:
                        current = overrides.get(assignment.field) or step.field(assignment.field)
                        value = _when(col(flags[name]), value, current)
                    overrides[assignment.field] = value
                    changes.append((assignment.field, value))
            except SqlDetectError as err:
                raise _relocated(ctx, cmd, name, err) from None
            result = step.with_changes(changes)
            ctx.compiler.stages.append(CompiledStage(step.name, f"{_spl_of(ctx)} ({name})", result.select,
                                                     result.relation))
            source, relation = step.name, result.relation
    relation.hidden = [h for h in relation.hidden if h not in flags.values()]
    final = exp.select(star(exclude=list(flags.values()))).from_(exp.Table(this=exp.to_identifier(source, quoted=True)),
                                                                 copy=False)
    return StageResult(final, relation)


def _spl_of(ctx: StageContext) -> str:
    return " ".join(ctx.compiler.source[ctx.command.span.start : ctx.command.span.end].split())[:200]


def _when(flag: exp.Expression, value: Typed, current: Typed) -> Typed:
    """``value`` where ``flag`` is true, else the target's ``current`` value."""
    from sqldetect.compile.functions import unify

    (new, old), kind = unify([value, current])
    return Typed(exp.Case().when(flag, new, copy=False).else_(old, copy=False), kind)
