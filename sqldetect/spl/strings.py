"""SPL string unescaping, shared by every lexer.

Decision (docs/semantics.md, "SPL parser"): inside a quoted string (and in a bare search value) only
``\\"`` → ``"`` and ``\\\\`` → ``\\`` are escapes. A backslash before anything else stays as the two
characters, so regular expressions keep ``\\d``, ``\\s``, ``\\.`` and Windows paths keep ``\\W``: this is
how ESCU writes regexes (``"(?i)a\\sb"``) and paths (``"*\\\\cmd.exe"`` meaning ``*\\cmd.exe``).
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r'\\([\\"])')


def unescape(text: str) -> str:
    """Remove SPL escapes from the body of a quoted string (or a bare value)."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(r"\1", text)


def unquote(token: str) -> str:
    """``"a\\"b"`` → ``a"b``; a token that is not double-quoted is only unescaped."""
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        return unescape(token[1:-1])
    return unescape(token)


def unescape_single(token: str) -> str:
    """Body of a single-quoted eval field name: ``\\'`` and ``\\\\`` are escapes."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\([\\'])", r"\1", body)


def bare_chars(excluded: str) -> str:
    """Regex for one piece of an unquoted word: a run of characters not in ``excluded`` (a character-class
    body), or a backslash with the ``"``/``\\`` it escapes. Matches the scanner, which treats ``\\"`` and
    ``\\\\`` outside quotes as escaped characters, so a lexer never starts a string the scanner skipped."""
    return rf'(?:[^{excluded}\\]++|\\["\\]?)'
