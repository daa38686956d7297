"""Lookup tables: finding a lookup's CSV file and its matching rules, and reading it in SQL.

A rule names a lookup either by file (``lookup attacker_tools.csv ...``) or by a *definition* name
(``lookup attacker_tools ...``). Definitions come from a file shaped like ESCU's ``lookups.jsonl`` (one JSON
object a line, or a JSON/YAML list of them) with the keys of Splunk's ``transforms.conf``:

    {"name": "x", "filename": "x.csv", "kind": "csv", "match_type": "WILDCARD(domain), CIDR(net)",
     "case_sensitive_match": "false", "min_matches": 1, "default_match": "false", "max_matches": 100}

CSV files are looked up in the resolver's directories (first hit wins). A name with no definition is tried
as ``<name>.csv`` (decision in docs/semantics.md); anything else is a ``LookupError_`` naming the lookup. Only
CSV lookups can be read: KV-store lookups and model files are refused by name.

The SQL stays self-contained: the file is read with ``read_csv('<absolute path>', header=true,
all_varchar=true, delim=',')`` (a path relative to the resolver's ``sql_base`` when it has one, for SQL files
kept in a repository; every value is text, as in Splunk; empty cells are no value) and its rows
are numbered so "file order" survives into the query. Header names are trimmed (ESCU ships ``EventCode,
Description`` and rules use ``Description``); cell values are kept as written.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from sqldetect.compile.sql import alias, lit
from sqldetect.errors import LookupError_, UnsupportedError

ROW_COLUMN = "_sqld_row"
DEFAULT_MAX_MATCHES = 100
_MATCH_TYPE = re.compile(r"^\s*(WILDCARD|CIDR|EXACT)\s*\(\s*([^)]*?)\s*\)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class LookupDefinition:
    """One lookup definition (``transforms.conf`` stanza)."""

    name: str
    filename: str | None = None
    kind: str = "csv"
    #: lookup column → "WILDCARD" or "CIDR" (columns not listed match exactly)
    match_types: dict[str, str] = field(default_factory=dict)
    case_sensitive: bool = True
    min_matches: int = 0
    default_match: str | None = None
    max_matches: int = DEFAULT_MAX_MATCHES

    @classmethod
    def from_record(cls, record: dict[str, object]) -> LookupDefinition:
        """Build from a ``lookups.jsonl``-style record (string booleans and numbers accepted)."""
        name = str(record.get("name") or "").strip()
        if not name:
            raise ValueError("a lookup definition needs a name")
        match_types: dict[str, str] = {}
        raw = record.get("match_type")
        if raw:
            for piece in _split_match_types(str(raw)):
                m = _MATCH_TYPE.match(piece)
                if not m:
                    raise ValueError(f"lookup {name}: cannot read match_type {piece!r}")
                kind, column = m.group(1).upper(), m.group(2)
                if kind != "EXACT":
                    match_types[column] = kind
        return cls(
            name=name,
            filename=str(record["filename"]) if record.get("filename") else None,
            kind=str(record.get("kind") or "csv"),
            match_types=match_types,
            case_sensitive=_boolean(record.get("case_sensitive_match"), True),
            min_matches=_integer(record.get("min_matches"), 0),
            default_match=None if record.get("default_match") is None else str(record.get("default_match")),
            max_matches=_integer(record.get("max_matches"), DEFAULT_MAX_MATCHES),
        )


def _split_match_types(text: str) -> list[str]:
    return [p for p in re.findall(r"[A-Za-z]+\s*\([^)]*\)", text)] or [text]


def _boolean(value: object, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "yes"):
        return True
    if text in ("0", "f", "false", "no"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _integer(value: object, default: int) -> int:
    if value is None or value == "":
        return default
    return int(str(value).strip())


@dataclass(frozen=True)
class LookupTable:
    """A resolved lookup: its CSV file (absolute), its columns (trimmed header) and its matching rules."""

    name: str
    path: Path
    columns: tuple[str, ...]
    definition: LookupDefinition
    #: the path written into the SQL when it is not ``path`` (a path relative to the resolver's ``sql_base``)
    sql_path: str | None = None

    def match_type(self, column: str) -> str:
        return self.definition.match_types.get(column, "EXACT")

    def source(self, table_alias: str) -> exp.Expression:
        """``(SELECT *, row_number() OVER () AS _sqld_row FROM read_csv(...)) AS alias``: the rows in file
        order, every value text, with the header names as written in the file (trimmed)."""
        reader = exp.Anonymous(this="read_csv", expressions=[
            lit(self.sql_path or str(self.path)),
            exp.EQ(this=exp.column("header"), expression=exp.Boolean(this=True)),
            exp.EQ(this=exp.column("all_varchar"), expression=exp.Boolean(this=True)),
            exp.EQ(this=exp.column("delim"), expression=lit(",")),
        ])
        numbered = exp.select(exp.Star(), alias(exp.Window(this=exp.RowNumber(), over="OVER"), ROW_COLUMN)).from_(
            exp.Table(this=reader), copy=False)
        return exp.Subquery(this=numbered, alias=exp.TableAlias(this=exp.to_identifier(table_alias, quoted=True)))


class LookupResolver:
    """Finds lookups by file name or definition name (``CompileOptions.lookups``).

    ``sql_base``: write the path of a lookup file inside this directory into the SQL relative to it
    (``rules/lookups/x.csv``), so SQL files written for a repository (``sqldetect compile``) do not carry the
    absolute path of one checkout; the query then reads the file relative to DuckDB's working directory.
    Without it (the default, what ``run`` uses) paths are absolute.
    """

    def __init__(self, directories: Sequence[str | Path] = (), definitions: Iterable[LookupDefinition] = (),
                 definitions_file: str | Path | None = None, sql_base: str | Path | None = None) -> None:
        self.directories = [Path(d).resolve() for d in directories]
        self.sql_base = Path(sql_base).resolve() if sql_base is not None else None
        self.definitions: dict[str, LookupDefinition] = {}
        for definition in definitions:
            self.definitions[definition.name] = definition
        if definitions_file is not None:
            for definition in load_definitions(definitions_file):
                self.definitions.setdefault(definition.name, definition)
        self._headers: dict[Path, tuple[str, ...]] = {}

    @classmethod
    def from_directory(cls, directory: str | Path) -> LookupResolver:
        """A resolver for one directory of CSVs, with the definitions in ``lookups.jsonl`` beside or inside it
        when there is one (the ESCU corpus layout: ``escu/lookups.jsonl`` + ``escu/lookups/*.csv``)."""
        directory = Path(directory)
        for candidate in (directory / "lookups.jsonl", directory.parent / "lookups.jsonl"):
            if candidate.is_file():
                return cls([directory], definitions_file=candidate)
        return cls([directory])

    # ------------------------------------------------------------------------------------------------
    def resolve(self, name: str) -> LookupTable:
        """The lookup ``name`` (a definition name or a CSV file name). Raises ``LookupError_`` (unknown or
        unreadable) or ``UnsupportedError`` (a KV-store or model lookup, construct ``"<kind> lookup"``)."""
        definition = self.definitions.get(name)
        if definition is not None:
            if definition.kind.lower() != "csv":
                raise UnsupportedError(f"lookup '{name}' is a {definition.kind} lookup; only CSV lookups are "
                                       "supported", construct=f"{definition.kind} lookup")
            filename = definition.filename or f"{name}.csv"
        else:
            filename = name if name.lower().endswith(".csv") else f"{name}.csv"
            definition = LookupDefinition(name=name, filename=filename)
        path = self._find(filename)
        if path is None:
            if name in self.definitions or filename == name:
                raise LookupError_(f"lookup '{name}': file {filename} not found in {self._where()}")
            raise LookupError_(f"unknown lookup '{name}': no definition and no file {filename} in "
                               f"{self._where()}")
        return LookupTable(name, path, self._header(name, path), definition, self._sql_path(path))

    def _sql_path(self, path: Path) -> str | None:
        if self.sql_base is None or not path.is_relative_to(self.sql_base):
            return None
        return path.relative_to(self.sql_base).as_posix()

    def _where(self) -> str:
        if not self.directories:
            return "(no lookup directories configured)"
        return ", ".join(str(d) for d in self.directories)

    def _find(self, filename: str) -> Path | None:
        if Path(filename).name != filename:
            return None  # a lookup name never reaches outside the lookup directories
        for directory in self.directories:
            candidate = directory / filename
            if candidate.is_file():
                return candidate
        return None

    def _header(self, name: str, path: Path) -> tuple[str, ...]:
        if path not in self._headers:
            try:
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    row = next(csv.reader(handle), None)
            except (OSError, UnicodeDecodeError) as err:
                raise LookupError_(f"lookup '{name}': cannot read {path}: {err}") from None
            if not row:
                raise LookupError_(f"lookup '{name}': {path} has no header line")
            header = tuple(cell.strip() for cell in row)
            if len(set(header)) != len(header) or not all(header):
                raise LookupError_(f"lookup '{name}': {path} has an empty or repeated column name")
            self._headers[path] = header
        return self._headers[path]


def load_definitions(path: str | Path) -> list[LookupDefinition]:
    """Read lookup definitions from JSON lines, a JSON list, or a YAML list. A bad record is an error naming
    the file and line/record."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LookupError_(f"cannot read lookup definitions {path}: {err}") from None
    records: list[tuple[int, object]] = []
    stripped = text.lstrip()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        loaded = yaml.safe_load(text) or []
        records = list(enumerate(loaded if isinstance(loaded, list) else [loaded], start=1))
    elif stripped.startswith("["):
        records = list(enumerate(json.loads(text), start=1))
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append((number, json.loads(line)))
                except json.JSONDecodeError as err:
                    raise LookupError_(f"{path}, line {number}: not JSON: {err.msg}") from None
    out = []
    for number, record in records:
        if not isinstance(record, dict):
            raise LookupError_(f"{path}, record {number}: a lookup definition must be an object")
        try:
            out.append(LookupDefinition.from_record(record))
        except (ValueError, KeyError) as err:
            raise LookupError_(f"{path}, record {number}: {err}") from None
    return out


__all__ = ["ROW_COLUMN", "LookupDefinition", "LookupResolver", "LookupTable", "load_definitions"]
