"""Hand-made Windows event records for the event-side tests (written for these tests, not copied).

Each record exists in the canonical shape the evtx package renders (double quotes, ``<X></X>``) and, where a
test needs it, in Windows' own rendering (single quotes, self-closing) as Winlogbeat's ``event.original`` carries.
"""

from __future__ import annotations

import json

NS = "http://schemas.microsoft.com/win/2004/08/events/event"

SECURITY_4688 = (
    f'<Event xmlns="{NS}"><System>'
    '<Provider Name="Microsoft-Windows-Security-Auditing" Guid="54849625-5478-4994-A5BA-3E3B0328C30D"></Provider>'
    "<EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode>"
    "<Keywords>0x8020000000000000</Keywords>"
    '<TimeCreated SystemTime="2022-04-11T09:15:32.123456Z"></TimeCreated><EventRecordID>58213</EventRecordID>'
    '<Correlation></Correlation><Execution ProcessID="4" ThreadID="212"></Execution><Channel>Security</Channel>'
    "<Computer>WS01.corp.example</Computer><Security></Security></System><EventData>"
    '<Data Name="SubjectUserSid">S-1-5-21-1111-2222-3333-1001</Data><Data Name="SubjectUserName">alice</Data>'
    '<Data Name="SubjectDomainName">CORP</Data><Data Name="SubjectLogonId">0x3e7</Data>'
    '<Data Name="NewProcessId">0x1a2c</Data><Data Name="NewProcessName">C:\\Windows\\System32\\cmd.exe</Data>'
    '<Data Name="TokenElevationType">%%1936</Data><Data Name="ProcessId">0x10d4</Data>'
    '<Data Name="CommandLine">cmd.exe /c "whoami" &amp; echo &lt;done&gt;</Data>'
    '<Data Name="TargetUserSid">S-1-0-0</Data><Data Name="TargetUserName">-</Data>'
    '<Data Name="TargetDomainName">-</Data><Data Name="TargetLogonId">0x0</Data>'
    '<Data Name="ParentProcessName">C:\\Windows\\explorer.exe</Data>'
    '<Data Name="MandatoryLabel">S-1-16-12288</Data></EventData></Event>'
)

SYSMON_1 = (
    f'<Event xmlns="{NS}"><System>'
    '<Provider Name="Microsoft-Windows-Sysmon" Guid="5770385F-C22A-43E0-BF4C-06F5698FFBD9"></Provider>'
    "<EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode>"
    "<Keywords>0x8000000000000000</Keywords>"
    '<TimeCreated SystemTime="2022-04-11T09:15:33.000001Z"></TimeCreated><EventRecordID>7001</EventRecordID>'
    '<Correlation></Correlation><Execution ProcessID="2192" ThreadID="3060"></Execution>'
    "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS01.corp.example</Computer>"
    '<Security UserID="S-1-5-18"></Security></System><EventData>'
    '<Data Name="RuleName"></Data><Data Name="UtcTime">2022-04-11 09:15:33.000</Data>'
    '<Data Name="ProcessGuid">83989F29-3391-5F6B-1F00-000000000301</Data><Data Name="ProcessId">6700</Data>'
    '<Data Name="Image">C:\\Windows\\System32\\msiexec.exe</Data>'
    "<Data Name=\"CommandLine\">msiexec.exe /i 'C:\\Temp\\x.msi' /q</Data>"
    '<Data Name="User">CORP\\alice</Data><Data Name="ParentImage">C:\\Windows\\explorer.exe</Data>'
    "</EventData></Event>"
)

MSI_1040 = (
    f'<Event xmlns="{NS}"><System><Provider Name="MsiInstaller"></Provider>'
    '<EventID Qualifiers="0">1040</EventID><Level>4</Level><Task>0</Task><Keywords>0x80000000000000</Keywords>'
    '<TimeCreated SystemTime="2019-03-19T13:05:42.000000Z"></TimeCreated><EventRecordID>2513</EventRecordID>'
    "<Channel>Application</Channel><Computer>User-PC</Computer>"
    '<Security UserID="S-1-5-18"></Security></System><EventData>'
    "<Data>C:\\Temp\\GoogleUpdateHelper.msi</Data><Data>2128</Data><Data>(NULL)</Data><Data></Data>"
    "<Binary></Binary></EventData></Event>"
)

# Windows' own rendering of MSI_1040 (single quotes, empty elements closed), as event.original carries it.
MSI_1040_WINDOWS = (
    f"<Event xmlns='{NS}'><System><Provider Name='MsiInstaller'/>"
    "<EventID Qualifiers='0'>1040</EventID><Level>4</Level><Task>0</Task><Keywords>0x80000000000000</Keywords>"
    "<TimeCreated SystemTime='2019-03-19T13:05:42.0000000Z'/><EventRecordID>2513</EventRecordID>"
    "<Channel>Application</Channel><Computer>User-PC</Computer><Security UserID='S-1-5-18'/></System>"
    "<EventData><Data>C:\\Temp\\GoogleUpdateHelper.msi</Data><Data>2128</Data><Data>(NULL)</Data><Data/>"
    "<Binary/></EventData></Event>"
)

USERDATA_1102 = (
    f'<Event xmlns="{NS}"><System>'
    '<Provider Name="Microsoft-Windows-Eventlog" Guid="{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"></Provider>'
    "<EventID>1102</EventID><Version>0</Version><Level>4</Level><Task>104</Task><Opcode>0</Opcode>"
    "<Keywords>0x4020000000000000</Keywords>"
    '<TimeCreated SystemTime="2019-02-13T18:01:41.593830Z"></TimeCreated><EventRecordID>227693</EventRecordID>'
    '<Correlation></Correlation><Execution ProcessID="820" ThreadID="608"></Execution><Channel>Security</Channel>'
    "<Computer>PC01.example.corp</Computer><Security></Security></System><UserData>"
    '<LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog">'
    "<SubjectUserSid>S-1-5-21-1-2-3-1108</SubjectUserSid><SubjectUserName>admin01</SubjectUserName>"
    "<SubjectDomainName>EXAMPLE</SubjectDomainName><Channel>Security</Channel>"
    "</LogFileCleared></UserData></Event>"
)


def winlogbeat_line(xml: str, **winlog: object) -> str:
    """An NDJSON line carrying ``xml`` the way Winlogbeat does (``event.original``)."""
    return json.dumps({"@timestamp": "2022-04-11T09:15:32.123Z", "event": {"original": xml},
                       "winlog": {"channel": "x", **winlog}})  # fmt: skip
