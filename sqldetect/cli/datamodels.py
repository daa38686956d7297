"""``sqldetect datamodels``: list the CIM data models, or show how one data set is computed from events.

A tstats rule is only as good as the data set it reads, so the definitions must be easy to inspect: which events
feed a data set (its branches' constraints), how each CIM field is computed, and the SQL that results.
"""

from __future__ import annotations

from pathlib import Path

import click

from sqldetect.cli import main
from sqldetect.datamodels import DataModels, Dataset, load_datamodels
from sqldetect.errors import SqlDetectError


@main.command("datamodels", short_help="List CIM data models or show how a data set is computed.")
@click.argument("dataset", required=False)
@click.option("-f", "--file", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A data model file of your own, merged over the shipped ones (repeatable).")
@click.option("--sql", "show_sql", is_flag=True, help="Print the SQL of DATASET over the events table.")
def datamodels_command(dataset: str | None, files: tuple[Path, ...], show_sql: bool) -> None:
    """List the data models and their data sets, or show DATASET (Model.Dataset, e.g. Endpoint.Processes):
    the events that feed it and the expression of each field, or with --sql the SQL that computes it.

    \b
    Examples:
      sqldetect datamodels
      sqldetect datamodels Endpoint.Processes --sql
    """
    try:
        models = load_datamodels(files)
        if dataset is None:
            if show_sql:
                raise click.UsageError("--sql needs a DATASET")
            _list(models)
            return
        target = models.resolve(dataset)
        if show_sql:
            _sql(target, models)
        else:
            _show(target)
    except SqlDetectError as err:
        raise click.ClickException(err.headline()) from None


def _list(models: DataModels) -> None:
    for model in sorted(models, key=lambda m: m.name):
        click.echo(f"{model.name}  ({model.origin})")
        for dataset in model.datasets():
            indent = "  " * len(dataset.chain())
            if dataset.fed_by_nothing:
                feeds = "no events feed it"
            elif dataset.table is not None:
                feeds = f"table {dataset.table}"
            elif dataset.branches:
                feeds = ", ".join(b.name for b in dataset.branches)
            else:
                feeds = f"where {dataset.search.text}" if dataset.search else "every row of its parent"
            click.echo(f"{indent}{dataset.lineage}: {len(dataset.fields)} fields; {feeds}")


def _show(dataset: Dataset) -> None:
    click.echo(f"{dataset.path}  ({dataset.origin})")
    if dataset.doc:
        click.echo(f"  {dataset.doc}")
    for ancestor in dataset.chain()[:-1]:
        click.echo(f"  inherits {ancestor.path}" + (f" where {ancestor.search.text}" if ancestor.search else ""))
    if dataset.search is not None:
        click.echo(f"  constraint: {dataset.search.text}")
    if dataset.table is not None:
        click.echo(f"  table: {dataset.table}")
    if dataset.fed_by_nothing:
        click.echo("  no events feed it")
    for branch in dataset.branches:
        click.echo(f"  branch {branch.name}: {branch.search.text if branch.search else '(every row)'}")
    click.echo("  fields (tstats name: expression per branch):")
    for owner in dataset.chain():
        for spec in owner.fields.values():
            line = f"    {owner.lineage}.{spec.name}"
            extras = [f"kind {spec.kind.value}"] if spec.kind else []
            if spec.default is not None:
                extras.append(f"{spec.default!r} when empty")
            if extras:
                line += f" ({', '.join(extras)})"
            click.echo(line)
            branches = owner.branches or []
            per_branch = {b.name: b.evals.get(spec.name, spec.eval) for b in branches}
            if not branches or len({t.text if t else None for t in per_branch.values()}) == 1:
                text = spec.eval if not branches else next(iter(per_branch.values()))
                click.echo(f"        {text.text if text else '(no value)'}")
            else:
                for name, text in per_branch.items():
                    click.echo(f"        {name}: {text.text if text else '(no value)'}")


def _sql(dataset: Dataset, models: DataModels) -> None:
    from sqldetect.compile import CompileOptions, compile_spl

    query = compile_spl(f"| from datamodel:{dataset.path}", options=CompileOptions(datamodels=models))
    click.echo(query.sql(), nl=False)
