"""Write valid EVTX files from plain event dicts: test tooling for sqldetect's readers and rules.

Real EVTX samples cannot be shipped with the project (licences) and cannot be edited to make a test case, so
the project makes its own: ``write_evtx(path, events)`` writes files that the `evtx` package (with checksum
validation) and python-evtx both read back to exactly the events given. The files look like Windows' own:
a file header, 64 KiB chunks with string and template tables and CRC32s, and records that are template
instances (one template per event shape, defined in the first record of each chunk that uses it) with typed
substitution values.

The event dict
--------------
=====================  ========  =================================================================================
key                    required  meaning (rendered as)
=====================  ========  =================================================================================
provider               yes       provider name (``System/Provider/@Name``), e.g. ``MsiInstaller``
provider_guid          no        provider GUID (``Provider/@Guid``), with or without braces
event_source_name      no        ``Provider/@EventSourceName`` (classic providers, e.g. Service Control Manager)
channel                yes       ``System/Channel``, e.g. ``Application``, ``Security``
event_id               yes       ``System/EventID``, 0..65535
qualifiers             no        ``EventID/@Qualifiers``, 0..65535 (classic providers; absent when not given)
version                no        ``System/Version``, 0..255 (default 0)
level                  no        ``System/Level``, 0..255 (default 4, Information)
task                   no        ``System/Task``, 0..65535 (default 0)
opcode                 no        ``System/Opcode``, 0..255 (default 0)
keywords               no        ``System/Keywords``: integer or ``"0x..."`` text (default ``0x80000000000000``)
time                   yes       ``TimeCreated/@SystemTime`` and the record header time: ISO 8601 text with up
                                 to 7 fractional digits (``2024-05-01T10:00:00.123456Z``; no offset means
                                 UTC) or a ``datetime`` (naive means UTC)
record_id              no        ``System/EventRecordID`` and the record header id; must increase; default:
                                 previous id + 1 (the first is 1)
computer               yes       ``System/Computer``, e.g. ``WS01.corp.example``
user_sid               no        ``Security/@UserID``, e.g. ``S-1-5-18`` (``<Security/>`` stays empty without)
process_id, thread_id  no        ``Execution/@ProcessID``, ``@ThreadID`` (the element is absent when neither
                                 is given; a missing one of the two is 0)
activity_id            no        ``Correlation/@ActivityID`` (``<Correlation/>`` stays empty without)
related_activity_id    no        ``Correlation/@RelatedActivityID``
data                   no        ``EventData``: a list gives unnamed ``<Data>`` elements (classic providers:
                                 ``["C:\\pkg.msi", "1234"]``); a mapping gives ``<Data Name="key">``
                                 elements in the mapping's order (``{Image: ..., CommandLine: ...}``)
user_data              no        ``UserData`` instead of EventData: a nested mapping; a mapping value is a
                                 child element, a list repeats the element, a key ``"@name"`` is an attribute
                                 of the enclosing element (``{LogFileCleared: {"@xmlns": "...",
                                 SubjectUserName: alice}}``)
=====================  ========  =================================================================================

Data and UserData values are strings (UTF-16 in the file), integers (written as UInt32, or UInt64 / Int64
when they do not fit), booleans, or null (an empty element). Floats and other types are refused. Keys not in
the table are errors, so a typo cannot silently drop a field.

Entry points: ``write_evtx`` (streaming, bounded memory), ``EvtxWriter`` (one event at a time),
``convert_file`` (a YAML / JSON / NDJSON source to EVTX, bad events reported with file, line and field;
``inputs.read_events`` reads such sources), ``python -m sqldetect.evtxwriter`` and ``sqldetect evtx-write``.
The project's fixtures are regenerated with ``python -m sqldetect.evtxwriter.fixtures``.
"""

from sqldetect.evtxwriter.convert import ConvertResult, convert_file
from sqldetect.evtxwriter.event import InvalidEventError, parse_time, prepare_event
from sqldetect.evtxwriter.writer import EvtxWriter, write_evtx

__all__ = ["ConvertResult", "EvtxWriter", "InvalidEventError", "convert_file", "parse_time", "prepare_event",
           "write_evtx"]
