"""SPL text → ``Pipeline`` (see ``sqldetect.spl.ast``): the parser's public entry point.

``parse`` runs in three steps:

1. ``scanner.scan`` blanks triple-backtick comments, rejects stray macro calls and unbalanced
   quotes/brackets/parentheses, and finds the pipes that separate stages (only those outside quotes,
   parentheses and, per nesting level, outside ``[...]``);
2. this module cuts each pipeline (the whole text, or a subsearch's inside) into stages and decides the
   first stage's command: ``| cmd`` names a command; otherwise the stage is an implicit ``search``
   (``search`` itself may be written); inside a subsearch a generating command may also be named without
   the pipe (``[inputlookup x | ...]``), and ``appendpipe [...]`` starts with a command;
3. ``commands.parse_command`` parses each stage's arguments with its command's parser.

Every error is an ``SplSyntaxError`` (or ``UnsupportedError``) whose ``Location`` names the rule, the stage
(1-based, of the outermost pipeline; an error inside a subsearch says which subsearch stage in its
message) and the offending characters, so ``str(err)`` prints a caret excerpt.
"""

from __future__ import annotations

import re

from sqldetect.errors import Location, Span, SplSyntaxError, SqlDetectError, UnsupportedError
from sqldetect.spl.ast import Command, Pipeline
from sqldetect.spl.commands import parse_command
from sqldetect.spl.commands.base import Stage
from sqldetect.spl.context import ParseContext
from sqldetect.spl.scanner import TOP_LEVEL, Structure, scan

#: Commands that may start a subsearch without a leading pipe (``[inputlookup x]``).
GENERATING_COMMANDS = frozenset(
    {
        "inputlookup", "tstats", "mstats", "makeresults", "rest", "from", "metadata", "datamodel",
        "loadjob", "savedsearch", "inputcsv", "dbinspect", "eventcount", "metasearch", "pivot",
        "multisearch", "union", "set", "gentimes", "search",
        "summary",  # MLTK: ``join ... [ summary <model> ]`` in ESCU
    }
)

_COMMAND_NAME = re.compile(r"[A-Za-z_]\w*")
# What may follow a command name: whitespace, the end, or the start of an argument that needs no space.
_AFTER_NAME = frozenset(" \t\r\n\f\v[(\"")
_SPACE = re.compile(r"\s*")


def parse(spl: str, *, rule_id: str | None = None) -> Pipeline:
    """Parse macro-expanded SPL into a ``Pipeline``.

    Raises only ``SplSyntaxError`` (bad SPL) or ``UnsupportedError`` (valid SPL the tree cannot hold).
    """
    try:
        structure = scan(spl)
        if structure.problem is not None:
            raise _scan_error(structure, rule_id)
        ctx = ParseContext(structure, rule_id)
        ctx.parse_subpipeline = lambda start, end, commands_first: _parse_pipeline(
            ctx, start, end, owner=start - 1, commands_first=commands_first, top=False
        )
        return _parse_pipeline(ctx, 0, len(ctx.source), owner=TOP_LEVEL, commands_first=False, top=True)
    except (SplSyntaxError, UnsupportedError):
        raise
    except RecursionError:
        raise SplSyntaxError("SPL nested too deeply to parse", Location(rule_id=rule_id)) from None
    except Exception as exc:  # a parser bug must still surface as the project's error type
        raise SplSyntaxError(
            f"internal parser error (please report): {type(exc).__name__}: {exc}", Location(rule_id=rule_id)
        ) from exc


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` of ``text[start:end]`` without surrounding whitespace."""
    segment = text[start:end]
    stripped = segment.strip()
    if not stripped:
        return start, start
    first = start + (len(segment) - len(segment.lstrip()))
    return first, first + len(stripped)


def _parse_pipeline(
    ctx: ParseContext, start: int, end: int, *, owner: int, commands_first: bool, top: bool
) -> Pipeline:
    text = ctx.source
    pipes = ctx.structure.pipes.get(owner, [])
    segments: list[tuple[int, int, int | None]] = []  # (start, end, offset of the pipe before it)
    previous, previous_pipe = start, None
    for pipe in pipes:
        segments.append((previous, pipe, previous_pipe))
        previous, previous_pipe = pipe + 1, pipe
    segments.append((previous, end, previous_pipe))

    leading_pipe = len(segments) > 1 and not text[segments[0][0] : segments[0][1]].strip()
    if leading_pipe:
        segments = segments[1:]

    commands: list[Command] = []
    for index, (seg_start, seg_end, pipe_before) in enumerate(segments):
        stage_start, stage_end = _trimmed(text, seg_start, seg_end)
        if stage_start == stage_end and pipe_before is not None:
            raise _empty_stage_error(ctx, segments, index, top)
        named = index > 0 or leading_pipe or commands_first
        stage: Stage | None = None
        try:
            stage = _stage(ctx, stage_start, stage_end, named=named, subsearch=not top)
            commands.append(parse_command(ctx, stage))
        except SqlDetectError as err:
            name = stage.name if stage is not None else None
            raise _annotate(err, index + 1, name, Span(stage_start, stage_end), top) from None

    first = commands[0]
    generating = leading_pipe or (not commands_first and first.name != "search" and first.name in GENERATING_COMMANDS)
    return Pipeline(commands, ctx.source, Span(start, end), generating=generating)


def _stage(ctx: ParseContext, start: int, end: int, *, named: bool, subsearch: bool) -> Stage:
    """Split a stage into command name and arguments.

    ``named``: the stage must start with a command name (after ``|``). Otherwise it is an implicit search,
    unless it starts with the word ``search`` or (in a subsearch) a generating command.
    """
    text = ctx.source
    match = _COMMAND_NAME.match(text, start, end)
    boundary = match is not None and (match.end() == end or text[match.end()] in _AFTER_NAME)
    if named:
        if match is None or not boundary:
            if start == end:
                raise ctx.error("expected a command, found nothing", start)
            word = text[start:end].split(None, 1)[0]
            raise ctx.error(f"expected a command name after '|', found {word[:40]!r}", start, start + len(word))
        return Stage(match.group().lower(), Span(start, end), match.end(), end)
    if match is not None and boundary:
        name = match.group().lower()
        if name == "search" or (subsearch and name in GENERATING_COMMANDS):
            return Stage(name, Span(start, end), match.end(), end)
    return Stage("search", Span(start, end), start, end)


def _annotate(err: SqlDetectError, stage_index: int, name: str | None, span: Span, top: bool) -> SqlDetectError:
    """Attach the stage to an error: the outermost pipeline's stage goes into the location; a subsearch
    stage is named in the message (once, by the innermost subsearch)."""
    if top:
        return err.with_location(stage_index=stage_index, stage_name=name, stage_span=span)
    if not getattr(err, "_subsearch_stage_noted", False):
        stage = f"stage {stage_index} ({name})" if name else f"stage {stage_index}"
        err.message = f"in subsearch {stage}: {err.message}"
        err.args = (err.message,)
        err._subsearch_stage_noted = True  # type: ignore[attr-defined]
    return err


def _empty_stage_error(
    ctx: ParseContext, segments: list[tuple[int, int, int | None]], index: int, top: bool
) -> SplSyntaxError:
    _, seg_end, pipe_before = segments[index]
    assert pipe_before is not None
    if index == len(segments) - 1:
        err = ctx.error("trailing '|' with no command after it", pipe_before)
    else:
        err = ctx.error("empty stage: expected a command between '|' and '|'", seg_end)
    # Show the stage before the empty one, up to the offending pipe.
    context_start = segments[index - 1][0] if index > 0 else pipe_before
    context_start, _ = _trimmed(ctx.source, context_start, seg_end)
    if top:
        offending = pipe_before if index == len(segments) - 1 else seg_end
        err.with_location(stage_index=index + 1, stage_span=Span(context_start, offending + 1))
    else:
        err.message = f"in subsearch: {err.message}"
        err.args = (err.message,)
        err._subsearch_stage_noted = True  # type: ignore[attr-defined]
    return err


def _scan_error(structure: Structure, rule_id: str | None) -> SplSyntaxError:
    """An error for a structural problem, located in the top-level stage it falls in."""
    problem = structure.problem
    assert problem is not None
    source = structure.text
    top_pipes = [pipe for pipe in structure.pipes.get(TOP_LEVEL, []) if pipe < problem.span.start]
    leading = bool(top_pipes) and not source[: top_pipes[0]].strip()
    stage_start = top_pipes[-1] + 1 if top_pipes else 0
    next_pipe = source.find("|", problem.span.end)
    stage_end = next_pipe if next_pipe != -1 else len(source)
    stage_start, stage_end = _trimmed(source, stage_start, stage_end)
    stage_end = max(stage_end, problem.span.end)
    stage_start = min(stage_start, problem.span.start)
    index = len(top_pipes) + (0 if leading else 1)
    name_match = _COMMAND_NAME.match(source, stage_start)
    name = name_match.group().lower() if name_match and top_pipes else "search"
    location = Location(rule_id=rule_id, stage_index=index, stage_name=name, source=source, span=problem.span,
                        stage_span=Span(stage_start, stage_end))
    return SplSyntaxError(problem.message, location)
