"""The DuckDB event store: types, schema table, case collisions, multivalue, widening, dedup, transactions."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import duckdb
import pytest

from sqldetect.errors import EventInputError
from sqldetect.events import EventStore, loader, tasks
from sqldetect.schema import FieldKind, Schema
from tests.events.records import MSI_1040, SECURITY_4688, SYSMON_1, USERDATA_1102, winlogbeat_line

TEMPLATES = Path(__file__).parent / "data" / "messages.yaml"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def windows_file(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "win.ndjson", [winlogbeat_line(x) for x in (SECURITY_4688, SYSMON_1, MSI_1040, USERDATA_1102)])


def rows(store: EventStore, sql: str) -> list[tuple[object, ...]]:
    return store.con.execute(sql).fetchall()


def column_types(store: EventStore) -> dict[str, str]:
    return {name: dtype for name, dtype, *_ in rows(store, "DESCRIBE events")}


def test_windows_fields_and_types_in_duckdb(windows_file: Path) -> None:
    store = EventStore()
    report = store.load([windows_file], messages=[TEMPLATES], progress=False)
    assert (report.loaded, report.skipped, report.duplicates) == (4, 0, 0)
    types = column_types(store)
    assert types["_time"] == "TIMESTAMP"
    for name in ("EventCode", "EventID", "EventRecordID", "RecordNumber", "Level", "Task", "Opcode", "Version",
                 "ProcessID", "ThreadID", "Qualifiers", "signature_id", "_serial"):  # fmt: skip
        assert types[name] == "BIGINT", name
    for name in ("_raw", "host", "source", "sourcetype", "index", "Channel", "Computer", "Provider", "SourceName",
                 "Keywords", "UserID", "Message", "CommandLine", "NewProcessId"):  # fmt: skip
        assert types[name] == "VARCHAR", name
    assert types["Data"] == "VARCHAR[]"
    (security,) = rows(store, 'SELECT _time, host, source, sourcetype, "index", EventCode, EventID, signature_id, '
                              'EventRecordID, RecordNumber, Channel, Computer, Provider, SourceName, Level, Task, '
                              'Keywords, ProcessID, ThreadID, Qualifiers, UserID, "NewProcessId", "CommandLine" '
                              "FROM events WHERE EventCode = 4688")  # fmt: skip
    assert str(security[0]) == "2022-04-11 09:15:32.123456"
    assert security[1:5] == ("WS01.corp.example", "XmlWinEventLog:Security", "XmlWinEventLog", "main")
    assert security[5:10] == (4688, 4688, 4688, 58213, 58213)
    assert security[10:14] == ("Security", "WS01.corp.example", "Microsoft-Windows-Security-Auditing",
                               "Microsoft-Windows-Security-Auditing")  # fmt: skip
    assert security[14:] == (0, 13312, "0x8020000000000000", 4, 212, None, None, "0x1a2c",
                             'cmd.exe /c "whoami" &amp; echo &lt;done&gt;')  # fmt: skip  (XmlWinEventLog keeps entities)


def test_unnamed_data_message_and_empty_values(windows_file: Path) -> None:
    store = EventStore()
    store.load([windows_file], messages=[TEMPLATES], progress=False)
    (msi,) = rows(store, "SELECT Data, Message, Qualifiers, EventCode, UserID FROM events WHERE Provider = 'MsiInstaller'")
    assert msi == (["C:\\Temp\\GoogleUpdateHelper.msi", "2128", "(NULL)", ""],
                   "Beginning a Windows Installer transaction: C:\\Temp\\GoogleUpdateHelper.msi. Client Process Id: 2128.",
                   0, 1040, "S-1-5-18")  # fmt: skip
    # Sysmon's empty RuleName is absent (NULL), as Splunk keeps no empty values.
    (sysmon,) = rows(store, "SELECT RuleName, Image, Message IS NOT NULL FROM events WHERE EventCode = 1")
    assert sysmon == (None, "C:\\Windows\\System32\\msiexec.exe", True)


def test_schema_table_maps_fields_to_columns_with_kinds(windows_file: Path) -> None:
    store = EventStore()
    store.load([windows_file], progress=False)
    recorded = {field: (column, kind) for field, column, kind in rows(
        store, "SELECT field, column_name, kind FROM sqldetect_schema WHERE table_name = 'events' ORDER BY position")}  # fmt: skip
    assert recorded["_time"] == ("_time", "time")
    assert recorded["EventCode"] == ("EventCode", "number")
    assert recorded["Data"] == ("Data", "multivalue")
    assert recorded["Image"] == ("Image", "string")
    # Sysmon's ProcessId differs from the System field ProcessID only in case: it gets its own column.
    assert recorded["ProcessID"] == ("ProcessID", "number")
    assert recorded["ProcessId"] == ("ProcessId__2", "string")
    assert list(recorded)[:7] == ["_time", "_raw", "host", "source", "sourcetype", "index", "_serial"]
    assert "_key" not in recorded
    schema = store.schema()
    assert schema.get("ProcessId").column_name == "ProcessId__2"  # type: ignore[union-attr]
    assert Schema.from_duckdb(store.con, "events").names() == schema.names()
    (values,) = rows(store, 'SELECT "ProcessID", "ProcessId__2" FROM events WHERE EventCode = 1')
    assert values == (2192, "6700")


def test_case_collisions_in_generic_json_keep_every_value(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "a.json", [json.dumps({"user": "x", "User": "y", "USER": "z", "_time": 1})])
    store = EventStore()
    store.load([source], progress=False)
    mapping = {f.name: f.column_name for f in store.schema()}
    assert (mapping["user"], mapping["User"], mapping["USER"]) == ("user", "User__2", "USER__3")
    assert rows(store, 'SELECT "user", "User__2", "USER__3" FROM events') == [("x", "y", "z")]


def test_generic_json_fields_time_raw_and_types(tmp_path: Path) -> None:
    lines = [
        json.dumps({"@timestamp": "2024-01-02T03:04:05.5+02:00", "a": {"b": 1, "c": [1, "two"]}, "ok": True,
                    "n": 2.5}),
        json.dumps({"_time": 1704164645, "_raw": "original text", "host": "h1", "sourcetype": "custom"}),
        json.dumps({"timestamp": 1704164645123, "a": {"b": 2}}),
    ]
    source = write_lines(tmp_path / "g.ndjson", lines)
    store = EventStore()
    report = store.load([source], progress=False)
    assert report.loaded == 3
    types = column_types(store)
    assert (types["a.b"], types["a.c"], types["ok"], types["n"]) == ("BIGINT", "VARCHAR[]", "VARCHAR", "DOUBLE")
    got = rows(store, 'SELECT _time, _raw, host, source, sourcetype, "index", "a.b", "a.c", ok, n FROM events ORDER BY _serial')
    assert str(got[0][0]) == "2024-01-02 01:04:05.500000"
    assert got[0][1] == lines[0] and got[0][3:6] == (str(source), "_json", "main")
    assert got[0][6:] == (1, ["1", "two"], "true", 2.5)
    assert got[1][:5] == (got[1][0], "original text", "h1", str(source), "custom")
    assert str(got[1][0]) == "2024-01-02 03:04:05"
    assert str(got[2][0]) == "2024-01-02 03:04:05.123000"


def test_column_widens_when_a_later_load_needs_it(tmp_path: Path) -> None:
    store = EventStore()
    store.load([write_lines(tmp_path / "1.json", [json.dumps({"n": 1, "m": "a", "_time": 1})])], progress=False)
    assert column_types(store)["n"] == "BIGINT"
    store.load([write_lines(tmp_path / "2.json", [json.dumps({"n": 1.5, "_time": 2})])], progress=False)
    assert column_types(store)["n"] == "DOUBLE"
    store.load([write_lines(tmp_path / "3.json", [json.dumps({"n": "x", "m": ["b", "c"], "_time": 3})])], progress=False)
    assert column_types(store)["n"] == "VARCHAR"
    assert column_types(store)["m"] == "VARCHAR[]"
    assert rows(store, "SELECT n, m FROM events ORDER BY _serial") == [("1.0", ["a"]), ("1.5", None), ("x", ["b", "c"])]
    assert store.schema().get("m").kind is FieldKind.MULTIVALUE  # type: ignore[union-attr]
    store.load([write_lines(tmp_path / "4.json", [json.dumps({"m": "d", "_time": 4})])], progress=False)
    assert rows(store, "SELECT m FROM events WHERE _time = to_timestamp(4)::TIMESTAMP") == [(["d"],)]


def test_multivalue_in_one_batch_makes_the_column_a_list(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "m.json", [json.dumps({"t": "one", "_time": 1}), json.dumps({"t": ["a", "b"], "_time": 2})])
    store = EventStore()
    store.load([source], progress=False)
    assert rows(store, "SELECT t FROM events ORDER BY _serial") == [(["one"],), (["a", "b"],)]


def test_loading_the_same_file_twice_adds_nothing(windows_file: Path, tmp_path: Path) -> None:
    store = EventStore()
    first = store.load([windows_file], progress=False)
    assert (first.loaded, first.duplicates) == (4, 0)
    again = store.load([windows_file], progress=False)
    assert (again.loaded, again.duplicates) == (0, 4)
    # The same events in another file (gzip-compressed, other name) are recognised too.
    copy = tmp_path / "copy.ndjson.gz"
    copy.write_bytes(gzip.compress(windows_file.read_bytes()))
    third = store.load([copy, windows_file], progress=False)
    assert (third.loaded, third.duplicates) == (0, 8)
    assert store.count() == 4
    assert rows(store, "SELECT count(DISTINCT _serial), min(_serial) FROM events") == [(4, 1)]


def test_duplicates_within_one_load_are_counted_per_file(tmp_path: Path) -> None:
    line = json.dumps({"_time": 1, "x": 1})
    source = write_lines(tmp_path / "d.json", [line, line, json.dumps({"_time": 2})])
    store = EventStore()
    report = store.load([source], progress=False)
    assert (report.files[0].loaded, report.files[0].duplicates) == (2, 1)


def test_serial_is_unique_and_follows_input_order(tmp_path: Path) -> None:
    a = write_lines(tmp_path / "a.json", [json.dumps({"_time": i, "i": i}) for i in range(5)])
    b = write_lines(tmp_path / "b.json", [json.dumps({"_time": i, "i": 10 + i}) for i in range(3)])
    store = EventStore()
    store.load([a, b], progress=False)
    store.load([write_lines(tmp_path / "c.json", [json.dumps({"_time": 9, "i": 99})])], progress=False)
    assert [i for (i,) in rows(store, "SELECT i FROM events ORDER BY _serial")] == [0, 1, 2, 3, 4, 10, 11, 12, 99]


def test_interrupted_load_leaves_the_database_unchanged(tmp_path: Path, windows_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "events.duckdb"
    with EventStore.open(db) as store:
        store.load([windows_file], progress=False)
    big = write_lines(tmp_path / "big.json", [json.dumps({"_time": i, "new_field": i}) for i in range(100)])
    real = tasks.iter_json_file

    def interrupted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for count, result in enumerate(real(*args, **kwargs)):  # type: ignore[arg-type]
            if count == 3:  # after several batches were inserted (and a column added)
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(loader, "iter_json_file", interrupted)
    with EventStore.open(db) as store, pytest.raises(KeyboardInterrupt):
        loader.load(store.con, "events", [big], progress=False, batch_rows=10)
    with EventStore.open(db) as store:
        assert store.count() == 4
        assert "new_field" not in store.schema()
        assert "new_field" not in column_types(store)


def test_failed_load_rolls_back_and_reports_the_error(tmp_path: Path, windows_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EventStore()
    store.load([windows_file], progress=False)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(loader.EventTable, "remove_duplicates", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.load([write_lines(tmp_path / "x.json", [json.dumps({"_time": 5})])], progress=False)
    assert store.count() == 4


def test_malformed_json_lines_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    source = tmp_path / "bad.ndjson"
    source.write_bytes(b'{"_time": 1, "a": 1}\n{"_time": 2, "a":\n\n[1, 2]\n{"_time": 3}\n\xff\xfe\n{"_time": 4}')
    store = EventStore()
    report = store.load([source], progress=False)
    file = report.files[0]
    assert (file.loaded, file.skipped) == (3, 3)
    assert [issue.where for issue in file.issues] == ["line 2", "line 4", "line 6"]
    assert "malformed JSON" in file.issues[0].reason and "not a JSON object" in file.issues[1].reason
    assert "UTF-8" in file.issues[2].reason
    assert "line 2: malformed JSON" in report.render()


def test_json_array_document_and_bad_element(tmp_path: Path) -> None:
    source = tmp_path / "doc.json"
    source.write_text('[\n  {"_time": 1, "a": "x"},\n  {"_time": 2, "a": tru},\n  {"_time": 3,\n   "a": "z"}\n]\n')
    store = EventStore()
    report = store.load([source], progress=False)
    assert report.files[0].loaded == 2
    assert [i.where for i in report.files[0].issues] == ["line 3"]
    assert rows(store, "SELECT a FROM events ORDER BY _serial") == [("x",), ("z",)]


def test_gzip_directory_glob_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "logs" / "deeper"
    folder.mkdir(parents=True)
    write_lines(folder / "a.jsonl", [json.dumps({"_time": 1, "f": "a"})])
    (folder / "b.json.gz").write_bytes(gzip.compress(json.dumps({"_time": 2, "f": "b"}).encode()))
    (folder / "ignored.txt").write_text("not an event file")
    store = EventStore()
    report = store.load([tmp_path / "logs"], progress=False)
    assert [Path(f.path).name for f in report.files] == ["a.jsonl", "b.json.gz"]
    assert report.loaded == 2
    glob_report = store.load([str(tmp_path / "logs" / "**" / "*.jsonl")], progress=False)
    assert glob_report.duplicates == 1
    stdin = io.BytesIO(gzip.compress(json.dumps({"_time": 3, "f": "c"}).encode()))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    stdin_report = store.load(["-"], progress=False)
    assert (stdin_report.files[0].path, stdin_report.loaded) == ("<stdin>", 1)
    assert sorted(f for (f,) in rows(store, "SELECT f FROM events")) == ["a", "b", "c"]


def test_missing_and_unmatched_inputs_are_clear_errors(tmp_path: Path) -> None:
    store = EventStore()
    with pytest.raises(EventInputError, match="no such file or directory") as caught:
        store.load([tmp_path / "absent.evtx"], progress=False)
    assert str(tmp_path / "absent.evtx") in str(caught.value)
    with pytest.raises(EventInputError, match="no file matches"):
        store.load([str(tmp_path / "*.evtx")], progress=False)
    assert store.count() == 0


def test_index_option_and_store_on_existing_connection(windows_file: Path) -> None:
    con = duckdb.connect()
    store = EventStore(con, table="win")
    store.load([windows_file], index="lab", progress=False)
    assert con.execute('SELECT DISTINCT "index" FROM win').fetchall() == [("lab",)]
    assert EventStore(con, table="win").count() == 4
    assert EventStore(con, table="other").count() == 0 and len(EventStore(con, table="other").schema()) == 0


def test_classic_load_source_and_sourcetype(windows_file: Path) -> None:
    store = EventStore()
    store.load([windows_file], raw_format="classic", messages=[TEMPLATES], progress=False)
    got = rows(store, "SELECT source, sourcetype, _raw LIKE '%EventCode=1040%', Account_Name FROM events WHERE EventCode IN (1040, 4688) ORDER BY EventCode")
    assert got == [("WinEventLog:Application", "WinEventLog", True, None),
                   ("WinEventLog:Security", "WinEventLog", False, ["alice", "-"])]  # fmt: skip


def test_default_windows_schema_matches_what_a_windows_load_creates(windows_file: Path) -> None:
    from sqldetect.events import default_windows_schema

    store = EventStore()
    store.load([windows_file], progress=False)
    loaded = {f.name: (f.kind, f.column_name) for f in store.schema()}
    expected = default_windows_schema([TEMPLATES])
    for field in expected:
        if field.name in loaded:
            assert loaded[field.name] == (field.kind, field.column_name), field.name
    core = [f.name for f in expected][:27]
    assert all(name in loaded for name in core)
