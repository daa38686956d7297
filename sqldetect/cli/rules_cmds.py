"""CLI commands that translate rules without running them: ``sql``, ``compile``, ``validate``, ``list``,
``install``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.cli.common import MACROS_OPTION, load_rule_paths, report_error
from sqldetect.errors import SqlDetectError
from sqldetect.schema import Schema

SCHEMA_OPTION = click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                             help="A YAML/JSON file {field: string|number|time|multivalue} describing the table.")
DB_OPTION = click.option("--db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="Read the event table's schema from this DuckDB file.")
TABLE_OPTION = click.option("--table", default="events", show_default=True, help="The event table.")
LOOKUPS_OPTION = click.option("--lookups", "lookup_dirs", multiple=True, type=click.Path(exists=True, path_type=Path),
                              help="Lookup CSV directory or definitions file; repeatable.")


def _engine(ctx: click.Context, db: Path | None, table: str, macro_files, lookup_dirs, schema_file, rules=(),
            lookup_sql_base: Path | None = None):
    from sqldetect.cli.run import lookup_resolver
    from sqldetect.engine import Engine

    try:
        lookups = lookup_resolver(tuple(lookup_dirs), list(rules), sql_base=lookup_sql_base)
        engine = Engine(db, table=table, macros=macro_files, lookups=lookups, read_only=db is not None)
    except SqlDetectError as exc:
        report_error(ctx, exc)
        ctx.exit(1)
    if schema_file is not None:
        engine._schema = load_schema_file(schema_file)
    return engine


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
@SCHEMA_OPTION
@DB_OPTION
@TABLE_OPTION
@MACROS_OPTION
@LOOKUPS_OPTION
@click.option("--dialect", type=click.Choice(["duckdb"]), default="duckdb", show_default=True,
              help="SQL dialect to render (DuckDB today).")
@click.pass_context
def sql_command(ctx: click.Context, rules: tuple[Path, ...], spl: str | None, schema_file: Path | None,
                db: Path | None, table: str, macro_files, lookup_dirs, dialect: str) -> None:
    """Print the SQL of each rule (or of --spl).

    \b
    Examples:
      sqldetect sql rules/msiexec_install_msi_file.yml
      sqldetect sql --spl 'EventCode=4688 | stats count by host'
      sqldetect sql rules/ --db warehouse.duckdb --table events
    """
    engine = _engine(ctx, db, table, macro_files, lookup_dirs, schema_file, rules)
    failed = False
    if spl is not None:
        try:
            click.echo(engine.compile_spl(spl).sql(), nl=False)
        except SqlDetectError as exc:
            report_error(ctx, exc)
            ctx.exit(1)
        return
    if not rules:
        raise click.UsageError("give rule files or --spl")
    loaded, failed = load_rule_paths(ctx, list(rules))
    for rule in loaded:
        try:
            text = engine.compile_rule(rule).sql()
        except SqlDetectError as exc:
            report_error(ctx, exc.with_location(file=rule.source_file))
            failed = True
            continue
        if len(loaded) > 1:
            click.echo(f"-- rule {rule.id}: {rule.title}")
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
@SCHEMA_OPTION
@DB_OPTION
@TABLE_OPTION
@MACROS_OPTION
@LOOKUPS_OPTION
@click.pass_context
def compile_command(ctx: click.Context, rules: tuple[Path, ...], output: Path, schema_file: Path | None,
                    db: Path | None, table: str, macro_files, lookup_dirs) -> None:
    """Write one readable .sql file per rule (named after the rule id) into a directory.

    Lookup files under the current directory are read by a path relative to it (rules/lookups/x.csv), so the
    files are the same in every checkout; run them from that directory.

    \b
    Example:
      sqldetect compile rules/ -o sql/
    """
    engine = _engine(ctx, db, table, macro_files, lookup_dirs, schema_file, rules, lookup_sql_base=Path.cwd())
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
        header = f"-- sqldetect: rule {rule.id}: {rule.title}\n"
        if rule.technique_ids:
            header += f"-- ATT&CK: {', '.join(rule.technique_ids)}\n"
        (output / rule_sql_file(rule)).write_text(header + text, encoding="utf-8")
        written += 1
    click.echo(f"wrote {written} file(s) to {output}", err=True)
    if failed:
        ctx.exit(1)


@main.command("validate")
@click.argument("rules", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@SCHEMA_OPTION
@DB_OPTION
@TABLE_OPTION
@MACROS_OPTION
@LOOKUPS_OPTION
@click.pass_context
def validate_command(ctx: click.Context, rules: tuple[Path, ...], schema_file: Path | None, db: Path | None,
                     table: str, macro_files, lookup_dirs) -> None:
    """Check rule files load and that every rule translates; exit 1 if any does not.

    \b
    Example:
      sqldetect validate rules/
    """
    engine = _engine(ctx, db, table, macro_files, lookup_dirs, schema_file, rules)
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
    Example:
      sqldetect list rules/
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
@MACROS_OPTION
@LOOKUPS_OPTION
@click.pass_context
def install_command(ctx: click.Context, rules: tuple[Path, ...], db: Path, table: str, macro_files,
                    lookup_dirs) -> None:
    """Create one view per rule (detect_<rule id>) in a DuckDB warehouse, so any SQL client can query
    detections.

    \b
    Example:
      sqldetect install rules/ --db warehouse.duckdb --table events
    """
    from sqldetect.cli.run import lookup_resolver
    from sqldetect.engine import Engine
    from sqldetect.warehouse import install_view

    try:
        engine = Engine(db, table=table, macros=macro_files, lookups=lookup_resolver(tuple(lookup_dirs), list(rules)))
    except SqlDetectError as exc:
        report_error(ctx, exc)
        ctx.exit(1)
    loaded, failed = load_rule_paths(ctx, list(rules))
    installed = 0
    for rule in loaded:
        try:
            name = install_view(engine.con, rule.id, engine.compile_rule(rule).sql())
        except SqlDetectError as exc:
            report_error(ctx, exc.with_location(file=rule.source_file))
            failed = True
            continue
        click.echo(f"{name}  {rule.title}")
        installed += 1
    click.echo(f"installed {installed}/{len(loaded)} view(s) in {db}", err=True)
    if failed:
        ctx.exit(1)
