"""sqldetect.datamodels: the shipped CIM definitions, resolution of data set names, user files (overrides,
warehouse tables), definition errors, and the compiled SQL's shape. Row-level behaviour of tstats and
``from datamodel`` is pinned by the conformance cases under tests/conformance/cases/{tstats,datamodels}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from sqlglot import exp

from sqldetect.compile import CompileOptions, compile_spl
from sqldetect.compile.relation import Kind
from sqldetect.datamodels import (
    DataModels,
    _referenced_fields,
    load_datamodels,
    package_datamodels,
)
from sqldetect.errors import DataModelError, TranslationError, UnsupportedError
from sqldetect.schema import Field, FieldKind, Schema

MESSAGES = Path(__file__).resolve().parents[2] / "sqldetect" / "data" / "messages.yaml"
HEADER_FIELDS = ["_time", "_raw", "_serial", "host", "source", "sourcetype", "index", "EventCode", "Channel",
                 "Computer"]
SQL_TYPES = {FieldKind.STRING: "VARCHAR", FieldKind.NUMBER: "DOUBLE", FieldKind.TIME: "TIMESTAMP",
             FieldKind.MULTIVALUE: "VARCHAR[]", FieldKind.BOOLEAN: "BOOLEAN"}


def windows_field_names() -> set[str]:
    """Every Windows event field the definitions may read: messages.yaml EventData names plus the header."""
    messages = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    names = set(HEADER_FIELDS)
    for events in messages.values():
        for entry in events.values():
            names.update(entry.get("fields") or [])
    return names


def windows_schema() -> Schema:
    """A Windows event table with every field as a column (DuckDB columns are case-insensitive, so a name
    differing only in case from an earlier one gets its own column, as the event store does)."""
    fields = [Field("_time", FieldKind.TIME), Field("_serial", FieldKind.NUMBER), Field("_raw")]
    taken = {"_time", "_serial", "_raw"}
    for name in sorted(windows_field_names() - taken):
        column = name if name.lower() not in taken else f"{name}__2"
        taken.add(column.lower())
        fields.append(Field(name, FieldKind.STRING, column))
    return Schema(fields)


def create_events(con: duckdb.DuckDBPyConnection, schema: Schema, rows: list[dict[str, Any]] = ()) -> None:
    con.execute('CREATE TABLE "events" (' + ", ".join(f'"{f.column_name}" {SQL_TYPES[f.kind]}' for f in schema)
                + ")")
    for row in rows:
        names = list(row)
        columns = ", ".join(f'"{schema.get(n).column_name}"' for n in names)  # type: ignore[union-attr]
        marks = ", ".join("?" for _ in names)
        con.execute(f'INSERT INTO "events" ({columns}) VALUES ({marks})', [row[n] for n in names])


def _selects_star(select: exp.Expression) -> bool:
    return any(isinstance(item, exp.Star) for s in select.find_all(exp.Select) for item in s.expressions)


def write(tmp_path: Path, text: str, name: str = "user.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------- package


def test_package_models_cover_the_corpus_shapes() -> None:
    models = package_datamodels()
    for path in ["Endpoint.Processes", "Endpoint.Registry", "Endpoint.Filesystem", "Endpoint.Services",
                 "Network_Traffic.All_Traffic", "Network_Resolution.DNS", "Authentication.Authentication",
                 "Authentication.Failed_Authentication", "Change.All_Changes", "Change.Account_Management",
                 "Risk.All_Risk", "Web.Web", "Alerts.Alerts", "Email.All_Email", "Change_Analysis.All_Changes",
                 "Network_Sessions.All_Sessions.DHCP", "Vulnerabilities.Vulnerabilities",
                 "UEBA.All_UEBA_Events.UEBA_Anomalies", "Identity_Management.All_Identities"]:
        dataset = path.partition(".")[2]
        assert models.resolve(path).name == dataset.split(".")[-1], path
    for path in ["Risk.All_Risk", "Alerts.Alerts", "Email.All_Email", "Identity_Management.All_Identities"]:
        assert models.resolve(path).fed_by_nothing, path
    assert not models.resolve("Endpoint.Processes").fed_by_nothing


def test_definitions_read_only_known_windows_fields() -> None:
    """A typo in a field name (TargetObjetc) would silently give NULL: every field a constraint or expression
    reads must be a Windows event field (messages.yaml) or a field of the data set's own chain."""
    known = windows_field_names()
    problems = []
    for model in package_datamodels():
        for dataset in model.datasets():
            own = {name for ancestor in dataset.chain()[:-1] for name in ancestor.fields}
            texts = [dataset.search, *(b.search for b in dataset.branches)]
            texts += [f.eval for f in dataset.fields.values()]
            texts += [t for b in dataset.branches for t in b.evals.values()]
            for text in texts:
                if text is None:
                    continue
                names = _referenced_fields(text.tree)
                assert names is not None
                unknown = names - known - own
                if unknown:
                    problems.append(f"{dataset.path}: {text.text!r} reads {sorted(unknown)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", [d.path for m in package_datamodels() for d in m.datasets()])
def test_every_data_set_translates_and_runs(path: str) -> None:
    """Each data set, in both shapes (tstats and from), gives SQL that DuckDB runs on a Windows event table."""
    schema = windows_schema()
    con = duckdb.connect()
    create_events(con, schema)
    first_field = next(iter(package_datamodels().resolve(path).prefixed_fields()))[0]
    for spl in (f"| tstats count from datamodel={path} by {first_field}",
                f"| tstats count from datamodel={path.partition('.')[0]} where nodename={path.partition('.')[2]}",
                f"| from datamodel:{path} | head 1"):
        con.execute(compile_spl(spl, schema).sql()).fetchall()


def test_every_data_model_the_corpus_names_is_defined(shared_dir: Path) -> None:
    """Every ``datamodel=M`` / ``from datamodel M.D`` of the ESCU corpus names a model sqldetect defines, so no
    detection is refused for its data model alone."""
    import json
    import re

    named: set[str] = set()
    pattern = re.compile(r"datamodel\s*[=:]?\s*\"?([A-Za-z_]+)")
    with (shared_dir / "corpus" / "escu" / "detections.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            named.update(pattern.findall(json.loads(line).get("search") or ""))
    named.discard("datamodel")  # "| datamodel" command spellings, not a model name
    models = package_datamodels()
    assert named, "no data model references found: the pattern is wrong"
    assert sorted(n for n in named if n not in models) == []


def test_a_data_set_nothing_feeds_says_so_in_a_note() -> None:
    query = compile_spl("| tstats count from datamodel=Email where nodename=All_Email.Delivery by All_Email.src_user")
    assert query.notes == ["data model Email.All_Email.Delivery has no rows: no Windows event feeds Email.All_Email "
                           "(a data model file of your own can point it at a table)"]
    assert any("no rows" in n for n in compile_spl("| from datamodel Alerts.Alerts").notes)
    assert not any("no rows" in n for n in compile_spl("| tstats count from datamodel=Endpoint.Processes").notes)


def test_sysmon_process_event_through_both_shapes() -> None:
    schema = windows_schema()
    con = duckdb.connect()
    create_events(con, schema, [{
        "_time": "2024-05-01 10:00:00", "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
        "EventCode": "1", "Computer": "ws1", "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c x",
        "User": "CORP\\a", "IntegrityLevel": "High", "Hashes": "MD5=AA,SHA256=BB", "ParentImage": "C:\\p.exe",
    }])
    tstats = compile_spl("| tstats count from datamodel=Endpoint.Processes by Processes.process_name "
                         "Processes.process_integrity_level Processes.user Processes.parent_process_name", schema)
    assert con.execute(tstats.sql()).fetchall() == [("cmd.exe", "high", "CORP\\a", "p.exe", 1)]
    from_ = compile_spl("| from datamodel:Endpoint.Processes | table process_hash CommandLine Image", schema)
    assert con.execute(from_.sql()).fetchall() == [(["MD5=AA", "SHA256=BB"], "cmd /c x",
                                                     "C:\\Windows\\System32\\cmd.exe")]
    assert from_.relation.fields["process_hash"].kind is Kind.MULTIVALUE


# ---------------------------------------------------------------------------------------------------- SQL shape


def test_tstats_reads_a_narrow_data_set_and_from_every_event_field() -> None:
    schema = windows_schema()
    tstats = compile_spl("| tstats count from datamodel=Endpoint.Processes by Processes.dest", schema)
    dm = tstats.stages[0]
    assert dm.name == "dm_Endpoint_Processes"
    assert not _selects_star(dm.select)
    assert "Image" not in dm.relation.fields  # raw fields stay behind
    assert "-- data model Endpoint.Processes: sysmon_process_create, security_process_create" in tstats.sql()
    from_ = compile_spl("| from datamodel:Endpoint.Processes", schema)
    assert from_.stages[0].name == "dm_Endpoint_Processes_events"
    assert _selects_star(from_.stages[0].select)
    assert "Image" in from_.relation.fields and "process_name" in from_.relation.fields


def test_narrow_chain_keeps_the_event_fields_a_child_reads() -> None:
    """Account_Management's own fields are computed from event fields (SubjectUserName...): the narrow root
    passes exactly those on."""
    compiled = compile_spl("| tstats count from datamodel=Change.All_Changes where nodename=All_Changes.Account_Management"
                           " by All_Changes.Account_Management.src_user", windows_schema())
    root, child = compiled.stages[0], compiled.stages[1]
    assert {"SubjectUserName", "SubjectUserSid", "TargetDomainName", "SubjectDomainName"} <= set(root.relation.fields)
    assert "Image" not in root.relation.fields
    assert child.name == "dm_Change_All_Changes_Account_Management"


def test_compiled_data_sets_are_cached_per_definitions() -> None:
    models = load_datamodels()
    options = CompileOptions(datamodels=models)
    schema = windows_schema()
    first = compile_spl("| tstats count from datamodel=Endpoint.Registry by Registry.dest", schema, options=options)
    assert len(models.compiled) == 1
    second = compile_spl("| tstats dc(Registry.user) as n from datamodel=Endpoint.Registry", schema, options=options)
    assert len(models.compiled) == 1
    assert first.stages[0].select is second.stages[0].select
    compile_spl("| from datamodel:Endpoint.Registry", schema, options=options)
    assert len(models.compiled) == 2  # the shape with every event field is another entry


def test_fields_absent_from_the_table_fold_away() -> None:
    """Over a table without Sysmon's fields the Sysmon branch cannot match and is left out; the SQL has no
    `WHERE FALSE` branch and still runs."""
    schema = Schema([Field("_time", FieldKind.TIME), Field("source"), Field("EventCode"), Field("NewProcessName"),
                     Field("Computer")])
    sql = compile_spl("| tstats count from datamodel=Endpoint.Processes by Processes.process_name", schema).sql()
    con = duckdb.connect()
    create_events(con, schema, [{"_time": "2024-05-01 10:00:00", "source": "WinEventLog:Security",
                                 "EventCode": "4688", "NewProcessName": "C:\\a\\b.exe"}])
    assert con.execute(sql).fetchall() == [("b.exe", 1)]


# ---------------------------------------------------------------------------------------------------- resolve


def test_resolve_names() -> None:
    models = package_datamodels()
    assert models.resolve("Network_Traffic").name == "All_Traffic"  # a model's only root
    assert models.resolve("Network_Resolution", "DNS").lineage == "DNS"
    failed = models.resolve("Authentication", "Authentication.Failed_Authentication")
    assert failed.lineage == "Authentication.Failed_Authentication"
    assert models.resolve("Authentication.Authentication", "Failed_Authentication") is failed
    assert models.resolve("Authentication.Failed_Authentication") is failed
    with pytest.raises(TranslationError, match="several root data sets"):
        models.resolve("Endpoint")
    with pytest.raises(TranslationError, match="has no data set 'Proc'"):
        models.resolve("Endpoint.Proc")
    with pytest.raises(UnsupportedError, match="'Malware' is not defined") as info:
        models.resolve("Malware.Malware_Attacks")
    assert info.value.construct == "datamodel=Malware"
    with pytest.raises(TranslationError, match="not inside"):
        models.resolve("Endpoint.Registry", "Processes")


def test_prefixes_follow_the_owner_lineage() -> None:
    dataset = package_datamodels().resolve("Change.All_Changes", "All_Changes.Account_Management")
    names = dict(dataset.prefixed_fields())
    assert names["All_Changes.user"] == "user"
    assert names["All_Changes.Account_Management.src_user"] == "src_user"


def test_unknown_data_model_error_points_at_it() -> None:
    with pytest.raises(UnsupportedError) as info:
        compile_spl("| tstats count from datamodel=Malware.Malware_Attacks by Malware_Attacks.src")
    assert info.value.location.column == len("tstats count from datamodel=") + 1
    assert "^^^^^^^^^^^^^^^^^^^^^^^" in str(info.value)


# ---------------------------------------------------------------------------------------------------- user files


def test_user_field_expression_wins_in_every_branch(tmp_path: Path) -> None:
    path = write(tmp_path, """
model: Endpoint
datasets:
  Processes:
    fields:
      dest: {eval: 'lower(host)'}
      company: Company
""")
    models = load_datamodels([path])
    processes = models.resolve("Endpoint.Processes")
    assert processes.fields["dest"].eval.text == "lower(host)"
    assert processes.fields["dest"].default == "unknown"  # the rest of the declaration is kept
    assert all("dest" not in b.evals for b in processes.branches)
    assert "company" in processes.fields
    assert "Endpoint" in models.models and "Risk" in models.models
    schema = Schema([Field("_time", FieldKind.TIME), Field("host"), Field("source"), Field("EventCode"),
                     Field("Image"), Field("Company"), Field("Computer")])
    con = duckdb.connect()
    create_events(con, schema, [{"_time": "2024-05-01 10:00:00", "host": "WS1", "Computer": "ignored",
                                 "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "EventCode": "1",
                                 "Image": "C:\\x.exe", "Company": "Evil Corp"}])
    sql = compile_spl("| tstats count from datamodel=Endpoint.Processes by Processes.dest Processes.company",
                      schema, options=CompileOptions(datamodels=models)).sql()
    assert con.execute(sql).fetchall() == [("ws1", "Evil Corp", 1)]


def test_user_data_set_over_a_warehouse_table(tmp_path: Path) -> None:
    path = write(tmp_path, """
model: Endpoint
datasets:
  Processes:
    table: edr.processes
    columns: {ts: time, hostname: string, exe: string, cmd: string}
    fields:
      _time: ts
      dest: hostname
      process: cmd
      process_name: 'replace(exe, "^.*/", "")'
""")
    models = load_datamodels([path])
    processes = models.resolve("Endpoint.Processes")
    assert processes.table == "edr.processes" and processes.branches == []
    con = duckdb.connect()
    con.execute("CREATE TABLE events (_time TIMESTAMP)")
    con.execute("CREATE SCHEMA edr")
    con.execute("CREATE TABLE edr.processes (ts TIMESTAMP, hostname VARCHAR, exe VARCHAR, cmd VARCHAR)")
    con.execute("INSERT INTO edr.processes VALUES ('2024-05-01 10:00:00', 'srv1', '/usr/bin/curl', 'curl x'),"
                " ('2024-05-01 11:00:00', 'srv1', '/usr/bin/curl', 'curl y')")
    options = CompileOptions(datamodels=models)
    schema = Schema([Field("_time", FieldKind.TIME)])
    tstats = compile_spl("| tstats count max(_time) as last from datamodel=Endpoint.Processes "
                         "where Processes.process_name=CURL by Processes.dest", schema, options=options)
    assert con.execute(tstats.sql()).fetchall() == [("srv1", 2, 1714561200.0)]
    rows = con.execute(compile_spl("| from datamodel:Endpoint.Processes | table process",
                                   schema, options=options).sql()).fetchall()
    assert rows == [("curl y",), ("curl x",)]  # newest first by the data set's _time


def test_user_file_adds_a_model(tmp_path: Path) -> None:
    path = write(tmp_path, """
model: Alerts
datasets:
  Alerts:
    search: EventCode=1116
    fields:
      signature: 'coalesce("Threat: " . ThreatName, "unknown")'
---
model: Email
datasets:
  All_Email:
    fields: {src_user: }
""")
    models = load_datamodels([path], include_package=False)
    assert sorted(models.models) == ["Alerts", "Email"]
    assert models.resolve("Email.All_Email").fed_by_nothing
    assert not models.resolve("Alerts.Alerts").fed_by_nothing


@pytest.mark.parametrize(("text", "message"), [
    ("model: X\ndatasets: {D: {fields: {a: 'lower('}}}", "data set X.D, field a: bad eval expression"),
    ("model: X\ndatasets: {D: {search: 'a=b )'}}", "data set X.D, search: bad search constraint"),
    ("model: X\ndatasets: {D: {colour: red}}", "data set X.D: unknown key 'colour'"),
    ("model: X\ndatasets: {D: {fields: {a: {knd: number}}}}", "field a: unknown key 'knd'"),
    ("model: X\ndatasets: {D: {fields: {a: {kind: float}}}}", "unknown kind 'float'"),
    ("model: X\ndatasets: {D: {branches: {b: {search: x=1, eval: {z: y}}}}}",
     "branch b: eval of 'z', which the data set does not declare"),
    ("model: X\ndatasets: {D: {table: t}}", "needs 'columns'"),
    ("model: X\ndatasets: {D: {table: a..b, columns: [x]}}", "bad table name 'a..b'"),
    ("model: X\ndatasets: {D: {children: {C: {table: t, columns: [a]}}}}", "only a root data set"),
    ("datasets: {}", "'model' (the data model's name) is missing"),
    ("- a\n- b", "a data model must be a mapping"),
    ("model: X\ndatasets: [1]", "'datasets' must be a mapping"),
    ("model: [unclosed", "not valid YAML"),
])
def test_bad_definitions_name_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataModelError) as info:
        load_datamodels([path], include_package=False)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataModelError, match="cannot read data model file"):
        load_datamodels([tmp_path / "nope.yaml"])


def test_translation_error_in_a_definition_names_it(tmp_path: Path) -> None:
    """An expression that parses but cannot be translated is reported with the data set, the field, the
    expression and the file, at the rule's datamodel= reference."""
    path = write(tmp_path, """
model: Endpoint
datasets:
  Processes:
    fields:
      process: 'nosuchfunction(CommandLine)'
""")
    models = load_datamodels([path])
    with pytest.raises(UnsupportedError) as info:
        compile_spl("| tstats count from datamodel=Endpoint.Processes by Processes.process",
                    options=CompileOptions(datamodels=models))
    text = str(info.value)
    assert "data model Endpoint.Processes, field process" in text
    assert "nosuchfunction(CommandLine)" in text and str(path) in text
    assert info.value.location.stage_index == 1


def test_options_must_hold_datamodels() -> None:
    with pytest.raises(TypeError, match="DataModels"):
        compile_spl("| tstats count from datamodel=Endpoint.Processes", options=CompileOptions(datamodels={}))


def test_empty_definitions_refuse_every_model() -> None:
    with pytest.raises(UnsupportedError, match="defined: none"):
        compile_spl("| tstats count from datamodel=Endpoint.Processes", options=CompileOptions(datamodels=DataModels()))
