"""The ``sqldetect`` command line.

Each sub-command lives in its own module of this package and is registered below, so adding a command means
adding a module and one line here.
"""

from __future__ import annotations

import click

from sqldetect import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sqldetect")
@click.option("--debug", is_flag=True, help="Show Python tracebacks instead of one-line errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Run Splunk SPL detection rules as DuckDB SQL over Windows EVTX and JSON events.

    \b
    Exit codes: 0 ran (with or without hits), 1 usage or input error,
    3 hits found and --fail-on-hits given.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# Sub-commands register themselves here, one import per module.
from sqldetect.cli import load as _load  # noqa: F401, E402
