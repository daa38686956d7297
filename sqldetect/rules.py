"""Detection rule files: load, validate and normalise them into ``Rule`` records.

Two on-disk shapes are accepted because users bring rules from two places:

* the **catalog format** of the seed rule (``id, title, description, logic_format, logic, techniques,
  technique_id, data_category, references``), and
* Splunk **security_content** detections (``id, name, search, description, status, type, data_source,
  tags.mitre_attack_id, ...``; the JSONL export flattens the techniques into ``mitre``).

Both become the same ``Rule`` so nothing downstream cares where a rule came from. Keys a shape does not
name are kept verbatim in ``Rule.extra`` (nothing the author wrote is thrown away).

Loading never stops at the first problem: every bad rule or file becomes a ``RuleError`` in
``RuleSet.errors`` (naming the file, the rule id and the key) and the rest still load, because one typo in a
directory of a thousand rules must not hide the other 999.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sqldetect.errors import Location, RuleError

__all__ = ["Rule", "RuleSet", "load_rule_text", "load_rules"]

#: ``logic_format`` values that mean "this is SPL" (compared case-insensitively).
SPL_FORMATS = frozenset({"splunk", "spl"})

#: File suffixes a directory walk picks up. Single files may also be ``.json``/``.jsonl`` exports.
RULE_SUFFIXES = (".yml", ".yaml")
JSON_SUFFIXES = (".json", ".jsonl")


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]


class _RuleLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe YAML loader that keeps a number-like ``id`` as the text the author wrote.

    ``id: 1117.1190`` would otherwise become the float ``1117.119`` and lose its trailing zero, so the rule
    could no longer be found by the id its author uses.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "id"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
            ):
                mapping["id"] = value_node.value
        return mapping


@dataclass
class Rule:
    """One detection rule, whichever file shape it came from."""

    id: str
    title: str
    logic: str
    description: str = ""
    logic_format: str = "Splunk"
    technique_ids: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    data_category: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    status: str | None = None
    source_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str | None = None) -> Rule:
        """Build a rule from one parsed record (catalog or security_content shape).

        Raises ``RuleError`` naming ``source``, the rule id (when known) and the offending key.
        """
        if not isinstance(data, Mapping):
            raise RuleError(
                f"a rule must be a mapping of keys to values, got {_type_name(data)}", Location(file=source)
            )
        rule_id = _rule_id(data, source)
        loc = Location(file=source, rule_id=rule_id)

        if "logic" in data and "search" in data:
            raise RuleError("has both `logic` and `search`; keep one of them", loc)
        logic_key = "logic" if "logic" in data else "search"
        logic = data.get(logic_key)
        if logic is None:
            raise RuleError("missing key `logic` (or `search`): the rule has no SPL to run", loc)
        if not isinstance(logic, str):
            raise RuleError(f"key `{logic_key}` must be a string of SPL, got {_type_name(logic)}", loc)
        if not logic.strip():
            raise RuleError(f"key `{logic_key}` is empty: the rule has no SPL to run", loc)

        logic_format = _text(data, "logic_format", loc, default="Splunk")
        if logic_format.strip().lower() not in SPL_FORMATS:
            raise RuleError(
                f"key `logic_format` is {logic_format!r}; sqldetect only runs Splunk SPL "
                "(`Splunk` or `SPL`, any case)",
                loc,
            )

        if "title" in data and "name" in data:
            title = _text(data, "title", loc)
        else:
            title = _text(data, "title" if "title" in data else "name", loc, default=rule_id)

        tags = data.get("tags")
        if tags is not None and not isinstance(tags, Mapping):
            raise RuleError(f"key `tags` must be a mapping, got {_type_name(tags)}", loc)
        if "technique_id" in data:
            technique_ids = _text_list(data, "technique_id", loc)
        elif tags is not None and "mitre_attack_id" in tags:
            technique_ids = _text_list(tags, "mitre_attack_id", loc, key_path="tags.mitre_attack_id")
        else:
            technique_ids = _text_list(data, "mitre", loc)

        data_key = "data_category" if "data_category" in data else "data_source"
        used = {
            "id",
            logic_key,
            "logic_format",
            "description",
            "references",
            "status",
            "techniques",
            data_key,
        }
        used.add("title" if "title" in data else "name")
        used.add("technique_id" if "technique_id" in data else "mitre")
        extra = {k: v for k, v in data.items() if k not in used}
        status = data.get("status")
        if status is not None and not isinstance(status, str):
            raise RuleError(f"key `status` must be a string, got {_type_name(status)}", loc)

        return cls(
            id=rule_id,
            title=title,
            logic=logic,
            description=_text(data, "description", loc, default=""),
            logic_format=logic_format,
            technique_ids=technique_ids,
            techniques=_text_list(data, "techniques", loc),
            data_category=_text_list(data, data_key, loc),
            references=_text_list(data, "references", loc),
            status=status,
            source_file=source,
            extra=extra,
        )


@dataclass
class RuleSet:
    """The result of loading: the good rules, every problem found, and how many files yielded nothing.

    ``rejected_files`` counts files that contributed no rule because of errors (unreadable, bad YAML, not a
    rule, or every rule in it invalid); ``rejected_rules`` counts individual rules dropped, including those
    inside files that still gave other rules.
    """

    rules: list[Rule] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)
    rejected_files: int = 0
    rejected_rules: int = 0
    files_read: int = 0

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def by_id(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def extend(self, other: RuleSet) -> None:
        self.rules.extend(other.rules)
        self.errors.extend(other.errors)
        self.rejected_files += other.rejected_files
        self.rejected_rules += other.rejected_rules
        self.files_read += other.files_read


def load_rule_text(text: str, source: str | None = None) -> RuleSet:
    """Load every rule in one YAML text (a rule, a list of rules, or several ``---`` documents)."""
    result = RuleSet(files_read=1)
    try:
        documents = list(yaml.load_all(text, Loader=_RuleLoader))
    except yaml.YAMLError as exc:
        result.errors.append(RuleError(_yaml_problem(exc), Location(file=source)))
        result.rejected_files = 1
        return result
    records: list[tuple[Any, str | None]] = []
    for doc in documents:
        if doc is None:
            continue
        items = doc if isinstance(doc, list) else [doc]
        records.extend((item, None) for item in items)
    _add_records(result, records, source)
    return result


def load_rules(paths: str | Path | Iterable[str | Path]) -> RuleSet:
    """Load rules from files and directories (recursively: ``*.yml``, ``*.yaml``).

    A file given by name may also be a ``.jsonl`` export (one rule per line) or a ``.json`` list. Ids must
    be unique across everything loaded in one call: a later duplicate is rejected with an error naming
    both files, and the first one is kept.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    result = RuleSet()
    for path in _rule_files(paths, result):
        result.extend(_load_file(path))
    _drop_duplicates(result)
    return result


# --------------------------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------------------------


def _rule_files(paths: Iterable[str | Path], result: RuleSet) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RULE_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            result.errors.append(RuleError("no such file or directory", Location(file=str(path))))
            result.rejected_files += 1


def _load_file(path: Path) -> RuleSet:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        result = RuleSet(files_read=1, rejected_files=1)
        result.errors.append(RuleError(f"cannot read the file: {exc}", Location(file=source)))
        return result
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _load_jsonl(text, source)
    if suffix == ".json":
        return _load_json(text, source)
    return load_rule_text(text, source)


def _load_jsonl(text: str, source: str) -> RuleSet:
    result = RuleSet(files_read=1)
    records: list[tuple[Any, str | None]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((json.loads(line), f"line {lineno}"))
        except json.JSONDecodeError as exc:
            result.errors.append(
                RuleError(
                    f"line {lineno}: invalid JSON ({exc.msg}, column {exc.colno})", Location(file=source)
                )
            )
            result.rejected_rules += 1
    _add_records(result, records, source)
    return result


def _load_json(text: str, source: str) -> RuleSet:
    result = RuleSet(files_read=1)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        result.errors.append(
            RuleError(
                f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", Location(file=source)
            )
        )
        result.rejected_files = 1
        return result
    items = doc if isinstance(doc, list) else [doc]
    _add_records(result, [(item, f"item {i}") for i, item in enumerate(items, start=1)], source)
    return result


def _add_records(result: RuleSet, records: list[tuple[Any, str | None]], source: str | None) -> None:
    """Validate records one by one so a bad record costs only itself."""
    for record, where in records:
        try:
            result.rules.append(Rule.from_mapping(record, source))
        except RuleError as exc:
            if where:
                exc.message = f"{where}: {exc.message}"
            result.errors.append(exc)
            result.rejected_rules += 1
    if not records and not result.errors:
        result.errors.append(RuleError("the file holds no rule", Location(file=source)))
    if not result.rules:
        result.rejected_files = 1
    _drop_duplicates(result)


def _drop_duplicates(result: RuleSet) -> None:
    """Keep the first rule of each id; reject later ones with an error naming both files."""
    first: dict[str, Rule] = {}
    kept: list[Rule] = []
    for rule in result.rules:
        seen = first.get(rule.id)
        if seen is None:
            first[rule.id] = rule
            kept.append(rule)
            continue
        where = (
            "earlier in the same file" if seen.source_file == rule.source_file else f"in {seen.source_file}"
        )
        result.errors.append(
            RuleError(
                f"duplicate rule id {rule.id!r}: already defined {where}; this copy is ignored",
                Location(file=rule.source_file, rule_id=rule.id),
            )
        )
        result.rejected_rules += 1
    if len(kept) != len(result.rules):
        files_before = {r.source_file for r in result.rules}
        files_after = {r.source_file for r in kept}
        result.rejected_files += len(files_before - files_after)
        result.rules = kept


def _rule_id(data: Mapping[str, Any], source: str | None) -> str:
    if "id" not in data or data["id"] is None:
        hint = data.get("title") or data.get("name")
        named = f" (rule titled {hint!r})" if isinstance(hint, str) else ""
        raise RuleError(f"missing key `id`{named}", Location(file=source))
    raw = data["id"]
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise RuleError(f"key `id` must be a string or number, got {_type_name(raw)}", Location(file=source))
    rule_id = str(raw).strip()
    if not rule_id:
        raise RuleError("key `id` is empty", Location(file=source))
    return rule_id


def _text(data: Mapping[str, Any], key: str, loc: Location, default: str | None = None) -> str:
    value = data.get(key)
    if value is None:
        if default is None:
            raise RuleError(f"missing key `{key}`", loc)
        return default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RuleError(f"key `{key}` must be a string, got {_type_name(value)}", loc)
    return str(value)


def _text_list(data: Mapping[str, Any], key: str, loc: Location, key_path: str | None = None) -> list[str]:
    """A list of strings; a lone string is accepted as a one-item list (a common YAML shorthand)."""
    value = data.get(key)
    name = key_path or key
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise RuleError(f"key `{name}` must be a list of strings, got {_type_name(value)}", loc)
    out: list[str] = []
    for i, item in enumerate(value, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise RuleError(f"key `{name}` item {i} must be a string, got {_type_name(item)}", loc)
        out.append(str(item))
    return out


def _type_name(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "nothing"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"YAML syntax error: {problem}"
