"""Per-command argument parsers and the registry that picks one by command name.

Adding a command means writing ``parse_<name>(ctx, stage) -> Command`` in one of these modules and one line
in ``PARSERS``; every name not listed parses as ``GenericCommand``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqldetect.spl.ast import Command
from sqldetect.spl.commands.aggregate import (
    parse_bin,
    parse_chart,
    parse_stats,
    parse_timechart,
    parse_top,
    parse_tstats,
)
from sqldetect.spl.commands.base import Stage
from sqldetect.spl.commands.combine import (
    parse_foreach,
    parse_from,
    parse_inputlookup,
    parse_join,
    parse_lookup,
    parse_makeresults,
    parse_subsearch_command,
    parse_transaction,
)
from sqldetect.spl.commands.expressions import parse_eval_command, parse_search_command, parse_where
from sqldetect.spl.commands.extract import parse_makemv, parse_mvexpand, parse_regex, parse_rex, parse_spath
from sqldetect.spl.commands.fields import (
    parse_convert,
    parse_fields,
    parse_fillnull,
    parse_rename,
    parse_table,
)
from sqldetect.spl.commands.generic import parse_generic
from sqldetect.spl.commands.order import parse_dedup, parse_head, parse_sort
from sqldetect.spl.context import ParseContext

CommandParser = Callable[[ParseContext, Stage], Command]

PARSERS: dict[str, CommandParser] = {
    "search": parse_search_command,
    "where": parse_where,
    "eval": parse_eval_command,
    "rex": parse_rex,
    "regex": parse_regex,
    "table": parse_table,
    "fields": parse_fields,
    "rename": parse_rename,
    "bin": parse_bin,
    "bucket": parse_bin,
    "discretize": parse_bin,
    "stats": parse_stats,
    "eventstats": parse_stats,
    "streamstats": parse_stats,
    "chart": parse_chart,
    "timechart": parse_timechart,
    "tstats": parse_tstats,
    "dedup": parse_dedup,
    "sort": parse_sort,
    "head": parse_head,
    "tail": parse_head,
    "top": parse_top,
    "rare": parse_top,
    "fillnull": parse_fillnull,
    "convert": parse_convert,
    "lookup": parse_lookup,
    "inputlookup": parse_inputlookup,
    "join": parse_join,
    "append": parse_subsearch_command,
    "appendcols": parse_subsearch_command,
    "appendpipe": parse_subsearch_command,
    "mvexpand": parse_mvexpand,
    "makemv": parse_makemv,
    "spath": parse_spath,
    "transaction": parse_transaction,
    "foreach": parse_foreach,
    "makeresults": parse_makeresults,
    "from": parse_from,
}

#: Canonical names for aliases (``Command.canonical``): registries downstream key on these.
CANONICAL = {"bucket": "bin", "discretize": "bin"}


def parse_command(ctx: ParseContext, stage: Stage) -> Command:
    """Parse one stage with its command's parser (``GenericCommand`` for unknown commands)."""
    command = PARSERS.get(stage.name, parse_generic)(ctx, stage)
    command.canonical = CANONICAL.get(stage.name, stage.name)
    return command
