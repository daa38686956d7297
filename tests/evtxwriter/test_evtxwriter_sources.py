"""Event sources (YAML / JSON / NDJSON) and the ``evtx-write`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from evtxwriter_readback import read_rust_json, read_rust_xml

from sqldetect.cli import main
from sqldetect.errors import EventInputError
from sqldetect.evtxwriter.convert import convert_file
from sqldetect.evtxwriter.inputs import SourceEvent, read_events

YAML_SOURCE = """\
defaults:
  provider: Microsoft-Windows-Sysmon
  channel: Microsoft-Windows-Sysmon/Operational
  computer: WS01.corp.example
events:
  - event_id: 1
    time: 2024-05-01T10:00:00.1234567Z
    data:
      UtcTime: 2024-05-01 10:00:00.123
      ProcessId: 4242
      Hex: 0x1f4
      Clock: 10:00
      Version: 10.0
      Answer: no
      Flag: true
      Nothing: ~
  - event_id: 3
    computer: WS02.corp.example
    time: 2024-05-01T10:00:01Z
"""


def test_yaml_keeps_text_as_written_and_applies_defaults(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE)
    first, second = list(read_events(source))
    assert isinstance(first, SourceEvent) and isinstance(second, SourceEvent)
    assert (first.index, first.line, second.index, second.line) == (1, 6, 2, 17)
    assert first.event["time"] == "2024-05-01T10:00:00.1234567Z"
    assert first.event["data"] == {
        "UtcTime": "2024-05-01 10:00:00.123", "ProcessId": 4242, "Hex": "0x1f4", "Clock": "10:00",
        "Version": "10.0", "Answer": "no", "Flag": True, "Nothing": None,
    }
    assert first.event["computer"] == "WS01.corp.example"
    assert second.event["computer"] == "WS02.corp.example"  # an event's own key wins over the default
    assert second.event["provider"] == "Microsoft-Windows-Sysmon"


def test_yaml_anchors_under_x_keys_and_merge_keys(tmp_path: Path) -> None:
    source = tmp_path / "anchors.yaml"
    source.write_text(
        "x-base: &base {provider: P, channel: C, computer: H, event_id: 4625}\n"
        "x-data: &data {TargetUserName: administrator, IpAddress: 203.0.113.77}\n"
        "events:\n"
        "  - {<<: *base, time: '2024-01-01T00:00:00Z', data: {<<: *data, IpPort: '50001'}}\n"
        "  - {<<: *base, time: '2024-01-01T00:00:01Z', data: {<<: *data, IpPort: '50002'}}\n"
    )
    first, second = (item.event for item in read_events(source))
    assert first["event_id"] == second["event_id"] == 4625
    assert second["data"] == {"TargetUserName": "administrator", "IpAddress": "203.0.113.77", "IpPort": "50002"}


def test_yaml_list_source(tmp_path: Path) -> None:
    source = tmp_path / "list.yml"
    source.write_text("- {provider: P, channel: C, event_id: 1, computer: H, time: '2024-01-01T00:00:00Z'}\n")
    (only,) = list(read_events(source))
    assert only.event["provider"] == "P" and only.line == 1


def test_ndjson_bad_line_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    good = {"provider": "P", "channel": "C", "event_id": 1, "computer": "H", "time": "2024-01-01T00:00:00Z"}
    source = tmp_path / "events.ndjson"
    source.write_text(json.dumps(good) + "\n\n{broken\n" + json.dumps({**good, "event_id": 2}) + "\n")
    items = list(read_events(source))
    assert [type(item).__name__ for item in items] == ["SourceEvent", "InvalidEventError", "SourceEvent"]
    assert items[1].line == 3 and items[1].index == 2
    assert items[2].event["event_id"] == 2 and items[2].line == 4


def test_json_object_with_defaults(tmp_path: Path) -> None:
    source = tmp_path / "events.json"
    source.write_text(json.dumps({"defaults": {"provider": "P", "channel": "C", "computer": "H"},
                                  "events": [{"event_id": 7, "time": "2024-01-01T00:00:00Z"}]}))
    (only,) = list(read_events(source))
    assert only.event == {"provider": "P", "channel": "C", "computer": "H", "event_id": 7,
                          "time": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("bad.yaml", "events: [\n  {a: 1\n", "invalid YAML"),
        ("bad.json", '[{"a": 1,}]', "line 1, column 10: invalid JSON"),
        ("bad.txt", "", "unknown input type"),
        ("scalar.yaml", "42\n", "expected a list of events"),
        ("keys.json", '{"events": [], "extra": 1}', "unknown top-level key"),
    ],
)
def test_unreadable_sources(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    source = tmp_path / name
    source.write_text(text)
    with pytest.raises(EventInputError, match=fragment) as caught:
        list(read_events(source))
    assert caught.value.location.file == str(source)


def test_convert_reports_bad_events_with_file_line_and_field(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE + "  - event_id: 99999\n    time: 2024-05-01T10:00:02Z\n")
    errors = []
    result = convert_file(source, tmp_path / "out.evtx", on_error=errors.append)
    assert (result.written, result.skipped, result.chunks) == (2, 1, 1)
    assert errors[0].headline() == f"{source}: event #3, line 20, field 'event_id': must be between 0 and 65535, got 99999"
    records = read_rust_xml(tmp_path / "out.evtx")
    assert [r["event_id"] for r in records] == [1, 3]
    data = read_rust_json(tmp_path / "out.evtx")[0]["Event"]["EventData"]
    assert data["ProcessId"] == 4242 and data["Hex"] == "0x1f4" and data["Flag"] is True


def test_cli_writes_and_reports(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE)
    out = tmp_path / "out.evtx"
    result = CliRunner().invoke(main, ["evtx-write", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 records in 1 chunk" in result.output
    assert len(read_rust_xml(out)) == 2


def test_cli_skips_bad_events_with_exit_code_1(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE + "  - event_id: 1\n    time: nonsense\n")
    out = tmp_path / "out.evtx"
    result = CliRunner().invoke(main, ["evtx-write", str(source), "-o", str(out)])
    assert result.exit_code == 1
    assert "event #3, line 20, field 'time'" in result.output
    assert "skipped 1 bad event" in result.output
    assert len(read_rust_xml(out)) == 2


def test_cli_strict_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE + "  - event_id: 1\n    time: nonsense\n")
    out = tmp_path / "out.evtx"
    result = CliRunner().invoke(main, ["evtx-write", str(source), "-o", str(out), "--strict"])
    assert result.exit_code == 1
    assert "field 'time'" in result.output
    assert not out.exists()


def test_cli_reports_an_unwritable_output(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["evtx-write", str(source), "-o", str(blocker / "out.evtx")])
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    source = tmp_path / "events.yaml"
    source.write_text(YAML_SOURCE)
    out = tmp_path / "out.evtx"
    done = subprocess.run([sys.executable, "-m", "sqldetect.evtxwriter", str(source), "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(read_rust_xml(out)) == 2
