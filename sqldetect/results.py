"""Turning SQL result rows into SPL-shaped result rows.

A Splunk result row only has the fields that have values, a multivalue field with one value shows as that
value, and times are epoch seconds (``_time`` shown as a timestamp). The same conversion serves the CLI's
JSON/CSV/table output, the Python API and the conformance suite, so all three agree on what a row is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Value = str | int | float | bool | list[Any] | None


def iso_time(value: datetime) -> str:
    """``2024-05-01T10:00:00Z`` / ``2024-05-01T10:00:00.123456Z`` (UTC; naive means UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def normalize_value(value: Any) -> Value:
    """One SQL value as an SPL value (None for "no value")."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, (list, tuple)):
        items = [normalize_value(v) for v in value]
        items = [v for v in items if v is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        return {k: normalize_value(v) for k, v in value.items()}
    return value


def normalize_row(names: Sequence[str], values: Sequence[Any]) -> dict[str, Value]:
    """A result row as ``{field: value}`` holding only fields that have a value."""
    row: dict[str, Value] = {}
    for name, value in zip(names, values, strict=True):
        v = normalize_value(value)
        if v is not None and v != "":
            row[name] = v
    return row


def text_of(value: Value) -> str | list[str]:
    """A value as Splunk would print it (numbers without a trailing .0), for loose comparisons."""
    if isinstance(value, list):
        return [text_of(v) for v in value]  # type: ignore[misc]
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:.15g}"
    return "" if value is None else str(value)


@dataclass
class QueryResult:
    """Rows of one query, as SPL rows."""

    fields: list[str]
    rows: list[dict[str, Value]] = field(default_factory=list)
    sql: str = ""
    elapsed: float = 0.0

    def __len__(self) -> int:
        return len(self.rows)
