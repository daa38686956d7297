"""``from datamodel:M.D`` (also written ``from datamodel M.D``): the rows of a CIM data set.

The rows are the events the data set's constraint selects, with every event field plus the data set's CIM fields
under their plain names (``process_name``, not ``Processes.process_name``); a CIM field replaces an event field of
the same name. They come newest first, as events do. The data set is compiled into CTEs before this stage by
``sqldetect.datamodels``. Other ``from`` sources (``inputlookup:``, saved searches, SPL2 datasets) are refused.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.sql import ident, star
from sqldetect.datamodels import emit_dataset, resolve_dataset, text_span
from sqldetect.spl import ast


@command("from", generating=True)
def from_(ctx: StageContext, cmd: ast.FromCommand) -> StageResult:
    """The rows of a CIM data set (from datamodel:M.D) with its fields under their plain names."""
    if ctx.source_name is not None:
        raise ctx.error("from must be the first command of a search (| from datamodel:M.D)")
    for key, opt in cmd.options.items():
        raise ctx.unsupported(f"from {key}=", span=opt.span)
    kind, _, name = cmd.dataset.partition(":")
    if kind.lower() != "datamodel" or not name:
        what = f"from {kind}:" if name else "from <dataset>"
        raise ctx.unsupported(what, f"{what} is not supported; only from datamodel:<Model>.<Dataset> is")
    span = text_span(ctx, name)
    dataset = resolve_dataset(ctx, name, None, span)
    level = emit_dataset(ctx, dataset, span, all_fields=True)
    select = exp.select(star()).from_(exp.Table(this=ident(level.name)), copy=False)
    return StageResult(select, level.relation.copy())
