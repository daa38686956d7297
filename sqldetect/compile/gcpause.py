"""Pause Python's cyclic garbage collector while a query is translated, and while it is printed.

Why: a translation builds thousands of sqlglot nodes that all stay alive until the query is printed, and every
node points at its parent (a reference cycle), so only the cyclic collector frees them. Collections that run in
the middle of a translation find nothing to free: they move the live nodes to older generations, whose
collections then scan them again and again. Over the ESCU corpus that was about a sixth of the translation time.

With the collector paused for the translation and for the printing, and given back as the very last step of
each (``resume`` allocates nothing after turning it on, and ``pause`` nothing before turning it off), a caller
that prints right after translating (``compile_pipeline(...).sql()``, ``translate``) lets no collection run
while the query is alive; the first one after the caller drops the query finds it young and frees it at once.

The pause is process-wide (that is how ``gc`` works) and lasts one call; it is taken only when the collector is
on and given back by whoever took it, so code that turned the collector off itself keeps it off. Plain
functions, not a context manager: leaving a ``with`` block allocates, which would start a collection just
after the collector is turned back on.
"""

from __future__ import annotations

import gc


def pause() -> bool:
    """Turn the cyclic collector off; True when this call did it (and so must ``resume``)."""
    if gc.isenabled():
        gc.disable()
        return True
    return False


def resume(paused: bool) -> None:
    """Turn the collector back on if ``pause`` turned it off."""
    if paused:
        gc.enable()
