"""sqldetect: run Splunk SPL detection rules as DuckDB SQL.

Public API (imported lazily, so ``import sqldetect`` stays cheap):
``translate(spl, schema=None) -> str``, ``Engine(db=None)`` with ``.load(paths)`` / ``.run(rules)``,
``load_rules(paths)``, ``parse(spl)``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "translate": ("sqldetect.compile", "translate"),
    "compile_spl": ("sqldetect.compile", "compile_spl"),
    "Engine": ("sqldetect.engine", "Engine"),
    "load_rules": ("sqldetect.rules", "load_rules"),
    "parse": ("sqldetect.spl.parser", "parse"),
    "Schema": ("sqldetect.schema", "Schema"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        module, attr = _EXPORTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'sqldetect' has no attribute {name!r}")
