"""First pass over SPL text: comments, stray macros, quotes, bracket/parenthesis pairs and pipes.

SPL's tokens depend on context (a search term, an eval operand and a command argument are lexed
differently), but its *structure* does not: double-quoted strings, ``[...]`` subsearches, ``(...)``
groups and the ``|`` that separates stages are the same everywhere. Finding them once, up front, lets
every later lexer jump over a whole subsearch or parenthesised group in O(1), reports unbalanced
quotes/brackets before any parsing starts, and keeps the stage splitter trivial.

The scan uses one compiled regular expression that only stops at interesting characters, so the Python
loop runs once per quote/bracket/pipe, not once per character.

Decisions (see docs/semantics.md, "SPL parser"):

* Triple-backtick comments are replaced by spaces of the same length (newlines kept), so every span
  still points at the same characters of the text the user wrote.
* A comment or backtick inside a double-quoted string is plain text (``replace(x, "`", "")``).
* Single quotes are not delimiters here: ``'`` is an ordinary character in ``search``; eval's
  ``'field name'`` is handled by the eval lexer.
* Inside double quotes a backslash escapes the next character for the purpose of finding the closing
  quote, so ``"a\\"b"`` is one string. Outside quotes only ``\\"`` and ``\\\\`` are escapes (ESCU writes
  bare values such as ``x=*\\"privileged\\":true*``); a backslash before a bracket stays structural.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqldetect.errors import Span

#: The opening-bracket owner id used for pipes outside any ``[...]``.
TOP_LEVEL = -1

_STRUCTURE = re.compile(
    r"""
    (?=["\\`\[\]()|])                         # every branch starts with one of these: the engine skips to the
    (?:                                       # next one fast instead of trying each branch at each character
      (?P<string>"(?:[^"\\]++|\\.)*+")        # a complete double-quoted string
    | (?P<escape>\\[\\"])                       # outside quotes, \" and \\ are escaped characters
    | (?P<comment>```.*?```)                  # a triple-backtick comment
    | (?P<open_comment>```)                   # ... that never ends
    | (?P<macro>`[^`]*`?)                     # a stray macro call (or a lone backtick)
    | (?P<quote>")                            # a quote that never closes
    | (?P<open>[\[(])
    | (?P<close>[\])])
    | (?P<pipe>\|)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_NOT_NEWLINE = re.compile(r"[^\n]")


@dataclass
class ScanProblem:
    """A structural error found by the scan: what, and where (kept as data so the caller adds the stage)."""

    message: str
    span: Span


@dataclass
class Structure:
    """What the scan found.

    ``text`` is the input with comments blanked (same length). ``closing`` maps the offset of every ``(``
    and ``[`` to the offset of its partner. ``pipes`` maps an owner (``TOP_LEVEL`` or the offset of the
    ``[`` that opens a subsearch) to the offsets of the stage-separating pipes directly inside it; pipes
    inside parentheses separate nothing and are not listed. ``top_pipes_before_problem`` keeps the top-level
    pipes seen before a structural problem, to name the stage it is in.
    """

    text: str
    closing: dict[int, int] = field(default_factory=dict)
    pipes: dict[int, list[int]] = field(default_factory=dict)
    problem: ScanProblem | None = None


def scan(source: str) -> Structure:
    """Scan ``source`` once; return its structure, or a structure with ``problem`` set at the first error."""
    pieces: list[str] = []
    last = 0
    closing: dict[int, int] = {}
    pipes: dict[int, list[int]] = {TOP_LEVEL: []}
    stack: list[int] = []  # offsets of open brackets/parentheses
    structure = Structure(text=source, closing=closing, pipes=pipes)

    for match in _STRUCTURE.finditer(source):
        kind = match.lastgroup
        start = match.start()
        if kind == "string" or kind == "escape":
            continue
        if kind == "comment":
            pieces.append(source[last:start])
            pieces.append(_NOT_NEWLINE.sub(" ", match.group()))
            last = match.end()
        elif kind == "open":
            stack.append(start)
            if match.group() == "[":
                pipes[start] = []
        elif kind == "close":
            char = match.group()
            if not stack:
                opener = "[" if char == "]" else "("
                structure.problem = ScanProblem(f"unbalanced '{char}': no '{opener}' before it", Span(start, start + 1))
                break
            open_at = stack.pop()
            expected = "]" if source[open_at] == "[" else ")"
            if char != expected:
                structure.problem = ScanProblem(
                    f"unbalanced brackets: '{source[open_at]}' at offset {open_at} is closed by '{char}'"
                    f" (expected '{expected}')",
                    Span(start, start + 1),
                )
                break
            closing[open_at] = start
        elif kind == "pipe":
            if not stack:
                pipes[TOP_LEVEL].append(start)
            elif source[stack[-1]] == "[":
                pipes[stack[-1]].append(start)
        elif kind == "quote":
            structure.problem = ScanProblem(
                "unbalanced quotes: this '\"' is never closed", Span(start, start + 1)
            )
            break
        elif kind == "open_comment":
            structure.problem = ScanProblem(
                "unterminated comment: '```' has no closing '```'", Span(start, start + 3)
            )
            break
        elif kind == "macro":
            text = match.group()
            if len(text) < 2 or not text.endswith("`"):
                structure.problem = ScanProblem("stray backtick: '`' starts a macro call that never ends",
                                                Span(start, start + 1))
            else:
                structure.problem = ScanProblem(f"unexpanded macro {text}", Span(start, match.end()))
            break

    if structure.problem is None and stack:
        open_at = stack[-1]
        char = source[open_at]
        expected = "]" if char == "[" else ")"
        what = "bracket" if char == "[" else "parenthesis"
        structure.problem = ScanProblem(f"unbalanced {what}: '{char}' is never closed by '{expected}'",
                                        Span(open_at, open_at + 1))
    if pieces:
        pieces.append(source[last:])
        structure.text = "".join(pieces)
    return structure
