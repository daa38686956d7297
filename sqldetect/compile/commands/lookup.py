"""``lookup``: enrich rows from a CSV lookup table (see ``lookups.py`` for how tables are found).

``lookup [local=t] [update=t] <table> <col> [AS <field>] ... [OUTPUT|OUTPUTNEW <col> [AS <field>] ...]``

- A row matches a lookup row when every input column matches its event field: exactly and case-sensitively
  by default; ignoring case with ``case_sensitive_match = false``; as a ``*`` pattern held by the lookup
  cell for ``WILDCARD(col)``; as an IPv4 subnet (or address) held by the cell for ``CIDR(col)``. A
  multivalue event field matches when any of its values does (ambiguity 15: the outputs of all matching
  lookup rows are combined in file order, not per input value). A row lacking an input field matches nothing.
- Up to ``max_matches`` (default 100) matching lookup rows are used, in file order; each output field is the
  multivalue list of their non-empty values (one value shows as a plain value). With ``max_matches = 1`` the
  outputs are plain values.
- Outputs: ``OUTPUT`` lists them (with ``AS``); no clause means every lookup column that is not an input.
  On a match ``OUTPUT`` overwrites the field; ``OUTPUTNEW`` only fills it where it is null. Without a match
  nothing changes: an existing field keeps its value (ambiguity 15, decision in docs/semantics.md) — unless
  the definition sets ``min_matches``, in which case ``default_match`` fills up to that many values.
- KV-store lookups and unknown tables are errors naming the lookup.

SQL: ``LEFT JOIN LATERAL`` over the CSV rows (``read_csv``) with the match conditions, aggregating the outputs
with ``list(... ORDER BY file row)``; equality conditions become hash joins in DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from sqldetect.compile.combine import qualified_field
from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.lookups import ROW_COLUMN, LookupResolver, LookupTable
from sqldetect.compile.registry import command
from sqldetect.compile.relation import FieldInfo, Kind
from sqldetect.compile.sql import alias, and_, anon, cast, col, lam, lit, star
from sqldetect.compile.typed import ELEMENT, Typed, any_value, as_list, as_string
from sqldetect.errors import LookupError_, Span, UnsupportedError
from sqldetect.spl import ast

ROW = "row"
LOOKUP = "lookup"
MATCHED = "matched"
MATCH_COUNT = "_sqld_matches"


def resolve_table(ctx: StageContext, name: str, span: Span | None) -> LookupTable:
    """Resolve lookup ``name`` with the compile options' resolver; errors point at ``span``."""
    resolver = ctx.compiler.options.lookups
    if resolver is None:
        resolver = LookupResolver()
    if not isinstance(resolver, LookupResolver):
        raise ctx.error("CompileOptions.lookups must be a LookupResolver")
    try:
        table = resolver.resolve(name)
    except (LookupError_, UnsupportedError) as err:
        location = ctx.location(span)
        raise err.with_location(**location.__dict__) from None
    ctx.add_file(str(table.path))
    return table


def table_name_span(ctx: StageContext, cmd: ast.Command, name: str) -> Span | None:
    """The span of the table name inside the stage text (for error carets)."""
    text = ctx.compiler.source[cmd.span.start : cmd.span.end]
    offset = text.find(name, len(cmd.name))
    return Span(cmd.span.start + offset, cmd.span.start + offset + len(name)) if offset >= 0 else None


def match_condition(table: LookupTable, column: str, value: Typed) -> exp.Expression:
    """The lookup cell ``column`` (of alias ``lookup``) matches the event value, by the table's rules."""
    cell = col(column, LOOKUP)
    sensitive = table.definition.case_sensitive
    kind = table.match_type(column)

    def scalar(v: Typed) -> exp.Expression:
        text = as_string(v) if v.kind is not Kind.STRING else v.sql
        if kind == "WILDCARD":
            pattern = anon("replace", anon("replace", anon("replace", anon("replace", cell.copy(), lit("\\"),
                                                                               lit("\\\\")), lit("%"), lit("\\%")),
                                                   lit("_"), lit("\\_")), lit("*"), lit("%"))
            like: exp.Expression = exp.Like(this=text, expression=pattern) if sensitive else exp.ILike(
                this=text, expression=pattern)
            return exp.Escape(this=like, expression=lit("\\"))
        if kind == "CIDR":
            return cidr_contains(cell.copy(), text)
        if sensitive:
            return exp.EQ(this=cell.copy(), expression=text)
        return exp.EQ(this=anon("lower", cell.copy()), expression=anon("lower", text))

    if value.kind is Kind.MULTIVALUE and kind == "EXACT" and sensitive:
        return anon("list_contains", value.sql, cell)
    return any_value(value, scalar)


_IPV4 = r"^\d{1,3}(\.\d{1,3}){3}$"


def ipv4_number(text: exp.Expression) -> exp.Expression:
    """The IPv4 address in ``text`` as a number (NULL when the text is not a dotted quad)."""
    octets = anon("list_transform", anon("string_split", text, lit(".")),
                  lam("_o", cast(exp.column("_o"), "BIGINT")))
    folded = anon("list_reduce", octets, exp.Lambda(
        this=exp.Add(this=exp.Mul(this=exp.column("_a"), expression=lit(256)), expression=exp.column("_b")),
        expressions=[exp.to_identifier("_a"), exp.to_identifier("_b")]))
    return exp.Case().when(anon("regexp_matches", text.copy(), lit(_IPV4)), folded, copy=False)


def cidr_contains(cell: exp.Expression, address: exp.Expression) -> exp.Expression:
    """The IPv4 ``address`` lies in the subnet written in ``cell`` (``10.0.0.0/8``, or one address):
    both divided by the block size 2^(32 - prefix) give the same number."""
    prefix = exp.Coalesce(this=exp.TryCast(this=anon("nullif", anon("split_part", cell, lit("/"), lit(2)), lit("")),
                                           to=exp.DataType.build("INTEGER")), expressions=[lit(32)])
    block = anon("pow", lit(2), exp.Paren(this=exp.Sub(this=lit(32), expression=prefix)))
    network = ipv4_number(anon("split_part", cell.copy(), lit("/"), lit(1)))
    return exp.EQ(this=anon("floor", exp.Div(this=ipv4_number(address), expression=block)),
                  expression=anon("floor", exp.Div(this=network, expression=block.copy())))


def _values(column: str, max_matches: int) -> exp.Expression:
    """The non-empty values of ``column`` over the first ``max_matches`` matching rows, in file order."""
    ordered = exp.ArrayAgg(this=exp.Order(this=col(column, LOOKUP), expressions=[
        exp.Ordered(this=col(ROW_COLUMN, LOOKUP), desc=False)]))
    first = anon("list_slice", ordered, lit(1), lit(max_matches))
    return anon("list_filter", first, lam(ELEMENT, exp.Not(this=exp.Is(this=exp.column(ELEMENT),
                                                                         expression=exp.Null()))))


@command("lookup")
def lookup(ctx: StageContext, cmd: ast.LookupCommand) -> StageResult:
    """Add fields from a CSV lookup: exact/case-insensitive/WILDCARD/CIDR matching, OUTPUT/OUTPUTNEW, AS."""
    ctx.check_options({"local", "update"})
    table = resolve_table(ctx, cmd.table, table_name_span(ctx, cmd, cmd.table))
    definition = table.definition
    inputs = cmd.inputs
    for pair in [*inputs, *cmd.outputs]:
        if pair.lookup_field not in table.columns:
            raise ctx.error(f"lookup '{cmd.table}' has no column '{pair.lookup_field}' (columns: "
                            f"{', '.join(table.columns)})", pair.span)
    if cmd.output_mode is None:
        input_columns = {p.lookup_field for p in inputs}
        outputs = [(c, c) for c in table.columns if c not in input_columns]
    else:
        outputs = [(p.lookup_field, p.event_field) for p in cmd.outputs]
    if not outputs:
        raise ctx.error(f"lookup '{cmd.table}' has no column to output")

    conditions = []
    for pair in inputs:
        value = qualified_field(ctx, pair.event_field, ctx.input, ROW)
        if value.kind is Kind.NULL:
            conditions.append(exp.Boolean(this=False))
        else:
            conditions.append(match_condition(table, pair.lookup_field, value))
    aggregates = [alias(exp.Count(this=exp.Star()), MATCH_COUNT)]
    aggregate_names: dict[str, str] = {}
    for number, (column, _) in enumerate(outputs, start=1):
        if column not in aggregate_names:
            name = f"out{number}"
            aggregate_names[column] = name
            aggregates.append(alias(_values(column, definition.max_matches), name))
    matched = exp.select(*aggregates).from_(table.source(LOOKUP), copy=False).where(and_(*conditions), copy=False)
    lateral = exp.Lateral(this=exp.Subquery(this=matched), alias=exp.TableAlias(
        this=exp.to_identifier(MATCHED, quoted=True)))

    count = col(MATCH_COUNT, MATCHED)
    single = definition.max_matches == 1
    output = ctx.input.copy()
    replaced: dict[str, exp.Expression] = {}
    added: dict[str, exp.Expression] = {}
    for column, target in outputs:
        found: exp.Expression = col(aggregate_names[column], MATCHED)
        if definition.min_matches > 0 and definition.default_match is not None:
            found = exp.Coalesce(this=found, expressions=[cast(exp.Array(expressions=[]), "VARCHAR[]")])
            padding = anon("list_transform", anon("range", exp.Sub(this=lit(definition.min_matches),
                                                                    expression=anon("len", found.copy()))),
                           lam("_i", lit(definition.default_match)))
            found = anon("list_concat", found, padding)
            applies: exp.Expression | None = None  # the defaults make every row "match"
        else:
            applies = exp.GT(this=count.copy(), expression=lit(0))
        new_kind = Kind.STRING if single else Kind.MULTIVALUE
        new_value = anon("list_extract", found, lit(1)) if single else exp.Case().when(
            exp.GT(this=anon("len", found.copy()), expression=lit(0)), found, copy=False)
        existing = qualified_field(ctx, target, output, ROW)
        kind = new_kind if existing.kind in (Kind.NULL, new_kind) else Kind.MULTIVALUE
        old = existing.sql if existing.kind in (kind, Kind.NULL) else as_list(existing)
        if kind is Kind.MULTIVALUE and single:
            new_value = as_list(Typed(new_value, Kind.STRING))
        value: exp.Expression
        if existing.kind is Kind.NULL:
            value = new_value if applies is None else exp.Case().when(applies, new_value, copy=False)
        elif cmd.output_mode == "OUTPUTNEW":
            value = exp.Case().when(and_(exp.Is(this=old.copy(), expression=exp.Null()), applies), new_value, copy=False).else_(
                old, copy=False)
        elif applies is None:
            value = new_value
        else:
            value = exp.Case().when(applies, new_value, copy=False).else_(old, copy=False)
        info = output.fields.get(target)
        if info is not None:
            output.fields[target] = FieldInfo(target, kind, info.column)
            replaced[info.column] = value
        else:
            info = ctx.set_field(output, target, kind)
            added[info.column] = value
    row_star = exp.Column(this=star(replace=[alias(v, c) for c, v in replaced.items()]),
                          table=exp.to_identifier(ROW, quoted=True))
    items: list[exp.Expression] = [row_star, *(alias(v, c) for c, v in added.items())]
    source = exp.Table(this=exp.to_identifier(ctx.source().name, quoted=True),
                       alias=exp.TableAlias(this=exp.to_identifier(ROW, quoted=True)))
    select = exp.select(*items).from_(source, copy=False).join(lateral, join_type="LEFT", on=exp.Boolean(this=True), copy=False)
    ctx.keep_order(output, select, set(replaced))
    return StageResult(select, output)
