"""``rename``: rename fields, with wildcards carried over (``rename Processes.* AS *``).

Pairs apply in order. A target that already exists is replaced; renaming a field that does not exist onto an
existing field removes that field's data (Splunk's documented behaviour). Columns keep their position.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from sqldetect.compile import wildcards
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import col, ident, star
from sqldetect.spl import ast


@dataclass(slots=True)
class _Slot:
    name: str
    kind: Kind
    column: str
    info: FieldInfo  # the input field (kept as it is when the slot ends up unchanged)


@command("rename")
def rename(ctx: StageContext, cmd: ast.RenameCommand) -> StageResult:
    """Rename fields (AS), wildcards carried from source to target."""
    slots = [_Slot(f.name, f.kind, f.column, f) for f in ctx.input]
    removed: list[str] = []
    for pair in cmd.pairs:
        source, target = pair.source.name, pair.target.name
        if wildcards.has_wildcard(source):
            matches = [(s, caps) for s in slots if (caps := wildcards.match(source, s.name)) is not None]
        else:  # a plain name: compare names (the input may be the whole event table, hundreds of fields)
            matches = [(s, ()) for s in slots if s.name == source]
        if not wildcards.has_wildcard(source) and not matches:
            for s in [s for s in slots if s.name == target]:
                slots.remove(s)
                removed.append(s.column)
            continue
        for slot, captures in matches:
            try:
                new_name = wildcards.substitute(target, captures) if wildcards.has_wildcard(target) else target
            except ValueError:
                raise ctx.error("rename needs the same number of '*' on both sides", pair.span) from None
            if new_name == slot.name:
                continue
            for other in [s for s in slots if s.name == new_name and s is not slot]:
                slots.remove(other)
                removed.append(other.column)
            slot.name = new_name

    output = Relation(order=[], hidden=list(ctx.input.hidden), events=ctx.input.events)
    renames: list[exp.Expression] = []
    new_columns: dict[str, str] = {}
    # Columns not renamed still hold their names (avoid them too); taken = columns already given out.
    pending = {s.column.lower() for s in slots if s.name == s.column}
    taken = {h.lower() for h in output.hidden}
    for slot in slots:
        column = slot.column
        if slot.name != column:
            wanted = slot.name
            clash = taken if wanted.lower() == column.lower() else taken | pending
            if wanted.lower() in clash:
                n = 2
                while f"{slot.name}__{n}".lower() in clash:
                    n += 1
                wanted = f"{slot.name}__{n}"
            if wanted != column:
                renames.append(exp.Alias(this=col(column), alias=ident(wanted)))
                new_columns[column] = wanted
                column = wanted
        info = slot.info
        unchanged = slot.name == info.name and column == info.column  # most fields: reuse the input's
        output.fields[slot.name] = info if unchanged else FieldInfo(slot.name, slot.kind, column)
        taken.add(column.lower())
    args: dict[str, object] = {}
    if removed:
        args["except_"] = [col(c) for c in removed]
    if renames:
        args["rename"] = renames
    select = exp.select(exp.Star(**args) if args else star(), copy=False).from_(ctx.source(), copy=False)
    # The order follows renamed columns; a removed one needs the order kept as data.
    ctx.keep_order(output, select, set(removed))
    output.order = [OrderKey(new_columns.get(k.column, k.column), k.descending, k.mode) for k in output.order]
    return StageResult(select, output)
