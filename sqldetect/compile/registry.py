"""The command registry: SPL command name → the handler that translates it into one CTE.

One command, one module under ``sqldetect/compile/commands/``; each registers itself with ``@command(...)``.
The registry also records how a command treats row order, which the planner needs to decide when the order
must be kept as data (see ``relation.py``), and serves the README's table of supported commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext, StageResult
    from sqldetect.spl.ast import Command

Handler = Callable[["StageContext", "Command"], "StageResult"]


@dataclass(frozen=True)
class CommandSpec:
    """How to translate one SPL command, and how it relates to row order."""

    name: str
    handler: Handler
    summary: str
    #: the command defines a new row order (stats, sort, top...): earlier order no longer matters after it
    resets_order: bool = False
    #: the command's result depends on its input order (head, dedup, streamstats...)
    consumes_order: Callable[[Command], bool] | bool = False
    #: the command can start a pipeline (tstats, inputlookup, makeresults)
    generating: bool = False
    aliases: tuple[str, ...] = ()

    def consumes(self, cmd: Command) -> bool:
        return self.consumes_order(cmd) if callable(self.consumes_order) else bool(self.consumes_order)


_REGISTRY: dict[str, CommandSpec] = {}


def command(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    resets_order: bool = False,
    consumes_order: Callable[[Command], bool] | bool = False,
    generating: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler for ``name`` (and its aliases). The handler's docstring's first line is the
    summary shown in the README's table of supported commands."""

    def decorate(handler: Handler) -> Handler:
        summary = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
        spec = CommandSpec(name, handler, summary, resets_order, consumes_order, generating, aliases)
        for key in (name, *aliases):
            _REGISTRY[key] = spec
        return handler

    return decorate


def lookup(name: str) -> CommandSpec | None:
    _load_all()
    return _REGISTRY.get(name.lower())


def all_commands() -> list[CommandSpec]:
    """Every registered command once, sorted by name."""
    _load_all()
    unique = {spec.name: spec for spec in _REGISTRY.values()}
    return [unique[k] for k in sorted(unique)]


def _load_all() -> None:
    # Importing the package imports every command module, which registers them.
    import sqldetect.compile.commands  # noqa: F401
