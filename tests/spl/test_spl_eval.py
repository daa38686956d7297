"""The eval expression language: precedence, literals, names, calls, IN/LIKE, spans, errors."""

from __future__ import annotations

import pytest

from sqldetect.errors import SplSyntaxError
from sqldetect.spl import ast
from sqldetect.spl.eval_parser import MAX_TREE_DEPTH
from sqldetect.spl.parser import parse


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a OR b AND c", "(a OR (b AND c))"),
        ("a AND b OR c", "((a AND b) OR c)"),
        ("a XOR b OR c", "(a XOR (b OR c))"),
        ("a OR b XOR c", "((a OR b) XOR c)"),
        ("NOT a=b", "(NOT (a = b))"),
        ("NOT a AND b", "((NOT a) AND b)"),
        ("NOT NOT a", "(NOT (NOT a))"),
        ("a = 1 + 2 * 3", "(a = (1 + (2 * 3)))"),
        ("a . b + c", "((a . b) + c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a / b % c * d", "(((a / b) % c) * d)"),
        ("-a * b", "((- a) * b)"),
        ("1 - -2", "(1 - (- 2))"),
        ("+a", "(+ a)"),
        ("!a = b", "((NOT a) = b)"),
        ("!isnull(x) AND y", "((NOT isnull(x)) AND y)"),
        ("a < b < c", "((a < b) < c)"),
        ("(a OR b) AND c", "((a OR b) AND c)"),
        ("c_process < 2 and isnotnull(process)", "((c_process < 2) AND isnotnull(process))"),
        ("a == b != c", "((a == b) != c)"),
        ("x LIKE \"a%\" OR y", '((x LIKE "a%") OR y)'),
        ("x >= 1 AND x <= 2", "((x >= 1) AND (x <= 2))"),
    ],
)
def test_precedence(eval_expr, sx, text: str, tree: str) -> None:
    assert sx(eval_expr(text)) == tree


def test_keywords_are_case_insensitive(eval_expr, sx) -> None:
    assert sx(eval_expr('not a and b or c xor d like "x" and e in (1)')) == (
        '((((NOT a) AND b) OR c) XOR ((d LIKE "x") AND (e IN [1])))'
    )


# ------------------------------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("1.5", 1.5), ("1e3", 1000.0), ("2.5E-1", 0.25), (".5", 0.5), ("0x1F", 31), ("007", 7)],
)
def test_numbers(eval_expr, text: str, value: float) -> None:
    literal = eval_expr(text)
    assert isinstance(literal, ast.Literal) and literal.value == value and type(literal.value) is type(value)
    assert literal.text == text and not literal.is_string


def test_strings_are_unescaped_but_keep_other_backslashes(eval_expr) -> None:
    expr = eval_expr('match(a, "\\\\.exe$") AND b="C:\\\\x\\"q\\"" AND c="\\d\\s"')
    first, second, third = expr.left.left, expr.left.right, expr.right
    assert first.args[1].value == "\\.exe$"
    assert second.right.value == 'C:\\x"q"'
    assert third.right.value == "\\d\\s" and third.right.is_string


def test_field_names(eval_expr) -> None:
    expr = eval_expr("'Processes.process' + 'first-name' + a.b + x{}.y + @t + a:b")
    names = []
    node = expr
    while isinstance(node, ast.BinaryOp):
        names.append(node.right)
        node = node.left
    names.append(node)
    names.reverse()
    assert [(n.name, n.quoted) for n in names] == [
        ("Processes.process", True), ("first-name", True), ("a.b", False), ("x{}.y", False), ("@t", False),
        ("a:b", False),
    ]


def test_minus_is_not_part_of_a_name(eval_expr, sx) -> None:
    assert sx(eval_expr("a-b")) == "(a - b)"


def test_dot_between_string_and_name_is_concatenation(eval_expr, sx) -> None:
    assert sx(eval_expr('"x".a."y"')) == '(("x" . a) . "y")'


# ---------------------------------------------------------------------------------------------------- calls


def test_calls(eval_expr, sx) -> None:
    assert sx(eval_expr('if(a>1, "big", null())')) == 'if((a > 1), "big", null())'
    assert sx(eval_expr("case(x=1, true(), false())")) == "case((x = 1), true(), false())"
    assert sx(eval_expr("IF(a, mvindex(split(b, \",\"), -1), coalesce(c, d))")) == (
        'IF(a, mvindex(split(b, ","), (- 1)), coalesce(c, d))'
    )


def test_in_and_like_as_functions(eval_expr) -> None:
    expr = eval_expr('in(x, "a", "b") OR like(y, "a%")')
    assert isinstance(expr.left, ast.Call) and expr.left.name == "in"
    assert isinstance(expr.right, ast.Call) and expr.right.name == "like"


def test_call_spans(eval_expr) -> None:
    text = 'coalesce( a , "b" )'
    call = eval_expr(text)
    source = f"| where {text}"
    assert source[call.span.start : call.span.end] == text
    assert source[call.name_span.start : call.name_span.end] == "coalesce"


def test_in_operator(eval_expr, sx) -> None:
    assert sx(eval_expr('x IN ("a", "b")')) == '(x IN ["a", "b"])'
    assert sx(eval_expr('x NOT IN ("a", old)')) == '(x NOT IN ["a", old])'
    assert sx(eval_expr('NOT x IN ("a")')) == '(NOT (x IN ["a"]))'
    assert sx(eval_expr('x not in ("a") AND y')) == '((x NOT IN ["a"]) AND y)'


def test_not_like(eval_expr, sx) -> None:
    assert sx(eval_expr('x NOT LIKE "a%"')) == '(NOT (x LIKE "a%"))'


# --------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        ("1 +", "expression ends too early", None),
        ("(1", "never closed", "("),
        ("a b", "unexpected 'b' after the expression", "b"),
        ("a ==", "expression ends too early", None),
        ("if(a,)", "expected a value, found ')'", ")"),
        ("f(a b)", "expected ',' or ')' in argument list, found 'b'", "b"),
        ("AND", "expected a value, found the keyword AND", "AND"),
        ("x IN y", "expected '(' after IN", "y"),
        ("x IN ()", "IN list is empty", "("),
        ("a # b", "unexpected '#' after the expression", "#"),
        ("a = #", "expected a value, found '#'", "#"),
        ("a = 'b", "expected a value, found \"'\"", "'"),
        ("x=*", "expected a value, found '*'", "*"),
        ("a,b", "unexpected ','", ","),
    ],
)
def test_eval_errors(text: str, message: str, caret: str | None) -> None:
    source = f"x | where {text}"
    with pytest.raises(SplSyntaxError) as info:
        parse(source, rule_id="r9")
    err = info.value
    assert message in err.message
    assert err.location.stage_index == 2 and err.location.stage_name == "where"
    if caret is not None:
        span = err.location.span
        assert source[span.start : span.end].startswith(caret)


def test_long_operator_chain_is_limited() -> None:
    ok = "+".join(["1"] * MAX_TREE_DEPTH)
    parse(f"| eval x={ok}")
    with pytest.raises(SplSyntaxError, match="too deeply nested"):
        parse(f"| eval x={ok}+1+1")


def test_deep_parentheses_are_an_error_not_a_crash() -> None:
    with pytest.raises(SplSyntaxError, match="nested too deeply"):
        parse("| eval x=" + "(" * 500 + "1" + ")" * 500)
    with pytest.raises(SplSyntaxError, match="nested too deeply"):
        parse("| eval x=" + "-" * 500 + "1")
