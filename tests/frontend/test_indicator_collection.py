"""Indicator and search-term collection over syntax trees built by hand (independent of the parser)."""

from __future__ import annotations

from sqldetect.errors import Span
from sqldetect.explain import Indicator, SearchTermRow, collect_indicators
from sqldetect.spl import ast

S = Span(0, 0)


def value(text: str, quoted: bool = False, modifier: str | None = None) -> ast.SearchValue:
    return ast.SearchValue(text, S, quoted=quoted, modifier=modifier)


def compare(name: str, op: str, text: str, **kw: object) -> ast.SearchCompare:
    return ast.SearchCompare(name, op, value(text, **kw), S)  # type: ignore[arg-type]


def term(text: str, **kw: object) -> ast.SearchTerm:
    return ast.SearchTerm(value(text, **kw), S)  # type: ignore[arg-type]


def field_ref(name: str) -> ast.FieldRef:
    return ast.FieldRef(name, S)


def lit(v: str | int) -> ast.Literal:
    return ast.Literal(v, S, text=str(v))


def pipeline(*commands: ast.Command) -> ast.Pipeline:
    return ast.Pipeline(list(commands), "", S)


def test_search_predicates_and_terms_by_stage() -> None:
    search = ast.SearchCommand(
        "search",
        S,
        expr=ast.SearchAnd(
            [
                term("*"),
                ast.SearchOr(
                    [term("EventCode=1040", modifier="TERM"), term("<EventID>1040<", quoted=True)], S
                ),
                compare("EventCode", "=", "4688"),
                ast.SearchNot(compare("User", "=", "SYSTEM"), S),
                ast.SearchIn("Image", [value("*\\cmd.exe"), value("*\\pwsh.exe", quoted=True)], S),
                ast.SearchNot(term("noise"), S),
                ast.TimeModifier("earliest", "-24h", S),
            ],
            S,
        ),
    )
    indicators, terms = collect_indicators(pipeline(search))
    assert [(i.stage, i.field, i.operator, i.value, i.language) for i in indicators] == [
        (1, "EventCode", "=", "4688", "search"),
        (1, "User", "NOT =", "SYSTEM", "search"),
        (1, "Image", "IN", "*\\cmd.exe", "search"),
        (1, "Image", "IN", "*\\pwsh.exe", "search"),
    ]
    # `*` matches every event and is not listed; TERM keeps its modifier; phrases keep their quotes
    assert terms == [
        SearchTermRow(1, "EventCode=1040", "TERM"),
        SearchTermRow(1, '"<EventID>1040<"', ""),
        SearchTermRow(1, "noise", "NOT"),
    ]


def test_where_and_eval_comparisons_with_literals() -> None:
    where = ast.WhereCommand(
        "where",
        S,
        expr=ast.BinaryOp(
            "AND",
            ast.BinaryOp("<", field_ref("c_process"), lit(2), S),
            ast.BinaryOp(
                "OR",
                ast.Call("isnotnull", [field_ref("process")], S),
                ast.UnaryOp("NOT", ast.BinaryOp("==", field_ref("user"), lit("admin"), S), S),
                S,
            ),
            S,
        ),
    )
    flipped = ast.WhereCommand("where", S, expr=ast.BinaryOp("<", lit(5), field_ref("count"), S))
    evals = ast.EvalCommand(
        "eval",
        S,
        assignments=[
            ast.Assignment(
                "flag",
                ast.Call(
                    "if",
                    [ast.Call("like", [field_ref("cmd"), lit("%-enc%")], S), lit(1), lit(0)],
                    S,
                ),
                S,
            ),
            ast.Assignment(
                "x", ast.InList(field_ref("proc"), [lit("a.exe"), lit("b.exe")], S, negated=True), S
            ),
            ast.Assignment("y", ast.BinaryOp("==", field_ref("a"), field_ref("b"), S), S),
        ],
    )
    indicators, terms = collect_indicators(pipeline(ast.SearchCommand("search", S), where, flipped, evals))
    assert terms == []
    assert [(i.stage, i.field, i.operator, i.value, i.language) for i in indicators] == [
        (2, "c_process", "<", "2", "eval"),
        (2, "user", "NOT =", "admin", "eval"),
        (3, "count", ">", "5", "eval"),
        (4, "cmd", "like", "%-enc%", "eval"),
        (4, "proc", "NOT IN", "a.exe", "eval"),
        (4, "proc", "NOT IN", "b.exe", "eval"),
    ]


def test_tstats_where_and_subsearches_count_for_their_stage() -> None:
    inner = pipeline(ast.SearchCommand("search", S, expr=compare("sourcetype", "=", "sysmon")))
    tstats = ast.TstatsCommand("tstats", S, where=compare("Processes.process_name", "=", "cmd.exe"))
    join = ast.JoinCommand("join", S, subsearch=ast.Subsearch(inner, S))
    regex = ast.RegexCommand("regex", S, field="cmd", negate=True, regex="^a")
    indicators, _ = collect_indicators(pipeline(tstats, join, regex))
    assert [(i.stage, i.field, i.operator, i.value) for i in indicators] == [
        (1, "Processes.process_name", "=", "cmd.exe"),
        (2, "sourcetype", "=", "sysmon"),
        (3, "cmd", "NOT regex", "^a"),
    ]


def test_indicator_key_follows_splunk_case_rules() -> None:
    search = Indicator(1, "Image", "=", "*\\MsiExec.EXE")
    assert search.key == ("Image", "=", "*\\msiexec.exe")
    assert Indicator(1, "Image", "IN", "A").key == Indicator(2, "Image", "=", "a").key
    assert Indicator(1, "Image", "NOT IN", "A").key == ("Image", "NOT =", "a")
    # CASE() and eval comparisons are case-sensitive; field names always are
    assert Indicator(1, "h", "=", "CASE(Host)").key == ("h", "=", "CASE(Host)")
    assert Indicator(1, "user", "=", "Admin", "eval").key == ("user", "=", "Admin")
    assert Indicator(1, "image", "=", "x").key != Indicator(1, "Image", "=", "x").key
