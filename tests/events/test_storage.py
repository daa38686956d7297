"""How the event table stores its columns: the long text columns are zstd-compressed, however they are created."""

from __future__ import annotations

import json
from pathlib import Path

from sqldetect.events import EventStore
from tests.events.records import SYSMON_1, winlogbeat_line


def column_definitions(store: EventStore) -> str:
    return store.con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'events'").fetchall()[0][0]


def test_raw_and_message_are_zstd_compressed_when_created_with_the_table(tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(winlogbeat_line(SYSMON_1) + "\n", encoding="utf-8")
    with EventStore.open(tmp_path / "events.duckdb") as store:
        store.load([events], progress=False)
        sql = column_definitions(store)
    assert "_raw VARCHAR USING COMPRESSION ZSTD" in sql
    assert "Message VARCHAR USING COMPRESSION ZSTD" in sql
    assert "Image VARCHAR," in sql or "Image VARCHAR)" in sql  # other text columns keep DuckDB's choice


def test_message_added_to_a_table_with_rows_is_zstd_compressed_too(tmp_path: Path) -> None:
    generic = tmp_path / "app.json"
    generic.write_text(json.dumps({"_time": "2024-05-01T00:00:00Z", "user": "alice"}) + "\n", encoding="utf-8")
    windows = tmp_path / "sysmon.json"
    windows.write_text(winlogbeat_line(SYSMON_1) + "\n", encoding="utf-8")
    with EventStore.open(tmp_path / "events.duckdb") as store:
        store.load([generic], progress=False)
        assert "Message" not in column_definitions(store)
        store.load([windows], progress=False)  # the Windows columns arrive by ALTER TABLE
        assert "Message VARCHAR USING COMPRESSION ZSTD" in column_definitions(store)
        assert store.count() == 2
