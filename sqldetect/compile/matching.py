"""SQL for SPL's value-matching rules: globs, raw-text terms, TERM(), CIDR ranges, PCRE→RE2.

These are the places where SPL and SQL disagree most quietly (case, wildcards, token boundaries), so each rule
is one small function here, pinned by the conformance suite.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from sqlglot import exp

from sqldetect.compile.sql import anon, cast, lit, try_cast

# Splunk's default segmenters.conf (semantics doc §2.2). `*` is a major breaker but also SPL's wildcard.
MAJOR_BREAKERS = "[]<>(){}|!;,'\"*\n\r \t&?+"
MINOR_BREAKERS = "/:=@.-$#%\\_"
ALL_BREAKERS = MAJOR_BREAKERS + MINOR_BREAKERS


def _char_class(chars: str, negate: bool = False) -> str:
    body = "".join(_class_escape(c) for c in chars)
    return f"[{'^' if negate else ''}{body}]"


def _class_escape(ch: str) -> str:
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    if ch in "[]\\^-":
        return "\\" + ch
    return ch


def like_pattern(glob: str) -> tuple[str, bool]:
    """An SPL glob (``*`` = any run) as a LIKE pattern; returns (pattern, needs_escape_clause)."""
    needs_escape = any(c in glob for c in "%_")
    out = []
    for ch in glob:
        if ch == "*":
            out.append("%")
        elif needs_escape and ch in "%_\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out), needs_escape


def glob_match(value: exp.Expression, glob: str, case_sensitive: bool = False) -> exp.Expression:
    """``value`` matches the SPL glob as a whole value (case-insensitively unless ``case_sensitive``)."""
    if "*" not in glob and not case_sensitive:
        # Equality ignoring case reads better than a LIKE without wildcards; lower() on both sides is what
        # Splunk's case-insensitive compare does.
        return exp.EQ(this=anon("lower", value), expression=lit(glob.lower()))
    if "*" not in glob:
        return exp.EQ(this=value, expression=lit(glob))
    pattern, needs_escape = like_pattern(glob)
    node: exp.Expression
    if case_sensitive:
        node = exp.Like(this=value, expression=lit(pattern))
    else:
        node = exp.ILike(this=value, expression=lit(pattern))
    if needs_escape:
        node = exp.Escape(this=node, expression=lit("\\"))
    return node


def _term_body(term: str, wildcard_class: str) -> str:
    parts = []
    for ch in term:
        parts.append(wildcard_class + "*" if ch == "*" else re.escape(ch))
    return "".join(parts)


def term_regex(term: str, *, whole_token: bool = False, case_sensitive: bool = False) -> str:
    """RE2 pattern for a bare term or phrase matched against ``_raw``.

    A term matches where it lines up with segment boundaries: the character before and after it is a breaker
    (major or minor) or the start/end of the text. ``whole_token`` (``TERM()``) asks for a whole *indexed*
    token: Splunk indexes each major segment, the minor-breaker-free pieces inside it, and the prefixes of the
    major segment that end at a minor breaker. So a TERM without minor breakers (``TERM(MsiInstaller)``) matches
    between any breakers (``SourceName=MsiInstaller``), while one with minor breakers (``TERM(10.0.0.1)``) must
    start a major segment (``ip=10.0.0.1`` does not match). A ``*`` inside a term matches a run of characters
    that are not major breakers (decision recorded in docs/semantics.md). Edges that are themselves breakers
    need no boundary (the phrase ``"<EventID>1040<"`` starts and ends with one).
    """
    any_boundary = _char_class(ALL_BREAKERS)
    left_boundary = any_boundary
    if whole_token and any(ch in MINOR_BREAKERS for ch in term):
        left_boundary = _char_class(MAJOR_BREAKERS)
    body = _term_body(term, _char_class(MAJOR_BREAKERS, negate=True))
    first, last = term[:1], term[-1:]
    prefix = "" if (first == "*" or (first and first in ALL_BREAKERS)) else f"(?:^|{left_boundary})"
    suffix = "" if (last == "*" or (last and last in ALL_BREAKERS)) else f"(?:$|{any_boundary})"
    flags = "" if case_sensitive else "(?i)"
    return f"{flags}{prefix}{body}{suffix}"


def raw_term_match(raw: exp.Expression, term: str, *, whole_token: bool = False,
                   case_sensitive: bool = False) -> exp.Expression:
    """``_raw`` contains the term at token boundaries."""
    stripped = term.strip("*")
    if not stripped:
        return exp.Not(this=exp.Is(this=raw, expression=exp.Null()))
    return anon("regexp_matches", raw, lit(term_regex(term, whole_token=whole_token, case_sensitive=case_sensitive)))


# --------------------------------------------------------------------------------------------------- CIDR

_CIDR = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}$")


def is_cidr(value: str) -> bool:
    if not _CIDR.match(value):
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def ipv4_to_int(value: exp.Expression) -> exp.Expression:
    """The IPv4 address in a string as a BIGINT, NULL when the string is not a dotted quad."""
    octet = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # 0-255, so 10.999.1.1 is not an address
    dotted = "^" + r"\.".join([octet] * 4) + "$"
    octets = [try_cast(anon("regexp_extract", value, lit(dotted), lit(i)), "BIGINT") for i in range(1, 5)]
    total: exp.Expression = octets[3]
    for shift, part in ((8, octets[2]), (16, octets[1]), (24, octets[0])):
        total = exp.Add(this=exp.Mul(this=part, expression=lit(2**shift)), expression=total)
    return total


def cidr_match(value: exp.Expression, cidr: str) -> exp.Expression:
    """``value`` (a string) is an IPv4 address inside ``cidr``. Done with arithmetic so the SQL needs no
    extension (the inet extension is not assumed to be installed)."""
    network = ipaddress.ip_network(cidr, strict=False)
    low = int(network.network_address)
    high = int(network.broadcast_address)
    return exp.Between(this=ipv4_to_int(cast(value, "VARCHAR")), low=lit(low), high=lit(high))


# --------------------------------------------------------------------------------------------------- regex

_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")
_UNSUPPORTED_PCRE = [
    (re.compile(r"\(\?<?[=!]"), "look-around assertions"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"(?<!\\)\\[1-9]"), "backreferences"),
    (re.compile(r"\\k[<{']"), "named backreferences"),
    (re.compile(r"(?<!\\)[*+?}]\+"), "possessive quantifiers"),
    (re.compile(r"\(\?R\)|\(\?\d\)|\(\?&"), "recursion"),
    (re.compile(r"\(\?\("), "conditionals"),
    (re.compile(r"\\K"), "\\K"),
]


def pcre_to_re2(pattern: str) -> tuple[str, list[str]]:
    """Convert an SPL (PCRE) regex to RE2: ``(?<name>`` → ``(?P<name>``. Returns the new pattern and the list of
    PCRE features RE2 lacks that the pattern uses (the caller refuses them by name)."""
    problems: list[str] = []
    scrubbed = re.sub(r"\\\\", "", pattern)  # ignore escaped backslashes when looking for features
    for rx, label in _UNSUPPORTED_PCRE:
        if rx.search(scrubbed):
            problems.append(label)
    return _NAMED_GROUP.sub(lambda m: f"(?P<{m.group(1)}>", pattern), problems


def only_named_groups(pattern: str) -> str:
    """The RE2 pattern with its unnamed groups made non-capturing (``(`` → ``(?:``). They create no field
    in ``rex``, and dropping them keeps the named groups' numbers low: DuckDB's ``regexp_extract`` only
    takes group numbers up to 9."""
    out: list[str] = []
    copied = 0
    for i, ch, _ in _structure(pattern):
        if ch == "(" and not pattern.startswith("(?", i):
            out += (pattern[copied:i], "(?:")
            copied = i + 1
    out.append(pattern[copied:])
    return "".join(out)


def capture_groups(pattern: str) -> list[str | None]:
    """The capturing groups of an RE2 pattern in order (their names, or None when unnamed), counting the way
    RE2 numbers them: so a named group's position can be given to ``regexp_extract`` (which maps groups by
    position, not by name)."""
    groups: list[str | None] = []
    for i, ch, _ in _structure(pattern):
        if ch != "(":
            continue
        if pattern.startswith("(?P<", i):
            groups.append(pattern[i + 4 : pattern.index(">", i)])
        elif not pattern.startswith("(?", i):  # (?: ...) and flags do not capture
            groups.append(None)
    return groups


# ---------------------------------------------------------------------------------------------------- look-around

_LOOKAROUND = re.compile(r"\(\?<?[=!]")


def _one_char(pattern: str, i: int) -> tuple[str, bool, int] | None:
    """The single-character item at ``pattern[i]``: a literal, an escape (``\\/``, ``\\d``) or a class
    ``[...]``. Returns (class body, negated, end) so that ``[body]`` (or ``[^body]`` when negated) is that item;
    None when ``pattern[i]`` is not one character (a group, ``.``, an anchor, a quantified item...)."""
    if i >= len(pattern):
        return None
    ch = pattern[i]
    if ch == "\\":
        if i + 1 >= len(pattern) or pattern[i + 1].isdigit() or pattern[i + 1] in "bBAzZGQEKkpPx":
            return None  # anchors, back-references, \p{..}, \x.. and quoting are not one simple item
        return pattern[i : i + 2], False, i + 2
    if ch == "[":
        j = i + 1
        negated = j < len(pattern) and pattern[j] == "^"
        if negated:
            j += 1
        start = j
        if j < len(pattern) and pattern[j] == "]":
            j += 1
        while j < len(pattern) and pattern[j] != "]":
            if pattern[j] == "[":
                return None  # nested classes ([[:alpha:]]) are left alone
            j += 2 if pattern[j] == "\\" else 1
        if j >= len(pattern):
            return None
        return pattern[start:j], negated, j + 1
    if ch in ".^$|()?*+{}":
        return None
    return _class_escape(ch), False, i + 1


def _char_class_of(body: str, negated: bool) -> str:
    return f"[{'^' if negated else ''}{body}]"


def search_form(pattern: str) -> tuple[str, bool] | None:
    """A look-around-free RE2-convertible pattern that matches *somewhere* in exactly the texts ``pattern``
    does, and whether the answer must be negated, for the look-arounds that can be rewritten exactly; None
    otherwise. Only for "does it match" (regex command, match()): the rewrites consume the character a
    look-around only inspected, so the matched text and its position differ.

    * ``(?<!C)R`` / ``(?<=C)R`` at the start, C one character: ``(?:\\A|[^C])R`` / ``[C]R``;
    * ``R(?!C)`` / ``R(?=C)`` at the end: ``R(?:\\z|[^C])`` / ``R[C]``;
    * ``^(?!R)`` alone or followed by ``.*``: a match exactly when ``^(?:R)`` does not match ("does not
      start with").
    The rest of the pattern must have no look-around of its own."""
    behind = re.match(r"\(\?<([=!])", pattern)
    if behind:
        item = _one_char(pattern, behind.end())
        if item is not None and pattern[item[2] : item[2] + 1] == ")":
            body, negated, end = item
            rest = pattern[end + 1 :]
            if not _LOOKAROUND.search(rest):
                if behind.group(1) == "!":
                    return f"(?:\\A|{_char_class_of(body, not negated)}){rest}", False
                return f"{_char_class_of(body, negated)}{rest}", False
        return None
    ahead = re.search(r"\(\?([=!])(?P<item>\\.|\[(?:\\.|[^\]\\])*\]|[^\\\[.^$|()?*+{}])\)\Z", pattern)
    if ahead:
        item = _one_char(pattern, ahead.start("item"))
        head = pattern[: ahead.start()]
        if item is not None and item[2] == ahead.end("item") and head and not _LOOKAROUND.search(head) \
                and not head.endswith("\\") and not _ends_in_open_alternation(head):
            body, negated, _ = item
            if ahead.group(1) == "!":
                return f"(?:{head})(?:\\z|{_char_class_of(body, not negated)})", False
            return f"(?:{head}){_char_class_of(body, negated)}", False
        return None
    start = re.match(r"\^\(\?!", pattern)
    if start:
        close = _group_end(pattern, start.end() - 3)
        if close is not None and pattern[close + 1 :] in ("", ".*"):
            inner = pattern[start.end() : close]
            if inner and not _LOOKAROUND.search(inner):
                return f"^(?:{inner})", True
    return None


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, char, group depth after it)`` for each character of ``pattern`` from ``start`` that is neither
    escaped nor inside a character class: what capture-group numbering and the look-around rewrites need to see
    of a regex's grouping."""
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            # a ']' right after '[' or '[^' is literal
            i += 2 if pattern.startswith("^", i + 1) else 1
            if pattern.startswith("]", i):
                i += 1
            continue
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _ends_in_open_alternation(head: str) -> bool:
    """True when a top-level ``|`` is in ``head``: the look-ahead would belong to the last branch only."""
    depth = 0
    for _, ch, depth in _structure(head):
        if ch == "|" and depth == 0:
            return True
    return depth != 0


def _group_end(pattern: str, open_at: int) -> int | None:
    """The index of the ``)`` closing the group that opens at ``open_at``."""
    for i, ch, depth in _structure(pattern, open_at):
        if ch == ")" and depth == 0:
            return i
    return None
