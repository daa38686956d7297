"""Options and helpers shared by the CLI commands: macro files, rule loading, error reporting.

Errors a user can cause are printed as one line plus a caret excerpt (``SqlDetectError.__str__``) on stderr;
``--debug`` re-raises them so the traceback shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from sqldetect.errors import SqlDetectError
from sqldetect.macros import MacroLibrary
from sqldetect.rules import Rule, load_rules

MACROS_OPTION = click.option(
    "--macros",
    "macro_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Macro definitions (.conf, .yml, .yaml, .jsonl, .json) loaded over the shipped defaults; repeatable.",
)


def debug_enabled(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("debug"))


def report_error(ctx: click.Context, exc: SqlDetectError) -> None:
    """Print one error to stderr (or re-raise it under ``--debug``)."""
    if debug_enabled(ctx):
        raise exc
    click.echo(f"error: {exc}", err=True)


def macro_library(ctx: click.Context, macro_files: Sequence[Path]) -> MacroLibrary:
    library = MacroLibrary.default()
    for path in macro_files:
        try:
            library.load(path)
        except SqlDetectError as exc:
            report_error(ctx, exc)
            ctx.exit(1)
    for problem in library.errors:
        click.echo(f"warning: {problem.headline()}", err=True)
    return library


def load_rule_paths(ctx: click.Context, paths: Path | Sequence[Path]) -> tuple[list[Rule], bool]:
    """Rules of ``paths``; rule errors are printed. Returns the rules and whether any error occurred."""
    result = load_rules(paths)
    for error in result.errors:
        report_error(ctx, error)
    if result.rejected_files or result.rejected_rules:
        click.echo(
            f"skipped: {result.rejected_rules} rule(s), {result.rejected_files} file(s) rejected", err=True
        )
    return result.rules, bool(result.errors)
