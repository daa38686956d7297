"""Pause Python's cyclic garbage collector while one query is translated or printed.

Why: a translation builds thousands of sqlglot nodes that all stay alive until the query is printed, and every
node points at its parent (a reference cycle), so only the cyclic collector frees them. Collections that run in
the middle of a translation find nothing to free: they move the live nodes to older generations, whose full
collections then scan them again and again. Over the ESCU corpus that was about 15% of the translation time.
Pausing the collector for one translation lets the first collection after it find the query's temporaries
young, and the query itself is freed by the collection after the caller drops it.

The pause is process-wide (that is how ``gc`` works), lasts one translation, is taken only when the collector
is on, and is given back by whoever took it: code that turned the collector off itself keeps it off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (when it was on), and turn it back on after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
