"""The message-template data file: well formed, complete, and its field lists match real Windows events."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from importlib import resources
from pathlib import Path

import evtx
import pytest
import yaml

EVENT_NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
PLACEHOLDER = re.compile(r"%(\d+)")

REQUIRED = {
    "MsiInstaller": {1033, 1040, 1042, 11707, 11708, 11724},
    "Microsoft-Windows-Security-Auditing": {4624, 4625, 4634, 4648, 4672, 4688, 4697, 4698, 4720, 4732, 5140, 5145,
                                            4726, 4728, 4738, 4740, 4768, 4769, 4771, 4776, 5156},
    "Microsoft-Windows-Eventlog": {1102, 104},
    "Service Control Manager": {7036, 7045},
    "Microsoft-Windows-PowerShell": {4103, 4104},
    "Microsoft-Windows-Sysmon": set(range(1, 30)) | {255},
}
UNNAMED_DATA_PROVIDERS = {"MsiInstaller"}


@pytest.fixture(scope="module")
def messages() -> dict:
    text = resources.files("sqldetect.data").joinpath("messages.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_required_event_is_covered(messages: dict) -> None:
    for provider, ids in REQUIRED.items():
        assert provider in messages, provider
        missing = ids - set(messages[provider])
        assert not missing, f"{provider}: no template for {sorted(missing)}"


def test_entries_are_well_formed(messages: dict) -> None:
    for provider, events in messages.items():
        for event_id, entry in events.items():
            where = f"{provider} {event_id}"
            assert isinstance(event_id, int), where
            assert set(entry) <= {"message", "fields"}, where
            message = entry["message"]
            assert isinstance(message, str) and message.strip(), where
            assert "\r" not in message, f"{where}: line breaks are \\n"
            assert not message.endswith("\n"), f"{where}: no trailing line break"
            assert not re.search(r"%\d+!", message), f"{where}: printf-style hints (%6!S!) are dropped"
            numbers = {int(n) for n in PLACEHOLDER.findall(message)}
            assert numbers, f"{where}: no placeholder"
            fields = entry.get("fields")
            if provider in UNNAMED_DATA_PROVIDERS:
                assert fields is None, f"{where}: unnamed-Data providers list no fields"
                continue
            assert isinstance(fields, list) and fields, where
            assert len(set(fields)) == len(fields), f"{where}: duplicate field names"
            assert max(numbers) <= len(fields), f"{where}: %{max(numbers)} but only {len(fields)} fields"


def test_msiinstaller_messages(messages: dict) -> None:
    msi = messages["MsiInstaller"]
    assert msi[1040]["message"] == "Beginning a Windows Installer transaction: %1. Client Process Id: %2."
    assert msi[1042]["message"] == "Ending a Windows Installer transaction: %1. Client Process Id: %2."
    # The message-table text Windows renders, not the Event Logging page's paraphrase.
    assert msi[1033]["message"].startswith("Windows Installer installed the product. Product Name: %1.")
    # 117xx events carry their whole text in the first value.
    assert msi[11707]["message"] == msi[11708]["message"] == msi[11724]["message"] == "%1"


def test_sysmon_messages_list_every_field_in_order(messages: dict) -> None:
    """Sysmon renders '<title>:' then 'Name: %n' per field, so message and field list must agree line by line."""
    for event_id, entry in messages["Microsoft-Windows-Sysmon"].items():
        title, *lines = entry["message"].split("\n")
        assert title.endswith(":"), event_id
        assert lines == [f"{name}: %{n}" for n, name in enumerate(entry["fields"], start=1)], event_id


def test_security_labels_sit_next_to_the_right_fields(messages: dict) -> None:
    """Spot checks that a label a detection extracts points at the field it names."""
    security = messages["Microsoft-Windows-Security-Auditing"]

    def label_field(event_id: int, label: str) -> str:
        entry = security[event_id]
        match = re.search(re.escape(label) + r":\t+%(\d+)", entry["message"])
        assert match, (event_id, label)
        return entry["fields"][int(match.group(1)) - 1]

    assert label_field(4688, "Process Command Line") == "CommandLine"
    assert label_field(4688, "New Process Name") == "NewProcessName"
    assert label_field(4688, "Creator Process Name") == "ParentProcessName"
    assert label_field(4624, "Logon Type") == "LogonType"
    assert label_field(4624, "Source Network Address") == "IpAddress"
    assert label_field(4625, "Source Network Address") == "IpAddress"
    assert label_field(4625, "Sub Status") == "SubStatus"
    # 4698's labels carry a space before their tabs, as Windows writes them.
    assert "Task Name: \t\t%5" in security[4698]["message"] and security[4698]["fields"][4] == "TaskName"
    assert label_field(5145, "Relative Target Name") == "RelativeTargetName"
    assert label_field(4776, "Logon Account") == "TargetUserName"


def _real_data_names(shared_dir: Path, wanted: dict[str, set[int]]) -> dict[tuple[str, int], set[tuple[str, ...]]]:
    """EventData <Data> names (or UserData leaf names) of every real event of a wanted (provider, id)."""
    found: dict[tuple[str, int], set[tuple[str, ...]]] = defaultdict(set)
    provider_pattern = re.compile(r'<Provider Name="([^"]*)"')
    id_pattern = re.compile(r"<EventID[^>]*>(\d+)<")
    for path in sorted((shared_dir / "evtx").rglob("*.evtx")):
        records = evtx.PyEvtxParser(str(path)).records()
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except RuntimeError:  # damaged samples: keep what parsed so far
                break
            xml = record["data"]
            provider = provider_pattern.search(xml)
            event_id = id_pattern.search(xml)
            if not provider or not event_id or int(event_id.group(1)) not in wanted.get(provider.group(1), ()):
                continue
            root = ET.fromstring(xml)
            event_data = root.find(f"{EVENT_NS}EventData")
            user_data = root.find(f"{EVENT_NS}UserData")
            if event_data is not None:
                names = tuple(d.attrib.get("Name") for d in event_data if d.tag == f"{EVENT_NS}Data")
            elif user_data is not None and len(user_data):
                names = tuple(child.tag.split("}")[-1] for child in user_data[0])
            else:
                continue
            found[(provider.group(1), int(event_id.group(1)))].add(names)
    return found


@pytest.mark.shared
def test_field_lists_match_real_events(messages: dict, shared_dir: Path) -> None:
    """Each covered (provider, id) seen in ../shared/evtx has a real event whose data names equal `fields`.

    Sysmon only ever appends fields to an event when its schema grows, so for Sysmon events whose samples all
    predate the current schema the sample's names must be an exact prefix of the list instead; the test says
    which pairs were matched which way, so a wrong list cannot slip through as a "prefix".
    """
    wanted = {provider: set(events) for provider, events in messages.items()}
    real = _real_data_names(shared_dir, wanted)
    assert len(real) >= 40, f"expected many covered events in the samples, found {len(real)}"
    exact, by_prefix, mismatched = [], [], []
    for (provider, event_id), variants in sorted(real.items()):
        fields = messages[provider][event_id].get("fields")
        if fields is None:  # unnamed <Data>: the real events must be unnamed too
            assert all(name is None for names in variants for name in names), (provider, event_id, variants)
            exact.append((provider, event_id))
            continue
        if tuple(fields) in variants:
            exact.append((provider, event_id))
        elif provider == "Microsoft-Windows-Sysmon" and any(
            tuple(fields[: len(names)]) == names for names in variants
        ):
            by_prefix.append((provider, event_id))
        else:
            mismatched.append((provider, event_id, sorted(variants, key=len)[-1]))
    assert not mismatched, mismatched
    assert ("Microsoft-Windows-Security-Auditing", 4688) in exact
    assert ("Microsoft-Windows-Sysmon", 1) in exact
    assert ("MsiInstaller", 1040) in exact
    assert ("Microsoft-Windows-Eventlog", 1102) in exact
    assert len(exact) > len(by_prefix)
