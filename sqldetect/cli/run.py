"""``sqldetect run``: load events, translate and run rules, print the hits and a summary.

Arguments are rule files/directories and event files/directories, in any order: YAML files are rules, EVTX /
JSON / NDJSON (also .gz, ``-`` for stdin) are events, and a directory holding any event file is an event
directory (a directory of only YAML files is a rules directory). ``--db FILE`` runs against events already in
a DuckDB file (and loads any event paths given into it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.cli.common import (
    DATAMODELS_OPTION,
    LOOKUPS_OPTION,
    MACROS_OPTION,
    MAPPING_OPTION,
    TABLE_OPTION,
    build_engine,
    calculated_options,
    check_mapping,
    debug_enabled,
    fail,
    load_rule_paths,
    report_error,
)
from sqldetect.errors import SqlDetectError

EVENT_SUFFIXES = (".evtx", ".json", ".ndjson", ".jsonl", ".evtx.gz", ".json.gz", ".ndjson.gz", ".jsonl.gz")
RULE_SUFFIXES = (".yml", ".yaml")

EXIT_HITS = 3
#: runs with fewer rules finish before a progress bar would be worth drawing
PROGRESS_MIN_RULES = 20


def is_event_path(path: str) -> bool:
    """Events: ``-``, a glob, an event file, or a directory that holds at least one event file."""
    if path == "-" or any(ch in path for ch in "*?["):
        return True
    p = Path(path)
    if p.is_dir():
        return any(child.name.lower().endswith(EVENT_SUFFIXES) for child in p.rglob("*") if child.is_file())
    return p.name.lower().endswith(EVENT_SUFFIXES)


def split_paths(paths: tuple[str, ...]) -> tuple[list[Path], list[str]]:
    rules: list[Path] = []
    events: list[str] = []
    for path in paths:
        if is_event_path(path):
            events.append(path)
        elif Path(path).exists():
            rules.append(Path(path))
        else:
            raise click.BadParameter(f"{path}: no such file or directory", param_hint="PATHS")
    return rules, events


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO-8601 time: {value}", param_hint="--now") from exc
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone().replace(tzinfo=None)


@main.command("run")
@click.argument("paths", nargs=-1)
@click.option("--spl", help="Run this SPL instead of rule files (ad-hoc search).")
@click.option("--rules", "extra_rules", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A rule file or directory whatever its suffix, e.g. a detections.jsonl export; repeatable.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="A DuckDB file holding (or receiving) the events; default: an in-memory database.")
@TABLE_OPTION
@MAPPING_OPTION
@DATAMODELS_OPTION
@MACROS_OPTION
@LOOKUPS_OPTION
@calculated_options
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "json", "csv"]), default=None,
              help="Output format (default: table on a terminal, jsonl otherwise).")
@click.option("--rule-id", "rule_ids", multiple=True, help="Only run the rule with this id; repeatable.")
@click.option("--technique", "techniques", multiple=True,
              help="Only run rules tagged with this ATT&CK technique (T1059 also selects T1059.001); repeatable.")
@click.option("--fail-on-hits", is_flag=True, help=f"Exit with code {EXIT_HITS} when any rule matched.")
@click.option("--strict", is_flag=True, help="A rule that cannot be loaded, translated or run is an error (exit 1).")
@click.option("--parser", type=click.Choice(["evtx", "python-evtx"]), default="evtx", show_default=True,
              help="EVTX parser for event files.")
@click.option("--raw-format", type=click.Choice(["xml", "classic"]), default="xml", show_default=True,
              help="Splunk rendering of Windows _raw: XmlWinEventLog (field values keep XML entities, &gt;) or classic "
                   "WinEventLog.")
@click.option("--index", "index_name", default="main", show_default=True, help="The index field of loaded events.")
@click.option("--messages", "message_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra Windows message templates (YAML); repeatable.")
@click.option("--now", "now_text", help="Fixed 'now' for relative times, ISO-8601 (default: the clock).")
@click.option("--save", is_flag=True, help="Append the hits to the `detections` table of --db (a hit saved "
              "before is not added again).")
@click.option("--summary/--no-summary", default=True, show_default=True, help="Print the run summary (stderr "
              "for machine formats).")
@click.pass_context
def run_command(ctx: click.Context, paths: tuple[str, ...], spl: str | None, extra_rules: tuple[Path, ...],
                db: Path | None, table: str,
                mapping: str | None, datamodel_files: tuple[Path, ...], macro_files: tuple[Path, ...],
                lookup_paths: tuple[Path, ...], fmt: str | None, rule_ids: tuple[str, ...],
                techniques: tuple[str, ...], fail_on_hits: bool, strict: bool, parser: str, raw_format: str,
                index_name: str, message_files: tuple[str, ...], now_text: str | None, save: bool,
                summary: bool, calculated_files: tuple[Path, ...] = (), no_calculated: bool = False) -> None:
    """Run detection rules over events and print the hits.

    \b
    Examples:
      sqldetect run rules/ fixtures/ --raw-format classic
      sqldetect run rules/ logs/*.evtx --format jsonl --fail-on-hits
      sqldetect run --spl 'EventCode=4688 | stats count by host' fixtures/security.evtx
      sqldetect run rules/ --db warehouse.duckdb --table winlogbeat --mapping winlogbeat --save
      sqldetect run --rules ../shared/corpus/escu/detections.jsonl
        --macros ../shared/corpus/escu/macros.jsonl --lookups ../shared/corpus/escu/lookups logs/

    \b
    Exit codes: 0 ran (with or without hits), 1 usage or input error
    (or, with --strict, a rule that could not be loaded, translated or run),
    3 hits found and --fail-on-hits given.
    """
    from sqldetect.rules import Rule

    rule_paths, event_paths = split_paths(paths)
    rule_paths += extra_rules
    if spl is None and not rule_paths:
        raise click.UsageError("give rule files or directories (or --spl)")
    if spl is None and not event_paths and db is None:
        raise click.UsageError("give event files or directories (or --db)")
    if save and db is None:
        raise click.UsageError("--save needs --db")
    fmt = fmt or ("table" if sys.stdout.isatty() else "jsonl")

    engine = build_engine(ctx, db=db, table=table, macro_files=macro_files, lookup_paths=lookup_paths,
                          rule_paths=rule_paths, mapping=mapping, datamodel_files=datamodel_files,
                          now=_parse_now(now_text), calculated_files=calculated_files,
                          no_calculated=no_calculated)
    if event_paths:
        try:
            load_report = engine.load(event_paths, parser=parser, raw_format=raw_format, index=index_name,
                                      messages=message_files)
        except SqlDetectError as exc:
            fail(ctx, exc)
        if load_report.skipped or summary:
            click.echo(load_report.render(), err=True)
    check_mapping(ctx, engine)

    if spl is not None:
        rules = [Rule(id="adhoc", title="ad-hoc search", logic=spl)]
    else:
        rules, failed = load_rule_paths(ctx, rule_paths)
        if failed and strict:
            ctx.exit(1)
        rules = select_rules(rules, rule_ids, techniques)
        if not rules:
            raise click.UsageError("no rule matches the selection")

    with progress_bar(len(rules), fmt) as advance:
        report = engine.run(rules, progress=advance)
    if save:
        from sqldetect.warehouse import save_hits

        added = save_hits(engine.con, report)
        click.echo(f"saved {added} new hit(s) to the detections table of {db}", err=True)
    render_output(report, fmt, spl is not None)
    if summary:
        from sqldetect.report import render_summary

        click.echo(render_summary(report), err=fmt != "table", nl=False)
    for outcome in report.outcomes:
        if outcome.error is not None and (strict or spl is not None or debug_enabled(ctx)):
            report_error(ctx, outcome.error)
    if (strict or spl is not None) and (report.refused or report.failed):
        ctx.exit(1)
    if fail_on_hits and report.total_hits:
        ctx.exit(EXIT_HITS)


@contextmanager
def progress_bar(total: int, fmt: str) -> Iterator[Callable[[], None] | None]:
    """A rich progress bar on stderr while rules run, only when stderr is a terminal and the run is long enough
    to want one (so pipes, files and CI logs get no control characters)."""
    if total < PROGRESS_MIN_RULES or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("running rules", total=total)
        yield lambda: bar.advance(task)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def render_output(report, fmt: str, adhoc: bool) -> None:
    from sqldetect.report import render

    click.echo(render(report, fmt, rows_only=adhoc), nl=False)


def select_rules(rules, rule_ids: tuple[str, ...], techniques: tuple[str, ...]):
    """Keep rules whose id is in ``rule_ids`` and whose techniques match ``techniques`` (prefix match on
    sub-techniques: T1059 selects T1059.001)."""
    out = []
    wanted = [t.upper() for t in techniques]
    for rule in rules:
        if rule_ids and rule.id not in rule_ids:
            continue
        if wanted:
            tags = [t.upper() for t in rule.technique_ids]
            if not any(tag == w or tag.startswith(w + ".") for w in wanted for tag in tags):
                continue
        out.append(rule)
    return out
