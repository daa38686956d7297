"""Windows message templates: how an event's ``Message`` text is rendered from its insertion strings.

An EVTX file does not contain message text, only the event's values; Windows renders the text from the
provider's message table when the log is viewed, and Splunk stores that rendered text. We carry the templates
as data (``sqldetect/data/messages.yaml``, extended or overridden by ``--messages FILE``)::

    MsiInstaller:                       # provider name as in System/Provider/@Name
      1040:                             # event id
        message: "Beginning a Windows Installer transaction: %1. Client Process Id: %2."
        fields: [...]                   # optional: EventData names in order

``%1..%n`` are the event's n-th EventData/UserData values in document order, named or not. The other
FormatMessage escapes are honoured too (``%%``, ``%n``, ``%t``, ``%r``, ``%b``, ``%.``, ``%!``, ``%0``, and a
``!fmt!`` suffix after an insertion number, which is ignored). A template naming an insertion string the event
does not have renders it as empty text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from sqldetect.errors import EventInputError, Location

_ESCAPE = re.compile(r"%(?:(\d+)(?:![^!]*!)?|([%ntrb.!]))")
_SIMPLE = {"%": "%", "n": "\n", "t": "\t", "r": "\r", "b": " ", ".": ".", "!": "!"}
PACKAGE_MESSAGES = "messages.yaml"


@dataclass(frozen=True)
class MessageTemplate:
    """One provider/event message, compiled to a ``str.format`` pattern over the insertion strings."""

    provider: str
    event_id: str
    text: str
    fields: tuple[str, ...] | None
    pattern: str
    arity: int

    @classmethod
    def compile(cls, provider: str, event_id: str, text: str, fields: Sequence[str] | None) -> MessageTemplate:
        pieces: list[str] = []
        arity = 0
        pos = 0
        for match in _ESCAPE.finditer(text):
            pieces.append(_literal(text[pos : match.start()]))
            pos = match.end()
            number, simple = match.groups()
            if simple is not None:
                pieces.append(_literal(_SIMPLE[simple]))
            elif number == "0":  # %0 ends the message (FormatMessage: no trailing newline)
                pos = len(text)
                break
            else:
                index = int(number)
                arity = max(arity, index)
                pieces.append("{" + str(index - 1) + "}")
        pieces.append(_literal(text[pos:]))
        return cls(provider, event_id, text, tuple(fields) if fields else None, "".join(pieces), arity)

    def render(self, values: Sequence[str]) -> str:
        if len(values) >= self.arity:
            return self.pattern.format(*values)
        return self.pattern.format(*values, *([""] * (self.arity - len(values))))


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class MessageCatalog:
    """All known templates, looked up by (provider name, event id as decimal text)."""

    def __init__(self, templates: Iterable[MessageTemplate] = ()) -> None:
        self._templates: dict[tuple[str, str], MessageTemplate] = {}
        for template in templates:
            self._templates[(template.provider, template.event_id)] = template

    def __len__(self) -> int:
        return len(self._templates)

    def get(self, provider: str | None, event_id: str | None) -> MessageTemplate | None:
        if provider is None or event_id is None:
            return None
        return self._templates.get((provider, event_id))

    def templates(self) -> list[MessageTemplate]:
        return list(self._templates.values())

    def field_names(self) -> list[str]:
        """Every EventData name listed in a template's ``fields``, first occurrence first."""
        seen: dict[str, None] = {}
        for template in self._templates.values():
            for name in template.fields or ():
                seen.setdefault(name, None)
        return list(seen)

    def merged(self, other: MessageCatalog) -> MessageCatalog:
        """This catalog with ``other``'s templates added, replacing same-keyed ones."""
        return MessageCatalog([*self._templates.values(), *other._templates.values()])

    @classmethod
    def load(cls, files: Iterable[str | Path] = (), *, include_package: bool = True) -> MessageCatalog:
        """The package's templates (if the data file is present), then each file's, later ones overriding."""
        catalog = cls()
        if include_package:
            package_text = package_messages_text()
            if package_text is not None:
                catalog = catalog.merged(_parsed_package_catalog(package_text))
        for file in files:
            path = Path(file)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise EventInputError(f"cannot read message templates: {exc}", Location(file=str(path))) from exc
            catalog = catalog.merged(cls.parse(text, str(path)))
        return catalog

    @classmethod
    def parse(cls, text: str, origin: str) -> MessageCatalog:
        """Parse one templates file; every structural problem names the file, provider and event id."""
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            document = yaml.load(text, Loader=loader)
        except yaml.YAMLError as exc:
            raise EventInputError(f"message templates are not valid YAML: {exc}", Location(file=origin)) from exc
        if document is None:
            return cls()
        if not isinstance(document, dict):
            raise EventInputError("message templates must map provider names to events", Location(file=origin))
        templates: list[MessageTemplate] = []
        for provider, events in document.items():
            if not isinstance(events, dict):
                raise EventInputError(f"provider {provider!r}: expected a mapping of event ids",
                                      Location(file=origin))
            for event_id, entry in events.items():
                templates.append(_template(str(provider), event_id, entry, origin))
        return cls(templates)


def _template(provider: str, event_id: object, entry: object, origin: str) -> MessageTemplate:
    where = f"provider {provider!r}, event {event_id!r}"
    try:
        number = str(int(str(event_id)))
    except ValueError:
        raise EventInputError(f"{where}: event id must be a number", Location(file=origin)) from None
    if isinstance(entry, str):
        entry = {"message": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("message", ""), str):
        raise EventInputError(f"{where}: expected 'message' text", Location(file=origin))
    fields = entry.get("fields")
    if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
        raise EventInputError(f"{where}: 'fields' must be a list of names", Location(file=origin))
    return MessageTemplate.compile(provider, number, entry.get("message", ""), fields)


def package_messages_text() -> str | None:
    """The text of the package's templates file, or None when this build does not ship one."""
    try:
        resource = resources.files("sqldetect").joinpath("data", PACKAGE_MESSAGES)
        return resource.read_text(encoding="utf-8") if resource.is_file() else None
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return None


@lru_cache(maxsize=2)
def _parsed_package_catalog(text: str) -> MessageCatalog:
    """The shipped templates, parsed once per text: every load starts from them and a catalog is never
    changed after it is built (``merged`` returns a new one), so sharing the parsed catalog is safe."""
    return MessageCatalog.parse(text, f"sqldetect/data/{PACKAGE_MESSAGES}")

