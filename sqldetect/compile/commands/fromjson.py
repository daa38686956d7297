"""``fromjson <field> [prefix=<text>]``: the top-level keys of a JSON object as fields.

Key ``k`` becomes field ``<prefix>k``: an array gives a multivalue field of its elements (objects inside as
JSON text), an object its JSON text, a scalar its text; JSON null and missing keys leave the field as it
was, as does a value that is not a JSON object. The fields are multivalue-typed (a single value shows as a
plain value). The key names come from the data, so sqldetect extracts the keys the rest of the pipeline
uses (see ``demand.py``).
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.commands.spath import demanded, input_text, kept_if_missing
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import Kind
from sqldetect.compile.sql import anon, lam, lit
from sqldetect.compile.typed import ELEMENT, Typed
from sqldetect.spl import ast


def key_values(text: exp.Expression, key: str) -> exp.Expression:
    """The values of top-level ``key`` of the JSON object in ``text`` as a VARCHAR[] (NULL when absent)."""
    path = '$."' + key.replace('"', '\\"') + '"'
    kind = anon("json_type", text, lit(path))
    elements = anon("list_filter", anon("json_extract_string", text.copy(), lit(path + "[*]")),
                    lam(ELEMENT, exp.Not(this=exp.Is(this=exp.column(ELEMENT), expression=exp.Null()))))
    single = exp.Array(expressions=[anon("json_extract_string", text.copy(), lit(path))])
    is_object = exp.EQ(this=anon("json_type", text.copy()), expression=lit("OBJECT"))
    value = exp.Case().when(exp.EQ(this=kind, expression=lit("ARRAY")), exp.Case().when(
        exp.GT(this=anon("len", elements), expression=lit(0)), elements.copy()), copy=False).when(
        exp.NEQ(this=kind.copy(), expression=lit("NULL")), single, copy=False)
    return exp.Case().when(exp.And(this=anon("json_valid", text.copy()), expression=is_object), value, copy=False)


@command("fromjson")
def fromjson(ctx: StageContext, cmd: ast.GenericCommand) -> StageResult:
    """Top-level keys of a JSON object field as fields (prefix=); the keys later stages use."""
    ctx.check_options({"prefix"})
    if len(cmd.words) != 1 or cmd.subsearches:
        raise ctx.error("fromjson takes one field")
    prefix = cmd.option("prefix") or ""
    names = demanded(ctx, "fromjson")
    text = input_text(ctx, cmd.words[0])
    if text is None:
        return ctx.with_changes([])
    changes = []
    for name in sorted(n for n in names if n.startswith(prefix) and len(n) > len(prefix)):
        found = Typed(key_values(text, name[len(prefix):]), Kind.MULTIVALUE)
        changes.append((name, kept_if_missing(ctx, name, found)))
    return ctx.with_changes(changes)
