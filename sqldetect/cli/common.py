"""Options and helpers shared by the CLI commands: the options every rule command takes, building the engine
from them, rule loading, error reporting.

Errors a user can cause are printed as one line plus a caret excerpt (``SqlDetectError.__str__``) on stderr;
``--debug`` re-raises them so the traceback shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from sqldetect.errors import SqlDetectError
from sqldetect.macros import MacroLibrary
from sqldetect.rules import Rule, load_rules

if TYPE_CHECKING:
    from sqldetect.engine import Engine
    from sqldetect.schema import Schema

MACROS_OPTION = click.option(
    "--macros",
    "macro_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Macro definitions (.conf, .yml, .yaml, .jsonl, .json) loaded over the shipped defaults; repeatable.",
)
LOOKUPS_OPTION = click.option(
    "--lookups", "lookup_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
    help="A directory of lookup CSV files, or a lookup definitions file (.jsonl); repeatable.")
TABLE_OPTION = click.option("--table", default="events", show_default=True, help="The event table.")
MAPPING_OPTION = click.option(
    "--mapping", "mapping",
    help="Field mapping for a table with other column names: a YAML file, or a shipped one (winlogbeat).")
DATAMODELS_OPTION = click.option(
    "--datamodels", "datamodel_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your own CIM data model definitions (YAML), merged over the shipped ones; repeatable.")

CALCULATED_OPTION = click.option(
    "--calculated", "calculated_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your own calculated fields (YAML), tried before the shipped ones; repeatable.")
NO_CALCULATED_OPTION = click.option(
    "--no-calculated", "no_calculated", is_flag=True,
    help="Do not add the shipped calculated fields (dest, user, process_name, eventtype... as Splunk's Windows "
         "add-ons compute them).")


def calculated_options(command):
    """``--calculated FILE`` and ``--no-calculated``, on every command that builds an engine."""
    return CALCULATED_OPTION(NO_CALCULATED_OPTION(command))


def debug_enabled(ctx: click.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("debug"))


def report_error(ctx: click.Context, exc: SqlDetectError) -> None:
    """Print one error to stderr (or re-raise it under ``--debug``)."""
    if debug_enabled(ctx):
        raise exc
    click.echo(f"error: {format_error(exc)}", err=True)


def format_error(exc: SqlDetectError) -> str:
    """One line saying where and what, then the caret excerpt. Line breaks a rule put into a name or value the
    message quotes are shown escaped, so the first line is always the whole headline."""
    headline = exc.headline().replace("\r", "\\r").replace("\n", "\\n")
    excerpt = exc.excerpt()
    return f"{headline}\n{excerpt}" if excerpt else headline


def fail(ctx: click.Context, exc: SqlDetectError) -> NoReturn:
    """Report an error that stops the command (exit 1)."""
    report_error(ctx, exc)
    ctx.exit(1)


def macro_library(ctx: click.Context, macro_files: Sequence[Path]) -> MacroLibrary:
    library = MacroLibrary.default()
    for path in macro_files:
        try:
            library.load(path)
        except SqlDetectError as exc:
            fail(ctx, exc)
    for problem in library.errors:
        click.echo(f"warning: {problem.headline()}", err=True)
    return library


def build_engine(ctx: click.Context, *, db: Path | None, table: str, macro_files: Sequence[Path] = (),
                 lookup_paths: Sequence[Path] = (), rule_paths: Sequence[Path] = (), mapping: str | None = None,
                 datamodel_files: Sequence[Path] = (), now: datetime | None = None, read_only: bool = False,
                 schema: Schema | None = None, lookup_sql_base: Path | None = None,
                 calculated_files: Sequence[Path] = (), no_calculated: bool = False) -> Engine:
    """The engine every command runs on, from the shared options; a bad option value (unreadable database,
    macro, lookup, mapping, data model or calculated fields file) is reported and exits 1."""
    from sqldetect.engine import Engine

    try:
        datamodels = None
        if datamodel_files:
            from sqldetect.datamodels import load_datamodels

            datamodels = load_datamodels(datamodel_files)
        engine = Engine(db, table=table, macros=macro_files, lookups=lookup_resolver(lookup_paths, rule_paths, lookup_sql_base),
                        datamodels=datamodels, field_mapping=mapping, now=now, read_only=read_only, schema=schema,
                        calculated=not no_calculated, calculated_files=calculated_files)
    except SqlDetectError as exc:
        fail(ctx, exc)
    ctx.call_on_close(engine.close)  # a database file is released (and its lock-down with it) when the command ends
    for problem in engine.macros.errors:
        click.echo(f"warning: {problem.headline()}", err=True)
    return engine


def check_mapping(ctx: click.Context, engine: Engine) -> None:
    """Apply the field mapping to the event table now (a mapping that does not fit it stops the command, before
    any rule) and print which mapped fields the table lacks."""
    try:
        engine.resolved_mapping()
    except SqlDetectError as exc:
        fail(ctx, exc)
    for warning in engine.warnings:
        click.echo(f"warning: {warning}", err=True)


def lookup_resolver(paths: Sequence[Path] = (), rule_paths: Sequence[Path] = (), sql_base: Path | None = None):
    """A LookupResolver over the ``--lookups`` directories and definition files, plus a ``lookups/``
    directory beside or inside each rules directory (where the rules library keeps its CSVs). ``sql_base``:
    lookup paths in the SQL are written relative to it (``compile`` output is the same in every checkout)."""
    from sqldetect.compile.lookups import LookupResolver, load_definitions

    directories: list[Path] = []
    definitions = []
    for path in paths:
        if path.is_dir():
            directories.append(path)
            for candidate in (path / "lookups.jsonl", path.parent / "lookups.jsonl"):
                if candidate.is_file():
                    definitions.extend(load_definitions(candidate))
                    break
        else:
            definitions.extend(load_definitions(path))
            directories.append(path.parent)
    for rule_path in rule_paths:
        base = rule_path if rule_path.is_dir() else rule_path.parent
        candidate = base / "lookups"
        if candidate.is_dir() and candidate not in directories:
            directories.append(candidate)
    if not directories and not definitions:
        return None
    return LookupResolver(directories, definitions, sql_base=sql_base)


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
