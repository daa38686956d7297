"""Pipelines: stage splitting, generating commands, subsearches, comments, macros, and error locations."""

from __future__ import annotations

import pytest

from sqldetect.errors import SplSyntaxError
from sqldetect.spl import ast
from sqldetect.spl.parser import parse


def stage_texts(pipeline: ast.Pipeline) -> list[str]:
    return [pipeline.stage_text(i) for i in range(len(pipeline.commands))]


def test_implicit_search_then_commands(spans) -> None:
    pipeline = parse('a b | stats count by x | where count > 1')
    spans(pipeline)
    assert not pipeline.generating
    assert [c.name for c in pipeline.commands] == ["search", "stats", "where"]
    assert stage_texts(pipeline) == ["a b", "stats count by x", "where count > 1"]


def test_leading_pipe_names_a_generating_command() -> None:
    pipeline = parse("  | tstats count where index=x | table count")
    assert pipeline.generating and [c.name for c in pipeline.commands] == ["tstats", "table"]
    for generating in ("inputlookup t", "makeresults", "from datamodel:X.Y", "mstats avg(x) WHERE index=m", "rest /x"):
        assert parse(f"| {generating}").generating


def test_explicit_search_as_first_stage() -> None:
    pipeline = parse("search index=x | head 1")
    first = pipeline.commands[0]
    assert isinstance(first, ast.SearchCommand) and first.args_text == "index=x"
    assert pipeline.stage_text(0) == "search index=x" and not pipeline.generating


def test_a_generating_name_without_pipe_at_top_level_is_a_search_term() -> None:
    first = parse("inputlookup x").commands[0]
    assert isinstance(first, ast.SearchCommand) and first.expr.operands[0].value.text == "inputlookup"


@pytest.mark.parametrize(
    "text",
    [
        'a "x | y" | stats count',
        "a [search b | fields c] | stats count",
        "a | eval x=if(a=\"|\", 1, 0) | stats count",
        "a (b | c) | stats count",
        "a | rex \"(?<x>a|b)\" | stats count",
    ],
)
def test_pipes_inside_quotes_brackets_and_parentheses_do_not_split(text: str) -> None:
    commands = parse(text).commands
    assert commands[-1].name == "stats"
    assert len(commands) == (3 if ("eval" in text or "rex" in text) else 2)


def test_subsearch_pipelines_use_absolute_spans(spans) -> None:
    source = "x | join u [search y | stats count by u | append [| inputlookup t | fields u]]"
    pipeline = parse(source)
    assert spans(pipeline) > 10
    join = pipeline.commands[1]
    inner = join.subsearch.pipeline
    assert inner.source is pipeline.source and not inner.generating
    assert stage_texts(inner) == ["search y", "stats count by u", "append [| inputlookup t | fields u]"]
    deepest = inner.commands[2].subsearch.pipeline
    assert deepest.generating and stage_texts(deepest) == ["inputlookup t", "fields u"]
    assert source[deepest.span.start : deepest.span.end] == "| inputlookup t | fields u"


def test_subsearch_may_name_a_generating_command_without_pipe() -> None:
    pipeline = parse("a NOT [inputlookup cim_corporate_web_domain_lookup | fields domain]")
    sub = pipeline.commands[0].expr.operands[1].operand
    assert isinstance(sub, ast.SearchSubsearch) and sub.pipeline.generating
    assert isinstance(sub.pipeline.commands[0], ast.InputlookupCommand)


def test_empty_subsearch_is_an_empty_search() -> None:
    sub = parse("a [ ]").commands[0].expr.operands[1]
    assert isinstance(sub.pipeline.commands[0], ast.SearchCommand) and sub.pipeline.commands[0].expr is None


def test_comments_are_blanked_with_the_same_length(spans) -> None:
    source = "a ```comment | with pipe``` | stats count ```\nmultiline\n``` | table count"
    pipeline = parse(source)
    spans(pipeline)
    assert len(pipeline.source) == len(source)
    assert "comment" not in pipeline.source and pipeline.source.count("\n") == 2
    assert [c.name for c in pipeline.commands] == ["search", "stats", "table"]
    assert pipeline.commands[1].span == parse(source).commands[1].span
    assert source[pipeline.commands[2].span.start : pipeline.commands[2].span.end] == "table count"


def test_backticks_inside_strings_are_text() -> None:
    command = parse('| eval x=replace(lower(process), "`", "") ```c```').commands[0]
    assert command.assignments[0].expr.args[1].value == "`"


def test_macro_call_is_an_error_pointing_at_it() -> None:
    source = "a | `security_content_ctime(firstTime)` | b"
    with pytest.raises(SplSyntaxError) as info:
        parse(source, rule_id="R")
    err = info.value
    assert err.message == "unexpanded macro `security_content_ctime(firstTime)`"
    span = err.location.span
    assert source[span.start : span.end] == "`security_content_ctime(firstTime)`"
    assert err.location.stage_index == 2


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("source", "message", "stage_index", "stage_name", "caret_text"),
    [
        ('a | rex field=x "(?<y>.+) | table y', "unbalanced quotes", 2, "rex", '"'),
        ("a | eval x=(1+2 | table y", "unbalanced parenthesis: '(' is never closed", 2, "eval", "("),
        ("a | join x [search b | table c", "unbalanced bracket: '[' is never closed", 2, "join", "["),
        ("a | eval x=1) | table y", "unbalanced ')': no '(' before it", 2, "eval", ")"),
        ("a | join x [search b) | table c", "is closed by ')'", 2, "join", ")"),
        ("a | | b", "empty stage", 2, None, "|"),
        ("a | stats count |", "trailing '|'", 3, None, "|"),
        ("a | stats count |  ", "trailing '|'", 3, None, "|"),
        ("|", "trailing '|'", 1, None, "|"),
        ("a | 123 x", "expected a command name after '|', found '123'", 2, None, "123"),
        ("a | x=1", "expected a command name after '|', found 'x=1'", 2, None, "x=1"),
        ("a ``` no end", "unterminated comment", 1, "search", "```"),
        ("| tstats count | `m`", "unexpanded macro `m`", 2, "`m`", "`m`"),
        ("a | append [search b | ]", "in subsearch: trailing '|'", 2, "append", "|"),
        ("a | append [search b | stats]", "in subsearch stage 2 (stats): stats needs at least one", 2, "append", "stats"),
    ],
)
def test_error_locations(source, message, stage_index, stage_name, caret_text) -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse(source, rule_id="R7")
    err = info.value
    location = err.location
    assert message in err.message
    assert location.rule_id == "R7" and location.source is not None
    assert location.stage_index == stage_index
    if stage_name is not None and not stage_name.startswith("`"):
        assert location.stage_name == stage_name
    assert source[location.span.start : location.span.end].startswith(caret_text)
    assert location.stage_span.start <= location.span.start < max(location.stage_span.end, location.span.end)


def test_error_text_has_headline_and_caret_under_the_problem() -> None:
    source = 'x | rex field=Message "(?i)Beginning(\\s+)?(?<process>.+) | table x'
    with pytest.raises(SplSyntaxError) as info:
        parse(source, rule_id="1117.1196")
    assert str(info.value) == (
        "rule 1117.1196, stage 2 (rex), column 19: unbalanced quotes: this '\"' is never closed\n"
        '    rex field=Message "(?i)Beginning(\\s+)?(?<process>.+)\n'
        "                      ^"
    )


def test_error_caret_spans_the_offending_token() -> None:
    with pytest.raises(SplSyntaxError) as info:
        parse("index=x | stats as x count", rule_id="R")
    assert str(info.value) == (
        "rule R, stage 2 (stats), column 7: misplaced AS: it must follow an aggregation such as count or dc(x)\n"
        "    stats as x count\n"
        "          ^^"
    )


def test_error_inside_subsearch_points_into_the_outer_stage() -> None:
    source = "a | join u [search b | eval x=] | table u"
    with pytest.raises(SplSyntaxError) as info:
        parse(source, rule_id="R")
    text = str(info.value)
    assert text.splitlines()[0] == (
        "rule R, stage 2 (join), column 25: in subsearch stage 2 (eval): missing expression after 'x='"
    )
    assert text.splitlines()[1] == "    join u [search b | eval x=]"


@pytest.mark.parametrize("source", ["|" * 5, "[" * 3, "]", '"\\', "a | eval x='", "((((", "x | foreach", "x |\n|"])
def test_odd_input_gives_a_syntax_error(source: str) -> None:
    with pytest.raises(SplSyntaxError):
        parse(source)


def test_odd_but_valid_terms_parse() -> None:
    """A lone backslash or control character is just a search term."""
    assert parse("\x00").commands[0].expr.value.text == "\x00"
    assert parse("\\").commands[0].expr.value.text == "\\"
    assert parse("a=\\").commands[0].expr.value.text == "\\"


def test_mltk_summary_in_a_subsearch_is_a_command_not_search_terms() -> None:
    """ESCU writes ``join user [ summary model_v1 ]``; reading it as a search for the words would be wrong."""
    join = parse("x | join user [ summary cloud_excessive_api_calls_v1]").commands[1]
    command = join.subsearch.pipeline.commands[0]
    assert isinstance(command, ast.GenericCommand) and command.name == "summary"
    assert command.words == ["cloud_excessive_api_calls_v1"]
