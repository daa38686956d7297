"""Plugging detections into an existing DuckDB warehouse: one view per rule, and a table of saved hits.

``install`` creates ``detect_<rule id slug>`` views so any SQL client can query detections live;
``save_hits`` appends a run's hits to ``detections`` (rule id, run time, event time, host, the row as JSON),
keyed by a hash of the rule id and the row, so saving the same hits again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import duckdb

from sqldetect.engine import RunReport

DETECTIONS_TABLE = "detections"


def view_name(rule_id: str) -> str:
    """``detect_`` + the rule id with every non-alphanumeric run turned into ``_`` (``1117.1196`` →
    ``detect_1117_1196``)."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", rule_id).strip("_").lower()
    return f"detect_{slug or 'rule'}"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def install_view(con: duckdb.DuckDBPyConnection, rule_id: str, sql: str) -> str:
    """Create or replace the rule's view; returns its name."""
    name = view_name(rule_id)
    con.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {sql}")
    return name


def ensure_detections_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {DETECTIONS_TABLE} ("
        "hit_id VARCHAR PRIMARY KEY, rule_id VARCHAR, title VARCHAR, technique_ids VARCHAR[], "
        "run_time TIMESTAMP, event_time VARCHAR, host VARCHAR, row_json JSON)"
    )


def hit_id(rule_id: str, row: dict) -> str:
    canonical = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{rule_id}\x00{canonical}".encode()).hexdigest()


def save_hits(con: duckdb.DuckDBPyConnection, report: RunReport, run_time: datetime | None = None) -> int:
    """Append the report's hits; returns how many were new."""
    ensure_detections_table(con)
    when = (run_time or datetime.now(UTC)).replace(tzinfo=None)
    records = []
    for outcome in report.ran:
        for row in outcome.rows:
            event_time = row.get("_time")
            host = row.get("host")
            records.append((hit_id(outcome.rule.id, row), outcome.rule.id, outcome.rule.title,
                            list(outcome.rule.technique_ids), when,
                            None if event_time is None else str(event_time),
                            None if host is None else str(host),
                            json.dumps(row, ensure_ascii=False, default=str)))
    before = con.execute(f"SELECT count(*) FROM {DETECTIONS_TABLE}").fetchall()[0][0]
    if records:
        con.executemany(f"INSERT OR IGNORE INTO {DETECTIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", records)
    after = con.execute(f"SELECT count(*) FROM {DETECTIONS_TABLE}").fetchall()[0][0]
    return int(after - before)
