"""CLI commands that translate rules without running them: ``sql``, ``compile``, ``validate``, ``list``,
``install``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.cli.common import (
    CALCULATED_OPTION,
    DATAMODELS_OPTION,
    LOOKUPS_OPTION,
    MACROS_OPTION,
    MAPPING_OPTION,
    NO_CALCULATED_OPTION,
    TABLE_OPTION,
    build_engine,
    check_mapping,
    fail,
    load_rule_paths,
    report_error,
)
from sqldetect.compile.render import comment_text
from sqldetect.errors import SqlDetectError
from sqldetect.schema import Schema

SCHEMA_OPTION = click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                             help="A YAML/JSON file {field: string|number|time|multivalue} describing the table.")
DB_OPTION = click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="Read the event table's schema from this DuckDB file.")


def translation_options(command):
    """The options of every command that translates rules without running them."""
    for option in reversed((SCHEMA_OPTION, DB_OPTION, TABLE_OPTION, MAPPING_OPTION, DATAMODELS_OPTION,
                            MACROS_OPTION, LOOKUPS_OPTION, CALCULATED_OPTION, NO_CALCULATED_OPTION)):
        command = option(command)
    return command


def _engine(ctx: click.Context, rules, *, schema_file: Path | None, db: Path | None, table: str, mapping,
            datamodel_files, macro_files, lookup_paths, read_only: bool = True,
            lookup_sql_base: Path | None = None, calculated_files=(), no_calculated: bool = False):
    schema = load_schema_file(schema_file) if schema_file is not None else None
    engine = build_engine(ctx, db=db, table=table, macro_files=macro_files, lookup_paths=lookup_paths,
                          rule_paths=list(rules), mapping=mapping, datamodel_files=datamodel_files,
                          read_only=read_only and db is not None, schema=schema, lookup_sql_base=lookup_sql_base,
                          calculated_files=calculated_files, no_calculated=no_calculated)
    check_mapping(ctx, engine)
    return engine


def rule_banner(rule) -> str:
    """``-- rule <id>: <title>`` on one line whatever the id and title hold (a newline would end the comment)."""
    return comment_text(f"rule {rule.id}: {rule.title}")


def load_schema_file(path: Path) -> Schema:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "fields" in data:
            data = data["fields"]
        return Schema.from_mapping({str(k): str(v) for k, v in data.items()})
    except (yaml.YAMLError, AttributeError, ValueError) as exc:
        raise click.BadParameter(f"{path}: not a {{field: kind}} mapping ({exc})", param_hint="--schema") from exc


@main.command("sql")
@click.argument("rules", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--spl", help="Translate this SPL instead of rule files.")
@translation_options
@click.option("--dialect", type=click.Choice(["duckdb"]), default="duckdb", show_default=True,
              help="SQL dialect to render (DuckDB today).")
@click.pass_context
def sql_command(ctx: click.Context, rules: tuple[Path, ...], spl: str | None, dialect: str, **options) -> None:
    """Print the SQL of each rule (or of --spl).

    \b
    Examples:
      sqldetect sql rules/msiexec_install_msi_file.yml
      sqldetect sql --spl 'EventCode=4688 | stats count by host'
      sqldetect sql rules/ --db warehouse.duckdb --table winlogbeat --mapping winlogbeat

    \b
    Exit codes: 0 every rule translated, 1 usage or input error or a rule that does not translate.
    """
    if spl is None and not rules:
        raise click.UsageError("give rule files or --spl")
    engine = _engine(ctx, rules, **options)
    if spl is not None:
        try:
            click.echo(engine.compile_spl(spl).sql(), nl=False)
        except SqlDetectError as exc:
            fail(ctx, exc)
        return
    loaded, failed = load_rule_paths(ctx, list(rules))
    for rule in loaded:
        try:
            text = engine.compile_rule(rule).sql()
        except SqlDetectError as exc:
            report_error(ctx, exc.with_location(file=rule.source_file))
            failed = True
            continue
        if len(loaded) > 1:
            click.echo(f"-- {rule_banner(rule)}")
        click.echo(text)
    if failed:
        ctx.exit(1)


def rule_sql_file(rule) -> str:
    from sqldetect.warehouse import view_name

    return view_name(rule.id).removeprefix("detect_") + ".sql"


@main.command("compile")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write one .sql file per rule into.")
@translation_options
@click.pass_context
def compile_command(ctx: click.Context, rules: tuple[Path, ...], output: Path, **options) -> None:
    """Write one readable .sql file per rule (named after the rule id) into a directory.

    Lookup files under the current directory are read by a path relative to it (rules/lookups/x.csv), so the
    files are the same in every checkout; run them from that directory.

    \b
    Examples:
      sqldetect compile rules/ -o sql/
      sqldetect compile rules/ -o sql/ --db warehouse.duckdb --table winlogbeat --mapping winlogbeat

    \b
    Exit codes: 0 every rule written, 1 usage or input error or a rule that does not translate.
    """
    engine = _engine(ctx, rules, **options, lookup_sql_base=Path.cwd())
    loaded, failed = load_rule_paths(ctx, list(rules))
    output.mkdir(parents=True, exist_ok=True)
    written = 0
    for rule in loaded:
        try:
            text = engine.compile_rule(rule).sql()
        except SqlDetectError as exc:
            report_error(ctx, exc.with_location(file=rule.source_file))
            failed = True
            continue
        header = f"-- sqldetect: {rule_banner(rule)}\n"
        if rule.technique_ids:
            header += f"-- {comment_text('ATT&CK: ' + ', '.join(rule.technique_ids))}\n"
        (output / rule_sql_file(rule)).write_text(header + text, encoding="utf-8")
        written += 1
    click.echo(f"wrote {written} file(s) to {output}", err=True)
    if failed:
        ctx.exit(1)


@main.command("validate")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@translation_options
@click.pass_context
def validate_command(ctx: click.Context, rules: tuple[Path, ...], **options) -> None:
    """Check rule files load and that every rule translates; exit 1 if any does not.

    \b
    Examples:
      sqldetect validate rules/
      sqldetect validate rules/ --db warehouse.duckdb --table winlogbeat --mapping winlogbeat

    \b
    Exit codes: 0 every rule loads and translates, 1 otherwise (or a usage or input error).
    """
    engine = _engine(ctx, rules, **options)
    loaded, failed = load_rule_paths(ctx, list(rules))
    good = 0
    for rule in loaded:
        try:
            engine.compile_rule(rule)
            good += 1
        except SqlDetectError as exc:
            report_error(ctx, exc.with_location(file=rule.source_file))
            failed = True
    click.echo(f"{good}/{len(loaded)} rule(s) translate")
    if failed:
        ctx.exit(1)


@main.command("list")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def list_command(ctx: click.Context, rules: tuple[Path, ...], fmt: str) -> None:
    """List rules: id, title, ATT&CK techniques.

    \b
    Examples:
      sqldetect list rules/
      sqldetect list rules/ --format json

    \b
    Exit codes: 0 every rule file loaded, 1 a file or rule was rejected (or a usage error).
    """
    loaded, failed = load_rule_paths(ctx, list(rules))
    if fmt == "json":
        click.echo(json.dumps([{"id": r.id, "title": r.title, "technique_ids": r.technique_ids,
                                "file": r.source_file} for r in loaded], indent=2))
    else:
        width = max([len(r.id) for r in loaded] + [2])
        for rule in loaded:
            click.echo(f"{rule.id:<{width}}  {', '.join(rule.technique_ids) or '-':<20}  {rule.title}")
    if failed:
        ctx.exit(1)


@main.command("install")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The DuckDB warehouse file to create the views in.")
@TABLE_OPTION
@MAPPING_OPTION
@DATAMODELS_OPTION
@MACROS_OPTION
@LOOKUPS_OPTION
@CALCULATED_OPTION
@NO_CALCULATED_OPTION
@click.pass_context
def install_command(ctx: click.Context, rules: tuple[Path, ...], db: Path, table: str, mapping: str | None,
                    datamodel_files, macro_files, lookup_paths, calculated_files, no_calculated) -> None:
    """Create one view per rule (detect_<rule id>) in a DuckDB warehouse, so any SQL client can query
    detections live.

    \b
    Examples:
      sqldetect install rules/ --db warehouse.duckdb
      sqldetect install rules/ --db warehouse.duckdb --table winlogbeat --mapping winlogbeat
      duckdb warehouse.duckdb 'SELECT * FROM detect_1117_1196'

    \b
    Exit codes: 0 every rule installed, 1 usage or input error or a rule that does not translate.
    """
    from sqldetect.warehouse import ViewNameClash, install_views

    engine = _engine(ctx, rules, schema_file=None, db=db, table=table, mapping=mapping,
                     datamodel_files=datamodel_files, macro_files=macro_files, lookup_paths=lookup_paths,
                     read_only=False, calculated_files=calculated_files, no_calculated=no_calculated)
    loaded, failed = load_rule_paths(ctx, list(rules))
    installed = 0
    for rule, result in install_views(engine, loaded):
        if isinstance(result, SqlDetectError):
            if not isinstance(result, ViewNameClash):
                result = result.with_location(file=rule.source_file)
            report_error(ctx, result)
            failed = True
            continue
        click.echo(f"{result}  {rule.title}")
        installed += 1
    click.echo(f"installed {installed}/{len(loaded)} view(s) in {db}", err=True)
    if failed:
        ctx.exit(1)
