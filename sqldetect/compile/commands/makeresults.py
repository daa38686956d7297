"""``makeresults``: generate rows without reading events (``| makeresults count=3 | eval ...``).

- ``count=N`` (default 1) rows, each with only ``_time`` = the search time (``CompileOptions.now`` when
  fixed, else the engine's clock) truncated to whole seconds, as Splunk stamps them.
- ``annotate=true`` adds the fields ``_raw``, ``host``, ``source``, ``sourcetype``, ``splunk_server`` and
  ``splunk_server_group``; sqldetect has no Splunk server, so they exist but hold no value (decision in
  docs/semantics.md).
- ``format=csv|json data="..."`` (Splunk 9.1+) builds the rows from inline data: CSV with a header line, or a
  JSON array of objects (cells are trimmed). Values are text (as ``inputlookup`` gives them; a JSON list becomes a multivalue
  field). Such rows get no ``_time`` unless the data has a ``_time`` column (epoch seconds).
- Rows keep their generated order (hidden ``_sqld_seq``).
"""

from __future__ import annotations

import csv
import io
import json

from sqlglot import exp

from sqldetect.compile.context import StageContext, StageResult
from sqldetect.compile.registry import command
from sqldetect.compile.relation import SEQ_COLUMN, FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import alias, anon, cast, from_epoch, lit, null, try_cast
from sqldetect.compile.timemod import now_sql
from sqldetect.spl import ast

ANNOTATE_FIELDS = ("_raw", "host", "source", "sourcetype", "splunk_server", "splunk_server_group")


@command("makeresults", generating=True)
def makeresults(ctx: StageContext, cmd: ast.MakeresultsCommand) -> StageResult:
    """Generate N rows holding only _time (annotate=t adds the standard fields; format=csv|json data=...)."""
    if ctx.source_name is not None:
        raise ctx.error("makeresults generates rows: it must start the pipeline (| makeresults ...)")
    ctx.check_options({"count", "annotate", "format", "data"},
                      {"splunk_server": "there is no Splunk server", "splunk_server_group": "there is no Splunk server"})
    if "format" in cmd.options or "data" in cmd.options:
        return _inline_data(ctx, cmd)
    count = ctx.int_option("count", 1) or 0
    output = Relation()
    items: list[exp.Expression] = []
    stamp = anon("date_trunc", lit("second"), now_sql(ctx))
    items.append(alias(stamp, "_time"))
    output.fields["_time"] = FieldInfo("_time", Kind.TIME, "_time")
    if ctx.flag("annotate", False):
        for name in ANNOTATE_FIELDS:
            items.append(alias(null(), name))
            output.fields[name] = FieldInfo(name, Kind.NULL, name)
    items.append(alias(anon("unnest", anon("range", lit(1), lit(count + 1))), SEQ_COLUMN))
    output.hidden = [SEQ_COLUMN]
    output.order = [OrderKey(SEQ_COLUMN)]
    return StageResult(exp.select(*items), output)


def _inline_data(ctx: StageContext, cmd: ast.MakeresultsCommand) -> StageResult:
    fmt = (cmd.option("format") or "").lower()
    data = cmd.option("data")
    if data is None:
        raise ctx.error("makeresults format= needs data=\"...\"", ctx.option_span("format"))
    if fmt not in ("csv", "json"):
        raise ctx.unsupported(f"makeresults format={fmt or '(none)'}",
                              "makeresults supports format=csv and format=json with data=",
                              ctx.option_span("format") or ctx.option_span("data"))
    if "count" in cmd.options or "annotate" in cmd.options:
        raise ctx.unsupported("makeresults count=/annotate= with data=", span=ctx.option_span("count")
                              or ctx.option_span("annotate"))
    span = ctx.option_span("data")
    names, rows = _read_csv(ctx, data, span) if fmt == "csv" else _read_json(ctx, data, span)
    return values_relation(ctx, names, rows)


def values_relation(ctx: StageContext, names: list[str], rows: list[dict[str, object]]) -> StageResult:
    """Rows given at compile time as a ``VALUES`` list: text values, lists as multivalue, ``_time`` as epoch
    seconds. Shared by ``makeresults format=...``."""
    kinds = {n: Kind.MULTIVALUE if any(isinstance(r.get(n), list) for r in rows) else Kind.STRING for n in names}
    if "_time" in kinds:
        kinds["_time"] = Kind.TIME
    output = Relation()
    for name in names:
        output.fields[name] = FieldInfo(name, kinds[name], ctx.new_column(name, output))
    columns = [output.fields[n].column for n in names] + [SEQ_COLUMN]
    tuples = []
    for number, row in enumerate(rows, start=1):
        cells = [_cell(row.get(name), kinds[name]) for name in names]
        tuples.append(exp.Tuple(expressions=[*cells, lit(number)]))
    if not tuples:
        select = exp.select(*[alias(null(kinds[n].sql_type), output.fields[n].column) for n in names],
                            alias(lit(0), SEQ_COLUMN)).where(exp.Boolean(this=False), copy=False)
    else:
        values = exp.Values(expressions=tuples, alias=exp.TableAlias(
            this=exp.to_identifier("data", quoted=True),
            columns=[exp.to_identifier(c, quoted=True) for c in columns]))
        select = exp.select(exp.Star()).from_(values, copy=False)
    output.hidden = [SEQ_COLUMN]
    output.order = [OrderKey(SEQ_COLUMN)]
    return StageResult(select, output)


def _cell(value: object, kind: Kind) -> exp.Expression:
    if value is None or value == "":
        return null(kind.sql_type)
    if kind is Kind.TIME:
        return from_epoch(try_cast(lit(str(value)), "DOUBLE"))
    if kind is Kind.MULTIVALUE:
        items = value if isinstance(value, list) else [value]
        return cast(exp.Array(expressions=[lit(_text(v)) for v in items if v is not None]), "VARCHAR[]")
    return lit(_text(value))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _read_csv(ctx: StageContext, data: str, span) -> tuple[list[str], list[dict[str, object]]]:
    reader = csv.reader(io.StringIO(data), skipinitialspace=True)
    lines = [line for line in reader if line]
    if not lines:
        raise ctx.error("makeresults data= holds no CSV header", span)
    names = [n.strip() for n in lines[0]]
    if len(set(names)) != len(names) or any(not n for n in names):
        raise ctx.error("makeresults CSV header has an empty or repeated column name", span)
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) > len(names):
            raise ctx.error(f"makeresults CSV line {number} has more cells than the header", span)
        rows.append({names[i]: cell.strip() for i, cell in enumerate(line)})
    return names, rows


def _read_json(ctx: StageContext, data: str, span) -> tuple[list[str], list[dict[str, object]]]:
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as err:
        raise ctx.error(f"makeresults data= is not valid JSON: {err.msg} at character {err.pos}", span) from None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
        raise ctx.error("makeresults format=json needs an object or an array of objects", span)
    names: list[str] = []
    for row in parsed:
        for key in row:
            if key not in names:
                names.append(key)
    return names, parsed
