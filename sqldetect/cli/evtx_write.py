"""``sqldetect evtx-write``: make an EVTX file from event dicts in YAML, JSON or NDJSON (test tooling)."""

from __future__ import annotations

from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.errors import SqlDetectError
from sqldetect.evtxwriter.convert import convert_file
from sqldetect.evtxwriter.event import InvalidEventError


@main.command("evtx-write", short_help="Make an EVTX file from event dicts (test tooling).")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="EVTX file to write (replaced atomically when done).")
@click.option("--strict", is_flag=True, help="Stop at the first bad event and write nothing.")
def evtx_write(source: Path, output: Path, strict: bool) -> None:
    """Write the events in SOURCE (.yaml/.yml, .json, .ndjson/.jsonl) to an EVTX file.

    \b
    SOURCE holds a list of event dicts, or {defaults: {...}, events: [...]}.
    The event dict is described in `python -c "import sqldetect.evtxwriter as m; help(m)"`.
    Bad events are reported one per line and skipped; the exit code is then 1.

    \b
    Example:
      sqldetect evtx-write fixtures/src/security.yaml -o security.evtx
    """

    def report(error: InvalidEventError) -> None:
        click.echo(f"error: {error.headline()}", err=True)

    try:
        result = convert_file(source, output, on_error=report, strict=strict)
    except SqlDetectError as exc:
        raise click.ClickException(exc.headline()) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    summary = f"wrote {_plural(result.written, 'record')} in {_plural(result.chunks, 'chunk')} to {output}"
    if result.skipped:
        summary += f"; skipped {_plural(result.skipped, 'bad event')}"
    click.echo(summary, err=True)
    if result.skipped:
        raise SystemExit(1)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
