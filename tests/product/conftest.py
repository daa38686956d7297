"""Fixtures of the product tests (the tables themselves are built in ``tables.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sqldetect.engine import Engine

from .tables import create_flat_ecs_table, load_native


@pytest.fixture(scope="module")
def evtx_engines() -> Callable[[], tuple[Engine, Engine]]:
    """A factory: (native engine, ECS engine with the shipped winlogbeat mapping) on one fresh connection."""

    def build() -> tuple[Engine, Engine]:
        native = load_native()
        create_flat_ecs_table(native)
        return native, Engine(native.con, table="winlogbeat", field_mapping="winlogbeat")

    return build
