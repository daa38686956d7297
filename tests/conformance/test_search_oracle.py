"""Property test: random small event sets and search expressions, checked against a tiny reference evaluator.

The oracle below is an independent, deliberately naive reading of the search semantics (semantics doc §2.4,
§2.6-§2.8, §7): ``field=value`` compares whole values case-insensitively with ``*`` globs, any value of a
multivalue field may match, ``field=*`` needs a non-empty value, ``field!=v`` needs the field and no matching
value, ``NOT`` keeps events lacking the field, ``IN`` is an OR of equalities. Hypothesis builds events and
expressions (fully parenthesised, AND written either as a space or as ``AND``) and sqldetect must return
exactly the events the oracle accepts, in the same order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqldetect.compile import CompileOptions, compile_spl

from .harness import build_events, infer_schema

# Values chosen to hit the quiet corners of the translation: case, LIKE metacharacters (_ %), backslashes,
# dots, empty strings, and prefixes of each other.
VALUES = ["x", "X", "xy", "Xy", "yx", "a_b", "a%b", "axb", "A\\b", "1.0", "1", "", "x.y"]
PATTERNS = ["x", "X", "xy", "x*", "*x", "*y*", "a_b", "a%b", "a*b", "a\\b", "a\\*", "1", "1.0", "*.*", "*"]
SCALAR_FIELDS = ["a", "b"]
MV_FIELD = "m"


# ------------------------------------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Eq:
    field: str
    pattern: str


@dataclass(frozen=True)
class Ne:
    field: str
    pattern: str


@dataclass(frozen=True)
class In:
    field: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class And:
    left: Any
    right: Any
    explicit: bool


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any


# mostly fields that exist (a field no event has is the simple case)
FIELDS = st.sampled_from(["a", "a", "b", MV_FIELD, MV_FIELD, "absent"])
LEAVES = st.one_of(
    st.builds(Eq, FIELDS, st.sampled_from(PATTERNS)),
    st.builds(Ne, FIELDS, st.sampled_from(PATTERNS)),
    st.builds(In, FIELDS, st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3).map(tuple)),
)
EXPRESSIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, inner, inner, st.booleans()),
        st.builds(Or, inner, inner),
    ),
    max_leaves=6,
)


def quote(pattern: str) -> str:
    """A search value as SPL text: always double-quoted (``*`` stays a wildcard inside quotes)."""
    return '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_spl(node: Any) -> str:
    if isinstance(node, Eq):
        return f"{node.field}={quote(node.pattern)}"
    if isinstance(node, Ne):
        return f"{node.field}!={quote(node.pattern)}"
    if isinstance(node, In):
        return f"{node.field} IN ({', '.join(quote(p) for p in node.patterns)})"
    if isinstance(node, Not):
        return f"NOT ({to_spl(node.operand)})"
    if isinstance(node, And):
        return f"({to_spl(node.left)}){' AND ' if node.explicit else ' '}({to_spl(node.right)})"
    return f"({to_spl(node.left)}) OR ({to_spl(node.right)})"


# ------------------------------------------------------------------------------------------------ the oracle


def glob_matches(value: str, pattern: str) -> bool:
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def values_of(event: dict[str, Any], field: str) -> list[str]:
    value = event.get(field)
    if value is None:
        return []
    return [v for v in value] if isinstance(value, list) else [value]


def present(event: dict[str, Any], field: str) -> bool:
    return any(v != "" for v in values_of(event, field))


def equals(event: dict[str, Any], field: str, pattern: str) -> bool:
    if pattern == "*":
        return present(event, field)
    return any(glob_matches(v, pattern) for v in values_of(event, field))


def oracle(node: Any, event: dict[str, Any]) -> bool:
    if isinstance(node, Eq):
        return equals(event, node.field, node.pattern)
    if isinstance(node, Ne):
        return present(event, node.field) and not equals(event, node.field, node.pattern)
    if isinstance(node, In):
        return any(equals(event, node.field, p) for p in node.patterns)
    if isinstance(node, Not):
        return not oracle(node.operand, event)
    if isinstance(node, And):
        return oracle(node.left, event) and oracle(node.right, event)
    return oracle(node.left, event) or oracle(node.right, event)


# ------------------------------------------------------------------------------------------------ events


MAYBE_VALUE = st.one_of(st.none(), st.sampled_from(VALUES))
MAYBE_LIST = st.one_of(st.none(), st.lists(st.sampled_from([v for v in VALUES if v]), min_size=1, max_size=3))
EVENTS = st.lists(st.fixed_dictionaries({"a": MAYBE_VALUE, "b": MAYBE_VALUE, "m": MAYBE_LIST}),
                  min_size=1, max_size=6)


def run(spl: str, events: list[dict[str, Any]]) -> list[int]:
    rows = [{"_time": f"2024-01-01T00:00:{59 - i:02d}Z", "id": i, "m": None, "a": None, "b": None,
             **{k: v for k, v in e.items() if v is not None}} for i, e in enumerate(events)]
    schema = infer_schema([{"_time": "2024-01-01T00:00:00Z", "id": 0, "a": "", "b": "", "m": [""]}],
                          {"id": "number"})
    compiled = compile_spl(spl + " | table id", schema, options=CompileOptions())
    con = duckdb.connect()
    try:
        build_events(con, rows, schema)
        return [int(r[0]) for r in con.execute(compiled.sql()).fetchall()]
    finally:
        con.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=EXPRESSIONS, events=EVENTS)
def test_search_matches_the_oracle(expr: Any, events: list[dict[str, Any]]) -> None:
    spl = to_spl(expr)
    want = [i for i, event in enumerate(events) if oracle(expr, event)]
    assert run(spl, events) == want, spl


@pytest.mark.parametrize("make", [lambda f, p: Eq(f, p), lambda f, p: Ne(f, p), lambda f, p: Not(Eq(f, p))],
                         ids=["eq", "ne", "not-eq"])
def test_every_pattern_against_every_value(make: Any) -> None:
    """Each comparison leaf over events holding each value once (scalar and multivalue): the random
    compositions above rarely pair every pattern with every value, this does."""
    events = [{"a": v, "b": None, "m": [v, "zz"] if v else None} for v in VALUES] + [{"a": None, "b": None,
                                                                                    "m": None}]
    for pattern in PATTERNS:
        for field in ("a", MV_FIELD):
            expr = make(field, pattern)
            want = [i for i, event in enumerate(events) if oracle(expr, event)]
            assert run(to_spl(expr), events) == want, to_spl(expr)


def test_oracle_agrees_with_documented_examples() -> None:
    """The oracle itself follows the semantics doc (so a shared mistake cannot hide)."""
    assert glob_matches("Administrator", "admin*") and not glob_matches("administrator", "admin")
    event = {"user": None, "m": ["alice", "-"]}
    assert not present(event, "user")
    assert oracle(Not(Eq("user", "bob")), event)  # NOT keeps events without the field
    assert not oracle(Ne("user", "bob"), event)  # != needs the field
    assert not oracle(Ne("m", "alice"), event)  # != is false once any value matches
    assert oracle(Eq("m", "ALICE"), event)
