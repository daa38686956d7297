"""The schema of a Windows event table before any event is loaded.

``sqldetect sql`` translates a rule without a database; it still needs to know which fields exist and their
kinds (``EventCode`` is a number, ``Data`` a multivalue...). This is that schema: the fields the normalizer always
produces plus every EventData name the message templates list, which covers the providers we know about.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

from sqldetect.events.messages import MessageCatalog
from sqldetect.events.table import BASE_FIELDS, WINDOWS_FIELDS
from sqldetect.schema import Field, FieldKind, Schema

_KINDS = {"TIMESTAMP": FieldKind.TIME, "BIGINT": FieldKind.NUMBER, "VARCHAR": FieldKind.STRING,
          "VARCHAR[]": FieldKind.MULTIVALUE}  # fmt: skip


def default_windows_schema(messages: Sequence[str | PathLike[str]] = ()) -> Schema:
    """Core fields, then the template ``fields`` names (strings), columns named as the store would name them."""
    fields: list[Field] = []
    taken: set[str] = set()
    for name, sql_type in (*BASE_FIELDS, *WINDOWS_FIELDS):
        fields.append(Field(name, _KINDS[sql_type], name))
        taken.add(name.lower())
    for name in MessageCatalog.load(messages).field_names():
        if any(f.name == name for f in fields):
            continue
        column = name
        n = 2
        while column.lower() in taken:
            column = f"{name}__{n}"
            n += 1
        taken.add(column.lower())
        fields.append(Field(name, FieldKind.STRING, column))
    return Schema(fields)
