"""``foreach [mode=multifield] <fields> [ <template> ]``: run a template once per matching field.

The template is text: for each field (the listed names, wildcards expanded against the current fields in
their order) ``<<FIELD>>`` is replaced by the field name, ``<<MATCHSTR>>`` by what the ``*`` matched and
``<<MATCHSEG1>>``, ``<<MATCHSEG2>>``... by what each ``*`` matched (``fieldstr=``, ``matchstr=``,
``matchseg1=``... rename the placeholders). The substituted text is parsed as a pipeline and applied to the
rows, field after field, each run seeing the previous ones' results.

Templates made only of ``eval`` become one SELECT (the usual case:
``foreach * [eval <<FIELD>>=if(<<FIELD>>="null", null(), <<FIELD>>)]``); others become one CTE per
substituted command before this stage (a template may use the row order, so foreach counts as using its
input's order). A wildcard over rows that still have every column of the event table
is refused (which fields exist there depends on the data); ``mode=multivalue``/``json_array`` are refused.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.commands.eval import stored_value
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import star
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
        if ctx.input.events:
            raise ctx.unsupported("foreach with a wildcard over raw events", "foreach with a wildcard over rows "
                                  "that still have every event-table column: which fields exist depends on the "
                                  "data (reduce the fields with table/fields/stats first)", f.span)
        for info in ctx.input:
            captures = wildcards.match(f.name, info.name)
            if captures is not None and info.kind is not Kind.NULL and info.name not in [n for n, _ in out]:
                out.append((info.name, captures))
    return out


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
    if all(c.canonical == "eval" for _, p in pipelines for c in p.commands):
        return _merged_eval(ctx, cmd, pipelines)
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
