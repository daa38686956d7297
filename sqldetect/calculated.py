"""Calculated fields: the CIM-ish fields Splunk's Windows and Sysmon add-ons compute at search time.

Raw-event detections read fields no event stores: `` `sysmon` EventCode=1 | stats count by dest process_name``.
In Splunk the add-ons compute them (props.conf ``EVAL-``/``FIELDALIAS-``, eventtypes.conf); without them those
fields are NULL, ``stats ... by dest`` drops every row and the detection is silent. This module loads their
definitions, kept as data in ``sqldetect/data/calculated_fields.yaml`` (plus a user's files), and turns each
field into one ``DerivedField`` whose SPL eval picks the definition matching the event; the translator adds the
ones a rule can reach in its ``s0_source`` CTE (``sqldetect.compile.derived``).

File format::

    sources:                     # named SPL search expressions selecting a kind of event
      sysmon: 'Channel="Microsoft-Windows-Sysmon/Operational" OR source="*WinEventLog:Microsoft-..."'
    eventtypes:                  # eventtype: multivalue list of the event types an event matches
      wineventlog_system: 'source="XmlWinEventLog:System" OR ...'
    fields:
      process_name:
        doc: ...
        kind: string             # optional: string, number, multivalue
        override: false          # optional: true replaces the event's own value (default: fill only)
        values:                  # tried in order, the first matching one gives the value
          - {datamodel: Endpoint.Processes}                    # every branch of that CIM data set giving it
          - {source: sysmon, search: 'EventCode=7', eval: 'replace(Image, "^.*\\\\", "")'}
          - {eval: 'coalesce(Computer, host)'}                 # no source/search: every event
      dest: 'coalesce(Computer, host)'                         # shorthand: one value for every event

A user's file is read after the shipped one: its ``sources`` and ``eventtypes`` replace those of the same name,
its field definitions are tried *before* the shipped ones of that field (``replace: true`` drops the shipped
ones). Errors name the file and the field.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sqldetect.compile.derived import DerivedField
from sqldetect.errors import Location, SqlDetectError
from sqldetect.schema import FieldKind

#: libyaml's parser when PyYAML has it: same constructor (same values), several times faster to read
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]

PACKAGE_FILE = Path(__file__).parent / "data" / "calculated_fields.yaml"

_TOP_KEYS = {"sources", "eventtypes", "fields"}
_FIELD_KEYS = {"doc", "kind", "override", "replace", "values"}
_VALUE_KEYS = {"source", "search", "eval", "datamodel", "doc"}
_KINDS = {"string": FieldKind.STRING, "number": FieldKind.NUMBER, "multivalue": FieldKind.MULTIVALUE}
_EVENTTYPE_REF = re.compile(r"\beventtype\s*=\s*\"?([A-Za-z0-9_.:-]+)\"?")


class CalculatedFieldError(SqlDetectError):
    """A calculated fields file is invalid: bad YAML, an unknown key or source, an expression that does not
    parse, a data set that does not exist. The message names the file and the field."""


@dataclass
class Definition:
    """One way to compute a field: ``eval`` when the event matches ``search`` (None: every event)."""

    search: str | None
    eval: str


@dataclass
class CalculatedField:
    name: str
    definitions: list[Definition] = field(default_factory=list)
    kind: FieldKind | None = None
    override: bool | None = None
    doc: str = ""
    origin: str = ""


@dataclass
class CalculatedFields:
    """Everything loaded: named sources, event types (in order) and fields (in order)."""

    sources: dict[str, str] = field(default_factory=dict)
    eventtypes: dict[str, str] = field(default_factory=dict)
    eventtypes_origin: str = ""
    fields: dict[str, CalculatedField] = field(default_factory=dict)

    def derived_fields(self) -> list[DerivedField]:
        """One ``DerivedField`` per field (``eventtype`` first), its eval a ``case`` over the definitions."""
        out: list[DerivedField] = []
        if self.eventtypes and "eventtype" not in self.fields:
            out.append(DerivedField("eventtype", eval=_eventtype_eval(self.eventtypes), kind=FieldKind.MULTIVALUE,
                                    origin=self.eventtypes_origin))
        for calc in self.fields.values():
            if calc.definitions:
                out.append(DerivedField(calc.name, eval=_case_eval(calc.definitions), kind=calc.kind,
                                        origin=calc.origin, override=calc.override))
        return out


def spl_string(text: str) -> str:
    """``text`` as an SPL string literal (the SPL parser turns ``\\\\`` back into ``\\`` and ``\\"`` into ``"``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _condition(search: str) -> str:
    return f"searchmatch({spl_string(search)})"


def _case_eval(definitions: list[Definition]) -> str:
    if len(definitions) == 1 and definitions[0].search is None:
        return definitions[0].eval
    parts: list[str] = []
    for definition in definitions:
        parts.append(_condition(definition.search) if definition.search is not None else "true()")
        parts.append(definition.eval)
        if definition.search is None:
            break  # an unconditional definition ends the list: later ones could never apply
    return "case(" + ", ".join(parts) + ")"


def _eventtype_eval(eventtypes: dict[str, str]) -> str:
    expanded: dict[str, str] = {}
    for name, search in eventtypes.items():
        def refer(match: re.Match[str], current: str = name) -> str:
            ref = match.group(1)
            if ref not in expanded:
                raise CalculatedFieldError(f"event type '{current}' names event type '{ref}', which is not "
                                           "defined before it")
            return f"({expanded[ref]})"

        expanded[name] = _EVENTTYPE_REF.sub(refer, search)
    # "a,b," from the matching names, then split: flat SQL (nested mvappend() grows with every event type)
    bad = [name for name in expanded if "," in name]
    if bad:
        raise CalculatedFieldError(f"event type name '{bad[0]}' has a comma")
    items = [f"if({_condition(search)}, {spl_string(name + ',')}, \"\")" for name, search in expanded.items()]
    return f'split(nullif(replace({" . ".join(items)}, ",$", ""), ""), ",")'


# ---------------------------------------------------------------------------------------------------- loading


def load_calculated(paths: Iterable[str | os.PathLike[str]] = (), *, include_package: bool = True,
                    datamodels: Any = None) -> CalculatedFields:
    """The shipped calculated fields (unless ``include_package`` is false), then each user file over them.
    ``datamodels``: the ``DataModels`` whose branches ``datamodel:`` entries read (default: the shipped ones)."""
    if datamodels is None:
        from sqldetect.datamodels import package_datamodels

        datamodels = package_datamodels()
    result = CalculatedFields()
    files = ([PACKAGE_FILE] if include_package else []) + [Path(p) for p in paths]
    for path in files:
        _merge(result, _read(path), str(path), datamodels)
    return result


def calculated_fields(paths: Iterable[str | os.PathLike[str]] = (), *, include_package: bool = True,
                      datamodels: Any = None) -> list[DerivedField]:
    """The derived fields an engine adds to every rule's event source (the shipped ones are built once)."""
    paths = list(paths)
    if include_package and not paths and datamodels is None:
        return list(_shipped())
    return load_calculated(paths, include_package=include_package, datamodels=datamodels).derived_fields()


@functools.cache
def _shipped() -> tuple[DerivedField, ...]:
    return tuple(load_calculated().derived_fields())


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise CalculatedFieldError(f"cannot read calculated fields: {exc.strerror}", Location(file=str(path))) \
            from None
    except yaml.YAMLError as exc:
        raise CalculatedFieldError(f"not valid YAML: {exc}", Location(file=str(path))) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CalculatedFieldError("a calculated fields file is a mapping with sources, eventtypes and fields",
                                   Location(file=str(path)))
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise CalculatedFieldError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (allowed: "
                                   f"{', '.join(sorted(_TOP_KEYS))})", Location(file=str(path)))
    return raw


def _merge(result: CalculatedFields, raw: dict[str, Any], origin: str, datamodels: Any) -> None:
    def error(message: str) -> CalculatedFieldError:
        return CalculatedFieldError(message, Location(file=origin))

    for section in ("sources", "eventtypes"):
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            raise error(f"'{section}' must map names to SPL search expressions")
        for name, search in entries.items():
            if not isinstance(search, str) or not search.strip():
                raise error(f"{section[:-1]} '{name}': expected an SPL search expression")
            _check_search(search, f"{section[:-1]} '{name}'", error)
            getattr(result, section)[str(name)] = search
    if raw.get("eventtypes"):
        result.eventtypes_origin = origin
        try:
            _eventtype_eval(result.eventtypes)
        except CalculatedFieldError as exc:
            raise error(exc.message) from None

    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        raise error("'fields' must map field names to definitions")
    for name, spec in fields.items():
        name = str(name)
        where = f"field '{name}'"
        spec = _field_spec(spec, where, error)
        definitions: list[Definition] = []
        for index, value in enumerate(spec.get("values") or [], start=1):
            definitions.extend(_definitions(name, value, f"{where}, value {index}", result.sources, datamodels,
                                            error))
        kind = spec.get("kind")
        if kind is not None and kind not in _KINDS:
            raise error(f"{where}: unknown kind '{kind}' (one of {', '.join(_KINDS)})")
        if "override" in spec and not isinstance(spec["override"], bool):
            raise error(f"{where}: override is true or false")
        existing = result.fields.get(name)
        if existing is None or spec.get("replace"):
            result.fields[name] = CalculatedField(name, definitions, _KINDS.get(kind) if kind else None,
                                                  spec.get("override"), str(spec.get("doc", "")), origin)
        else:  # a user's definitions come first, the shipped ones stay as the fallback
            existing.definitions = definitions + existing.definitions
            existing.kind = _KINDS[kind] if kind else existing.kind
            existing.override = spec.get("override", existing.override)
            existing.origin = origin
        for definition in definitions:  # the composed expression must parse too (quoting, arity)
            _check_eval(definition.eval, where, error)


def _check_keys(mapping: dict[Any, Any], allowed: set[str], where: str, error: Any) -> None:
    """A typo in a key would silently drop that setting: name the unknown keys and the allowed ones."""
    unknown = set(mapping) - allowed
    if unknown:
        raise error(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (allowed: "
                    f"{', '.join(sorted(allowed))})")


def _field_spec(spec: Any, where: str, error: Any) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"values": [{"eval": spec}]}
    if isinstance(spec, list):
        return {"values": spec}
    if not isinstance(spec, dict):
        raise error(f"{where}: expected an eval expression, a list of values or a mapping with 'values'")
    _check_keys(spec, _FIELD_KEYS, where, error)
    if not isinstance(spec.get("values", []), list):
        raise error(f"{where}: 'values' is a list of definitions")
    return spec


def _definitions(name: str, value: Any, where: str, sources: dict[str, str], datamodels: Any,
                 error: Any) -> list[Definition]:
    if isinstance(value, str):
        value = {"eval": value}
    if not isinstance(value, dict):
        raise error(f"{where}: expected a mapping with eval (and optional source, search) or datamodel")
    _check_keys(value, _VALUE_KEYS, where, error)
    if ("eval" in value) == ("datamodel" in value):
        raise error(f"{where}: give exactly one of eval or datamodel")
    if "datamodel" in value:
        if "source" in value or "search" in value:
            raise error(f"{where}: a datamodel value takes its events from the data set's branches; "
                        "source and search do not apply")
        return _from_datamodel(name, str(value["datamodel"]), where, datamodels, error)
    conditions: list[str] = []
    if "source" in value:
        source = str(value["source"])
        if source not in sources:
            raise error(f"{where}: unknown source '{source}' (defined: {', '.join(sources) or 'none'})")
        conditions.append(sources[source])
    if "search" in value:
        if not isinstance(value["search"], str):
            raise error(f"{where}: search is an SPL search expression")
        _check_search(value["search"], where, error)
        conditions.append(value["search"])
    text = value["eval"]
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise error(f"{where}: eval is an SPL eval expression")
    return [Definition(_and(conditions), str(text))]


def _and(conditions: list[str]) -> str | None:
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return " ".join(f"({c})" for c in conditions)


def _from_datamodel(name: str, spec: str, where: str, datamodels: Any, error: Any) -> list[Definition]:
    """The field's expression in every branch of a root CIM data set, under that branch's constraint."""
    model_name, _, dataset_name = spec.partition(".")
    model = datamodels.get(model_name) if dataset_name else None
    dataset = model.find(dataset_name) if model is not None else None
    if dataset is None:
        raise error(f"{where}: no data set '{spec}' (write Model.Dataset, e.g. Endpoint.Processes)")
    if dataset.parent is not None or dataset.table is not None:
        raise error(f"{where}: '{spec}' is not a root data set over the event table")
    spec_field = dataset.fields.get(name)
    if spec_field is None:
        raise error(f"{where}: data set '{spec}' has no field '{name}'")
    out: list[Definition] = []
    for branch in dataset.branches:
        text = branch.evals.get(name, spec_field.eval)
        if text is None:
            continue
        conditions = [t.text for t in (dataset.search, branch.search) if t is not None]
        out.append(Definition(_and(conditions), text.text))
    if not out:
        raise error(f"{where}: no branch of data set '{spec}' gives field '{name}' a value")
    return out


def _check_search(text: str, where: str, error: Any) -> None:
    from sqldetect.spl.parser import parse

    try:
        parse("search " + text)
    except SqlDetectError as exc:
        raise error(f"{where}: not an SPL search expression: {text!r} ({exc.message})") from None


def _check_eval(text: str, where: str, error: Any) -> None:
    from sqldetect.spl.parser import parse

    try:
        parse(f"* | eval x = {text}")
    except SqlDetectError as exc:
        raise error(f"{where}: not an SPL eval expression: {text!r} ({exc.message})") from None
