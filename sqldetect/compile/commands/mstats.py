"""``mstats``: refused by name. It reads Splunk metrics indexes, which have no counterpart in an event table."""

from __future__ import annotations

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.spl import ast


@command("mstats", generating=True)
def mstats(ctx: StageContext, cmd: ast.Command) -> StageResult:
    """Refused: mstats reads Splunk metrics indexes, which sqldetect does not have."""
    raise ctx.unsupported("mstats", "mstats reads Splunk metrics indexes, which sqldetect does not have "
                          "(only events are loaded)")
