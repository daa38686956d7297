"""Fixtures of the CLI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import QUIET_RULE, REFUSED_RULE, SEED


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The seed rule, a rule sqldetect refuses, and a rule that finds nothing."""
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "refused.yml").write_text(REFUSED_RULE, encoding="utf-8")
    (folder / "quiet.yml").write_text(QUIET_RULE, encoding="utf-8")
    return folder
