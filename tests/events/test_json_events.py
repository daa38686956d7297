"""JSON events: Windows events in Winlogbeat/ECS and evtx-JSON shapes; generic flattening; timestamps."""

from __future__ import annotations

import json
import re

import pytest

from sqldetect.events.json_events import PairsDict, event_time, flatten, parse_time, windows_xml
from sqldetect.events.windows import WINDOWS_COLUMNS, WindowsNormalizer, WindowsOptions
from tests.events.records import MSI_1040, SECURITY_4688

NORMALIZER = WindowsNormalizer(WindowsOptions())


def fields_of(xml: str) -> dict[str, object]:
    core, names, values = NORMALIZER.normalize(xml)
    row = dict(zip(WINDOWS_COLUMNS, core, strict=True))
    row.pop("raw")
    row["fields"] = list(zip(names, values, strict=True))
    return row


EVTX_JSON_MSI = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "MsiInstaller"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 1040},
            "Level": 4, "Task": 0, "Keywords": "0x80000000000000",
            "TimeCreated": {"#attributes": {"SystemTime": "2019-03-19T13:05:42.000000Z"}},
            "EventRecordID": 2513, "Channel": "Application", "Computer": "User-PC",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}},
        },
        "EventData": {"Data": {"#text": ["C:\\Temp\\GoogleUpdateHelper.msi", "2128", "(NULL)", ""]}, "Binary": None},
    }
}  # fmt: skip


def test_evtx_json_shape_normalizes_like_the_xml() -> None:
    xml = windows_xml(EVTX_JSON_MSI)
    assert xml == MSI_1040
    assert fields_of(xml) == fields_of(MSI_1040)  # type: ignore[arg-type]


def test_evtx_json_with_separate_attributes_and_repeated_names() -> None:
    text = (
        '{"Event_attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"}, "Event": {'
        '"System": {"Provider_attributes": {"Name": "P", "Guid": "G"}, "EventID": 7,'
        ' "TimeCreated_attributes": {"SystemTime": "2020-01-01T00:00:00.000001Z"}, "EventRecordID": 1,'
        ' "Execution_attributes": {"ProcessID": 4, "ThreadID": 8}, "Channel": "C", "Computer": "H",'
        ' "Security": null},'
        ' "EventData": {"A": "1", "B": true, "A_1": "2", "C": 3.0, "A": "3"}}}'
    )
    obj = json.loads(text, object_pairs_hook=PairsDict.from_pairs)
    xml = windows_xml(obj)
    assert xml is not None
    row = fields_of(xml)
    assert row["fields"] == [("A", "1"), ("B", "true"), ("A", "2"), ("C", "3"), ("A", "3")]
    assert (row["process_id"], row["thread_id"], row["provider"]) == ("4", "8", "P")


def test_winlogbeat_fields_without_original_xml() -> None:
    event = {
        "@timestamp": "2022-04-11T09:15:32.1234567Z",
        "message": "A new process has been created.",
        "log": {"level": "information"},
        "winlog": {
            "event_id": "4688", "channel": "Security", "computer_name": "WS01.corp.example",
            "provider_name": "Microsoft-Windows-Security-Auditing", "record_id": 58213, "version": 2,
            "opcode": "Info", "keywords": ["Audit Success"], "task": "Process Creation",
            "process": {"pid": 4, "thread": {"id": 212}},
            "event_data": {"SubjectUserName": "alice", "CommandLine": "cmd.exe /c whoami"},
        },
    }  # fmt: skip
    row = fields_of(windows_xml(event))  # type: ignore[arg-type]
    assert (row["event_id"], row["channel"], row["computer"], row["record_id"]) == ("4688", "Security", "WS01.corp.example", "58213")
    assert (row["level"], row["opcode"], row["task"], row["keywords"]) == ("4", "0", None, "0x20000000000000")
    assert (row["process_id"], row["thread_id"], row["version"]) == ("4", "212", "2")
    assert row["system_time"] == "2022-04-11T09:15:32.123456Z"
    assert row["message"] == "A new process has been created."
    assert row["fields"] == [("SubjectUserName", "alice"), ("CommandLine", "cmd.exe /c whoami")]


def test_winlogbeat_dotted_keys_and_original_xml_win() -> None:
    windows_rendering = re.sub(r'="([^"]*)"', r"='\1'", SECURITY_4688)
    flat = {"winlog.event_id": 4688, "winlog.channel": "Security", "event.original": windows_rendering}
    assert fields_of(windows_xml(flat)) == fields_of(SECURITY_4688)  # type: ignore[arg-type]


def test_other_objects_are_not_windows_events() -> None:
    assert windows_xml({"EventID": 4688, "Channel": "Security"}) is None
    assert windows_xml({"Event": "text"}) is None


def test_flatten_nested_objects_arrays_and_scalars() -> None:
    names, values = flatten({
        "_raw": "r", "_time": 1, "host": "h", "a": {"b": {"c": 1}, "d": None}, "tags": ["x", 2, True, None],
        "procs": [{"pid": 1, "name": "a"}, {"pid": 2}], "empty": [], "f": 1.5, "ok": False,
    })  # fmt: skip
    got = dict(zip(names, values, strict=True))
    assert got == {"a.b.c": 1, "tags": ["x", 2, "true"], "procs.pid": [1, 2], "procs.name": ["a"], "f": 1.5,
                   "ok": "false"}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02T03:04:05Z", "2024-01-02 03:04:05"),
        ("2024-01-02T05:04:05.123456+02:00", "2024-01-02 03:04:05.123456"),
        ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
        ("2024-01-02T03:04:05.1234567Z", "2024-01-02 03:04:05.123456"),
        (1704164645, "2024-01-02 03:04:05"),
        (1704164645.25, "2024-01-02 03:04:05.250000"),
        (1704164645123, "2024-01-02 03:04:05.123000"),
        ("1704164645", "2024-01-02 03:04:05"),
    ],
)
def test_time_parsing(value: object, expected: str) -> None:
    from datetime import UTC, datetime

    micros = parse_time(value)
    assert micros is not None
    text = datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert text.rstrip("0").rstrip(".") == expected.rstrip("0").rstrip(".")


def test_time_key_precedence_and_bad_values() -> None:
    assert event_time({"timestamp": 1, "_time": 2})[0] == 2_000_000
    micros, problem = event_time({"@timestamp": "yesterday"})
    assert micros is None and problem is not None and "@timestamp" in problem
    assert event_time({"x": 1}) == (None, None)
