"""Which fields do the rest of a pipeline use? For commands whose output fields are named by the data.

``xmlkv``, ``fromjson`` and ``spath`` without a path create one field per tag/key/path *found in each event*;
SQL needs its columns named when the query is written. sqldetect resolves this soundly by demand: the later
stages must end in a command that fixes the field set (``table``/``fields`` without wildcards, ``stats``,
``top``, ``timechart``...). Then only fields those stages name can influence the result, and extracting
exactly those names gives the same answer as extracting everything. Naming more fields than needed is
harmless (each extracted field holds what Splunk would put there), so the analysis over-approximates freely.

The analysis is refused (``None``) when a later stage's result depends on fields it does not name: a
wildcard (``table a*``, ``values(*)``, ``foreach *``), ``addtotals`` without a list (it sums every field),
``join`` without fields (it joins on the shared ones), or a pipeline that ends without fixing its fields
(every field would be shown). Commands that treat every field alike but each on its own (``fillnull``
without a list, ``transaction``'s value unions) need no names: an unnamed field stays invisible anyway.
Wildcard ``rename`` is followed backwards: a later use of ``PolicyName`` after
``rename RuleAndFileData.* AS *`` demands ``RuleAndFileData.PolicyName``.
"""

from __future__ import annotations

import dataclasses

from sqldetect.compile import wildcards
from sqldetect.spl import ast

#: commands after which only the fields they name (or create) exist
BOUNDING = {"table", "stats", "chart", "timechart", "top", "rare", "tstats", "mstats"}
#: commands that read every field (or a data-dependent set) when used this way
_IMPLICIT_ALL = {"extract", "kv", "kvform", "multikv", "fieldsummary", "foreach"}


class Unbounded(Exception):
    """The later stages use fields they do not name."""


def fields_used_later(later: list[ast.Command]) -> set[str] | None:
    """Every field name the commands in ``later`` may read before the field set is fixed, or None when that
    set cannot be known (see the module docstring)."""
    names: set[str] = set()
    renames: list[tuple[str, str]] = []
    try:
        for cmd in later:
            _collect(cmd, names, renames)
            if _bounds(cmd):
                return _through_renames(names, renames)
    except Unbounded:
        return None
    return None


def _bounds(cmd: ast.Command) -> bool:
    name = cmd.canonical or cmd.name
    if name == "fields":
        return not getattr(cmd, "remove", False)
    if name == "inputlookup":
        return cmd.option("append", "f").lower() not in ("t", "true", "1")
    return name in BOUNDING


def _through_renames(names: set[str], renames: list[tuple[str, str]]) -> set[str]:
    """Add, for each wildcard rename ``src AS dst`` (latest first, each applied once), the source names of the
    demanded names matching ``dst``."""
    for source, target in reversed(renames):
        for name in list(names):
            captures = wildcards.match(target, name)
            if captures is None:
                continue
            try:
                names.add(wildcards.substitute(source, captures))
            except ValueError:
                raise Unbounded from None
    return names


def _collect(cmd: ast.Command, names: set[str], renames: list[tuple[str, str]]) -> None:
    name = cmd.canonical or cmd.name
    if name in _IMPLICIT_ALL:
        if name == "foreach":
            for f in getattr(cmd, "fields", []):
                if "*" in f.name:
                    raise Unbounded
                names.add(f.name)
            return
        raise Unbounded
    if name == "addtotals" and not getattr(cmd, "words", None):
        raise Unbounded
    if name == "join" and not getattr(cmd, "fields", None):
        raise Unbounded
    if name == "spath" and getattr(cmd, "path", None) is None:
        names.add(getattr(cmd, "input", "_raw"))
        return
    if name == "rename":
        for pair in getattr(cmd, "pairs", []):
            source, target = pair.source.name, pair.target.name
            if "*" in source or "*" in target:
                renames.append((source, target))
            else:
                names.update((source, target))
        return
    if name == "appendpipe" and getattr(cmd, "subsearch", None) is not None:
        _walk(cmd.subsearch.pipeline, names)  # type: ignore[attr-defined]
    for option in cmd.options.values():
        names.add(option.value)
    _walk(cmd, names)


def _walk(node: object, names: set[str]) -> None:
    """Collect field names from a syntax tree node and its children."""
    if isinstance(node, list):
        for item in node:
            _walk(item, names)
        return
    if isinstance(node, ast.Pipeline):
        for cmd in node.commands:
            _walk(cmd, names)  # a sub-pipeline over the same rows (appendpipe, a search's [subsearch])
        return
    if isinstance(node, ast.Subsearch):
        return  # join/append subsearches read other rows (appendpipe's is walked by _collect)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return
    if isinstance(node, ast.FieldName):
        if "*" in node.name:
            raise Unbounded
        names.add(node.name)
        return
    if isinstance(node, ast.FieldRef):
        if "*" in node.name:
            raise Unbounded
        names.add(node.name)
        names.update(node.dot_parts())  # a bare ``a.b`` may read ``a`` and ``b`` (eval concatenation)
        return
    if isinstance(node, ast.SearchTerm):
        names.add("_raw")
        return
    if isinstance(node, (ast.SearchCompare, ast.SearchIn, ast.SortKey, ast.Assignment)):
        names.add(node.field)
    if isinstance(node, ast.LookupField):
        names.update((node.lookup_field, node.event_field))
        return
    if isinstance(node, ast.GenericCommand):
        names.update(node.words)
    for f in dataclasses.fields(node):
        if f.name in ("span", "options", "source", "name", "canonical", "args_text"):
            continue
        value = getattr(node, f.name)
        if isinstance(value, str):
            if f.name in ("field", "alias", "input", "output", "path", "table"):
                names.add(value)
            continue
        _walk(value, names)
