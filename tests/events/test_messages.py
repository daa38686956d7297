"""Message templates: the YAML contract, FormatMessage escapes, overriding, errors that name the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqldetect.errors import EventInputError
from sqldetect.events.messages import MessageCatalog, MessageTemplate
from sqldetect.events.windows_schema import default_windows_schema
from sqldetect.schema import FieldKind

TEMPLATES = Path(__file__).parent / "data" / "messages.yaml"


def render(text: str, values: list[str]) -> str:
    return MessageTemplate.compile("P", "1", text, None).render(values)


def test_insertion_strings_and_escapes() -> None:
    assert render("a %1 b %2!s! c", ["x", "y"]) == "a x b y c"
    assert render("100%% of %1%n%tend", ["x"]) == "100% of x\n\tend"
    assert render("{braces} %1", ["{v}"]) == "{braces} {v}"
    assert render("%10-%1", [str(i) for i in range(1, 11)]) == "10-1"


def test_missing_insertion_string_renders_empty_and_percent_zero_ends() -> None:
    assert render("x=%1 y=%3.", ["a"]) == "x=a y=."
    assert render("kept%0dropped", []) == "kept"


def test_catalog_loads_the_contract_format(tmp_path: Path) -> None:
    catalog = MessageCatalog.load([TEMPLATES], include_package=False)
    template = catalog.get("MsiInstaller", "1040")
    assert template is not None and template.fields is None
    assert catalog.get("Microsoft-Windows-Sysmon", "1").fields[:2] == ("RuleName", "UtcTime")  # type: ignore[index]
    assert catalog.get("MsiInstaller", "1041") is None


def test_later_files_override_earlier_ones(tmp_path: Path) -> None:
    override = tmp_path / "more.yaml"
    override.write_text('MsiInstaller:\n  "1040": "Override %2"\nNew-Provider:\n  7:\n    message: "seven %1"\n')
    catalog = MessageCatalog.load([TEMPLATES, override], include_package=False)
    assert catalog.get("MsiInstaller", "1040").render(["a", "b"]) == "Override b"  # type: ignore[union-attr]
    assert catalog.get("New-Provider", "7").render(["x"]) == "seven x"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("MsiInstaller: [1, 2]", "provider 'MsiInstaller'"),
        ("P:\n  abc:\n    message: x", "event 'abc'"),
        ("P:\n  1:\n    message: [x]", "event 1"),
        ("P:\n  1:\n    message: x\n    fields: nope", "'fields'"),
        ("P: {1: x", "not valid YAML"),
    ],
)
def test_bad_templates_name_file_and_place(tmp_path: Path, text: str, where: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(EventInputError) as caught:
        MessageCatalog.load([bad], include_package=False)
    assert where in str(caught.value) and "bad.yaml" in str(caught.value)


def test_missing_templates_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(EventInputError, match="cannot read message templates"):
        MessageCatalog.load([tmp_path / "absent.yaml"], include_package=False)


def test_default_windows_schema_has_core_and_template_fields() -> None:
    schema = default_windows_schema([TEMPLATES])
    assert schema.get("EventCode").kind is FieldKind.NUMBER  # type: ignore[union-attr]
    assert schema.get("_time").kind is FieldKind.TIME  # type: ignore[union-attr]
    assert schema.get("Data").kind is FieldKind.MULTIVALUE  # type: ignore[union-attr]
    assert schema.get("CommandLine").kind is FieldKind.STRING  # type: ignore[union-attr]
    # Sysmon's ProcessId collides (case only) with the System field ProcessID: second column.
    assert schema.get("ProcessID").column_name == "ProcessID"  # type: ignore[union-attr]
    assert schema.get("ProcessId").column_name == "ProcessId__2"  # type: ignore[union-attr]
