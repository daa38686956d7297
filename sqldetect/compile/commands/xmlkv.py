"""``xmlkv [field] [maxinputs=N]``: fields from the XML elements of a field (default ``_raw``).

Each ``<tag ...>value</tag>`` whose value holds no further tags sets field ``tag`` (the last occurrence wins,
decision in docs/semantics.md); the text is kept as written (entities are not decoded). A tag that is not in
the text leaves the field as it was. The field names come from the data, so sqldetect extracts the tags the
rest of the pipeline uses (see ``demand.py``); ``maxinputs`` is accepted and has no effect.
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqldetect.compile.commands.spath import demanded, input_text, kept_if_missing
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, lit
from sqldetect.compile.typed import Typed
from sqldetect.spl import ast

_TAG = re.compile(r"^[A-Za-z_][\w.\-:]*$")


def tag_value(text: exp.Expression, tag: str) -> exp.Expression:
    """The text of the last ``<tag>...</tag>`` without nested tags in ``text`` (NULL when there is none)."""
    name = re.escape(tag)
    values = anon("regexp_extract_all", text, lit(rf"<{name}(?:\s[^>]*)?>([^<]*)</{name}\s*>"), lit(1))
    return anon("list_extract", values, lit(-1))


@command("xmlkv")
def xmlkv(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Fields from XML elements <tag>value</tag> of a field (default _raw); the tags later stages use."""
    ctx.check_options({"maxinputs"})
    if len(cmd.words) > 1 or cmd.subsearches:
        raise ctx.error("xmlkv takes at most one field")
    source = cmd.words[0] if cmd.words else "_raw"
    names = demanded(ctx, "xmlkv")
    text = input_text(ctx, source)
    if text is None:
        return ctx.with_changes([])
    changes = []
    for name in sorted(n for n in names if _TAG.match(n)):
        changes.append((name, kept_if_missing(ctx, name, Typed(tag_value(text, name), Kind.STRING))))
    return ctx.with_changes(changes)
