"""The classic ``WinEventLog`` rendering of an event, and the fields Splunk extracts from its message.

Splunk's Windows input, with ``renderXml=false``, stores each event as text: a timestamp line, ``key=value``
header lines, then ``Message=`` and the rendered message. Rules written for that rendering search ``_raw`` for
text such as ``EventCode=4688`` (the seed rule uses ``TERM(EventCode=1040)``), so a classic load must produce
that text. Splunk then extracts every ``Label: value`` line of the message as a field (``wel-col-kv``):
the label is cleaned into a field name, repeated labels make a multivalue field, empty values are dropped.
"""

from __future__ import annotations

import re

LEVEL_NAMES = {"0": "Information", "1": "Critical", "2": "Error", "3": "Warning", "4": "Information",
               "5": "Verbose"}  # fmt: skip
OPCODE_NAMES = {"0": "Info", "1": "Start", "2": "Stop", "3": "DCStart", "4": "DCStop", "5": "Extension",
                "6": "Reply", "7": "Resume", "8": "Suspend", "9": "Send", "240": "Receive"}  # fmt: skip
# The standard keyword bits (winmeta.xml); provider-specific bits have no public names.
KEYWORD_NAMES = (
    (0x01000000000000, "Response Time"), (0x02000000000000, "WDI Context"), (0x04000000000000, "WDI Diag"),
    (0x08000000000000, "SQM"), (0x10000000000000, "Audit Failure"), (0x20000000000000, "Audit Success"),
    (0x40000000000000, "Correlation Hint"), (0x80000000000000, "Classic"),
)  # fmt: skip


def keyword_names(keywords: str | None) -> str:
    """``0x8020000000000000`` -> ``Audit Success``; no standard bit set -> ``None`` (as Windows shows it)."""
    if not keywords:
        return "None"
    try:
        mask = int(keywords, 16) if keywords.lower().startswith("0x") else int(keywords)
    except ValueError:
        return keywords
    names = [name for bit, name in KEYWORD_NAMES if mask & bit]
    return ", ".join(names) if names else "None"


def classic_timestamp(system_time: str | None) -> str:
    """``2019-03-19T13:05:42.000000Z`` -> ``03/19/2019 01:05:42 PM`` (UTC: the event carries no local zone)."""
    if not system_time or len(system_time) < 19:
        return ""
    year, month, day = system_time[0:4], system_time[5:7], system_time[8:10]
    hour, rest = int(system_time[11:13]), system_time[13:19]
    suffix = "AM" if hour < 12 else "PM"
    return f"{month}/{day}/{year} {hour % 12 or 12:02d}{rest} {suffix}"


def classic_raw(
    *,
    system_time: str | None,
    channel: str | None,
    event_id: str | None,
    level: str | None,
    computer: str | None,
    source_name: str | None,
    record_id: str | None,
    keywords: str | None,
    task: str | None,
    opcode: str | None,
    message: str,
) -> str:
    """The WinEventLog text of one event, header lines in the order Splunk writes them."""
    level_text = level or "0"
    return (
        f"{classic_timestamp(system_time)}\n"
        f"LogName={channel or ''}\n"
        f"EventCode={event_id or ''}\n"
        f"EventType={level_text}\n"
        f"ComputerName={computer or ''}\n"
        f"SourceName={source_name or ''}\n"
        f"Type={LEVEL_NAMES.get(level_text, 'Information')}\n"
        f"RecordNumber={record_id or ''}\n"
        f"Keywords={keyword_names(keywords)}\n"
        f"TaskCategory={'None' if task in (None, '', '0') else task}\n"
        f"OpCode={OPCODE_NAMES.get(opcode or '0', opcode)}\n"
        f"Message={message}"
    )


_LABEL_LINE = re.compile(r"^[ \t]*([^:\r\n]+?)[ \t]*:[ \t]+(\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_UNCLEAN = re.compile(r"[^0-9A-Za-z_]")


def clean_key(label: str) -> str:
    """Splunk's CLEAN_KEYS: non-alphanumerics become ``_``; leading underscores and digits are stripped."""
    return _UNCLEAN.sub("_", label).lstrip("_0123456789")


def message_fields(message: str | None) -> list[tuple[str, str]]:
    """The ``(field, value)`` pairs wel-col-kv extracts from a rendered message, in message order."""
    if not message or ":" not in message:
        return []
    pairs = []
    for label, value in _LABEL_LINE.findall(message):
        key = clean_key(label)
        if key:
            pairs.append((key, value))
    return pairs
