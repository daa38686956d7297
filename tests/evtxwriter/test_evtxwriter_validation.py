"""Bad event dicts get errors that name the event and the field; good events around them are still written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from evtxwriter_readback import read_rust_xml, ticks_from_iso

from sqldetect.errors import SqlDetectError
from sqldetect.evtxwriter import EvtxWriter, InvalidEventError, parse_time, prepare_event, write_evtx


def base(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"provider": "MsiInstaller", "channel": "Application", "event_id": 1040,
                             "time": "2024-05-01T10:00:00Z", "computer": "WS01", "data": ["a"]}
    event.update(changes)
    return {key: value for key, value in event.items() if value is not ...}


@pytest.mark.parametrize(
    ("event", "field", "fragment"),
    [
        (base(provider=...), "provider", "is required"),
        (base(time=...), "time", "is required"),
        (base(event_id=70000), "event_id", "between 0 and 65535"),
        (base(event_id="abc"), "event_id", "must be an integer"),
        (base(event_id=True), "event_id", "must be an integer"),
        (base(level=300), "level", "between 0 and 255"),
        (base(keywords="0xZZ"), "keywords", "must be an integer"),
        (base(record_id=0), "record_id", "at least 1"),
        (base(evnt_id=3), "evnt_id", "did you mean 'event_id'"),
        (base(computer=5), "computer", "must be a string"),
        (base(time="yesterday"), "time", "ISO 8601"),
        (base(time="2024-13-01T00:00:00Z"), "time", "not a valid time"),
        (base(time="2024-05-01T10:00:00.123456789Z"), "time", "7 fractional digits"),
        (base(time=dt.date(2024, 5, 1)), "time", "time of day"),
        (base(user_sid="S-1-x"), "user_sid", "not a SID"),
        (base(provider_guid="not-a-guid"), "provider_guid", "not a GUID"),
        (base(data=[1.5]), "data[0]", "unsupported value type float"),
        (base(data={"Image": ["a", "b"]}), "data.Image", "must be scalars"),
        (base(data={"1st": "x"}), "data.1st", "not a usable XML name"),
        (base(data={"Bad Name": "x"}), "data.Bad Name", "not a usable XML name"),
        (base(data="text"), "data", "must be a list"),
        (base(data=["a\x00b"]), "data[0]", "NUL"),
        (base(data=["x" * 40000]), "data[0]", "too long"),
        (base(data=[2**64]), "data[0]", "does not fit 64 bits"),
        (base(data=..., user_data={"X": {"@q": 'a"b'}}), "user_data.X.@q", "without '\"'"),
        (base(data=..., user_data={"@a": "x"}), "user_data.@a", "takes no attributes"),
        (base(data=..., user_data=["x"]), "user_data", "must be a mapping"),
        (base(user_data={"X": "y"}), "user_data", "not both"),
        (base(provider='Bad"Name'), "provider", "'\"'"),
    ],
)
def test_bad_field_is_named(event: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(InvalidEventError) as caught:
        prepare_event(event)
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_error_message_says_event_line_and_field() -> None:
    error = InvalidEventError("must be a string", field="computer").locate(index=3, line=17, file="src.yaml")
    assert error.headline() == "src.yaml: event #3, line 17, field 'computer': must be a string"
    assert isinstance(error, SqlDetectError)


def test_not_a_mapping() -> None:
    with pytest.raises(InvalidEventError, match="must be a mapping"):
        prepare_event(["not", "an", "event"])


def test_bad_events_are_skipped_and_reported_the_rest_written(tmp_path: Path) -> None:
    events = [base(), base(event_id=-1), base(event_id=1042), base(computer=None), base(event_id=1033)]
    reported: list[InvalidEventError] = []
    path = tmp_path / "partial.evtx"
    assert write_evtx(path, events, on_error=reported.append) == 3
    assert [(e.index, e.field) for e in reported] == [(2, "event_id"), (4, "computer")]
    assert [r["event_id"] for r in read_rust_xml(path)] == [1040, 1042, 1033]
    assert [r["record_id"] for r in read_rust_xml(path)] == [1, 2, 3]


def test_without_a_handler_the_file_is_completed_then_the_error_raised(tmp_path: Path) -> None:
    path = tmp_path / "raise.evtx"
    with pytest.raises(InvalidEventError) as caught:
        write_evtx(path, [base(), base(event_id=-1), base(level=999), base(event_id=1042)])
    assert "event #2" in str(caught.value)
    assert "2 events skipped" in str(caught.value)
    assert [r["event_id"] for r in read_rust_xml(path)] == [1040, 1042]


def test_record_ids_must_increase(tmp_path: Path) -> None:
    reported: list[InvalidEventError] = []
    path = tmp_path / "ids.evtx"
    written = write_evtx(path, [base(record_id=10), base(), base(record_id=5), base(record_id=20), base()],
                         on_error=reported.append)
    assert written == 4
    assert [r["record_id"] for r in read_rust_xml(path)] == [10, 11, 20, 21]
    assert [(e.index, e.field) for e in reported] == [(3, "record_id")]
    assert "next free id is 12" in str(reported[0])


def test_record_too_large_for_a_chunk(tmp_path: Path) -> None:
    reported: list[InvalidEventError] = []
    big = {f"Field{n}": "x" * 30000 for n in range(3)}
    written = write_evtx(tmp_path / "big.evtx", [base(), base(data=big), base()], on_error=reported.append)
    assert written == 2
    assert "64 KiB chunk" in str(reported[0])


def test_writer_abort_leaves_existing_output_untouched(tmp_path: Path) -> None:
    path = tmp_path / "keep.evtx"
    path.write_bytes(b"previous")
    with pytest.raises(RuntimeError), EvtxWriter(path) as writer:
        writer.write(base())
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"previous"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.1234567Z", "2024-05-01T10:00:00.1234567Z"),
        ("2024-05-01T10:00:00.5", "2024-05-01T10:00:00.5Z"),  # no offset: UTC
        ("2024-05-01 12:00:00+02:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01T05:30:00-0430", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.12345670Z", "2024-05-01T10:00:00.1234567Z"),  # trailing zeros beyond 7 are fine
    ],
)
def test_time_text(text: str, expected: str) -> None:
    assert parse_time(text) == ticks_from_iso(expected)


def test_time_datetime_objects() -> None:
    aware = dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    naive = dt.datetime(2024, 5, 1, 10, 0, 0, 250000)
    assert parse_time(aware) == parse_time(naive) == ticks_from_iso("2024-05-01T10:00:00.25Z")
