"""``fields``: keep (``+``, the default) or remove (``-``) fields; ``_time``/``_raw`` stay unless removed."""

from __future__ import annotations

from sqldetect.compile.commands.table import expand_fields, project
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.spl import ast


@command("fields")
def fields(ctx: StageContext, cmd: ast.FieldsCommand) -> StageResult:
    """Keep (+) or remove (-) fields; wildcards allowed; _time and _raw are kept unless removed."""
    listed = expand_fields(ctx, cmd.fields)
    if cmd.remove:
        if not any(ctx.input.get(n) for n in listed):
            return ctx.with_changes([])
        return ctx.with_changes([], drop=[n for n in listed if ctx.input.get(n) is not None])
    keep = [n for n in listed if ctx.input.get(n) is not None]
    for internal in ("_time", "_raw"):
        if ctx.input.get(internal) is not None and internal not in keep:
            keep.append(internal)
    return project(ctx, keep)
