"""Expanding backtick macros as text: arguments, nesting, overloading, quoting, comments, errors, mapping."""

from __future__ import annotations

import pytest

from sqldetect.errors import MacroError, Span
from sqldetect.macros import MacroLibrary


@pytest.fixture
def lib() -> MacroLibrary:
    return MacroLibrary()


def test_expansion_is_textual_so_it_regroups_and_or(lib: MacroLibrary) -> None:
    # spl-semantics §4: the body lands in the surrounding text, so OR now binds index=_audit and index=_internal
    lib.add("m", "index=_internal sourcetype=x")
    assert lib.expand("index=_audit OR `m`") == "index=_audit OR index=_internal sourcetype=x"
    lib.add("wrapped", "(index=_internal sourcetype=x)")
    assert lib.expand("index=_audit OR `wrapped`") == "index=_audit OR (index=_internal sourcetype=x)"


def test_text_without_backticks_is_returned_unchanged(lib: MacroLibrary) -> None:
    spl = 'index=x "a b" | stats count by host'
    assert lib.expand(spl) == spl


def test_positional_arguments_substitute_everywhere_even_inside_quotes(lib: MacroLibrary) -> None:
    lib.add("pair", 'a=$x$ b="$y$" c=$x$', ["x", "y"])
    assert lib.expand("`pair(1, two)`") == 'a=1 b="two" c=1'


def test_placeholders_that_are_not_arguments_are_left_alone(lib: MacroLibrary) -> None:
    lib.add("share", 'path="*\\\\Admin$\\\\*" $other$ $x$', ["x"])
    assert lib.expand("`share(v)`") == 'path="*\\\\Admin$\\\\*" $other$ v'


def test_named_arguments_in_any_order(lib: MacroLibrary) -> None:
    lib.add("m", "first=$x$ second=$y$", ["x", "y"])
    assert lib.expand('`m(y="a,b", x=1)`') == "first=1 second=a,b"
    assert lib.expand("`m( x = 1 , y = 2 )`") == "first=1 second=2"


def test_an_equals_sign_in_a_positional_value_is_not_a_name(lib: MacroLibrary) -> None:
    lib.add("where", "search $filter$", ["filter"])
    assert lib.expand("`where(index=main)`") == "search index=main"
    assert lib.expand("`where(a!=b)`") == "search a!=b"
    assert lib.expand("`where(a==b)`") == "search a==b"


def test_quoted_arguments_keep_commas_and_lose_their_quotes(lib: MacroLibrary) -> None:
    lib.add("two", "[$a$] [$b$]", ["a", "b"])
    assert lib.expand('`two("x, y", z)`') == "[x, y] [z]"
    assert lib.expand('`two("He said \\"hi\\"", "C:\\\\Windows")`') == '[He said "hi"] [C:\\\\Windows]'
    # a value made of two quoted strings is not one quoted string: it is kept as written
    assert lib.expand('`two("a" OR "b", c)`') == '["a" OR "b"] [c]'


def test_commas_inside_parentheses_do_not_split_arguments(lib: MacroLibrary) -> None:
    lib.add("one", "eval v=$e$", ["e"])
    assert lib.expand("`one(if(a>1, b, c))`") == "eval v=if(a>1, b, c)"


def test_empty_parentheses_call_the_zero_argument_macro(lib: MacroLibrary) -> None:
    lib.add("z", "zero")
    assert lib.expand("`z()`") == "zero"


def test_overloading_by_arity(lib: MacroLibrary) -> None:
    lib.add("m", "none")
    lib.add("m", "one=$a$", ["a"])
    lib.add("m", "two=$a$,$b$", ["a", "b"])
    assert lib.expand("`m` `m(1)` `m(1,2)`") == "none one=1 two=1,2"


def test_definitions_may_call_macros(lib: MacroLibrary) -> None:
    lib.add("outer", "(`inner($v$)` OR `leaf`)", ["v"])
    lib.add("inner", "field=$w$", ["w"])
    lib.add("leaf", "x=1")
    assert lib.expand("`outer(7)`") == "(field=7 OR x=1)"


def test_arguments_may_contain_macro_calls(lib: MacroLibrary) -> None:
    lib.add("wrap", "($body$)", ["body"])
    lib.add("src", "sourcetype=xmlwineventlog")
    assert lib.expand("`wrap(`src` EventCode=1)`") == "(sourcetype=xmlwineventlog EventCode=1)"
    # a named argument whose value is a call
    lib.add("kv", "$k$=$v$", ["k", "v"])
    assert lib.expand("`kv(k=a, v=`src`)`") == "a=sourcetype=xmlwineventlog"


def test_later_definition_of_same_name_and_arity_wins(lib: MacroLibrary) -> None:
    lib.add("m", "old")
    lib.add("m", "new")
    assert lib.expand("`m`") == "new"
    assert len(lib) == 1


def test_macros_are_not_expanded_inside_double_quoted_strings(lib: MacroLibrary) -> None:
    lib.add("bar", "EXPANDED")
    assert lib.expand('x="foo`bar`baz" `bar`') == 'x="foo`bar`baz" EXPANDED'
    # an escaped quote does not end the string
    assert lib.expand('x="a \\" `bar` b" `bar`') == 'x="a \\" `bar` b" EXPANDED'
    # a lone backtick inside an eval string is text, not a call
    assert lib.expand('eval p=replace(p, "`", "") | `bar`') == 'eval p=replace(p, "`", "") | EXPANDED'


def test_a_backslash_outside_quotes_escapes_a_quote(lib: MacroLibrary) -> None:
    lib.add("bar", "E")
    assert lib.expand('a=\\" `bar`') == 'a=\\" E'


def test_triple_backtick_comments_become_one_space(lib: MacroLibrary) -> None:
    lib.add("bar", "E")
    spl = "index=x ```a comment with `bar` inside``` | `bar` ```another```"
    assert lib.expand(spl) == "index=x   | E  "
    # comments inside macro definitions are removed too
    lib.add("commented", "a ```why``` b")
    assert lib.expand("`commented`") == "a   b"


def test_comment_inside_quotes_is_text(lib: MacroLibrary) -> None:
    assert lib.expand('x="```not a comment```"') == 'x="```not a comment```"'


def test_unterminated_comment_is_an_error(lib: MacroLibrary) -> None:
    with pytest.raises(MacroError, match="unterminated ``` comment"):
        lib.expand("index=x ```oops", rule_id="r")


def test_undefined_filter_macro_expands_to_nothing_and_its_stage_goes(lib: MacroLibrary) -> None:
    assert lib.expand("index=x | stats count | `my_rule_filter`") == "index=x | stats count"
    assert lib.expand("index=x | `my_rule_filter` | table a") == "index=x | table a"
    assert lib.expand("[search a | `x_filter`] b") == "[search a] b"
    # not a whole stage: the call simply disappears
    assert lib.expand("index=x `my_rule_filter` y") == "index=x  y"


def test_defined_filter_macro_is_used(lib: MacroLibrary) -> None:
    lib.add("my_rule_filter", "search user!=svc_*")
    assert lib.expand("a | `my_rule_filter`") == "a | search user!=svc_*"


def test_filter_macro_with_arguments_is_not_a_builtin(lib: MacroLibrary) -> None:
    with pytest.raises(MacroError, match=r"unknown macro `my_filter\(1\)`"):
        lib.expand("a | `my_filter(1)`")


def test_drop_dm_object_name_builtin_plain_and_quoted(lib: MacroLibrary) -> None:
    assert lib.expand("`drop_dm_object_name(Processes)`") == "rename Processes.* AS *"
    assert lib.expand('`drop_dm_object_name("Authentication")`') == "rename Authentication.* AS *"


def test_library_definition_overrides_drop_dm_object_name(lib: MacroLibrary) -> None:
    lib.add("drop_dm_object_name", "rename $o$.* as *", ["o"])
    assert lib.expand("`drop_dm_object_name(P)`") == "rename P.* as *"


def test_unknown_macro_names_macro_arity_rule_and_points_at_the_call(lib: MacroLibrary) -> None:
    spl = "index=x | `nope(1, 2)` | stats count"
    with pytest.raises(MacroError) as info:
        lib.expand(spl, rule_id="R-9")
    err = info.value
    assert "unknown macro `nope(2)`" in err.message
    assert err.location.rule_id == "R-9"
    assert err.location.span == Span(10, 22)
    assert spl[10:22] == "`nope(1, 2)`"
    assert str(err).startswith("rule R-9, column 11: unknown macro `nope(2)`")
    assert "^^^^^^^^^^^^" in str(err)


def test_wrong_arity_lists_the_defined_arities(lib: MacroLibrary) -> None:
    lib.add("m", "a")
    lib.add("m", "$x$ $y$", ["x", "y"])
    with pytest.raises(MacroError, match=r"macro `m` is not defined with 1 argument \(defined: m, m\(2\)\)"):
        lib.expand("`m(1)`", rule_id="r")


def test_unknown_named_argument(lib: MacroLibrary) -> None:
    lib.add("m", "$x$ $y$", ["x", "y"])
    with pytest.raises(
        MacroError, match=r"macro `m\(2\)` has no argument named `z` \(arguments: x, y\)"
    ) as info:
        lib.expand("`m(x=1, z=2)`", rule_id="r7")
    assert info.value.location.rule_id == "r7"


def test_named_argument_given_twice(lib: MacroLibrary) -> None:
    lib.add("m", "$x$ $y$", ["x", "y"])
    with pytest.raises(MacroError, match="argument `x` is given twice"):
        lib.expand("`m(x=1, x=2)`")


def test_direct_and_indirect_cycles_are_errors(lib: MacroLibrary) -> None:
    lib.add("self", "a `self`")
    with pytest.raises(MacroError, match=r"macro cycle: `self` → `self`") as info:
        lib.expand("x `self`", rule_id="loop")
    assert info.value.location.rule_id == "loop"
    assert info.value.location.span == Span(2, 8)
    lib.add("a", "`b(1)`")
    lib.add("b", "`a`", ["v"])
    with pytest.raises(MacroError, match=r"macro cycle: `a` → `b\(1\)` → `a`"):
        lib.expand("`a`")


def test_error_deep_in_a_definition_points_at_the_outer_call_and_names_the_chain(lib: MacroLibrary) -> None:
    lib.add("outer", "x `middle`")
    lib.add("middle", "`missing(3)`")
    spl = "index=a `outer`"
    with pytest.raises(MacroError) as info:
        lib.expand(spl, rule_id="r")
    err = info.value
    assert "unknown macro `missing(1)`" in err.message
    assert "while expanding `outer` → `middle`" in err.message
    assert err.location.span == Span(8, 15)


def test_error_inside_an_argument_points_at_the_argument_call(lib: MacroLibrary) -> None:
    lib.add("wrap", "($b$)", ["b"])
    spl = "`wrap(`gone`)`"
    with pytest.raises(MacroError) as info:
        lib.expand(spl)
    assert info.value.location.span == Span(6, 12)


@pytest.mark.parametrize(
    ("spl", "message"),
    [
        ("a `b", "not closed"),
        ("a `m(1, 2", r"missing \)"),
        ("a `m(1) b", r"expected a backtick after \)"),
        ("a ` b`", "must open a macro call"),
    ],
)
def test_malformed_calls_are_clear_errors(lib: MacroLibrary, spl: str, message: str) -> None:
    with pytest.raises(MacroError, match=message):
        lib.expand(spl, rule_id="r")


def test_iseval_macro_is_refused_unless_a_string_literal(lib: MacroLibrary) -> None:
    lib.add("calc", 'if($a$>0, "pos", "neg")', ["a"], iseval=True, source="m.conf:3")
    with pytest.raises(MacroError, match=r"`calc\(1\)` is an eval-based macro .*m.conf:3.*unsupported"):
        lib.expand("`calc(1)`", rule_id="r")
    lib.add("lit", '"sourcetype=$st$"', ["st"], iseval=True)
    assert lib.expand("`lit(x)`") == "sourcetype=x"


def test_expansion_map_points_back_to_the_original_text(lib: MacroLibrary) -> None:
    lib.add("src", "sourcetype=a OR sourcetype=b")
    spl = "`src` EventCode=1 ```c``` | stats count | `x_filter`"
    result = lib.expand_with_map(spl)
    assert result.text == "sourcetype=a OR sourcetype=b EventCode=1   | stats count"
    assert result.macros_used == ["src", "x_filter"]
    # text copied unchanged maps exactly
    exp_start = result.text.index("EventCode")
    orig = result.to_original(Span(exp_start, exp_start + len("EventCode=1")))
    assert orig is not None and spl[orig.start : orig.end] == "EventCode=1"
    # a whole expansion maps to its call
    whole = result.to_original(Span(0, len("sourcetype=a OR sourcetype=b")))
    assert whole is not None and spl[whole.start : whole.end] == "`src`"
    # the first stage maps to the text the author wrote, comment included
    stage_end = result.text.index("|")
    first = result.to_original(Span(0, stage_end))
    assert first is not None and spl[first.start : first.end] == "`src` EventCode=1 ```c``` "
    # the last stage ends before the removed empty stage
    last = result.to_original(Span(stage_end, len(result.text)))
    assert last is not None and spl[last.start : last.end] == "| stats count"
    # a span starting inside an expansion has no original
    assert result.to_original(Span(3, 10)) is None


def test_macro_names_are_case_sensitive(lib: MacroLibrary) -> None:
    lib.add("Sysmon", "sourcetype=sysmon")
    assert lib.expand("`Sysmon`") == "sourcetype=sysmon"
    with pytest.raises(MacroError, match="unknown macro `sysmon`"):
        lib.expand("`sysmon`")
