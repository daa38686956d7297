"""Real EVTX samples from ../shared (skipped when absent): completeness, damage, and parser agreement."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import evtx
import pytest

from sqldetect.events import EventStore
from sqldetect.events.reader_evtx import ChunkRange, read_evtx_rs, read_python_evtx
from sqldetect.events.report import IssueLog

pytestmark = pytest.mark.shared

# Small files (python-evtx decodes a few hundred records a second) covering: Sysmon, Security with UserData,
# MsiInstaller classic string arrays, PowerShell, WinRM with ProcessingErrorData, System, Application.
AGREEMENT_SAMPLES = (
    "attack-samples/Execution/rogue_msi_url_1040_1042.evtx",
    "attack-samples/Defense Evasion/DE_remote_eventlog_svc_crash_byt3bl33d3r_sysmon_17_1_3.evtx",
    "attack-samples/Lateral Movement/LM_winrm_target_wrmlogs_91_wsmanShellStarted_poorLog.evtx",
    "attack-samples/Credential Access/MSSQL_multiple_failed_logon_EventID_18456.evtx",
    "evtx-crate/Security_short_selected.evtx",
    "evtx-crate/new-user-security.evtx",
    "evtx-crate/sample-with-zero-data-size-event.evtx",
)


def plain_records(path: Path) -> list[str]:
    """What the evtx package returns by plain iteration (it skips what it cannot parse)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [r["data"] for r in evtx.PyEvtxParser(str(path), skip_errors=True).records()]


def plain_ids(path: Path) -> set[int]:
    """System/EventRecordID of the plainly iterated records (a garbled record may have none)."""
    return {int(m.group(1)) for xml in plain_records(path) if (m := re.search(r"<EventRecordID>(\d+)<", xml))}


def loaded_ids(store: EventStore) -> set[int]:
    return {rid for (rid,) in store.con.execute("SELECT EventRecordID FROM events").fetchall()}


def test_every_attack_sample_record_loads(shared_dir: Path) -> None:
    folder = shared_dir / "evtx" / "attack-samples"
    raw_count = 0
    for path in folder.rglob("*.evtx"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw_count += sum(1 for _ in evtx.PyEvtxParser(str(path)).records())
    store = EventStore()
    report = store.load([folder], progress=False)
    assert report.read == raw_count
    assert report.skipped == 0
    # A few records are in two sample files; they are stored once.
    assert store.count() + report.duplicates == raw_count
    assert report.loaded == store.count()
    assert store.con.execute("SELECT count(*) FROM events WHERE _time IS NULL OR EventCode IS NULL").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("name", "naive", "at_least"),
    [
        ("sample-with-zero-data-size-event.evtx", 335, 449),
        ("sample_with_a_bad_chunk_magic.evtx", 270, 301),
        ("2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1910, 1949),
        ("2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1774, 1795),
    ],
)
def test_damaged_files_lose_only_damaged_records(shared_dir: Path, name: str, naive: int, at_least: int) -> None:
    path = shared_dir / "evtx" / "evtx-crate" / name
    assert len(plain_records(path)) == naive  # plain iteration gives up on a chunk at the first damage
    store = EventStore()
    report = store.load([path], progress=False)
    file = report.files[0]
    assert plain_ids(path) <= loaded_ids(store)
    assert file.loaded >= at_least
    assert file.skipped > 0 and file.issues
    assert all(issue.where.startswith("chunk ") for issue in file.issues)


def test_all_damaged_samples_load_without_aborting(shared_dir: Path) -> None:
    folder = shared_dir / "evtx" / "evtx-crate"
    store = EventStore()
    report = store.load([folder], progress=False)
    assert len(report.files) == len(list(folder.glob("*.evtx")))
    for file in report.files:
        assert plain_ids(Path(file.path)) <= loaded_ids(store), file.path
        assert file.read >= len(plain_records(Path(file.path))), file.path
    by_name = {Path(f.path).name: f for f in report.files}
    assert any("damaged chunk header" in i.reason for i in by_name["sysmon.evtx"].issues)
    assert by_name["sysmon.evtx"].loaded == 358
    zero = by_name["sample-with-zero-data-size-event.evtx"]
    assert [str(i) for i in zero.issues] == ["chunk 0 offset 0x820: 232 bytes of damaged record data"]
    assert "damaged record data" in report.render()


def test_python_evtx_walks_every_chunk(shared_dir: Path) -> None:
    # python-evtx's own iteration stops at the header's chunk count (41 of 358 records here).
    path = str(shared_dir / "evtx" / "evtx-crate" / "sysmon.evtx")
    log = IssueLog()
    records = read_python_evtx(ChunkRange(path, 0, 64), log)
    assert len(records) == 358 and log.skipped == 0


def canonical_rows(store: EventStore) -> list[dict[str, object]]:
    """Every event as {field: value} (non-null only), in a stable order; column order does not matter."""
    result = store.con.execute(
        'SELECT * EXCLUDE ("_serial", "_key") FROM events ORDER BY Channel, EventRecordID, _time, _raw'
    )
    names = [d[0] for d in result.description]
    return [{n: v for n, v in zip(names, row, strict=True) if v is not None} for row in result.fetchall()]


@pytest.mark.parametrize("raw_format", ["xml", "classic"])
def test_both_parsers_produce_the_same_events(shared_dir: Path, raw_format: str) -> None:
    paths = [shared_dir / "evtx" / name for name in AGREEMENT_SAMPLES]
    fast, slow = EventStore(), EventStore()
    fast_report = fast.load(paths, raw_format=raw_format, progress=False)
    slow_report = slow.load(paths, parser="python-evtx", raw_format=raw_format, progress=False)
    assert fast_report.loaded == slow_report.loaded > 800
    assert [f.loaded for f in fast_report.files] == [f.loaded for f in slow_report.files]
    assert sorted(fast.schema().names()) == sorted(slow.schema().names())
    assert canonical_rows(fast) == canonical_rows(slow)


def test_evtx_json_output_loads_like_the_evtx_file(shared_dir: Path, tmp_path: Path) -> None:
    path = shared_dir / "evtx" / "attack-samples" / "Execution" / "rogue_msi_url_1040_1042.evtx"
    lines = [r["data"].replace("\n", " ") for r in evtx.PyEvtxParser(str(path)).records_json()]
    ndjson = tmp_path / "records.ndjson"
    ndjson.write_text("\n".join(json.dumps(json.loads(line)) for line in lines) + "\n")
    from_evtx, from_json = EventStore(), EventStore()
    from_evtx.load([path], progress=False)
    from_json.load([ndjson], progress=False)
    assert canonical_rows(from_json) == canonical_rows(from_evtx)
    assert from_evtx.load([ndjson], progress=False).duplicates == len(lines)


def test_chunk_ranges_read_the_same_records_as_whole_files(shared_dir: Path) -> None:
    path = str(shared_dir / "evtx" / "evtx-crate" / "security.evtx")
    whole = read_evtx_rs(ChunkRange(path, 0, 64), IssueLog())
    pieces = [x for start in range(0, 40, 3) for x in read_evtx_rs(ChunkRange(path, start, start + 3), IssueLog())]
    assert whole == pieces and len(whole) == 2261


def test_gzip_evtx_and_evtx_on_stdin(shared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import io

    path = shared_dir / "evtx" / "attack-samples" / "Execution" / "rogue_msi_url_1040_1042.evtx"
    compressed = tmp_path / "rogue.evtx.gz"
    compressed.write_bytes(gzip.compress(path.read_bytes()))
    store = EventStore()
    first = store.load([compressed], progress=False)
    assert first.files[0].format == "evtx" and first.loaded == len(plain_records(path))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    again = store.load(["-"], progress=False)
    assert (again.files[0].path, again.files[0].format, again.duplicates) == ("<stdin>", "evtx", first.loaded)


def test_progress_is_quiet_when_not_a_terminal(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_dir / "evtx" / "evtx-crate" / "new-user-security.evtx"
    EventStore().load([path])  # progress=None: only on a terminal
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
