"""Plugging detections into an existing DuckDB warehouse: one view per rule, and a table of saved hits.

``install_views`` creates ``detect_<rule id slug>`` views so any SQL client (a plain ``duckdb`` connection, a BI
tool) can query detections live, with no sqldetect at query time; ``save_hits`` appends a run's hits to
``detections`` (rule id, run time, event time, host, the row as JSON), keyed by a hash of the rule id and the
row, so saving the same hits again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from sqldetect.compile.sql import ident
from sqldetect.errors import Location, QueryError, RuleError, SqlDetectError, first_line

if TYPE_CHECKING:
    from sqldetect.engine import Engine, RunReport
    from sqldetect.rules import Rule

DETECTIONS_TABLE = "detections"


def view_name(rule_id: str) -> str:
    """``detect_`` + the rule id with every non-alphanumeric run turned into ``_`` (``1117.1196`` →
    ``detect_1117_1196``)."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", rule_id).strip("_").lower()
    return f"detect_{slug or 'rule'}"


class ViewNameClash(RuleError):
    """Two rules whose ids differ only in punctuation or case would share one view name."""


def install_view(con: duckdb.DuckDBPyConnection, rule_id: str, sql: str) -> str:
    """Create or replace the rule's view; returns its name. DuckDB binds the view now, so SQL that does not fit
    the table is a ``QueryError`` here rather than when someone queries the view."""
    name = view_name(rule_id)
    try:
        con.execute(f"CREATE OR REPLACE VIEW {ident(name).sql(dialect='duckdb')} AS {sql}")
    except duckdb.Error as exc:
        raise QueryError(f"cannot create view {name}: {first_line(exc)}", Location(rule_id=rule_id)) from exc
    return name


def install_views(engine: Engine, rules: Iterable[Rule]) -> Iterator[tuple[Rule, str | SqlDetectError]]:
    """Translate each rule and create its view; yields the view name, or the error that stopped that rule (a
    rule that does not translate, or whose view name another rule of this install already took)."""
    owners: dict[str, str] = {}
    for rule in rules:
        name = view_name(rule.id)
        if owners.get(name, rule.id) != rule.id:
            yield rule, ViewNameClash(f"view {name} is already the view of rule {owners[name]}; give one of the "
                                      "rules another id", Location(rule_id=rule.id, file=rule.source_file))
            continue
        try:
            yield rule, install_view(engine.con, rule.id, engine.compile_rule(rule).sql())
            owners[name] = rule.id
        except SqlDetectError as err:
            yield rule, err


def ensure_detections_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {DETECTIONS_TABLE} ("
        "hit_id VARCHAR PRIMARY KEY, rule_id VARCHAR, title VARCHAR, technique_ids VARCHAR[], "
        "run_time TIMESTAMP, event_time TIMESTAMP, host VARCHAR, row_json JSON)"
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
            host = row.get("host")
            records.append((hit_id(outcome.rule.id, row), outcome.rule.id, outcome.rule.title,
                            list(outcome.rule.technique_ids), when, _event_time(row.get("_time")),
                            None if host is None else _text(host),
                            json.dumps(row, ensure_ascii=False, default=str)))
    before = con.execute(f"SELECT count(*) FROM {DETECTIONS_TABLE}").fetchall()[0][0]
    if records:
        con.executemany(f"INSERT OR IGNORE INTO {DETECTIONS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", records)
    after = con.execute(f"SELECT count(*) FROM {DETECTIONS_TABLE}").fetchall()[0][0]
    return int(after - before)


def _event_time(value: Any) -> datetime | None:
    """A row's ``_time`` (``2024-05-06T11:02:11Z``, as rows carry it) as a naive UTC timestamp."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _text(value: Any) -> str:
    """A host value as text (a multivalue host, from stats values(host), joined as Splunk shows it)."""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
