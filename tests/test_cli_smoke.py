"""The console entry point exists and answers --help / --version."""

from click.testing import CliRunner

from sqldetect import __version__
from sqldetect.cli import main


def test_help_lists_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
