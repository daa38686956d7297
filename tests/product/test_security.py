"""Rules are untrusted input: nothing in a rule can change what the SQL does beyond the rule's meaning, read a
file outside the lookup directories, or crash sqldetect.

Each attempt is checked three ways: by behaviour (the query's result is the rule's meaning, e.g. a value comes
back exactly as written, or the rule fails with a project error), by the state afterwards (the events table
and a canary table are intact), and by scanning the generated SQL with sqlglot's DuckDB tokenizer: the marker
``ZQ`` that every payload carries may only appear inside string literals, quoted identifiers or comments.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from sqldetect.cli import main
from sqldetect.compile.lookups import LookupDefinition, LookupResolver
from sqldetect.engine import Engine
from sqldetect.errors import (
    LookupError_,
    QueryError,
    SplSyntaxError,
    SqlDetectError,
    TranslationError,
)
from sqldetect.rules import Rule

MARK = "ZQ"
PAYLOADS = {
    "quote": "ZQ'",
    "drop": "ZQ'; DROP TABLE events; --",
    "read_csv": "ZQ' || (SELECT * FROM read_csv('/etc/passwd')) || '",
    "comment_close": "ZQ */ DROP TABLE canary; /* x",
    "newline": "ZQ\n; DROP TABLE events; --\r\nx",
    "double_quote": 'ZQ"; DROP TABLE events; --',
    "backslash": "ZQ\\'; DROP TABLE events; --",
    "line_separators": "ZQ\u2028DROP\u2029TABLE\x0bevents\x0c\x1c\x85",
    "dollar_quote": "ZQ$$; DROP TABLE events; $$",
}
NO_STAR = {k: v for k, v in PAYLOADS.items() if "*" not in v}  # `*` is a wildcard where fields are named
HOSTS = ["ws01", *PAYLOADS.values()]


def spl_string(value: str) -> str:
    """``value`` as an SPL double-quoted string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def regex_literal(value: str) -> str:
    """A regex matching ``value`` literally (RE2 syntax)."""
    return "".join("\\" + ch if ch in r"\.+*?()|[]{}^$" else ch for ch in value)


def assert_rule_text_only_in_literals(sql: str) -> None:
    """Every token that holds the marker is a string literal or a quoted identifier (comments are not tokens)."""
    for token in Dialect.get_or_raise("duckdb").tokenize(sql):
        if MARK in token.text:
            assert token.token_type in (TokenType.STRING, TokenType.IDENTIFIER), (token, sql)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """Events whose host and _raw are the payloads (so a search can find them exactly), a canary table, and a
    lookup directory holding one CSV."""
    con = duckdb.connect()
    con.execute("CREATE TABLE events (_time TIMESTAMP, _serial BIGINT, host VARCHAR, _raw VARCHAR)")
    con.executemany("INSERT INTO events VALUES (TIMESTAMP '2024-01-01' + to_seconds(?), ?, ?, ?)",
                    [(i, i, host, f"event {host} end") for i, host in enumerate(HOSTS)])
    con.execute("CREATE TABLE canary AS SELECT 42 AS answer")
    lookups = tmp_path / "lookups"
    lookups.mkdir()
    (lookups / "hosts.csv").write_text("host,owner\nws01,alice\n", encoding="utf-8")
    (tmp_path / "secret.csv").write_text("host,owner\nws01,mallory\n", encoding="utf-8")
    definitions = [LookupDefinition(name="escape", filename="../secret.csv"),
                   LookupDefinition(name="absolute", filename=str(tmp_path / "secret.csv"))]
    return Engine(con, lookups=LookupResolver([lookups], definitions))


def intact(engine: Engine) -> None:
    assert engine.con.execute("SELECT count(*) FROM events").fetchall() == [(len(HOSTS),)]
    assert engine.con.execute("SELECT answer FROM canary").fetchall() == [(42,)]


def run(engine: Engine, spl: str, *, scan: bool = True) -> list[dict] | SqlDetectError:
    """Run ``spl``; the rows, or the project error it failed with. The SQL is scanned (unless it is huge and holds
    no payload: the size tests)."""
    try:
        compiled = engine.compile_spl(spl)
        sql = compiled.sql()
    except SqlDetectError as err:
        intact(engine)
        return err
    if scan:
        assert_rule_text_only_in_literals(sql)
    try:
        rows = engine.execute(compiled).rows
    except QueryError as err:
        return err
    finally:
        intact(engine)
    return rows


# ---------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_value_comes_back_exactly_as_written(engine: Engine, payload: str) -> None:
    rows = run(engine, f"* | head 1 | eval x={spl_string(payload)} | table x")
    assert rows == [{"x": payload}]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_searched_value_matches_only_itself(engine: Engine, payload: str) -> None:
    assert run(engine, f"host={spl_string(payload)} | table host") == [{"host": payload}]
    assert run(engine, f"* | where host={spl_string(payload)} | table host") == [{"host": payload}]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_regex_is_a_pattern_and_nothing_else(engine: Engine, payload: str) -> None:
    pattern = spl_string("^event " + regex_literal(payload) + " end$")
    assert run(engine, f"* | regex _raw={pattern} | table host") == [{"host": payload}]
    extracted = run(engine, f"* | rex field=_raw {spl_string('event (?<got>' + regex_literal(payload) + ') end')} "
                            "| where isnotnull(got) | table got")
    assert extracted == [{"got": payload}]
    raw = run(engine, f"* | eval y=replace(_raw, {pattern}, \"[\\\\0]\") | where _raw=y | stats count")
    assert raw == [{"count": len(HOSTS) - 1}]  # only the payload host is rewritten
    broken = run(engine, f"* | where match(_raw, {spl_string(payload + '(')})")
    assert isinstance(broken, QueryError)  # an invalid regex is a clean error


@pytest.mark.parametrize("payload", NO_STAR.values(), ids=NO_STAR.keys())
def test_a_field_name_is_a_name_and_nothing_else(engine: Engine, payload: str) -> None:
    name = spl_string(payload)
    assert run(engine, f"* | head 1 | eval {name}=1 | table {name}") == [{payload: 1}]
    assert run(engine, f"* | head 1 | rename host AS {name} | table {name}") == [{payload: HOSTS[-1]}]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_lookup_name_never_names_a_file_outside_the_lookup_directories(engine: Engine, payload: str) -> None:
    for spl in (f"| inputlookup {spl_string(payload)}", f"* | lookup {spl_string(payload)} host OUTPUT owner"):
        assert isinstance(run(engine, spl), LookupError_)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_an_spl_comment_is_only_a_comment(engine: Engine, payload: str) -> None:
    assert run(engine, f"* ```{payload}``` | stats count") == [{"count": len(HOSTS)}]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_macro_arguments_cannot_escape_their_literal(engine: Engine, payload: str, tmp_path: Path) -> None:
    macros = tmp_path / "macros.conf"
    macros.write_text('[tag(1)]\nargs = v\ndefinition = eval tag="$v$"\n', encoding="utf-8")
    with_macros = Engine(engine.con, macros=[macros], lookups=engine.lookups)
    result = run(with_macros, f"* | head 1 | `tag({spl_string(payload)})` | table tag")
    # the argument is substituted as text inside the definition's quotes: a `"` in it ends the string early and
    # the SPL no longer parses; anything else is the value, verbatim
    if '"' in payload:
        assert isinstance(result, SplSyntaxError)
    else:
        assert result == [{"tag": payload}]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_rule_ids_and_titles_stay_inside_comments_and_names(payload: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    import yaml

    rules.write_text(yaml.safe_dump([
        {"id": payload, "title": payload, "logic_format": "Splunk", "logic": "EventCode=1 | table host",
         "technique_id": [payload]},
        {"id": "second", "title": payload, "logic_format": "Splunk", "logic": "* | table host"}]),
        encoding="utf-8")
    printed = CliRunner().invoke(main, ["sql", str(rules)])
    assert printed.exit_code == 0, printed.output
    assert_rule_text_only_in_literals(printed.stdout)
    out = tmp_path / "sql"
    written = CliRunner().invoke(main, ["compile", str(rules), "-o", str(out)])
    assert written.exit_code == 0, written.output
    for path in out.iterdir():
        assert path.name.replace("_", "").isalnum() or path.name.endswith(".sql")
        assert "/" not in path.name.removesuffix(".sql")
        assert_rule_text_only_in_literals(path.read_text(encoding="utf-8"))
    outcome = Engine().run_rule(Rule(id=payload, title=payload, logic="* | nosuchcommand"))
    assert outcome.status == "refused" and outcome.error.location.rule_id == payload


def test_errors_print_on_one_line_whatever_the_rule_holds(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sql", "--spl", "| inputlookup " + spl_string(PAYLOADS["newline"])])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: stage 1 (inputlookup)") and "ZQ\\n; DROP TABLE events" in lines[0]
    assert lines[1].strip().startswith('inputlookup "ZQ') and set(lines[2].strip()) == {"^"}


# ---------------------------------------------------------------------------------------------- files


def test_nothing_outside_the_lookup_directories_can_be_read(engine: Engine) -> None:
    assert run(engine, "| inputlookup hosts.csv") == [{"host": "ws01", "owner": "alice"}]
    assert run(engine, "* | lookup hosts.csv host OUTPUT owner | where isnotnull(owner) | table owner") == [
        {"owner": "alice"}]
    for name in ("../secret.csv", "/etc/passwd", "escape", "absolute", "..", "lookups/../../secret.csv"):
        assert isinstance(run(engine, f"| inputlookup {spl_string(name)}"), LookupError_), name
    assert run(engine, "* | head 1 | eval x=\"read_csv('/etc/passwd')\" | table x") == [
        {"x": "read_csv('/etc/passwd')"}]


def test_after_the_first_rule_the_connection_is_locked_down(engine: Engine, tmp_path: Path) -> None:
    assert run(engine, "* | stats count") == [{"count": len(HOSTS)}]
    con = engine.con
    for statement in ("SELECT * FROM read_csv('/etc/passwd')",
                      f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')",
                      f"COPY events TO '{tmp_path / 'out.csv'}'",
                      f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
                      "SET enable_external_access = true",
                      "SET lock_configuration = false",
                      "INSTALL httpfs",
                      "LOAD httpfs",
                      "SELECT * FROM glob('/etc/*')"):
        with pytest.raises(duckdb.Error):
            con.execute(statement)
    assert not (tmp_path / "out.csv").exists()
    # the lookup directory is still readable: that is what lookups need
    assert con.execute(f"SELECT count(*) FROM read_csv('{tmp_path / 'lookups' / 'hosts.csv'}')").fetchall() == [(1,)]
    with pytest.raises(SqlDetectError, match="events must be loaded before the first rule runs"):
        engine.load(["fixtures/"])


def test_a_connection_locked_with_external_access_on_is_refused() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE events (_time TIMESTAMP, _raw VARCHAR)")
    con.execute("SET lock_configuration = true")
    with pytest.raises(SqlDetectError, match="locked with external access on"):
        Engine(con).run_spl("* | stats count")


# ---------------------------------------------------------------------------------------------- sizes


def test_a_megabyte_of_spl_fails_cleanly_or_works(engine: Engine) -> None:
    megabyte = "a" * 1_000_000
    assert isinstance(run(engine, megabyte, scan=False), QueryError)  # a 1 MB bare term: too large for RE2
    assert run(engine, f'* | eval x="{megabyte}" | eval n=len(x) | stats max(n) as n', scan=False) == [
        {"n": 1_000_000}]


def test_ten_thousand_or_terms_work(engine: Engine) -> None:
    ten_thousand = " OR ".join(f'host="h{i}"' for i in range(9_999)) + ' OR host="ws01"'
    assert run(engine, f"{ten_thousand} | stats count", scan=False) == [{"count": 1}]


@pytest.mark.parametrize("spl", [
    "(" * 5_000 + "host=ws01" + ")" * 5_000,
    "* | eval x=" + "(" * 5_000 + "1" + ")" * 5_000,
    "* " + "[search " * 1_000 + "x" + "]" * 1_000,
    "* | where " + " AND ".join(f"x={i}" for i in range(10_000)),
], ids=["parentheses", "eval-parentheses", "subsearches", "and-terms"])
def test_deep_nesting_is_a_syntax_error(engine: Engine, spl: str) -> None:
    assert isinstance(run(engine, spl), SplSyntaxError)


def test_too_wide_or_too_long_rules_fail_cleanly(engine: Engine) -> None:
    wide = run(engine, "* | eval x=mvappend(" + ",".join(['"a"'] * 5_000) + ")")
    assert isinstance(wide, TranslationError) and "too deeply nested or too wide" in wide.message
    many_stages = run(engine, "* " + "| eval x=1 " * 2_000)
    assert isinstance(many_stages, QueryError)  # DuckDB's own expression-depth limit, reported cleanly
