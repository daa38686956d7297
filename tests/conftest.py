"""Shared test fixtures.

Tests that read ../shared (the ESCU corpus, real EVTX samples) use the ``shared_dir`` fixture, which skips
the test cleanly on a user's clone where ../shared does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("SQLDETECT_SHARED", PROJECT_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DIR}")
    return SHARED_DIR
