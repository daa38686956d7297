"""Files from ``write_evtx`` read back, through both parsers, as exactly the events that were written."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from Evtx.Evtx import Evtx
from evtxwriter_expected import expected_view
from evtxwriter_readback import python_evtx_time, read_python_evtx, read_rust_json, read_rust_xml

from sqldetect.evtxwriter import write_evtx

SYSMON_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
SECURITY_GUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"


def msi_event(**changes: Any) -> dict[str, Any]:
    event = {
        "provider": "MsiInstaller", "channel": "Application", "event_id": 1040, "qualifiers": 0,
        "time": "2024-05-01T10:00:00.123456Z", "computer": "WS01.corp.example",
        "user_sid": "S-1-5-21-3623811015-3361044348-30300820-1013", "keywords": "0x80000000000000",
        "level": 4, "data": ["C:\\Users\\alice\\Downloads\\pkg.msi", "4321"],
    }
    event.update(changes)
    return event


def sysmon_event(**changes: Any) -> dict[str, Any]:
    event = {
        "provider": "Microsoft-Windows-Sysmon", "provider_guid": SYSMON_GUID,
        "channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "version": 5, "level": 4, "task": 1,
        "opcode": 0, "keywords": 0x8000000000000000, "time": "2024-05-01T10:00:01.000000Z",
        "computer": "WS01.corp.example", "process_id": 3012, "thread_id": 4100, "user_sid": "S-1-5-18",
        "data": {
            "RuleName": "-", "UtcTime": "2024-05-01 10:00:01.000", "ProcessGuid": "{b0b0f4a2-1111-6631-0b00-000000001100}",
            "ProcessId": 6120, "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c whoami",
            "User": "CORP\\alice", "ParentImage": "C:\\Windows\\explorer.exe",
        },
    }
    event.update(changes)
    return event


def assert_reads_back(path: Path, events: list[dict[str, Any]], first_id: int = 1) -> None:
    """Every field of every event, through evtx XML, evtx JSON and python-evtx XML."""
    rust = read_rust_xml(path)
    legacy = read_python_evtx(path)
    assert len(rust) == len(events)
    assert len(legacy) == len(events)
    for offset, (event, got_rust, got_legacy) in enumerate(zip(events, rust, legacy, strict=True)):
        record_id = event.get("record_id", first_id + offset)
        want = expected_view(event, record_id)
        assert got_rust.pop("header_record_id") == record_id
        assert got_rust.pop("header_ticks") == want["time"]  # the record header keeps all 7 digits
        # evtx prints SystemTime with microseconds (truncating the 7th digit).
        assert got_rust.pop("time") == want["time"] // 10 * 10
        assert got_rust == {k: v for k, v in want.items() if k != "time"}
        assert got_legacy.pop("header_record_id") == record_id
        got_legacy.pop("header_ticks")
        # python-evtx converts through a float (can be 1-2 us off): compare with its own conversion.
        assert got_legacy.pop("time") == python_evtx_time(want["time"])
        assert got_legacy == {k: v for k, v in want.items() if k != "time"}
    for event, document, offset in zip(events, read_rust_json(path), range(len(events)), strict=True):
        assert_json_matches(document, event, event.get("record_id", first_id + offset))


def assert_json_matches(document: dict[str, Any], event: dict[str, Any], record_id: int) -> None:
    want = expected_view(event, record_id, xml=False)
    system = document["Event"]["System"]
    assert document["header_record_id"] == record_id
    assert system["Provider"]["#attributes"]["Name"] == want["provider"]
    event_id = system["EventID"]
    if want["qualifiers"] is None:
        assert event_id == want["event_id"]
    else:
        assert event_id == {"#attributes": {"Qualifiers": want["qualifiers"]}, "#text": want["event_id"]}
    assert system["EventRecordID"] == record_id
    assert system["Channel"] == want["channel"]
    assert system["Computer"] == want["computer"]
    assert int(system["Keywords"], 16) == want["keywords"]
    assert (system["Version"], system["Level"], system["Task"], system["Opcode"]) == (
        want["version"], want["level"], want["task"], want["opcode"])
    if want["data"] is not None:
        event_data = document["Event"]["EventData"]
        if not want["data"]:
            assert event_data is None
        elif want["data"][0][0] is None:
            texts = event_data["Data"]["#text"]
            texts = texts if isinstance(texts, list) else [texts]
            assert [str(t) for t in texts] == [value for _, value in want["data"]]
        else:
            assert {name: str(value) for name, value in event_data.items()} == dict(want["data"])


def test_single_record_every_system_field(tmp_path: Path) -> None:
    event = sysmon_event(
        event_source_name="Sysmon", qualifiers=16384, activity_id="{11111111-2222-3333-4444-555555555555}",
        related_activity_id="66666666-7777-8888-9999-000000000000", record_id=4242,
        time="2024-05-01T10:00:01.1234567Z",
    )
    path = tmp_path / "one.evtx"
    assert write_evtx(path, [event]) == 1
    assert_reads_back(path, [event])


def test_classic_unnamed_data_with_qualifiers(tmp_path: Path) -> None:
    events = [msi_event(), msi_event(event_id=1042, time="2024-05-01T10:00:03Z", data=["C:\\pkg.msi", "4321"])]
    path = tmp_path / "msi.evtx"
    write_evtx(path, events)
    assert_reads_back(path, events)


def test_many_records_across_several_chunks(tmp_path: Path) -> None:
    events = []
    for n in range(300):  # ~1 KiB records: several chunks while python-evtx (a few hundred records/s) keeps up
        if n % 3 == 0:
            events.append(msi_event(data=[f"C:\\pkgs\\package-{n}-{'p' * 400}.msi", str(1000 + n)],
                                    time=f"2024-05-01T10:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}Z"))
        else:
            events.append(sysmon_event(data={"Image": f"C:\\tools\\t{n}.exe", "CommandLine": f"t{n}.exe /x {'y' * (300 + n)}"},
                                       time=f"2024-05-02T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"))
    path = tmp_path / "many.evtx"
    assert write_evtx(path, events) == len(events)
    header = path.read_bytes()[:0x30]
    chunk_count = struct.unpack_from("<H", header, 0x2A)[0]
    assert chunk_count >= 3
    assert path.stat().st_size == 0x1000 + chunk_count * 0x10000
    assert struct.unpack_from("<Q", header, 0x18)[0] == len(events) + 1  # next record id
    assert_reads_back(path, events)


def test_unicode_and_xml_special_characters(tmp_path: Path) -> None:
    tricky = "<script>&amp; \"double\" 'single' > Ünïcödé 中文 😀 tab\there"
    events = [
        sysmon_event(data={"Image": tricky, "CommandLine": "a & b < c > d \"e\" 'f'", "Empty": ""},
                     computer="Wörkstation-ß.corp.example"),
        msi_event(data=[tricky, "line one\nline two\r\nline three"]),
    ]
    path = tmp_path / "unicode.evtx"
    write_evtx(path, events)
    assert_reads_back(path, events)
    # JSON keeps the carriage return that XML parsing normalises away.
    assert read_rust_json(path)[1]["Event"]["EventData"]["Data"]["#text"][1] == "line one\nline two\r\nline three"


def test_empty_and_null_values(tmp_path: Path) -> None:
    events = [
        sysmon_event(data={"Empty": "", "Null": None, "After": "x"}),
        msi_event(data=["", None, "x"]),
        msi_event(data=[]),
        sysmon_event(data={}),
        msi_event(data=None),
    ]
    path = tmp_path / "empty.evtx"
    write_evtx(path, events)
    assert_reads_back(path, events)


def test_integer_and_boolean_values_keep_their_types_in_json(tmp_path: Path) -> None:
    event = sysmon_event(data={"ProcessId": 6120, "Big": 2**40, "Negative": -5, "Initiated": True})
    path = tmp_path / "types.evtx"
    write_evtx(path, [event])
    data = read_rust_json(path)[0]["Event"]["EventData"]
    assert data == {"ProcessId": 6120, "Big": 2**40, "Negative": -5, "Initiated": True}
    legacy = read_python_evtx(path)[0]["data"]
    assert legacy == [("ProcessId", "6120"), ("Big", str(2**40)), ("Negative", "-5"), ("Initiated", "True")]


def test_user_data(tmp_path: Path) -> None:
    event = {
        "provider": "Microsoft-Windows-Eventlog", "provider_guid": "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}",
        "channel": "Security", "event_id": 1102, "level": 4, "task": 104, "keywords": "0x4020000000000000",
        "time": "2024-06-01T08:30:00.5Z", "computer": "DC01.corp.example", "process_id": 1204, "thread_id": 5500,
        "user_data": {
            "LogFileCleared": {
                "@xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
                "SubjectUserSid": "S-1-5-21-1-2-3-500", "SubjectUserName": "admin",
                "SubjectDomainName": "CORP", "SubjectLogonId": "0x3e7",
                "Nested": {"@kind": "x", "Inner": ["a", "b & c"]},
            },
        },
    }
    path = tmp_path / "userdata.evtx"
    write_evtx(path, [event])
    assert_reads_back(path, [event])
    cleared = read_rust_json(path)[0]["Event"]["UserData"]["LogFileCleared"]
    assert cleared["SubjectUserName"] == "admin"
    assert cleared["Nested"]["Inner"] == "a" and cleared["Nested"]["Inner_1"] == "b & c"


def test_same_shape_shares_one_template_per_chunk(tmp_path: Path) -> None:
    path = tmp_path / "shared.evtx"
    write_evtx(path, [msi_event(data=[f"C:\\p{n}.msi", str(n)]) for n in range(20)])
    raw = path.read_bytes()
    chunk = raw[0x1000:0x11000]
    template_heads = [h for h in struct.unpack_from("<32I", chunk, 0x180) if h]
    assert len(template_heads) == 1
    with Evtx(str(path)) as log:
        (only_chunk,) = list(log.chunks())
        assert len(only_chunk.templates()) == 1
        offsets = {record.root().template_instance().template_offset() for record in only_chunk.records()}
    assert offsets == set(template_heads)


def test_headers_verify_in_python_evtx(tmp_path: Path) -> None:
    path = tmp_path / "verify.evtx"
    write_evtx(path, [sysmon_event(data={"N": "x" * (n % 500)}) for n in range(400)])
    with Evtx(str(path)) as log:
        header = log.get_file_header()
        assert header.verify()
        assert not header.is_dirty()
        chunks = list(log.chunks())
        assert len(chunks) == header.chunk_count() > 1
        assert header.current_chunk_number() == len(chunks) - 1
        assert header.next_record_number() == 401
        for chunk in chunks:
            assert chunk.verify()


def test_empty_input_gives_a_valid_empty_log(tmp_path: Path) -> None:
    path = tmp_path / "empty.evtx"
    assert write_evtx(path, []) == 0
    assert path.stat().st_size == 0x1000
    assert read_rust_xml(path) == []
    with Evtx(str(path)) as log:
        assert log.get_file_header().verify()
        assert list(log.records()) == []


def test_output_is_deterministic(tmp_path: Path) -> None:
    events = [sysmon_event(), msi_event(), msi_event(record_id=10)]
    write_evtx(tmp_path / "a.evtx", events)
    write_evtx(tmp_path / "b.evtx", events)
    assert (tmp_path / "a.evtx").read_bytes() == (tmp_path / "b.evtx").read_bytes()


@pytest.mark.parametrize("where", ["record", "chunk header", "file header"])
def test_corrupted_byte_is_caught_by_checksums(tmp_path: Path, where: str) -> None:
    import evtx

    path = tmp_path / "crc.evtx"
    write_evtx(path, [sysmon_event(), msi_event()])
    raw = bytearray(path.read_bytes())
    if where == "record":
        position = raw.find("whoami".encode("utf-16-le"))  # inside a substitution value: still parses
    elif where == "chunk header":
        position = 0x1000 + 0x40  # reserved bytes: parsers never look at them, only the header CRC does
    else:
        position = 0x10  # current chunk number in the file header
    assert position > 0
    raw[position] ^= 0x01
    path.write_bytes(bytes(raw))

    if where == "file header":
        with Evtx(str(path)) as log:
            assert not log.get_file_header().verify()
        return
    # Without validation the damage goes unnoticed (the record still parses)...
    assert len(list(evtx.PyEvtxParser(str(path)).records())) == 2
    # ...with validation the chunk is refused.
    with pytest.raises(RuntimeError, match="CRC32 invalid"):
        list(evtx.PyEvtxParser(str(path), validate_checksums=True).records())
    with Evtx(str(path)) as log:
        assert not next(iter(log.chunks())).verify()


def test_json_rendering_is_valid_json_for_every_record(tmp_path: Path) -> None:
    import evtx

    path = tmp_path / "j.evtx"
    write_evtx(path, [sysmon_event(), msi_event()])
    for record in evtx.PyEvtxParser(str(path), validate_checksums=True).records_json():
        assert json.loads(record["data"])["Event"]["System"]["Computer"] == "WS01.corp.example"


def test_any_text_and_integers_round_trip_through_json(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Property: whatever text (no NUL, no lone surrogate) or integer goes in comes back out of `evtx`'s JSON."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)
    value = st.one_of(text, st.integers(min_value=-(2**63), max_value=2**64 - 1))
    names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)

    @settings(max_examples=40, deadline=None)
    @given(st.dictionaries(names, value, min_size=1, max_size=6), st.lists(text, max_size=5))
    def check(named: dict, unnamed: list) -> None:
        path = tmp_path_factory.mktemp("prop") / "p.evtx"
        write_evtx(path, [sysmon_event(data=named), msi_event(data=unnamed)])
        first, second = read_rust_json(path)
        assert first["Event"]["EventData"] == named
        got = (second["Event"]["EventData"] or {}).get("Data", {}).get("#text", [])
        assert (got if isinstance(got, list) else [got]) == unnamed

    check()
