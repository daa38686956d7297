"""The search expression language: precedence, terms, comparisons, IN, modifiers, escapes, spans, errors."""

from __future__ import annotations

import pytest

from sqldetect.errors import SplSyntaxError
from sqldetect.spl import ast
from sqldetect.spl.parser import parse

# ---------------------------------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("A B OR C", "AND(A, OR(B, C))"),
        ("A OR B C", "AND(OR(A, B), C)"),
        ("error NOT 403 OR 404", "AND(error, OR(NOT(403), 404))"),
        ("A=1 AND B=2 OR C=3", "AND(A=1, OR(B=2, C=3))"),
        ("index=win EventCode=4688 cmd.exe OR powershell.exe",
         "AND(index=win, EventCode=4688, OR(cmd.exe, powershell.exe))"),
        ("a OR b OR c", "OR(a, b, c)"),
        ("a AND b c", "AND(a, b, c)"),
        ("(a b) OR c", "OR(AND(a, b), c)"),
        ("NOT (a OR b) c", "AND(NOT(OR(a, b)), c)"),
        ("NOT NOT a", "NOT(NOT(a))"),
        ("NOT a OR b", "OR(NOT(a), b)"),
        ("a OR NOT b c", "AND(OR(a, NOT(b)), c)"),
        ("((a))", "a"),
        ("x=1 (y=2 OR y=3) NOT z=4", "AND(x=1, OR(y=2, y=3), NOT(z=4))"),
    ],
)
def test_precedence_parentheses_not_or_and(search_expr, sx, text: str, tree: str) -> None:
    assert sx(search_expr(text)) == tree


def test_lowercase_operators_are_plain_terms(search_expr, sx) -> None:
    assert sx(search_expr("a and b or not c")) == "AND(a, and, b, or, not, c)"


def test_mixed_case_operator_is_a_term(search_expr, sx) -> None:
    assert sx(search_expr("a Or b")) == "AND(a, Or, b)"


def test_empty_group_is_an_empty_conjunction(search_expr) -> None:
    """``()`` (a macro that expanded to nothing in parentheses) matches everything; ``NOT ()`` nothing."""
    expr = search_expr("a NOT ()")
    assert isinstance(expr, ast.SearchAnd)
    negated = expr.operands[1]
    assert isinstance(negated, ast.SearchNot)
    assert isinstance(negated.operand, ast.SearchAnd) and negated.operand.operands == []


def test_empty_search_has_no_expression(search_expr) -> None:
    assert search_expr("") is None
    assert search_expr("   ") is None


# ---------------------------------------------------------------------------------------- terms and phrases


def test_bare_terms_and_wildcards(search_expr) -> None:
    expr = search_expr("cmd.exe *.ps1 * C:\\Windows")
    assert [op.value.text for op in expr.operands] == ["cmd.exe", "*.ps1", "*", "C:\\Windows"]
    assert expr.operands[1].value.has_wildcard
    assert not any(op.value.quoted for op in expr.operands)


def test_quoted_phrase_is_unescaped_and_keeps_angle_brackets(search_expr) -> None:
    expr = search_expr('"<EventID>1040<" "say \\"hi\\"" "C:\\\\temp\\\\x"')
    assert [(op.value.text, op.value.quoted) for op in expr.operands] == [
        ("<EventID>1040<", True),
        ('say "hi"', True),
        ("C:\\temp\\x", True),
    ]


def test_backslash_before_other_characters_is_kept(search_expr) -> None:
    """Only \\" and \\\\ are escapes; \\d, \\s, \\. stay two characters (regexes and paths survive)."""
    expr = search_expr('"\\d+\\s\\.exe"')
    assert expr.value.text == "\\d+\\s\\.exe"


def test_term_case_prefix_modifiers(search_expr, sx) -> None:
    expr = search_expr('TERM(EventCode=1040) CASE(Admin) PREFIX(action=) TERM("a b")')
    assert sx(expr) == 'AND(TERM(EventCode=1040), CASE(Admin), PREFIX(action=), TERM("a b"))'
    assert [op.value.modifier for op in expr.operands] == ["TERM", "CASE", "PREFIX", "TERM"]


def test_lowercase_term_is_not_a_modifier(search_expr, sx) -> None:
    assert sx(search_expr("term(x)")) == "AND(term, x)"


def test_not_glued_to_subsearch_and_group(search_expr, sx) -> None:
    assert sx(search_expr("a NOT[| inputlookup t | fields x] NOT(b)")) == "AND(a, NOT([inputlookup | fields]), NOT(b))"


# ------------------------------------------------------------------------------------------------ comparisons


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator(search_expr, op: str) -> None:
    expr = search_expr(f"count{op}5")
    assert isinstance(expr, ast.SearchCompare)
    assert (expr.field, expr.op, expr.value.text) == ("count", op, "5")


@pytest.mark.parametrize(
    "field",
    ["Processes.process_name", "winlog.event_data.Image", "a{}.b", "@timestamp", "user-name", "Processes.*",
     "host:name", "requestParameters.policyDocument{}.Statement{}.Action"],
)
def test_field_names_with_punctuation(search_expr, field: str) -> None:
    expr = search_expr(f"{field}=x")
    assert isinstance(expr, ast.SearchCompare) and expr.field == field


def test_spaces_around_the_operator(search_expr, sx) -> None:
    assert sx(search_expr("nodename = All_Changes Name !=False a >= 3")) == "AND(nodename=All_Changes, Name!=False, a>=3)"


def test_quoted_field_name(search_expr) -> None:
    expr = search_expr('"Known Ransomware Notes"=True')
    assert isinstance(expr, ast.SearchCompare)
    assert expr.field == "Known Ransomware Notes" and expr.value.text == "True"


def test_bare_values(search_expr) -> None:
    expr = search_expr("source=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational user=*$ x=f(1) y=a=b")
    assert [op.value.text for op in expr.operands] == [
        "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "*$", "f(1)", "a=b"
    ]


def test_bare_value_ends_at_closing_parenthesis(search_expr, sx) -> None:
    assert sx(search_expr("(a=b OR c=d)")) == "OR(a=b, c=d)"


def test_quoted_value_is_unescaped_and_keeps_its_wildcards(search_expr) -> None:
    expr = search_expr('Processes.process="*\\\\Admin$\\\\*"')
    assert expr.value.text == "*\\Admin$\\*" and expr.value.quoted and expr.value.has_wildcard


def test_escaped_quote_in_a_bare_value(search_expr) -> None:
    """ESCU writes ``x=*\\"privileged\\":true*`` without quotes: \\" is an escaped quote, not a string."""
    expr = search_expr('x=*\\"privileged\\":true* y=1')
    assert expr.operands[0].value.text == '*"privileged":true*'
    assert expr.operands[1].field == "y"


def test_value_modifiers(search_expr) -> None:
    expr = search_expr("host=CASE(LOCALHOST)")
    assert expr.value.modifier == "CASE" and expr.value.text == "LOCALHOST"


def test_comparison_spans(search_expr) -> None:
    source = 'a  "Quoted Field"  !=  "v w" '
    expr = search_expr(source)
    compare = expr.operands[1]
    assert source[compare.span.start : compare.span.end] == '"Quoted Field"  !=  "v w"'
    assert source[compare.field_span.start : compare.field_span.end] == '"Quoted Field"'
    assert source[compare.value.span.start : compare.value.span.end] == '"v w"'


# ------------------------------------------------------------------------------------------------------- IN


def test_in_list(search_expr) -> None:
    expr = search_expr('field IN (a, "b c", d*)')
    assert isinstance(expr, ast.SearchIn)
    assert [(v.text, v.quoted) for v in expr.values] == [("a", False), ("b c", True), ("d*", False)]


def test_in_without_space_and_quoted_field(search_expr, sx) -> None:
    assert sx(search_expr('"result.message" IN("*pair*","*create*")')) == 'result.message IN("*pair*","*create*")'


def test_in_list_ignores_empty_entries(search_expr) -> None:
    """ESCU ships ``IN ("a",,"b",)``; empty entries are ignored (decision)."""
    expr = search_expr('p IN ("a",, "b",)')
    assert [v.text for v in expr.values] == ["a", "b"]


def test_not_in(search_expr, sx) -> None:
    assert sx(search_expr("NOT x IN (1, 2) y")) == "AND(NOT(x IN(1,2)), y)"


def test_lowercase_in_is_a_term(search_expr, sx) -> None:
    assert sx(search_expr("x in (a b)")) == "AND(x, in, AND(a, b))"


def test_in_list_with_backslashes(search_expr) -> None:
    expr = search_expr("f IN (*\\\\Registry.xml, *\\\\Scripts\\\\*)")
    assert [v.text for v in expr.values] == ["*\\Registry.xml", "*\\Scripts\\*"]


# ----------------------------------------------------------------------------------------- time modifiers


def test_time_modifiers(search_expr) -> None:
    expr = search_expr('earliest=-24h@h latest=now _index_earliest=-7d earliest_x=1 Earliest=2 starttime="10/15/2019:20:00:00"')
    kinds = [(type(op).__name__, getattr(op, "name", getattr(op, "field", None))) for op in expr.operands]
    assert kinds == [
        ("TimeModifier", "earliest"),
        ("TimeModifier", "latest"),
        ("TimeModifier", "_index_earliest"),
        ("SearchCompare", "earliest_x"),
        ("SearchCompare", "Earliest"),
        ("TimeModifier", "starttime"),
    ]
    assert [op.value for op in expr.operands if isinstance(op, ast.TimeModifier)] == [
        "-24h@h", "now", "-7d", "10/15/2019:20:00:00"
    ]


def test_time_modifier_needs_equals(search_expr) -> None:
    assert isinstance(search_expr("earliest>5"), ast.SearchCompare)


# ----------------------------------------------------------------------------------------------- subsearch


def test_subsearch_in_search_shares_the_source(search_expr) -> None:
    source = "a [search index=x | fields user] b"
    pipeline = parse(source)
    expr = pipeline.commands[0].expr
    sub = expr.operands[1]
    assert isinstance(sub, ast.SearchSubsearch)
    assert source[sub.span.start : sub.span.end] == "[search index=x | fields user]"
    assert sub.pipeline.source is pipeline.source
    assert [c.name for c in sub.pipeline.commands] == ["search", "fields"]
    inner = sub.pipeline.commands[0]
    assert source[inner.span.start : inner.span.end] == "search index=x"


# -------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("a x=", "missing value after 'x='", "="),
        ("(a x= )", "missing value", "="),
        ("a OR", "OR needs a search term after it", "OR"),
        ("OR a", "OR needs a search term before it", "OR"),
        ("AND a", "AND needs a search term before it", "AND"),
        ("a AND", "AND needs a search term after it", "AND"),
        ("a AND OR b", "AND needs a search term after it", "AND"),
        ("a NOT", "NOT needs a search term after it", "NOT"),
        ("(a OR) b", "OR needs a search term after it", "OR"),
        ("f IN ()", "IN list of 'f' is empty", "()"),
        ("f IN (a (b))", "unexpected '(' in IN list", "("),
        ("TERM() x", "TERM() needs a value", "TERM()"),
    ],
)
def test_search_errors_point_at_the_problem(text: str, message: str, caret: str) -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse(text, rule_id="r1")
    err = info.value
    assert message in err.message
    span = err.location.span
    assert text[span.start : span.end].startswith(caret)
    assert err.location.stage_index == 1 and err.location.stage_name == "search"


def test_single_quotes_are_not_string_delimiters_in_search(sx) -> None:
    pipeline = parse("user='a b' | stats count")
    assert sx(pipeline.commands[0].expr) == "AND(user='a, b')"
    assert len(pipeline.commands) == 2
