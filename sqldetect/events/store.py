"""The DuckDB event store: the one object the ``load``/``run`` commands and a Python ``Engine`` talk to.

>>> store = EventStore()                                  # in-memory database
>>> report = store.load(["logs/"], raw_format="classic")  # doctest: +SKIP
>>> store.schema().get("EventCode").kind                  # doctest: +SKIP
<FieldKind.NUMBER: 'number'>

Semantics that callers rely on:

* a load is one transaction: if it fails or is interrupted, the table is exactly as before;
* loading the same events again adds nothing: each event has an identity key (Windows: index, sourcetype,
  provider, channel, computer, EventRecordID, SystemTime, EventID; generic JSON: index, sourcetype, ``_raw``)
  and later copies are counted as duplicates;
* the field -> column mapping and field kinds are recorded in ``sqldetect_schema``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb

from sqldetect.errors import EventInputError, Location
from sqldetect.events import loader
from sqldetect.events.report import LoadReport
from sqldetect.events.table import quote
from sqldetect.schema import Schema


class EventStore:
    """An event table in a DuckDB database (in memory unless a connection or path is given)."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None, *, table: str = "events") -> None:
        self._owned = con is None
        self.con = con if con is not None else duckdb.connect()
        self.table = table

    @classmethod
    def open(cls, path: str | os.PathLike[str], table: str = "events") -> EventStore:
        """Open (or create) a DuckDB database file."""
        try:
            con = duckdb.connect(str(Path(path)))
        except (duckdb.IOException, duckdb.Error) as exc:
            raise EventInputError(f"cannot open database: {exc}", Location(file=str(path))) from exc
        store = cls(con, table=table)
        store._owned = True
        return store

    def load(
        self,
        inputs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
        *,
        parser: str = "evtx",
        raw_format: str = "xml",
        index: str = "main",
        messages: Sequence[str | os.PathLike[str]] = (),
        progress: bool | None = None,
        workers: int | None = None,
    ) -> LoadReport:
        """Append events from files, directories, globs or ``-`` (stdin) to the table, in one transaction.

        ``parser``: ``evtx`` (Rust, default) or ``python-evtx``; ``raw_format``: ``xml`` (XmlWinEventLog) or
        ``classic`` (WinEventLog) rendering of Windows ``_raw``; ``messages``: extra message-template files;
        ``progress``: a progress bar (None: only on a terminal); ``workers``: parsing processes (None: one per
        core, capped at 8).
        """
        if isinstance(inputs, str | os.PathLike):
            inputs = [inputs]
        return loader.load(self.con, self.table, list(inputs), parser=parser, raw_format=raw_format, index=index,
                           messages=messages, progress=progress, workers=workers)  # fmt: skip

    def schema(self) -> Schema:
        """The table's fields (name, column, kind); empty when nothing was loaded yet."""
        if not self._exists():
            return Schema()
        try:
            return Schema.from_duckdb(self.con, self.table)
        finally:
            # Schema.from_duckdb reads single rows; DuckDB 2 keeps such a result open until completed.
            self.con.complete()

    def count(self) -> int:
        if not self._exists():
            return 0
        return self.con.execute(f"SELECT count(*) FROM {quote(self.table)}").fetchall()[0][0]

    def close(self) -> None:
        if self._owned:
            self.con.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exists(self) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [self.table]
        ).fetchall()
        return bool(rows[0][0])
