"""Field mappings applied to real warehouse tables: the same rules give the same hits over a Winlogbeat/ECS
table as over sqldetect's own table, every column type is converted to its field's kind, and a mapping that
does not fit the table says so."""

from __future__ import annotations

import json

import duckdb
import pytest

from sqldetect import Engine, load_rules
from sqldetect.compile import CompileOptions, compile_spl
from sqldetect.errors import FieldMappingError
from sqldetect.mapping import load_mapping, parse_mapping
from sqldetect.rules import Rule
from sqldetect.schema import FieldKind

from .tables import SEED, create_nested_ecs_table, load_native

SAME_HITS = [
    "EventCode=4688 | table _time host CommandLine NewProcessName",
    "EventCode=4625 | stats count by host, IpAddress",
    'CommandLine="*powershell*" OR Image="*powershell*" | stats values(host) as hosts count',
    "* | head 5 | table _time EventCode",  # newest first: the order comes from the mapped @timestamp
    "| tstats count from datamodel=Endpoint.Processes by Processes.process_name Processes.dest",
    '"203.0.113.77" | stats count by EventCode',  # a bare term searches the mapped _raw
    'EventCode=4624 earliest="05/06/2024:00:00:00" latest="05/07/2024:00:00:00" | stats count',
    "EventCode=4688 | eval cmd=lower(CommandLine) | where like(cmd, \"%http%\") | table host cmd",
    "EventCode=4688 | join type=left host [search EventCode=4624 | stats count as logons by host] "
    "| table host NewProcessName logons",
]


def _rows(outcome) -> list[str]:
    assert outcome.status == "ok", outcome.error
    return [json.dumps(row, sort_keys=True) for row in outcome.rows]


def test_rules_give_the_same_hits_over_an_ecs_table_as_over_the_native_table(evtx_engines) -> None:
    native, ecs = evtx_engines()
    rules = [*load_rules(SEED), *(Rule(id=f"q{i}", title=spl, logic=spl) for i, spl in enumerate(SAME_HITS))]
    for rule in rules:
        expected, actual = _rows(native.run_rule(rule)), _rows(ecs.run_rule(rule))
        assert expected, f"{rule.id} finds nothing: a useless comparison"
        assert actual == expected, rule.logic
    assert len(_rows(ecs.run_rule(rules[0]))) == 6  # the seed rule's six MSI installs
    assert ecs.warnings == []  # the table has every column the shipped mapping names


def test_the_seed_rule_reads_the_mapped_columns_in_one_source_cte(evtx_engines) -> None:
    _, ecs = evtx_engines()
    sql = ecs.compile_rule(next(iter(load_rules(SEED)))).sql()
    source = sql.split('"s1_search"')[0]
    # word matching over-approximates: EventCode and EventID are named inside TERM() and a quoted term
    assert '-- derived fields: _time, _raw, host, EventCode, EventID, signature_id, Message' in source
    assert '"event.original" AS "_raw"' in source and '"host.name" AS "host"' in source
    assert 'TIMEZONE(\'UTC\', "@timestamp") AS "_time"' in source
    assert "CommandLine" not in source  # only the fields the rule can reach
    assert 'FROM "s0_source"' in sql


def test_the_fields_a_rule_sees_are_the_mapped_names_with_their_kinds(evtx_engines) -> None:
    _, ecs = evtx_engines()
    fields = ecs.fields()
    assert fields.get("_time").kind is FieldKind.TIME
    assert fields.get("EventCode").kind is FieldKind.NUMBER  # a VARCHAR column declared a number
    assert fields.get("CommandLine").kind is FieldKind.STRING
    assert fields.get("Image").kind is FieldKind.STRING  # from the winlog.event_data.* wildcard
    assert fields.get("Account_Name").kind is FieldKind.MULTIVALUE  # a list column stays multivalue
    assert "winlog.event_id" in fields  # the table's own columns stay readable
    compiled = ecs.compile_spl("* | table _time EventCode Image")
    assert [(i.name, i.kind.value) for i in compiled.relation] == [
        ("_time", "time"), ("EventCode", "number"), ("Image", "string")]


def test_a_nested_ecs_table_is_read_through_struct_member_paths() -> None:
    native = load_native()
    create_nested_ecs_table(native)
    mapping = parse_mapping("""
fields:
  _time: '@timestamp'
  _raw: message
  host: host.name
  EventCode: {column: winlog.event_id, kind: number}
  '*': winlog.event_data.*
""", "nested.yaml")
    ecs = Engine(native.con, table="winlogbeat_nested", field_mapping=mapping)
    assert ecs.warnings == []
    sql = ecs.compile_spl("EventCode=4688 | table _time host CommandLine").sql()
    assert """STRUCT_EXTRACT(STRUCT_EXTRACT("winlog", 'event_data'), 'CommandLine') AS "CommandLine\"""" in sql
    for spl in ("EventCode=4688 | table _time host CommandLine NewProcessName", "* | head 3 | table _time host",
                '"203.0.113.77" | stats count by IpAddress'):
        assert ecs.run_spl(spl).rows == native.run_spl(spl).rows, spl


def _engine_over(columns_sql: str, fields: dict, name: str = "t") -> Engine:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {name} AS {columns_sql}")
    return Engine(con, table=name, field_mapping=fields)


def test_time_columns_of_any_type_become_utc_timestamps() -> None:
    engine = _engine_over(
        "SELECT * FROM (VALUES (TIMESTAMPTZ '2024-05-06 12:00:00+02', '2024-05-06T10:00:01+0200', "
        "1714989602, '2024-05-06T10:00:03', TIMESTAMP '2024-05-06 10:00:04', DATE '2024-05-06')) "
        "v(tz, iso, epoch, naive, ts, d)",
        {"_time": "tz", "iso_t": "iso", "epoch_t": "epoch", "naive_t": "naive", "ts_t": "ts", "day": "d"})
    rows = engine.run_spl('* | eval a=strftime(_time, "%H:%M:%S"), b=epoch_t, c=ts_t | table _time a b c').rows
    assert rows == [{"_time": "2024-05-06T10:00:00Z", "a": "10:00:00", "b": 1714989602, "c": 1714989604}]
    for name, spl in (("iso", "iso_t"), ("naive", "naive_t")):
        # text is only a time when it is _time: map it as _time to check the conversion
        single = _engine_over("SELECT '2024-05-06T10:00:01+0200' AS iso, '2024-05-06T10:00:03' AS naive",
                              {"_time": name})
        assert single.run_spl("* | table _time").rows == [
            {"_time": {"iso": "2024-05-06T08:00:01Z", "naive": "2024-05-06T10:00:03Z"}[name]}], spl
    epoch = _engine_over("SELECT 1714989602 AS e", {"_time": "e"})
    assert epoch.run_spl("* | table _time").rows == [{"_time": "2024-05-06T10:00:02Z"}]
    assert engine.fields().get("ts_t").kind is FieldKind.NUMBER  # a timestamp that is not _time: epoch seconds


def test_values_are_converted_to_the_declared_kind() -> None:
    engine = _engine_over(
        "SELECT '4688' AS code, 12.5::DECIMAL(5,2) AS amount, true AS flag, 7 AS n, ['a', 'b'] AS tags, "
        "[1, 2] AS nums, 'x' AS single, 'not a number' AS junk",
        {"EventCode": {"column": "code", "kind": "number"}, "amount": "amount", "flag": "flag",
         "n_text": {"column": "n", "kind": "string"}, "tags": "tags", "nums": "nums",
         "single": {"column": "single", "kind": "multivalue"}, "junk": {"column": "junk", "kind": "number"}})
    kinds = {f.name: f.kind for f in engine.fields()}
    assert (kinds["EventCode"], kinds["amount"], kinds["flag"], kinds["n_text"]) == (
        FieldKind.NUMBER, FieldKind.NUMBER, FieldKind.STRING, FieldKind.STRING)
    assert (kinds["tags"], kinds["nums"], kinds["single"]) == (FieldKind.MULTIVALUE,) * 3
    rows = engine.run_spl("EventCode>4000 | eval next=EventCode+1, amt=amount*2, t=mvcount(tags), "
                          "s=mvcount(single), l=len(n_text) | table next amt flag t nums s l junk").rows
    assert rows == [{"next": 4689, "amt": 25, "flag": "true", "t": 2, "nums": ["1", "2"], "s": 1, "l": 1}]


def test_a_column_the_table_lacks_leaves_the_field_absent_with_a_warning() -> None:
    engine = _engine_over("SELECT 'ws1' AS hostname, 'cmd.exe /c whoami' AS \"process.command_line\"",
                          {"host": "host.name", "user": {"column": "user.name"}, "computer": "computer",
                           "CommandLine": "process.command_line"})
    assert engine.warnings == [
        "<dict>: field 'host' is absent: no column 'host.name' and no STRUCT column 'host'",
        "<dict>: field 'user' is absent: no column 'user.name' and no STRUCT column 'user'",
        "<dict>: field 'computer' is absent: no column 'computer'",
    ]
    assert engine.run_spl("* | table host CommandLine").rows == [{"CommandLine": "cmd.exe /c whoami"}]
    assert engine.run_spl("host=* | stats count").rows == [{"count": 0}]


def test_an_explicit_entry_the_table_lacks_falls_back_to_the_wildcard() -> None:
    engine = _engine_over('SELECT \'a.exe\' AS "winlog.event_data.CommandLine"',
                          {"CommandLine": "process.command_line", "*": "winlog.event_data.*"})
    assert engine.warnings == []
    assert engine.run_spl("* | table CommandLine").rows == [{"CommandLine": "a.exe"}]


def test_an_explicit_entry_wins_over_the_wildcard() -> None:
    engine = _engine_over('SELECT \'ecs\' AS "process.command_line", \'raw\' AS "winlog.event_data.CommandLine"',
                          {"*": "winlog.event_data.*", "CommandLine": "process.command_line"})
    assert engine.run_spl("* | table CommandLine").rows == [{"CommandLine": "ecs"}]


def test_a_mapped_field_replaces_a_column_of_the_same_name() -> None:
    engine = _engine_over("SELECT 'short' AS host, 'ws1.corp.example' AS fqdn", {"host": "fqdn"})
    assert engine.run_spl("host=ws1* | table host fqdn").rows == [{"host": "ws1.corp.example",
                                                                   "fqdn": "ws1.corp.example"}]


def test_sql_expression_entries_compute_fields() -> None:
    engine = _engine_over("SELECT 'Security' AS channel, 'WS1' AS host_upper",
                          {"source": {"sql": "'WinEventLog:' || channel"}, "host": {"sql": "lower(host_upper)"}})
    assert engine.run_spl('source="WinEventLog:Security" | table source host').rows == [
        {"source": "WinEventLog:Security", "host": "ws1"}]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"x": {"sql": "lower(no_such_column)"}}, "field 'x': the SQL does not fit table 't': Binder Error"),
        ({"x": {"sql": "no_such_function(a)"}}, "field 'x': the SQL does not fit table 't'"),
        ({"x": "s"}, "field 'x': 's' is a STRUCT(k VARCHAR); map one of its members instead"),
        ({"x": {"column": "a", "kind": "multivalue"}, "y": {"column": "l", "kind": "number"}},
         "field 'y': a VARCHAR[] value cannot be a number field"),
    ],
)
def test_a_mapping_that_does_not_fit_the_table_is_an_error_naming_the_field(fields: dict, message: str) -> None:
    engine = _engine_over("SELECT 'v' AS a, {'k': 'v'} AS s, ['x'] AS l", fields)
    with pytest.raises(FieldMappingError) as caught:
        engine.resolved_mapping()
    assert caught.value.location.file == "<dict>"
    assert message in caught.value.message


def test_a_mapping_needs_its_table() -> None:
    engine = Engine(table="nowhere", field_mapping={"a": "b"})
    assert engine.resolved_mapping() is None  # nothing to resolve against yet: translation uses it as written
    with pytest.raises(FieldMappingError, match="table 'missing' does not exist"):
        load_mapping("winlogbeat").resolve(engine.con, "missing")


def test_without_a_database_the_mapping_is_applied_as_written() -> None:
    options = CompileOptions(field_mapping=load_mapping("winlogbeat"))
    sql = compile_spl("EventCode=4688 | table _time host CommandLine", options=options).sql()
    assert '"process"."command_line" AS "CommandLine"' in sql  # no flat column known: a member path
    assert '"@timestamp" AS "_time"' in sql


def test_a_subsearch_gets_the_mapped_fields_it_reads(evtx_engines) -> None:
    native, ecs = evtx_engines()
    spl = ("| makeresults | eval host=\"WS01.corp.example\" "
           "| join host [search EventCode=4688 | stats values(NewProcessName) as procs by host] | table host procs")
    assert ecs.run_spl(spl).rows == native.run_spl(spl).rows != []
    assert '"winlog.event_data.NewProcessName" AS "NewProcessName"' in ecs.compile_spl(spl).sql()
