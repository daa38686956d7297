"""The engine: load events, translate rules, run them, collect hits.

This is the Python API behind ``sqldetect run`` and the one a notebook uses::

    from sqldetect import Engine, load_rules
    engine = Engine()                       # in-memory DuckDB
    engine.load(["fixtures/"])
    report = engine.run(load_rules("rules/"))
    for outcome in report.outcomes:
        print(outcome.rule.id, len(outcome.rows))

Rules are untrusted input: before the first rule runs, the engine switches DuckDB's external access off
(``enable_external_access=false``) and allows only the lookup directories, then locks the configuration, so a
rule can neither read other files nor turn access back on. Rule text only ever reaches SQL as escaped literals or
quoted identifiers (see ``sqldetect.compile.sql``).

A warehouse table with other column names is read through a field mapping (``field_mapping=``, see
``sqldetect.mapping``): resolved against the table once, it adds the rules' field names in an ``s0_source`` CTE.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from sqldetect.compile import CompiledQuery, CompileOptions, compile_pipeline
from sqldetect.compile.sql import ident
from sqldetect.errors import (
    EventInputError,
    Location,
    QueryError,
    SqlDetectError,
    UnsupportedError,
    first_line,
)
from sqldetect.macros import MacroLibrary
from sqldetect.mapping import FieldMapping, ResolvedMapping
from sqldetect.results import QueryResult, normalize_row
from sqldetect.rules import Rule
from sqldetect.schema import Schema


@dataclass
class RuleOutcome:
    """What happened to one rule: ``ok`` (ran; ``rows`` are its hits), ``refused`` (cannot be translated:
    ``error`` says why) or ``error`` (translated but failed to run)."""

    rule: Rule
    status: str
    fields: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    sql: str | None = None
    error: SqlDetectError | None = None
    elapsed: float = 0.0

    @property
    def hits(self) -> int:
        return len(self.rows) if self.status == "ok" else 0


@dataclass
class RunReport:
    """All rule outcomes of one run, plus what was scanned."""

    outcomes: list[RuleOutcome] = field(default_factory=list)
    events_scanned: int = 0
    elapsed: float = 0.0

    @property
    def ran(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.status == "ok"]

    @property
    def refused(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.status == "refused"]

    @property
    def failed(self) -> list[RuleOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def total_hits(self) -> int:
        return sum(o.hits for o in self.outcomes)


class Engine:
    """Events in a DuckDB table, and rules run against them.

    ``db``: a DuckDB file (None: in memory) or an open connection. ``table``: the event table. ``macros``: extra
    macro files on top of the shipped defaults. ``lookups`` / ``datamodels``: resolvers handed to the
    translator. ``field_mapping``: a ``sqldetect.mapping.FieldMapping``, a mapping file or shipped mapping name
    (``"winlogbeat"``), or a ``{field: column-or-sql}`` dict. ``calculated``: add the shipped calculated fields
    (``sqldetect.calculated``: ``dest``, ``process_name``, ``eventtype``... as Splunk's Windows add-ons compute them);
    ``calculated_files``: your own calculated field files over them. ``now``: a fixed "now" for relative times
    (reproducible runs). ``schema``: translate against these fields instead of the table's (``--schema``).
    """

    def __init__(
        self,
        db: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
        *,
        table: str = "events",
        macros: Iterable[str | os.PathLike[str]] = (),
        lookups: Any = None,
        datamodels: Any = None,
        field_mapping: FieldMapping | Mapping[str, str] | str | os.PathLike[str] | None = None,
        derived_fields: list[Any] | None = None,
        calculated: bool = True,
        calculated_files: Iterable[str | os.PathLike[str]] = (),
        now: Any = None,
        read_only: bool = False,
        schema: Schema | None = None,
    ) -> None:
        #: whether the engine opened ``con`` (and so closes it): a caller's connection stays the caller's
        self._owns_connection = not isinstance(db, duckdb.DuckDBPyConnection)
        if isinstance(db, duckdb.DuckDBPyConnection):
            self.con = db
        elif db is None:
            self.con = duckdb.connect()
        else:
            try:
                self.con = duckdb.connect(str(Path(db)), read_only=read_only)
            except duckdb.Error as exc:
                raise EventInputError(f"cannot open database: {exc}", Location(file=str(db))) from exc
        self.table = table
        self.macros = MacroLibrary.default()
        for path in macros:
            self.macros.load(path)
        self.lookups = lookups
        self.datamodels = datamodels
        self.field_mapping = FieldMapping.coerce(field_mapping) if field_mapping is not None else None
        self._resolved: ResolvedMapping | None = None
        #: calculated fields (``sqldetect.compile.derived.DerivedField``) added to every rule's event source: the
        #: shipped ones (``sqldetect.calculated``, unless ``calculated=False``) with ``calculated_files`` over them,
        #: then ``derived_fields``, which replace calculated fields of the same name
        explicit = list(derived_fields or [])
        names = {f.name for f in explicit}
        shipped = self._calculated_fields(calculated, calculated_files)
        self.derived_fields = [f for f in shipped if f.name not in names] + explicit
        self.now = now
        self._locked = False
        self._fixed_schema = schema
        self._schema: Schema | None = schema

    def _calculated_fields(self, enabled: bool, files: Iterable[str | os.PathLike[str]]) -> list[Any]:
        from sqldetect.calculated import calculated_fields

        files = list(files)
        if not enabled and not files:
            return []
        return calculated_fields(files, include_package=enabled, datamodels=self.datamodels)

    def close(self) -> None:
        """Close the database connection the engine opened (a connection passed in is left open)."""
        if self._owns_connection:
            self.con.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ events
    def load(self, paths: Sequence[str | os.PathLike[str]] | str, **options: Any):
        """Append events (EVTX, JSON, NDJSON, directories, globs) to the event table; see ``EventStore.load``."""
        if self._locked:
            raise EventInputError("events must be loaded before the first rule runs (file access is then locked)")
        from sqldetect.events.store import EventStore

        report = EventStore(self.con, table=self.table).load(paths, **options)
        self._schema = self._fixed_schema
        self._resolved = None
        return report

    def schema(self) -> Schema:
        """The event table's fields; when the table does not exist yet, the Windows event schema."""
        if self._schema is None:
            if self._table_exists():
                self._schema = Schema.from_duckdb(self.con, self.table)
            else:
                from sqldetect.compile import default_schema

                self._schema = default_schema()
        return self._schema

    def fields(self) -> Schema:
        """The fields a rule sees: the table's, plus (or replaced by) the mapped ones with their kinds."""
        if self.field_mapping is None:
            return self.schema()
        return self.field_mapping.schema(self.schema(), self.resolved_mapping())

    def resolved_mapping(self) -> ResolvedMapping | None:
        """The field mapping checked against the event table (None without a mapping or before the table
        exists); ``.absent`` says which mapped fields the table lacks."""
        if self._resolved is None and self.field_mapping is not None and self._table_exists():
            self._resolved = self.field_mapping.resolve(self.con, self.table)  # once: every rule reuses it
        return self._resolved

    @property
    def warnings(self) -> list[str]:
        """Things a user should know that are not errors: mapped fields the table does not have."""
        resolved = self.resolved_mapping()
        return resolved.warnings(self.field_mapping.origin) if resolved and self.field_mapping else []

    def count(self) -> int:
        if not self._table_exists():
            return 0
        query = exp.select(exp.Count(this=exp.Star())).from_(exp.Table(this=ident(self.table)), copy=False)
        return int(self.con.execute(query.sql(dialect="duckdb")).fetchall()[0][0])

    def _table_exists(self) -> bool:
        return bool(self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [self.table]
        ).fetchall()[0][0])

    # ------------------------------------------------------------------------------------------------ rules
    def options(self, rule_id: str | None = None) -> CompileOptions:
        """Translation options: the mapping (resolved against the table when it exists, else as written) goes
        first among the derived fields, so calculated fields may read mapped ones."""
        resolved = self.resolved_mapping()
        mapped = resolved.fields if resolved is not None else []
        unresolved = self.field_mapping if resolved is None else None
        return CompileOptions(table=self.table, now=self.now, lookups=self.lookups, datamodels=self.datamodels,
                              macros=self.macros,
                              field_mapping=unresolved, derived_fields=[*mapped, *self.derived_fields],
                              rule_id=rule_id)

    def compile_spl(self, spl: str, rule_id: str | None = None) -> CompiledQuery:
        """Expand macros, parse and translate SPL against the event table's schema."""
        from sqldetect.spl.parser import parse

        expanded = self.macros.expand(spl, rule_id=rule_id)
        pipeline = parse(expanded, rule_id=rule_id)
        return compile_pipeline(pipeline, self.schema(), self.options(rule_id))

    def compile_rule(self, rule: Rule) -> CompiledQuery:
        return self.compile_spl(rule.logic, rule_id=rule.id)

    def execute(self, compiled: CompiledQuery, rule_id: str | None = None) -> QueryResult:
        """Run a compiled query (with file access locked down) and return SPL-shaped rows; a DuckDB failure is
        a ``QueryError``."""
        self.lock()
        sql = compiled.sql()
        started = time.perf_counter()
        try:
            cursor = self.con.execute(sql)
        except duckdb.Error as exc:
            raise QueryError(f"the translated SQL failed: {first_line(exc)}", Location(rule_id=rule_id)) from exc
        names = compiled.output_fields
        rows = [normalize_row(names, values) for values in cursor.fetchall()]
        return QueryResult(names, rows, sql, time.perf_counter() - started)

    def run_spl(self, spl: str) -> QueryResult:
        return self.execute(self.compile_spl(spl))

    def run_rule(self, rule: Rule) -> RuleOutcome:
        started = time.perf_counter()
        try:
            compiled = self.compile_rule(rule)
            compiled.sql()  # printing can fail too (a rule too wide for the printer): that is a refusal
        except SqlDetectError as err:
            return RuleOutcome(rule, "refused", error=err, elapsed=time.perf_counter() - started)
        try:
            result = self.execute(compiled, rule.id)
        except QueryError as err:
            return RuleOutcome(rule, "error", compiled.output_fields, sql=compiled.sql(), error=err,
                               elapsed=time.perf_counter() - started)
        return RuleOutcome(rule, "ok", result.fields, result.rows, result.sql, elapsed=time.perf_counter() - started)

    def run(self, rules: Iterable[Rule], *, progress: Any = None) -> RunReport:
        """Run every rule; one rule's refusal or failure never stops the others."""
        started = time.perf_counter()
        report = RunReport(events_scanned=self.count())
        for rule in rules:
            report.outcomes.append(self.run_rule(rule))
            if progress is not None:
                progress()
        report.elapsed = time.perf_counter() - started
        return report

    # ------------------------------------------------------------------------------------------------ safety
    def lock(self) -> None:
        """Disable file and network access except reading the lookup directories, and freeze the
        configuration, so nothing a rule makes the SQL do can touch other files or turn access back on.

        A connection another engine (or the caller) locked already is accepted only if external access is off
        there too; its allowed directories are whatever that lock chose."""
        if self._locked:
            return
        if _setting(self.con, "lock_configuration"):
            if _setting(self.con, "enable_external_access"):
                raise SqlDetectError("the DuckDB connection's configuration is locked with external access on; "
                                     "sqldetect cannot lock it down before running rules")
            self._locked = True
            return
        allowed = [str(d) + "/" for d in self._lookup_directories()]
        if allowed:
            self.con.execute("SET allowed_directories = ?", [allowed])
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self._locked = True

    def _lookup_directories(self) -> list[Path]:
        return [Path(d).resolve() for d in getattr(self.lookups, "directories", [])]


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    value = con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0]
    return str(value).lower() in ("true", "1")


def refusal_reason(error: SqlDetectError) -> str:
    """A short grouping key for a refusal: the construct for UnsupportedError, else the message."""
    if isinstance(error, UnsupportedError) and error.construct:
        return error.construct
    return error.message.split(":")[0][:80]
