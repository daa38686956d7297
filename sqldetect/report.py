"""Rendering a run's hits and summary: a readable table per rule, or JSON lines / JSON / CSV for machines.

One hit is one result row of one rule. Machine formats carry the rule's id, title and ATT&CK technique ids
with each row, so a hit is self-describing when it reaches a SIEM or a ticket.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqldetect.engine import RuleOutcome, RunReport, refusal_reason


def render(report: RunReport, fmt: str, *, rows_only: bool = False) -> str:
    """The hits in ``fmt`` (``table``, ``jsonl``, ``json``, ``csv``). ``rows_only`` (ad-hoc SPL): JSON formats
    print the result rows themselves, like Splunk's results, without the rule around them."""
    if rows_only and fmt in ("jsonl", "json"):
        rows = [row for outcome in report.ran for row in outcome.rows]
        return _jsonl(rows) if fmt == "jsonl" else _json(rows)
    return {"table": render_tables, "jsonl": render_jsonl, "json": render_json, "csv": render_csv}[fmt](report)


def _jsonl(items: list[Any]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False, default=str) + "\n" for item in items)


def _json(items: list[Any]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=2, default=str) + "\n"


def hit_records(report: RunReport) -> Iterator[dict[str, Any]]:
    """One dict per hit: rule_id, title, technique_ids, row."""
    for outcome in report.outcomes:
        if outcome.status != "ok":
            continue
        for row in outcome.rows:
            yield {
                "rule_id": outcome.rule.id,
                "title": outcome.rule.title,
                "technique_ids": list(outcome.rule.technique_ids),
                "row": row,
            }


def render_jsonl(report: RunReport) -> str:
    return _jsonl(list(hit_records(report)))


def render_json(report: RunReport) -> str:
    return _json(list(hit_records(report)))


def render_csv(report: RunReport) -> str:
    """CSV with rule columns then the union of all rows' fields (multivalue joined with newlines)."""
    hits = list(hit_records(report))
    fields: list[str] = []
    for hit in hits:
        for name in hit["row"]:
            if name not in fields:
                fields.append(name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rule_id", "title", "technique_ids", *fields])
    for hit in hits:
        row = hit["row"]
        writer.writerow([hit["rule_id"], hit["title"], " ".join(hit["technique_ids"]),
                         *(_cell(row.get(name)) for name in fields)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_cell(v) for v in value)
    return str(value)


def render_tables(report: RunReport, *, max_rows: int = 50) -> str:
    """A readable block per rule with hits: header line, then the hit rows as an aligned table."""
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=160, force_terminal=False, color_system=None)
    for outcome in report.outcomes:
        if outcome.status != "ok" or not outcome.rows:
            continue
        techniques = ", ".join(outcome.rule.technique_ids) or "-"
        console.print(f"rule {outcome.rule.id}: {outcome.rule.title}  [{techniques}]  {len(outcome.rows)} hit(s)",
                      markup=False, highlight=False)
        table = Table(show_lines=False)
        fields = [f for f in outcome.fields if any(f in row for row in outcome.rows)]
        for name in fields:
            table.add_column(name, overflow="fold")
        for row in outcome.rows[:max_rows]:
            table.add_row(*(_cell(row.get(name)) for name in fields))
        console.print(table)
        if len(outcome.rows) > max_rows:
            console.print(f"... {len(outcome.rows) - max_rows} more row(s)", markup=False)
        console.print("")
    return buffer.getvalue()


def render_summary(report: RunReport) -> str:
    """Rules run and refused (with reasons), hits and time per rule, events scanned."""
    lines = ["summary:"]
    lines.append(f"  events scanned: {report.events_scanned}")
    lines.append(f"  rules: {len(report.outcomes)} total, {len(report.ran)} ran, {len(report.refused)} refused, "
                 f"{len(report.failed)} failed")
    lines.append(f"  hits: {report.total_hits} in {sum(1 for o in report.ran if o.rows)} rule(s)")
    width = max([len(o.rule.id) for o in report.outcomes] + [4])
    for outcome in report.outcomes:
        lines.append("  " + _outcome_line(outcome, width))
    lines.append(f"  elapsed: {report.elapsed:.2f}s")
    return "\n".join(lines) + "\n"


def _outcome_line(outcome: RuleOutcome, width: int) -> str:
    head = f"{outcome.rule.id:<{width}}  "
    millis = f"{outcome.elapsed * 1000:8.1f} ms"
    if outcome.status == "ok":
        return f"{head}{outcome.hits:>6} hit(s)  {millis}  {outcome.rule.title}"
    assert outcome.error is not None
    label = "refused" if outcome.status == "refused" else "FAILED"
    return f"{head}{label:>14}  {millis}  {outcome.rule.title}: {refusal_reason(outcome.error)}"
