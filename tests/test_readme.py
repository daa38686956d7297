"""README stays true: the supported-SPL table matches the registries, and the set-up commands are the ones CI
and the end-to-end test run."""

from __future__ import annotations

from pathlib import Path

from sqldetect.support import current_block, support_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_supported_spl_table_is_in_sync() -> None:
    assert current_block(README) == support_markdown(), "run: python -m sqldetect.support --write README.md"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "python3 -m pytest -n 2 tests"
    assert f"    {test_command}\n" in README
    assert test_command in ci
