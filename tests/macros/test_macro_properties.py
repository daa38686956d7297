"""Property tests: expansion of generated SPL equals the piece-by-piece expectation, and maps back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sqldetect.errors import Span
from sqldetect.macros import MacroLibrary

LIB = MacroLibrary()
LIB.add("m0", "ZERO")
LIB.add("m1", "ONE[$x$]", ["x"])
LIB.add("m2", '$a$ OR "$b$"', ["a", "b"])

plain_text = st.text(alphabet="abcxyz019=_.*()<> |[]", min_size=1, max_size=12)
quoted_body = st.text(alphabet="ab `'|,()=", max_size=8)
arg_text = st.text(alphabet="abc019=_.*", min_size=1, max_size=6)
comment_body = st.text(alphabet="ab '\"|,()=", max_size=8)


@st.composite
def piece(draw: st.DrawFn) -> tuple[str, str, bool]:
    """(source text, expected expansion, copied unchanged?)"""
    kind = draw(st.sampled_from(["plain", "quoted", "m0", "m1", "m2", "comment"]))
    if kind == "plain":
        text = draw(plain_text)
        return text, text, True
    if kind == "quoted":
        text = f'"{draw(quoted_body)}"'
        return text, text, True
    if kind == "m0":
        return "`m0`", "ZERO", False
    if kind == "m1":
        x = draw(arg_text)
        return f"`m1({x})`", f"ONE[{x}]", False
    if kind == "m2":
        a, b = draw(arg_text), draw(st.text(alphabet="ab ,c", min_size=1, max_size=6))
        return f'`m2( {a} , "{b}")`', f'{a} OR "{b}"', False
    body = draw(comment_body)
    return f"```{body}```", " ", False


@settings(max_examples=300, deadline=None)
@given(st.lists(piece(), min_size=1, max_size=8))
def test_generated_spl_expands_piece_by_piece_and_maps_back(pieces: list[tuple[str, str, bool]]) -> None:
    source = " ".join(p[0] for p in pieces)
    expected = " ".join(p[1] for p in pieces)
    result = LIB.expand_with_map(source)
    assert result.text == expected
    src_pos = exp_pos = 0
    for src, exp, copied in pieces:
        mapped = result.to_original(Span(exp_pos, exp_pos + len(exp)))
        # every piece maps back to exactly the text it came from
        assert mapped == Span(src_pos, src_pos + len(src)), (src, exp)
        if copied:
            assert result.text[exp_pos : exp_pos + len(exp)] == src
        src_pos += len(src) + 1
        exp_pos += len(exp) + 1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='abc "\\|=*()[],', max_size=30))
def test_text_without_backticks_is_never_changed(text: str) -> None:
    assert LIB.expand(text) == text
