"""``sqldetect load``: append events from EVTX/JSON files to a table in a DuckDB database file."""

from __future__ import annotations

import sys

import click

from sqldetect.cli import main
from sqldetect.errors import SqlDetectError
from sqldetect.events.reader_evtx import PARSERS
from sqldetect.events.store import EventStore
from sqldetect.events.windows import RAW_FORMATS


@main.command()
@click.argument("events", nargs=-1, required=True)
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="DuckDB database file.")
@click.option("--table", default="events", show_default=True, help="Table to append to.")
@click.option("--parser", type=click.Choice(PARSERS), default="evtx", show_default=True,
              help="EVTX parser: the Rust-backed evtx package or pure-Python python-evtx.")  # fmt: skip
@click.option("--raw-format", type=click.Choice(RAW_FORMATS), default="xml", show_default=True,
              help="Windows _raw as XmlWinEventLog (xml; field values keep XML entities, &gt;) or WinEventLog "
                   "(classic) text.")  # fmt: skip
@click.option("--index", default="main", show_default=True, help="Value of the index field.")
@click.option("--messages", "messages", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra message-template YAML file (repeatable; later files override).")  # fmt: skip
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parsing processes (default: cores).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: only on a terminal).")
@click.pass_context
def load(
    ctx: click.Context,
    events: tuple[str, ...],
    db_path: str,
    table: str,
    parser: str,
    raw_format: str,
    index: str,
    messages: tuple[str, ...],
    workers: int | None,
    progress: bool | None,
) -> None:
    """Load EVENTS (EVTX, JSON, NDJSON files, .gz, directories, globs, or - for stdin) into --db.

    The load is one transaction: if it fails or is interrupted the database is unchanged. Events already in
    the table are not added again. Damaged records are skipped and reported per file.

    \b
    Examples:
      sqldetect load fixtures/ --db events.duckdb --raw-format classic
      zcat logs.ndjson.gz | sqldetect load - --db events.duckdb
    """
    try:
        with EventStore.open(db_path, table=table) as store:
            report = store.load(list(events), parser=parser, raw_format=raw_format, index=index,
                                messages=messages, workers=workers, progress=progress)  # fmt: skip
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was loaded (the database is unchanged)", err=True)
        sys.exit(130)
    except SqlDetectError as exc:
        if ctx.obj and ctx.obj.get("debug"):
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(report.render())
