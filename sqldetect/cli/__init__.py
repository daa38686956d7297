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


def entry() -> None:
    """Console-script entry point: click usage errors exit with 1 (not click's 2), as documented, and any
    project error is one clear line plus its caret excerpt unless --debug asks for the traceback."""
    import sys

    from sqldetect.errors import SqlDetectError

    debug = "--debug" in sys.argv[1:]
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except SqlDetectError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code or 0)


# Sub-commands register themselves here, one import per module.
from sqldetect.cli import datamodels as _datamodels  # noqa: F401, E402
from sqldetect.cli import evtx_write as _evtx_write  # noqa: F401, E402
from sqldetect.cli import frontend as _frontend  # noqa: F401, E402
from sqldetect.cli import load as _load  # noqa: F401, E402
from sqldetect.cli import rules_cmds as _rules_cmds  # noqa: F401, E402
from sqldetect.cli import run as _run  # noqa: F401, E402
