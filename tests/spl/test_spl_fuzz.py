"""Property test: on any text, ``parse`` returns a Pipeline or raises SplSyntaxError / UnsupportedError.

Random strings over SPL's special characters and mutations of corpus-like searches (deleting or inserting
quotes, pipes, brackets, parentheses, operators, backticks) must never crash the parser with a Python
exception, hang, or produce spans outside the source.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqldetect.errors import SplSyntaxError, UnsupportedError
from sqldetect.spl import ast
from sqldetect.spl.parser import parse
from sqldetect.spl.printer import format_pipeline, pipeline_to_dict

SEEDS = [
    '`x` (TERM(EventCode=1040) OR "<EventID>1040<") TERM(MsiInstaller) | rex field=Message "(?i)a\\s(?<p>.+)" '
    "| table _time, host | bin span=1s | stats values(*) as * by _time, host | where c < 2 and isnotnull(p)",
    '| tstats summariesonly=false count min(_time) as firstTime from datamodel=Endpoint.Processes where '
    'Processes.process_name IN ("a.exe", b*) NOT Processes.user=*$ by Processes.dest _time span=1h '
    '| rename Processes.* AS * | convert timeformat="%Y" ctime(firstTime) ```c```',
    'index=x sourcetype="a:b" earliest=-24h@h | eval x=if(a="b", mvindex(split(c, ","), -1), null()), y=\'f.g\' . "h" '
    '| join type=left u [search y | stats count(eval(z>1)) as n by u] | lookup t a AS b OUTPUT c AS d '
    '| sort - n | dedup 2 u sortby -_time | head (n > 1) | foreach * [eval <<FIELD>>=1] | fields - _raw',
    '| inputlookup t where a=1 | transaction u startswith="x=1" endswith=eval(y==2) maxspan=5m '
    '| appendpipe [| timechart span=5m count] | spath input=p path=a{}.b | makemv delim="," f | mvexpand f',
]

SPECIAL = [*'"|[]()`=!<>,\\\' *-+.', " AND ", " OR ", " NOT ", " IN ", " as ", " by ", "```", "eval(", "\n"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        if draw(st.booleans()) and text:
            length = draw(st.integers(min_value=1, max_value=4))
            text = text[:position] + text[position + length :]
        else:
            text = text[:position] + draw(st.sampled_from(SPECIAL)) + text[position:]
    return text


ALPHABET = st.sampled_from(
    [*'ab=|[]()"`\\*!<>, -+.\'\n', "AND", "OR", "NOT", "IN", "eval", "stats", "search", "tstats", "by", "as", "where"]
)
random_spl = st.lists(ALPHABET, max_size=40).map(" ".join) | st.text(max_size=60)


def check(text: str) -> None:
    try:
        pipeline = parse(text, rule_id="fuzz")
    except (SplSyntaxError, UnsupportedError) as err:
        assert "internal parser error" not in err.message, err.message
        assert str(err)  # the message and its caret excerpt render
        span = err.location.span
        if span is not None:
            assert 0 <= span.start <= span.end <= len(text)
        return
    assert isinstance(pipeline, ast.Pipeline) and pipeline.commands
    assert len(pipeline.source) == len(text)
    format_pipeline(pipeline)
    pipeline_to_dict(pipeline)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_searches_only_raise_project_errors(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_spl)
def test_random_text_only_raises_project_errors(text: str) -> None:
    check(text)


def test_seeds_parse() -> None:
    for seed in SEEDS[1:]:
        assert parse(seed).commands
