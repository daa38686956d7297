"""Test tables: the shipped EVTX fixtures in sqldetect's own table, and the same events in a warehouse table of
Winlogbeat/ECS shape (flat dotted columns, or nested STRUCTs), built with plain SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sqldetect.compile.sql import col
from sqldetect.engine import Engine
from sqldetect.events.table import BASE_FIELDS, WINDOWS_FIELDS

ROOT = Path(__file__).resolve().parents[2]
#: the seed rule alone (rules/ also holds the rules library)
SEED = ROOT / "rules" / "msiexec_install_msi_file.yml"
EVTX = sorted(str(p) for p in (ROOT / "fixtures").glob("*.evtx"))
#: fields the Windows normalizer always makes; every other field is an EventData (or message) field
FIXED = {name for name, _ in BASE_FIELDS} | {name for name, _ in WINDOWS_FIELDS}

#: ECS column -> SQL over the native table: what Winlogbeat would have stored for these events
#: (event ids as text, as Winlogbeat 8 does; @timestamp as TIMESTAMPTZ)
ECS_COLUMNS = {
    "@timestamp": "timezone('UTC', \"_time\")",
    "event.original": '"_raw"',
    "host.name": '"host"',
    "winlog.event_id": 'CAST("EventCode" AS VARCHAR)',
    "winlog.channel": '"Channel"',
    "winlog.computer_name": '"Computer"',
    "winlog.provider_name": '"Provider"',
    "winlog.record_id": '"EventRecordID"',
    "winlog.process.pid": '"ProcessID"',
    "winlog.process.thread.id": '"ThreadID"',
    "winlog.user.identifier": '"UserID"',
    "message": '"Message"',
    "process.command_line": '"CommandLine"',
}


def load_native(con: duckdb.DuckDBPyConnection | None = None) -> Engine:
    """The EVTX fixtures in sqldetect's own ``events`` table (classic ``_raw``, as the README's main job)."""
    engine = Engine(con)
    engine.load(EVTX, raw_format="classic")
    return engine


def create_flat_ecs_table(engine: Engine, name: str = "winlogbeat") -> None:
    """A table with Winlogbeat's flattened column names (``winlog.event_data.Image``...) holding the native
    table's events; every EventData field goes under ``winlog.event_data.``."""
    columns = dict(ECS_COLUMNS)
    for field in engine.schema():
        if field.name not in FIXED:
            columns[f"winlog.event_data.{field.name}"] = col(field.column_name).sql(dialect="duckdb")
    select = ", ".join(f"{sql} AS {col(column).sql(dialect='duckdb')}" for column, sql in columns.items())
    engine.con.execute(f"CREATE TABLE {col(name).sql()} AS SELECT {select} FROM events")


def create_nested_ecs_table(engine: Engine, name: str = "winlogbeat_nested") -> None:
    """The same events as nested STRUCTs (``winlog`` → ``event_data`` → ``Image``), as ``read_json`` makes of
    Winlogbeat's documents; a few EventData fields are enough for the tests."""
    data = ", ".join(f"'{f}': {f}" for f in ("CommandLine", "NewProcessName", "IpAddress", "Image"))
    engine.con.execute(f"""
        CREATE TABLE {name} AS SELECT
            strftime("_time", '%Y-%m-%dT%H:%M:%S.%fZ') AS "@timestamp",
            "_raw" AS message,
            {{'name': host}} AS host,
            {{'event_id': "EventCode", 'channel': "Channel", 'event_data': {{{data}}}}} AS winlog
        FROM events""")
