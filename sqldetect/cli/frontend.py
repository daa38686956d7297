"""CLI commands that look at rules without running them: ``parse``, ``explain`` and ``coverage``.

The logic lives in ``sqldetect.rules``, ``sqldetect.macros``, ``sqldetect.explain`` and
``sqldetect.coverage``; this module only reads options, calls them, and prints. A bad rule is reported on
stderr (one line plus a caret excerpt) and the next rule still runs; the exit code is 1 when any failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.cli.common import MACROS_OPTION as _MACROS_OPTION
from sqldetect.cli.common import load_rule_paths as _rules
from sqldetect.cli.common import macro_library as _library
from sqldetect.cli.common import report_error as _report
from sqldetect.errors import SqlDetectError


@main.command("parse")
@click.argument("rule_or_spl")
@_MACROS_OPTION
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def parse_command(ctx: click.Context, rule_or_spl: str, macro_files: tuple[Path, ...], fmt: str) -> None:
    """Parse RULE_OR_SPL and print its pipeline.

    RULE_OR_SPL is a rule file or directory (every rule in it is parsed, macros expanded) or, when no such
    path exists, a literal SPL string. JSON output is one object for a literal, a list for rule files.

    \b
    Examples:
      sqldetect parse 'EventCode=4688 | stats count by host'
      sqldetect parse rules/msiexec_install_msi_file.yml --format json
    """
    from sqldetect.spl.parser import parse
    from sqldetect.spl.printer import format_pipeline, pipeline_to_dict

    library = _library(ctx, macro_files)
    path = Path(rule_or_spl)
    if not path.exists():
        try:
            expanded = library.expand(rule_or_spl)
            pipeline = parse(expanded)
        except SqlDetectError as exc:
            _report(ctx, exc)
            ctx.exit(1)
        if fmt == "json":
            click.echo(json.dumps({"expanded": expanded, "pipeline": pipeline_to_dict(pipeline)}, indent=2))
        else:
            click.echo(format_pipeline(pipeline))
        return

    rules, failed = _rules(ctx, path)
    documents: list[dict[str, object]] = []
    for rule in rules:
        try:
            expanded = library.expand(rule.logic, rule.id)
            pipeline = parse(expanded, rule_id=rule.id)
        except SqlDetectError as exc:
            _report(ctx, exc.with_location(file=rule.source_file))
            failed = True
            documents.append({"id": rule.id, "title": rule.title, "error": exc.headline()})
            continue
        if fmt == "json":
            documents.append(
                {
                    "id": rule.id,
                    "title": rule.title,
                    "expanded": expanded,
                    "pipeline": pipeline_to_dict(pipeline),
                }
            )
        else:
            click.echo(f"# rule {rule.id}: {rule.title}")
            click.echo(format_pipeline(pipeline))
    if fmt == "json":
        click.echo(json.dumps(documents, indent=2))
    if failed:
        ctx.exit(1)


@main.command("explain")
@click.argument("rule", type=click.Path(exists=True, path_type=Path))
@_MACROS_OPTION
@click.option(
    "--corpus",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A corpus directory (detections.jsonl + macros.jsonl): count other rules testing each indicator.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.pass_context
def explain_command(
    ctx: click.Context, rule: Path, macro_files: tuple[Path, ...], corpus: Path | None, fmt: str
) -> None:
    """Show the rule card of every rule in RULE: techniques, stages, indicators and search terms.

    JSON output is a list of cards.

    \b
    Examples:
      sqldetect explain rules/msiexec_install_msi_file.yml
      sqldetect explain rules/ --corpus ../shared/corpus/escu --format json
    """
    from sqldetect.coverage import load_corpus_library
    from sqldetect.explain import CorpusIndex, build_card, card_to_dict, render_markdown, render_text

    library = _library(ctx, macro_files)
    index = None
    if corpus is not None:
        if not (corpus / "detections.jsonl").is_file():
            raise click.BadParameter(f"{corpus} has no detections.jsonl", param_hint="--corpus")
        index = CorpusIndex.from_dir(corpus, load_corpus_library(corpus, macro_files))
    rules, failed = _rules(ctx, rule)
    cards = []
    for item in rules:
        try:
            cards.append(build_card(item, library, index))
        except SqlDetectError as exc:
            _report(ctx, exc.with_location(file=item.source_file))
            failed = True
    if fmt == "json":
        click.echo(json.dumps([card_to_dict(c) for c in cards], indent=2, ensure_ascii=False))
    else:
        render = render_markdown if fmt == "markdown" else render_text
        click.echo(("\n\n" if fmt == "text" else "\n").join(render(c) for c in cards))
    if failed:
        ctx.exit(1)


@main.command("coverage")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_MACROS_OPTION
@click.option(
    "--lookups", "lookup_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Lookup CSV directory (default: DIRECTORY/lookups, with DIRECTORY/lookups.jsonl definitions).")
@click.option(
    "--until", type=click.Choice(["parse", "translate", "execute"]), default="execute", show_default=True,
    help="The last phase to run (parse alone takes a second; execute runs every query on an empty table).")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write per-detection results (id, name, status, ok, phase, stage, error, reason) to this file.",
)
@click.option("--top", default=15, show_default=True, help="How many failure reasons to list.")
@click.pass_context
def coverage_command(
    ctx: click.Context, directory: Path, macro_files: tuple[Path, ...], lookup_dir: Path | None, until: str,
    json_out: Path | None, top: int
) -> None:
    """Expand, parse, translate and execute every detection of DIRECTORY/detections.jsonl.

    Macros come from DIRECTORY/macros.jsonl, lookups from DIRECTORY/lookups (+ lookups.jsonl). The execute
    phase runs each query on an empty event table of the Windows event schema: it shows DuckDB accepts and
    runs the SQL, not that the detection finds anything. Results are split by status (production is the
    figure that matters) with the commonest refusal reasons. The last line is `parse P/N translate T/N execute E/N`.

    \b
    Example:
      sqldetect coverage ../shared/corpus/escu
      sqldetect coverage ../shared/corpus/escu --until parse --json coverage.json
    """
    from sqldetect.compile.lookups import LookupResolver
    from sqldetect.coverage import SqlPhases, load_corpus_library, run_coverage

    if not (directory / "detections.jsonl").is_file():
        raise click.BadParameter(f"{directory} has no detections.jsonl", param_hint="DIRECTORY")
    try:
        library = load_corpus_library(directory, macro_files)
        lookups_dir = lookup_dir or directory / "lookups"
        lookups = LookupResolver.from_directory(lookups_dir) if lookups_dir.is_dir() else None
    except SqlDetectError as exc:
        _report(ctx, exc)
        ctx.exit(1)
    sql_phases = SqlPhases(lookups=lookups, macros=library)
    try:
        report = run_coverage(directory, library=library, phases=sql_phases.phases(until))
    finally:
        sql_phases.close()
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_json(), indent=1) + "\n", encoding="utf-8")
    click.echo(report.render(top=top))
