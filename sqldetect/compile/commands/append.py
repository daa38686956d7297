"""``append [subsearch]`` and ``appendpipe [sub-pipeline]``: add rows after the current ones.

- ``append``: the subsearch (a search over the events, or a generating command) runs on its own; its rows
  come after all current rows, each block in its own order; fields are unioned (a row lacks the fields it
  never had; a field holding different kinds on the two sides becomes text, or a list if either is one).
  Only the first ``maxout`` (default 50,000) subsearch rows are added.
- ``appendpipe``: the sub-pipeline runs over the current rows (``appendpipe [stats count]`` adds a total
  row) and its output is appended the same way. The sub-pipeline may depend on the row order
  (``appendpipe [head 1]``), so appendpipe counts as using its input's order.
- ``maxtime``/``timeout``/``extendtimerange`` (time limits) and ``run_in_preview`` are accepted and have no
  effect: there is no time budget or preview here.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.combine import Part, stack, subquery
from sqldetect.compile.commands.join import subsearch_limit
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.spl import ast

APPEND_MAXOUT = 50_000


@command("append")
def append(ctx: StageContext, cmd: ast.SubsearchCommand) -> StageResult:
    """Add the subsearch's rows after the current rows (fields unioned; maxout= rows, default 50,000)."""
    ctx.check_options({"maxout", "maxtime", "timeout", "extendtimerange"})
    assert cmd.subsearch is not None
    maxout = ctx.int_option("maxout", APPEND_MAXOUT) or APPEND_MAXOUT
    sub_name, sub_rel = ctx.subpipeline(cmd.subsearch.pipeline, ctx.tag("sub"))
    limited = exp.select(exp.Star()).from_(exp.Table(this=exp.to_identifier(sub_name, quoted=True)), copy=False).qualify(
        subsearch_limit(sub_rel, maxout), copy=False)
    return stack(ctx, [Part(ctx.source(), ctx.input), Part(subquery(limited, "appended"), sub_rel)])


@command("appendpipe", consumes_order=True)
def appendpipe(ctx: StageContext, cmd: ast.SubsearchCommand) -> StageResult:
    """Run a sub-pipeline over the current rows and add its output after them."""
    ctx.check_options({"run_in_preview"})
    assert cmd.subsearch is not None
    sub_name, sub_rel = ctx.subpipeline(cmd.subsearch.pipeline, ctx.tag("pipe"), continue_from_input=True)
    sub_table = exp.Table(this=exp.to_identifier(sub_name, quoted=True))
    return stack(ctx, [Part(ctx.source(), ctx.input), Part(sub_table, sub_rel)])
