"""The Windows normalizer, field by field, on hand-made records (both raw formats)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqldetect.events import xmltext
from sqldetect.events.messages import MessageCatalog
from sqldetect.events.windows import (
    _SYSTEM_TAGS,
    WINDOWS_COLUMNS,
    RecordError,
    WindowsNormalizer,
    WindowsOptions,
    _parse_slow,
)
from tests.events.records import MSI_1040, MSI_1040_WINDOWS, SECURITY_4688, SYSMON_1, USERDATA_1102

TEMPLATES = Path(__file__).parent / "data" / "messages.yaml"


def normalize(xml: str, raw_format: str = "xml", templates: bool = True) -> dict[str, object]:
    catalog = MessageCatalog.load([TEMPLATES], include_package=False) if templates else MessageCatalog()
    core, names, values = WindowsNormalizer(WindowsOptions(raw_format=raw_format, catalog=catalog)).normalize(xml)
    row: dict[str, object] = dict(zip(WINDOWS_COLUMNS, core, strict=True))
    fields: dict[str, object] = {}
    for name, value in zip(names, values, strict=True):
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    row["fields"] = fields
    return row


def test_security_4688_system_and_event_data() -> None:
    row = normalize(SECURITY_4688)
    assert row["system_time"] == "2022-04-11T09:15:32.123456Z"
    assert row["provider"] == row["source_name"] == "Microsoft-Windows-Security-Auditing"
    assert (row["event_id"], row["version"], row["level"], row["task"], row["opcode"]) == ("4688", "2", "0", "13312", "0")
    assert row["keywords"] == "0x8020000000000000"
    assert (row["record_id"], row["process_id"], row["thread_id"]) == ("58213", "4", "212")
    assert (row["channel"], row["computer"], row["user_id"], row["qualifiers"]) == ("Security", "WS01.corp.example", None, None)
    assert row["data"] is None
    fields = row["fields"]
    assert fields["SubjectUserName"] == "alice"
    assert fields["NewProcessName"] == "C:\\Windows\\System32\\cmd.exe"
    # XmlWinEventLog fields are the text of _raw, entities kept (as Splunk's add-on extracts them); the classic
    # rendering has no XML, so there they are resolved.
    assert fields["CommandLine"] == 'cmd.exe /c "whoami" &amp; echo &lt;done&gt;'
    assert "<Data Name='CommandLine'>cmd.exe /c \"whoami\" &amp; echo &lt;done&gt;</Data>" in str(row["raw"])
    classic_fields = normalize(SECURITY_4688, raw_format="classic")["fields"]
    assert classic_fields["CommandLine"] == 'cmd.exe /c "whoami" & echo <done>'  # type: ignore[index]
    assert fields["TokenElevationType"] == "%%1936"
    assert list(fields)[:3] == ["SubjectUserSid", "SubjectUserName", "SubjectDomainName"]


def test_message_rendered_from_template_with_insertion_strings() -> None:
    message = normalize(SECURITY_4688)["message"]
    assert isinstance(message, str)
    assert message.startswith("A new process has been created.\n\nCreator Subject:\n\tSecurity ID:\t\tS-1-5-21-")
    assert "\tAccount Name:\t\talice\n" in message
    assert "\tProcess Command Line:\tcmd.exe /c \"whoami\" & echo <done>" in message


def test_message_absent_without_template_or_rendering_info() -> None:
    assert normalize(SECURITY_4688, templates=False)["message"] is None


def test_message_from_rendering_info_when_no_template() -> None:
    with_rendering = SYSMON_1.replace(
        "</EventData></Event>",
        '</EventData><RenderingInfo Culture="en-US"><Message>Process Create: &amp;x</Message></RenderingInfo></Event>',
    )
    row = normalize(with_rendering, templates=False)
    assert row["message"] == "Process Create: &x"
    assert "RuleName" in row["fields"] and "Message" not in row["fields"]


def test_xml_raw_is_splunk_style_single_line_single_quotes() -> None:
    raw = normalize(SECURITY_4688)["raw"]
    assert isinstance(raw, str)
    assert raw.startswith(f"<Event xmlns='{xmltext.EVENT_OPEN[14:-2]}'><System><Provider Name='Microsoft-Windows-Security-Auditing'")
    assert "<TimeCreated SystemTime='2022-04-11T09:15:32.123456Z'/>" in raw
    assert "<Correlation/><Execution ProcessID='4' ThreadID='212'/>" in raw
    assert "<Security/></System>" in raw
    assert "<Data Name='CommandLine'>cmd.exe /c \"whoami\" &amp; echo &lt;done&gt;</Data>" in raw
    assert "\n" not in raw and '="' not in raw


def test_xml_raw_of_sysmon_closes_empty_data_and_keeps_apostrophes_in_text() -> None:
    raw = normalize(SYSMON_1)["raw"]
    assert "<Data Name='RuleName'/>" in raw
    assert "<Data Name='CommandLine'>msiexec.exe /i 'C:\\Temp\\x.msi' /q</Data>" in raw


def test_msi_1040_unnamed_data_qualifiers_and_classic_raw() -> None:
    row = normalize(MSI_1040, raw_format="classic")
    assert row["qualifiers"] == "0" and row["event_id"] == "1040"
    assert row["data"] == ["C:\\Temp\\GoogleUpdateHelper.msi", "2128", "(NULL)", ""]
    assert row["message"] == "Beginning a Windows Installer transaction: C:\\Temp\\GoogleUpdateHelper.msi. Client Process Id: 2128."
    assert row["raw"] == (
        "03/19/2019 01:05:42 PM\nLogName=Application\nEventCode=1040\nEventType=4\nComputerName=User-PC\n"
        "SourceName=MsiInstaller\nType=Information\nRecordNumber=2513\nKeywords=Classic\nTaskCategory=None\n"
        "OpCode=Info\nMessage=Beginning a Windows Installer transaction: C:\\Temp\\GoogleUpdateHelper.msi. "
        "Client Process Id: 2128."
    )
    # The Binary element is a field of its own (empty here), not an insertion string.
    assert row["fields"] == {"Binary": "", "Beginning_a_Windows_Installer_transaction": "C:\\Temp\\GoogleUpdateHelper.msi. Client Process Id: 2128."}


def test_classic_raw_contains_term_searched_by_the_seed_rule() -> None:
    raw = normalize(MSI_1040, raw_format="classic")["raw"]
    assert "\nEventCode=1040\n" in raw and "MsiInstaller" in raw
    assert "<EventID" not in raw


def test_classic_mode_adds_message_label_fields_without_overwriting_event_data() -> None:
    fields = normalize(SECURITY_4688, raw_format="classic")["fields"]
    assert fields["Account_Name"] == ["alice", "-"]  # repeated label -> multivalue
    assert fields["Security_ID"] == ["S-1-5-21-1111-2222-3333-1001", "S-1-0-0"]
    assert fields["New_Process_Name"] == "C:\\Windows\\System32\\cmd.exe"
    assert fields["Process_Command_Line"] == 'cmd.exe /c "whoami" & echo <done>'
    assert "Creator_Subject" not in fields  # a heading without a value
    assert fields["SubjectUserName"] == "alice"


def test_classic_keywords_and_type_header_lines() -> None:
    raw = normalize(SECURITY_4688, raw_format="classic")["raw"]
    assert raw.startswith("04/11/2022 09:15:32 AM\nLogName=Security\nEventCode=4688\nEventType=0\n")
    assert "\nKeywords=Audit Success\nTaskCategory=13312\nOpCode=Info\nMessage=A new process has been created." in raw


def test_classic_message_without_template_lists_insertion_strings() -> None:
    raw = normalize(MSI_1040, raw_format="classic", templates=False)["raw"]
    assert raw.endswith("Message=C:\\Temp\\GoogleUpdateHelper.msi\n2128\n(NULL)\n")


def test_user_data_leaves_become_fields_and_reserved_names_are_qualified() -> None:
    row = normalize(USERDATA_1102)
    assert row["fields"] == {
        "SubjectUserSid": "S-1-5-21-1-2-3-1108", "SubjectUserName": "admin01",
        "SubjectDomainName": "EXAMPLE", "UserData_Channel": "Security",
    }  # fmt: skip
    assert row["channel"] == "Security"
    assert "<LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'>" in row["raw"]


def test_repeated_data_names_are_kept_in_order() -> None:
    xml = SYSMON_1.replace('<Data Name="User">CORP\\alice</Data>', '<Data Name="User">a</Data><Data Name="User">b</Data>')
    assert normalize(xml)["fields"]["User"] == ["a", "b"]


def test_windows_rendering_canonicalizes_to_the_same_event() -> None:
    canonical = xmltext.canonicalize(MSI_1040_WINDOWS)
    assert canonical == MSI_1040
    assert normalize(canonical) == normalize(MSI_1040)


def test_fast_and_full_parse_agree() -> None:
    for xml in (SECURITY_4688, SYSMON_1, MSI_1040, USERDATA_1102):
        slow = _parse_slow(xml)
        row = normalize(xml)
        assert slow.system[_SYSTEM_TAGS.index("EventID")] == row["event_id"]
        assert slow.system[_SYSTEM_TAGS.index("Channel")] == row["channel"]
        names = list(row["fields"])
        assert [n for n in dict.fromkeys(slow.names)] == names


def test_unusual_system_order_uses_full_parse_with_same_result() -> None:
    swapped = SECURITY_4688.replace(
        "<Channel>Security</Channel><Computer>WS01.corp.example</Computer>",
        "<Computer>WS01.corp.example</Computer><Channel>Security</Channel>",
    )
    original, changed = normalize(SECURITY_4688), normalize(swapped)
    for column in ("system_time", "event_id", "channel", "computer", "record_id", "message", "fields", "key"):
        assert original[column] == changed[column], column
    assert "<Computer>WS01.corp.example</Computer><Channel>Security</Channel>" in changed["raw"]


def test_control_characters_survive_the_full_parser() -> None:
    xml = SECURITY_4688.replace("<Data Name=\"SubjectUserName\">alice</Data>", "<Data Name=\"SubjectUserName\">a\x03b</Data>")
    xml = xml.replace("<Channel>Security</Channel><Computer>", "<Computer>WS01.corp.example</Computer><Channel>Security</Channel><X>")
    xml = xml.replace("<X>WS01.corp.example</Computer>", "")
    assert normalize(xml)["fields"]["SubjectUserName"] == "a\x03b"


def test_identity_key_ignores_rendering_details_but_not_index() -> None:
    canonical = xmltext.canonicalize(MSI_1040_WINDOWS)
    assert normalize(canonical)["key"] == normalize(MSI_1040)["key"]
    other_index = WindowsNormalizer(WindowsOptions(index="other")).normalize(MSI_1040)[0][-1]
    assert other_index != normalize(MSI_1040)["key"]


def test_not_an_event_is_a_record_error() -> None:
    with pytest.raises(RecordError):
        normalize("<Event><Nothing/></Event>")
    with pytest.raises(RecordError):
        normalize("<Event><System>")
