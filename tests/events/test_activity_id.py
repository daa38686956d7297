"""``Correlation/@ActivityID`` and ``@RelatedActivityID``: fields of every Windows event, shown as Windows shows them.

The evtx package writes these GUIDs bare (``4AA5EAE3-...``), Windows and Splunk in braces (``{4AA5EAE3-...}``);
rules group by them (ESCU "PowerShell WebRequest Using Memory Stream": ``stats ... by ActivityID``), so every
source and both parsers must give one form, in the field and in the XML ``_raw``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import evtx
import pytest

from sqldetect.events import EventStore, xmltext
from sqldetect.events.json_events import windows_xml
from sqldetect.events.windows import WINDOWS_COLUMNS, WindowsNormalizer, WindowsOptions
from sqldetect.events.xmltext import windows_guid
from sqldetect.evtxwriter import write_evtx
from tests.events.records import SYSMON_1

ACTIVITY = "5B1D0E6C-2F4A-0001-8C2E-1D5B0A6C2F4A"
RELATED = "9E4F2A1B-7C3D-0002-A1B2-9E4F2A1B7C3D"
BOTH = f'<Correlation ActivityID="{ACTIVITY}" RelatedActivityID="{RELATED}"></Correlation>'


def row_of(xml: str, raw_format: str = "xml") -> dict[str, object]:
    core, names, values = WindowsNormalizer(WindowsOptions(raw_format=raw_format)).normalize(xml)
    row = dict(zip(WINDOWS_COLUMNS, core, strict=True))
    row["fields"] = list(zip(names, values, strict=True))
    return row


def with_correlation(correlation: str, xml: str = SYSMON_1) -> str:
    assert "<Correlation></Correlation>" in xml
    return xml.replace("<Correlation></Correlation>", correlation)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (ACTIVITY, "{" + ACTIVITY + "}"),
        (ACTIVITY.lower(), "{" + ACTIVITY + "}"),
        ("{" + ACTIVITY.lower() + "}", "{" + ACTIVITY + "}"),
        ("{" + ACTIVITY + "}", "{" + ACTIVITY + "}"),
        ("", ""),
        ("not-a-guid", "not-a-guid"),
        ("{" + ACTIVITY, "{" + ACTIVITY),  # unbalanced braces: not a GUID rendering, kept as it is
        (ACTIVITY + "0", ACTIVITY + "0"),
    ],
)
def test_windows_guid(value: str, shown: str) -> None:
    assert windows_guid(value) == shown


def test_activity_ids_are_braced_fields_and_braced_in_the_xml_raw() -> None:
    row = row_of(with_correlation(BOTH))
    assert row["activity_id"] == "{" + ACTIVITY + "}"
    assert row["related_activity_id"] == "{" + RELATED + "}"
    raw = row["raw"]
    assert isinstance(raw, str)
    assert f"<Correlation ActivityID='{{{ACTIVITY}}}' RelatedActivityID='{{{RELATED}}}'/>" in raw
    assert ACTIVITY not in raw.replace("{" + ACTIVITY + "}", "")
    # Not event fields of their own: the payload is unchanged.
    assert [n for n, _ in row["fields"]] == [n for n, _ in row_of(SYSMON_1)["fields"]]


def test_events_without_a_correlation_attribute_have_none() -> None:
    row = row_of(SYSMON_1)
    assert row["activity_id"] is None and row["related_activity_id"] is None
    assert "<Correlation/>" in str(row["raw"])
    only = row_of(with_correlation(f'<Correlation ActivityID="{ACTIVITY}"></Correlation>'))
    assert (only["activity_id"], only["related_activity_id"]) == ("{" + ACTIVITY + "}", None)
    assert f"<Correlation ActivityID='{{{ACTIVITY}}}'/>" in str(only["raw"])


def test_full_parse_reads_them_the_same() -> None:
    xml = with_correlation(BOTH)
    swapped = xml.replace(
        "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS01.corp.example</Computer>",
        "<Computer>WS01.corp.example</Computer><Channel>Microsoft-Windows-Sysmon/Operational</Channel>",
    )
    assert swapped != xml
    fast, slow = row_of(xml), row_of(swapped)
    assert (slow["activity_id"], slow["related_activity_id"]) == (fast["activity_id"], fast["related_activity_id"])
    assert f"<Correlation ActivityID='{{{ACTIVITY}}}' RelatedActivityID='{{{RELATED}}}'/>" in str(slow["raw"])
    # An attribute the fast regex does not know also takes the full parse, and keeps both ids.
    extra = row_of(with_correlation(f'<Correlation ActivityID="{ACTIVITY}" Other="x"></Correlation>'))
    assert extra["activity_id"] == "{" + ACTIVITY + "}"
    assert f"<Correlation ActivityID='{{{ACTIVITY}}}' Other='x'/>" in str(extra["raw"])


def test_windows_rendering_in_braces_gives_the_same_event() -> None:
    windows = with_correlation(
        f"<Correlation ActivityID='{{{ACTIVITY.lower()}}}' RelatedActivityID='{{{RELATED}}}'/>"
    ).replace('"', "'")
    assert row_of(xmltext.canonicalize(windows)) == row_of(with_correlation(BOTH))


def test_a_value_that_is_not_a_guid_is_kept_as_it_is() -> None:
    row = row_of(with_correlation('<Correlation ActivityID="abc"></Correlation>'))
    assert row["activity_id"] == "abc"
    assert "<Correlation ActivityID='abc'/>" in str(row["raw"])


def test_event_data_named_activity_id_does_not_overwrite_the_system_one() -> None:
    xml = with_correlation(BOTH).replace(
        '<Data Name="RuleName"></Data>', '<Data Name="RuleName"></Data><Data Name="ActivityID">mine</Data>'
    )
    row = row_of(xml)
    assert row["activity_id"] == "{" + ACTIVITY + "}"
    assert ("EventData_ActivityID", "mine") in row["fields"]


def test_classic_raw_format_keeps_the_fields() -> None:
    row = row_of(with_correlation(BOTH), raw_format="classic")
    assert (row["activity_id"], row["related_activity_id"]) == ("{" + ACTIVITY + "}", "{" + RELATED + "}")


def test_winlogbeat_activity_id_matches_the_evtx_form() -> None:
    event = {
        "@timestamp": "2022-04-11T09:15:32.123Z",
        "winlog": {"event_id": 4104, "channel": "Microsoft-Windows-PowerShell/Operational", "computer_name": "WS",
                   "provider_name": "Microsoft-Windows-PowerShell", "activity_id": "{" + ACTIVITY.lower() + "}"},
    }  # fmt: skip
    row = row_of(windows_xml(event))  # type: ignore[arg-type]
    assert row["activity_id"] == "{" + ACTIVITY + "}"


def powershell_event(n: int, **more: object) -> dict[str, object]:
    return {
        "provider": "Microsoft-Windows-PowerShell", "provider_guid": "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}",
        "channel": "Microsoft-Windows-PowerShell/Operational", "event_id": 4104, "level": 5, "task": 2,
        "opcode": 15, "time": f"2024-06-10T07:30:0{n}Z", "computer": "WS30.corp.example",
        "process_id": 6104, "thread_id": 7012,
        "data": {"MessageNumber": 1, "MessageTotal": 1, "ScriptBlockText": f"Write-Output {n}", "Path": ""},
        **more,
    }  # fmt: skip


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "ps.evtx"
    write_evtx(path, [
        powershell_event(0, activity_id="{" + ACTIVITY + "}", related_activity_id=RELATED.lower()),
        powershell_event(1, activity_id=ACTIVITY),
        powershell_event(2),
    ])  # fmt: skip
    return path


def stored(store: EventStore) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT EventRecordID, ActivityID, RelatedActivityID, _raw FROM events ORDER BY EventRecordID"
    ).fetchall()


@pytest.mark.parametrize("parser", ["evtx", "python-evtx"])
def test_both_parsers_load_braced_activity_ids_from_evtx(written: Path, parser: str) -> None:
    store = EventStore()
    store.load([written], parser=parser, progress=False)
    rows = stored(store)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, "{" + ACTIVITY + "}", "{" + RELATED + "}"),
        (2, "{" + ACTIVITY + "}", None),
        (3, None, None),
    ]
    assert f"<Correlation ActivityID='{{{ACTIVITY}}}' RelatedActivityID='{{{RELATED}}}'/>" in rows[0][3]
    assert "<Correlation/>" in rows[2][3]
    assert store.con.execute(
        "SELECT count(*) FROM events WHERE ActivityID = ?", ["{" + ACTIVITY + "}"]
    ).fetchall() == [(2,)]


def test_parsers_and_evtx_json_agree(written: Path, tmp_path: Path) -> None:
    fast, slow, from_json = EventStore(), EventStore(), EventStore()
    fast.load([written], progress=False)
    slow.load([written], parser="python-evtx", progress=False)
    assert stored(fast) == stored(slow)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines = [json.dumps(json.loads(r["data"])) for r in evtx.PyEvtxParser(str(written)).records_json()]
    ndjson = tmp_path / "ps.ndjson"
    ndjson.write_text("\n".join(lines) + "\n")
    from_json.load([ndjson], progress=False)
    assert stored(from_json) == stored(fast)


@pytest.mark.shared
def test_real_powershell_events_carry_their_activity_id(shared_dir: Path) -> None:
    path = shared_dir / "evtx" / "attack-samples" / "Credential Access" / "Powershell_4104_MiniDumpWriteDump_Lsass.evtx"
    bare = [r["data"].split('ActivityID="')[1].split('"')[0] for r in evtx.PyEvtxParser(str(path)).records()]
    assert bare and all(len(b) == 36 and "{" not in b for b in bare)  # the evtx package writes them bare
    for parser in ("evtx", "python-evtx"):
        store = EventStore()
        store.load([path], parser=parser, progress=False)
        got = store.con.execute("SELECT ActivityID, _raw FROM events ORDER BY EventRecordID").fetchall()
        assert [a for a, _ in got] == ["{" + b + "}" for b in bare]
        assert all(f"<Correlation ActivityID='{a}'/>" in raw for a, raw in got)
        assert store.con.execute("SELECT count(*) FROM events WHERE EventCode = 4104 AND ActivityID LIKE '{%}'"
                                 ).fetchall() == [(1,)]  # fmt: skip



def test_provider_guid_is_braced_in_the_xml_raw_like_windows_shows_it() -> None:
    """Splunk's XmlWinEventLog ``_raw`` carries ``<Provider ... Guid='{...}'/>``: braced, as Windows renders it."""
    guid = "5770385F-C22A-43E0-BF4C-06F5698FFBD9"
    xml = with_correlation(BOTH)
    assert f'Guid="{{{guid}}}"' not in xml
    bare = xml.replace(f'Guid="{guid}"', f'Guid="{guid.lower()}"')
    assert f'Guid="{guid.lower()}"' in bare  # the evtx package writes it bare (any case)
    raw = str(row_of(bare)["raw"])
    assert f"<Provider Name='Microsoft-Windows-Sysmon' Guid='{{{guid}}}'/>" in raw
    assert raw.count(f"{{{guid}}}") == 1
    # The full-parse path gives the same _raw.
    swapped = bare.replace(
        "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS01.corp.example</Computer>",
        "<Computer>WS01.corp.example</Computer><Channel>Microsoft-Windows-Sysmon/Operational</Channel>",
    )
    assert f"<Provider Name='Microsoft-Windows-Sysmon' Guid='{{{guid}}}'/>" in str(row_of(swapped)["raw"])
