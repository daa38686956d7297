"""Load the ESCU reference corpus and expand its macros *textually*, for tests and benchmarks only.

The project's real macro expander is written elsewhere; this stand-in exists so the parser can be
measured and tested on all ESCU searches today. It is deliberately simple: each backtick call
``name(args)`` is replaced by the ``macros.jsonl`` definition with ``$arg$`` substituted, repeatedly
(macros nest); ``drop_dm_object_name(X)`` becomes ``rename X.* AS *``; undefined ``*_filter`` macros and
any other unknown macro expand to nothing. When such an empty expansion was a whole stage
(``... | `x_filter` `` or ``| `x` | ...``), its ``|`` is dropped too, because the parser (like Splunk)
rejects a trailing pipe and an empty stage. Triple-backtick comments are left for the parser to blank.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# A quoted string or a triple-backtick comment (both left alone: Splunk does not expand macros inside
# quotes), or a macro call (group 2 = its text) with the pipe and spaces before it (group 1) when the call
# starts a stage.
_CALL = re.compile(r'"(?:[^"\\]|\\.)*"|```.*?```|(\|\s*)?`([^`]*)`', re.DOTALL)
# What may follow a stage that is only a macro call: spaces, comments, then a pipe, a ']' or the end.
_STAGE_END = re.compile(r"(?:\s|```.*?```)*(?:\||\]|$)", re.DOTALL)
_NAME_ARGS = re.compile(r"\s*([\w.:-]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_MAX_DEPTH = 20


def load_macros(corpus_dir: Path) -> dict[str, dict]:
    """Macro definitions by name (the corpus has one definition per name)."""
    macros: dict[str, dict] = {}
    with open(corpus_dir / "macros.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                macros[record["name"]] = record
    return macros


def load_detections(corpus_dir: Path) -> list[dict]:
    """Every detection record (id, name, search, ...) in file order."""
    with open(corpus_dir / "detections.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _split_args(text: str) -> list[str]:
    """Split macro arguments at commas outside double quotes; strip enclosing quotes."""
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
            current.append(char)
        elif char == "," and not in_quotes:
            args.append("".join(current))
            current = []
        else:
            current.append(char)
    args.append("".join(current))
    cleaned = []
    for arg in args:
        arg = arg.strip()
        if len(arg) >= 2 and arg[0] == arg[-1] == '"':
            arg = arg[1:-1]
        cleaned.append(arg)
    return cleaned


def _expand_call(call: str, macros: dict[str, dict]) -> str:
    match = _NAME_ARGS.match(call)
    if match is None:
        return ""
    name, raw_args = match.group(1), match.group(2)
    args = _split_args(raw_args) if raw_args is not None and raw_args.strip() else []
    if name == "drop_dm_object_name" and args:
        return f"rename {args[0]}.* AS *"
    macro = macros.get(name)
    if macro is None:
        return ""  # undefined *_filter macros ship as a no-op; other unknown macros are dropped too
    body = macro["definition"]
    for param, value in zip(macro.get("arguments") or [], args, strict=False):
        body = body.replace(f"${param}$", value)
    return body


def expand_macros(spl: str, macros: dict[str, dict]) -> str:
    """Expand every backtick macro call in ``spl`` (nested calls too), keeping triple-backtick comments."""
    for _ in range(_MAX_DEPTH):
        changed = False

        def replace(match: re.Match[str], text: str) -> str:
            nonlocal changed
            if match.group(2) is None:
                return match.group(0)
            changed = True
            body = _expand_call(match.group(2), macros)
            prefix = match.group(1) or ""
            if prefix and not body.strip() and _STAGE_END.match(text, match.end()):
                return ""  # the stage was only this macro: drop its pipe too
            return prefix + body

        spl = _CALL.sub(lambda match, text=spl: replace(match, text), spl)
        if not changed:
            break
    return spl


def expanded_searches(corpus_dir: Path) -> list[tuple[str, str]]:
    """``(detection id, macro-expanded search)`` for every detection of the corpus."""
    macros = load_macros(corpus_dir)
    return [(d["id"], expand_macros(d["search"], macros)) for d in load_detections(corpus_dir)]
