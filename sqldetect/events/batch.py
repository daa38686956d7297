"""Columnar batches: normalized rows in, one Arrow array per column out, ready for a bulk DuckDB insert.

Events carry different fields (a Sysmon event has ``Image``, a 4624 has ``LogonType``), so a batch is a sparse,
wide table. Building it row by row would cost a Python call per cell; instead rows are grouped by their exact
field-name sequence (events of one kind share it), each group is transposed with ``zip`` (C speed), and each
column is assembled from the groups that have it, with null runs in between.

A batch keeps, per row, the index of its input file (``file``, to count loaded/duplicate rows per file) and its
position in input order (``ordinal``, from which the store derives ``_serial``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc

from sqldetect.events.windows import WINDOWS_COLUMNS

STRING = pa.string()
STRING_LIST = pa.list_(pa.string())
KEY = pa.binary(16)
TIME_US = pa.timestamp("us")

# The fixed columns of a generic (non-Windows) JSON batch.
GENERIC_COLUMNS = ("time", "raw", "host", "source", "sourcetype", "index", "key")


@dataclass
class Batch:
    """One bulk insert's worth of events of one kind (``windows`` or ``generic``)."""

    kind: str
    rows: int
    ordinal: pa.Array
    file: pa.Array
    core: dict[str, pa.Array]
    fields: dict[str, pa.Array] = field(default_factory=dict)


class _Columns:
    """Collects the pieces of the sparse field columns while groups are transposed."""

    def __init__(self) -> None:
        self.pieces: dict[str, list[tuple[int, Sequence[object]]]] = defaultdict(list)
        self.multivalue: set[str] = set()

    def add_group(self, start: int, names: tuple[str, ...], columns: list[tuple[object, ...]]) -> None:
        if len(set(names)) == len(names):
            for name, column in zip(names, columns, strict=True):
                self.pieces[name].append((start, column))
            return
        positions: dict[str, list[int]] = defaultdict(list)
        for position, name in enumerate(names):
            positions[name].append(position)
        for name, where in positions.items():
            if len(where) == 1:
                self.pieces[name].append((start, columns[where[0]]))
            else:
                self.multivalue.add(name)
                self.pieces[name].append((start, [list(t) for t in zip(*(columns[p] for p in where), strict=True)]))


def _assemble(pieces: list[tuple[int, Sequence[object]]], total: int, arrow_type: pa.DataType) -> pa.Array:
    if len(pieces) == 1 and pieces[0][0] == 0 and len(pieces[0][1]) == total:
        return pa.array(pieces[0][1], arrow_type)
    chunks: list[pa.Array] = []
    position = 0
    for start, values in pieces:
        if start > position:
            chunks.append(pa.nulls(start - position, arrow_type))
        chunks.append(pa.array(values, arrow_type))
        position = start + len(values)
    if position < total:
        chunks.append(pa.nulls(total - position, arrow_type))
    return pa.concat_arrays(chunks)


class WindowsBatchBuilder:
    """Rows from ``WindowsNormalizer.normalize`` -> a ``Batch`` (all field values are strings)."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, ...], list[tuple[int, int, tuple[object, ...], list[str]]]] = {}
        self.rows = 0

    def add(self, file: int, row: tuple[tuple[object, ...], tuple[str, ...], list[str]]) -> None:
        core, names, values = row
        group = self._groups.get(names)
        if group is None:
            group = self._groups[names] = []
        group.append((self.rows, file, core, values))
        self.rows += 1

    def build(self) -> Batch:
        ordinals: list[int] = []
        files: list[int] = []
        core_columns: list[list[object]] = [[] for _ in WINDOWS_COLUMNS]
        columns = _Columns()
        start = 0
        for names, rows in self._groups.items():
            group_ordinals, group_files, cores, values = zip(*rows, strict=True)
            ordinals.extend(group_ordinals)
            files.extend(group_files)
            for target, column in zip(core_columns, zip(*cores, strict=True), strict=True):
                target.extend(column)
            if names:
                columns.add_group(start, names, list(zip(*values, strict=True)))
            start += len(rows)
        core = {}
        for name, column in zip(WINDOWS_COLUMNS, core_columns, strict=True):
            arrow_type = STRING_LIST if name == "data" else KEY if name == "key" else STRING
            core[name] = pa.array(column, arrow_type)
        fields = {}
        for name, pieces in columns.pieces.items():
            if name in columns.multivalue:
                pieces = [(s, v if v and isinstance(v[0], list) else [[x] for x in v]) for s, v in pieces]
                fields[name] = _assemble(pieces, start, STRING_LIST)
            else:
                fields[name] = _assemble(pieces, start, STRING)
        self._groups.clear()
        return Batch("windows", start, pa.array(ordinals, pa.int64()), pa.array(files, pa.int32()), core, fields)


class GenericBatchBuilder:
    """Rows of generic JSON events -> a ``Batch``; field types are inferred per column from the values."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, ...], list[tuple[int, int, tuple[object, ...], list[object]]]] = {}
        self.rows = 0

    def add(self, file: int, core: tuple[object, ...], names: tuple[str, ...], values: list[object]) -> None:
        group = self._groups.get(names)
        if group is None:
            group = self._groups[names] = []
        group.append((self.rows, file, core, values))
        self.rows += 1

    def build(self) -> Batch:
        ordinals: list[int] = []
        files: list[int] = []
        core_columns: list[list[object]] = [[] for _ in GENERIC_COLUMNS]
        columns = _Columns()
        start = 0
        for names, rows in self._groups.items():
            group_ordinals, group_files, cores, values = zip(*rows, strict=True)
            ordinals.extend(group_ordinals)
            files.extend(group_files)
            for target, column in zip(core_columns, zip(*cores, strict=True), strict=True):
                target.extend(column)
            if names:
                columns.add_group(start, names, list(zip(*values, strict=True)))
            start += len(rows)
        core = {}
        for name, column in zip(GENERIC_COLUMNS, core_columns, strict=True):
            arrow_type = TIME_US if name == "time" else KEY if name == "key" else STRING
            core[name] = pa.array(column, arrow_type)
        fields = {}
        for name, pieces in columns.pieces.items():
            arrow_type, convert = _infer_type([v for _, seq in pieces for v in seq], name in columns.multivalue)
            fields[name] = _assemble([(s, [convert(v) for v in seq]) for s, seq in pieces], start, arrow_type)
        self._groups.clear()
        return Batch("generic", start, pa.array(ordinals, pa.int64()), pa.array(files, pa.int32()), core, fields)


def _infer_type(values: list[object], repeated: bool) -> tuple[pa.DataType, object]:
    """Arrow type of a generic JSON column: numbers stay numbers only when every value is one."""
    if repeated or any(isinstance(v, list) for v in values):
        return STRING_LIST, _as_string_list
    if all(type(v) is int for v in values) and all(-(2**63) <= v < 2**63 for v in values):  # type: ignore[operator]
        return pa.int64(), _identity
    if all(type(v) in (int, float) for v in values):
        return pa.float64(), _as_float
    return STRING, _as_string


def _identity(value: object) -> object:
    return value


def _as_float(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def scalar_text(value: object) -> str:
    """A JSON scalar as Splunk shows it: strings as is, booleans lower-case, numbers in JSON notation."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    return repr(value) if isinstance(value, float) else str(value)


def _as_string(value: object) -> str | None:
    return None if value is None else scalar_text(value)


def _as_string_list(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [scalar_text(v) for v in value]
    return [scalar_text(value)]


def _common_type(types: Sequence[pa.DataType]) -> pa.DataType:
    if any(pa.types.is_list(t) for t in types):
        return STRING_LIST
    if all(pa.types.is_integer(t) for t in types):
        return pa.int64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        return pa.float64()
    return STRING


def _widen(array: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    if array.type == arrow_type:
        return array
    if arrow_type == STRING_LIST:
        values = array if array.type == STRING else pa.array([_as_string(v) for v in array.to_pylist()], STRING)
        offsets = pa.array(range(len(values) + 1), pa.int32())
        return pa.ListArray.from_arrays(offsets, values, mask=pc.is_null(values))
    if arrow_type == STRING:
        return pa.array([_as_string(v) for v in array.to_pylist()], STRING)
    return array.cast(arrow_type)


# ---------------------------------------------------------------------------------------------- transport


def write_spilled(batch: Batch, path: str) -> str:
    """Write a batch as an Arrow IPC file (workers hand batches over through files, not pipes)."""
    names = ["ordinal", "file", *(f"c:{n}" for n in batch.core), *(f"f:{n}" for n in batch.fields)]
    arrays = [batch.ordinal, batch.file, *batch.core.values(), *batch.fields.values()]
    record = pa.RecordBatch.from_arrays(arrays, names=names)
    record = record.replace_schema_metadata({"kind": batch.kind})
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, record.schema) as writer:
        writer.write_batch(record)
    return path


def read_spilled(path: str) -> Batch:
    """Map a spilled batch back (zero-copy) and delete its file; the mapping outlives the file name."""
    import os

    source = pa.memory_map(path, "r")
    record = pa.ipc.open_file(source).get_batch(0)
    os.unlink(path)
    kind = (record.schema.metadata or {}).get(b"kind", b"windows").decode()
    core: dict[str, pa.Array] = {}
    fields: dict[str, pa.Array] = {}
    for name, column in zip(record.schema.names[2:], record.columns[2:], strict=True):
        (core if name.startswith("c:") else fields)[name[2:]] = column
    return Batch(kind, record.num_rows, record.column(0), record.column(1), core, fields)


@dataclass
class Unified:
    """Batches of one kind under one schema, ready for a single insert without copying their columns.

    Columns of every record batch: ``ordinal`` (renumbered across the batches, in input order), ``file`` (the
    load's file number), ``c0..`` the core columns, ``f0..`` the fields (``fields[i]`` is the name of ``f{i}``).
    """

    kind: str
    rows: int
    core: list[str]
    fields: list[str]
    schema: pa.Schema
    batches: list[pa.RecordBatch]


def unify(batches: Sequence[Batch], file_numbers: Sequence[Sequence[int]]) -> Unified:
    """One schema for several batches of the same kind: missing fields become nulls, types are widened."""
    kind = batches[0].kind
    core_names = list(batches[0].core)
    types: dict[str, list[pa.DataType]] = {}
    for batch in batches:
        for name, array in batch.fields.items():
            types.setdefault(name, []).append(array.type)
    field_types = {name: _common_type(found) for name, found in types.items()}
    schema = pa.schema(
        [("ordinal", pa.int64()), ("file", pa.int32())]
        + [(f"c{i}", batches[0].core[name].type) for i, name in enumerate(core_names)]
        + [(f"f{i}", arrow_type) for i, arrow_type in enumerate(field_types.values())]
    )
    records: list[pa.RecordBatch] = []
    offset = 0
    for batch, numbers in zip(batches, file_numbers, strict=True):
        columns = [pc.add(batch.ordinal, offset), pc.take(pa.array(numbers, pa.int32()), batch.file)]
        columns += [batch.core[name] for name in core_names]
        for name, arrow_type in field_types.items():
            array = batch.fields.get(name)
            columns.append(pa.nulls(batch.rows, arrow_type) if array is None else _widen(array, arrow_type))
        records.append(pa.RecordBatch.from_arrays(columns, schema=schema))
        offset += batch.rows
    return Unified(kind, offset, core_names, list(field_types), schema, records)
