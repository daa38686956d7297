"""matching.search_form: look-arounds rewritten for a match test must match exactly the same texts.

Python's ``re`` has look-arounds, so each rewrite is checked against the original pattern on every short text
over an alphabet that exercises the patterns' characters (RE2's ``\\z`` is Python's ``\\Z``)."""

from __future__ import annotations

import itertools
import re

import pytest

from sqldetect.compile.matching import search_form

ALPHABET = "ab/.:x\\\n"
TEXTS = ["".join(p) for n in range(5) for p in itertools.product(ALPHABET, repeat=n)]

REWRITTEN = [
    r"(?<!/)\b\w+(\.\w+)?:\w+(\.\w+)?$",
    r"(?<!/)a|b",
    r"(?<=[ab])x",
    r"(?<![^ab])x",
    r"(?<!\\)a",
    r"a(?!\.)",
    r"a+(?=[./])",
    r"(a|b)x(?!:)",
    r"^(?!.*x)",
    r"^(?!a/).*",
]

REFUSED = [
    r"(\b)\w+(\.\w+)?:\w+(\.\w{2,4})(?!\.)(\b|\s|&)",  # a look-ahead in the middle
    r"(.*\\)(?=.*(\.\w*)$|(\w+)$)",  # a look-ahead of several characters
    r"(?<=ab)x",  # a look-behind of several characters
    r"a|b(?!x)",  # the look-ahead belongs to one branch
    r"^(?!a)b",  # "^(?!...)" followed by more than .*
    r"(?<!a)b(?!c)",  # two look-arounds
    r"(?i)(?<!a)b",  # flags first
]


@pytest.mark.parametrize("pattern", REWRITTEN)
def test_rewrite_matches_the_same_texts(pattern: str) -> None:
    form = search_form(pattern)
    assert form is not None
    rewritten, inverted = form
    assert "(?=" not in rewritten and "(?!" not in rewritten and "(?<" not in rewritten
    python = rewritten.replace(r"\z", r"\Z")
    differ = [t for t in TEXTS if bool(re.search(pattern, t)) != (bool(re.search(python, t)) != inverted)]
    assert differ == [], f"{pattern!r} -> {rewritten!r} (inverted={inverted}) differs on {differ[:5]}"


@pytest.mark.parametrize("pattern", REFUSED)
def test_other_lookarounds_are_not_rewritten(pattern: str) -> None:
    assert search_form(pattern) is None
