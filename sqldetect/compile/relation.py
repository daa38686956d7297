"""What flows between stages: the ordered fields a stage outputs (with kinds and columns) and its row order.

SPL rows have an order that matters (newest first, then whatever ``sort``/``stats`` define) while SQL
relations do not. The translator therefore carries the order *as data*: a list of sort keys over the columns
of the current relation, applied by order-sensitive commands (``head``, ``dedup``, ``streamstats``...) and by the
final SELECT. When a stage would drop or overwrite a column the order depends on, the order is materialized into
the hidden column ``_sqld_seq`` first (see ``StageContext.preserve_order``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum

from sqlglot import exp

from sqldetect.schema import FieldKind, Schema

SEQ_COLUMN = "_sqld_seq"


class Kind(str, Enum):
    """Static type of a value inside the translator."""

    STRING = "string"
    NUMBER = "number"
    TIME = "time"  # a TIMESTAMP; only `_time` is stored like this
    MULTIVALUE = "multivalue"  # VARCHAR[]
    BOOLEAN = "boolean"
    NULL = "null"  # statically known to be NULL (a field that does not exist)

    @staticmethod
    def of_field(kind: FieldKind) -> Kind:
        return _OF_FIELD[kind]

    @property
    def sql_type(self) -> str:
        return {
            Kind.STRING: "VARCHAR",
            Kind.NUMBER: "DOUBLE",
            Kind.TIME: "TIMESTAMP",
            Kind.MULTIVALUE: "VARCHAR[]",
            Kind.BOOLEAN: "BOOLEAN",
            Kind.NULL: "VARCHAR",
        }[self]

    def to_field_kind(self) -> FieldKind:
        return {
            Kind.STRING: FieldKind.STRING,
            Kind.NUMBER: FieldKind.NUMBER,
            Kind.TIME: FieldKind.TIME,
            Kind.MULTIVALUE: FieldKind.MULTIVALUE,
            Kind.BOOLEAN: FieldKind.BOOLEAN,
            Kind.NULL: FieldKind.STRING,
        }[self]


_OF_FIELD = {
    FieldKind.STRING: Kind.STRING,
    FieldKind.NUMBER: Kind.NUMBER,
    FieldKind.TIME: Kind.TIME,
    FieldKind.MULTIVALUE: Kind.MULTIVALUE,
    FieldKind.BOOLEAN: Kind.BOOLEAN,
}


@dataclass(frozen=True)
class FieldInfo:
    """A field of a relation: SPL ``name``, SQL ``column`` holding it, and its ``kind``."""

    name: str
    kind: Kind
    column: str


@dataclass(frozen=True)
class OrderKey:
    """One sort key of the current row order, over a column of the current relation."""

    column: str
    descending: bool = False
    #: how the value is compared: "raw" (column as is), "auto" (numbers numerically, else as text)
    mode: str = "raw"


@dataclass
class Relation:
    """The output of a stage as the next stage sees it."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)
    order: list[OrderKey] = field(default_factory=list)
    #: columns carried for the translator's own use, never shown (e.g. ``_sqld_seq``)
    hidden: list[str] = field(default_factory=list)
    #: the fields still include the event table's columns, most of which a given row (or every row) may lack:
    #: the field set is then an upper bound, not the fields the results really have (``table``, ``stats``...
    #: build relations where this is False)
    events: bool = False

    def __iter__(self) -> Iterator[FieldInfo]:
        return iter(self.fields.values())

    def get(self, name: str) -> FieldInfo | None:
        return self.fields.get(name)

    def names(self) -> list[str]:
        return list(self.fields)

    def columns(self) -> set[str]:
        """Every SQL column name in use (visible or hidden), lower-cased: DuckDB compares them that way."""
        return {f.column.lower() for f in self.fields.values()} | {h.lower() for h in self.hidden}

    def copy(self) -> Relation:
        return Relation(dict(self.fields), list(self.order), list(self.hidden), self.events)

    def with_fields(self, fields: Iterable[FieldInfo]) -> Relation:
        return replace(self, fields={f.name: f for f in fields})

    def order_columns(self) -> set[str]:
        return {k.column for k in self.order}

    @classmethod
    def from_schema(cls, schema: Schema) -> Relation:
        """The relation of a base event table: its fields, ordered newest first (``_time`` then ``_serial``).
        Built once per schema object (a run translates many rules against one wide schema) and copied."""
        cached = getattr(schema, "_sqldetect_relation", None)
        if cached is None:
            cached = cls._build_from_schema(schema)
            schema._sqldetect_relation = cached  # type: ignore[attr-defined]
        return cached.copy()

    @classmethod
    def _build_from_schema(cls, schema: Schema) -> Relation:
        fields = {f.name: FieldInfo(f.name, Kind.of_field(f.kind), f.column_name) for f in schema}
        order: list[OrderKey] = []
        if "_time" in fields:
            order.append(OrderKey(fields["_time"].column, descending=True))
        if "_serial" in fields:
            order.append(OrderKey(fields["_serial"].column, descending=True))
        return cls(fields=fields, order=order, events=True)


def order_by_expressions(order: list[OrderKey], table: str | None = None) -> list[exp.Ordered]:
    """The ORDER BY list for a relation's order (NULLs last, as SPL shows rows missing a sort field last)."""
    from sqldetect.compile.sql import col, try_cast

    out: list[exp.Ordered] = []
    for key in order:
        column = col(key.column, table)
        if key.mode == "auto" and key.descending:
            # the exact reverse of the ascending order below, except that missing values stay last
            out.append(exp.Ordered(this=exp.Is(this=column, expression=exp.Null())))
            out.append(exp.Ordered(this=try_cast(col(key.column, table), "DOUBLE"), desc=True, nulls_first=True))
            out.append(exp.Ordered(this=col(key.column, table), desc=True))
        elif key.mode == "auto":
            # SPL "auto" order: numbers first, numerically; then the rest lexicographically.
            out.append(exp.Ordered(this=try_cast(column, "DOUBLE"), desc=key.descending, nulls_first=False))
            out.append(exp.Ordered(this=column, desc=key.descending, nulls_first=False))
        else:
            out.append(exp.Ordered(this=column, desc=key.descending, nulls_first=False))
    return out
