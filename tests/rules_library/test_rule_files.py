"""The library's rule files follow the seed's catalog format and the library's conventions: one rule per
file with exactly the catalog keys, ids ``sqld-NNNN`` in sequence, ATT&CK ids that match the tactic
descriptions, public references, and lookups that exist (and no CSV that no rule reads)."""

from __future__ import annotations

import re

import yaml
from rules_library_support import LOOKUPS_DIR, RULES_DIR, SEED_RULE_ID, library_rules

from sqldetect.spl.parser import parse

CATALOG_KEYS = ["id", "title", "description", "logic_format", "logic", "techniques", "technique_id",
                "data_category", "references"]  # fmt: skip
TECHNIQUE_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


def library_files() -> dict[str, dict]:
    files = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if str(data["id"]) != SEED_RULE_ID:
            files[path.name] = data
    return files


def test_each_file_holds_one_rule_with_exactly_the_catalog_keys() -> None:
    files = library_files()
    assert len(files) >= 30
    for name, data in files.items():
        assert list(data) == CATALOG_KEYS, f"{name}: keys {list(data)}"
        assert re.fullmatch(r"[a-z0-9_]+\.yml", name), name
        assert data["logic_format"] == "Splunk", name
        assert len(data["description"]) > 200, f"{name}: the description should say what, why and the limits"


def test_ids_are_unique_and_numbered_in_sequence() -> None:
    ids = sorted(data["id"] for data in library_files().values())
    assert ids == [f"sqld-{n:04d}" for n in range(1, len(ids) + 1)]


def test_attack_ids_references_and_categories() -> None:
    for name, data in library_files().items():
        assert data["technique_id"] and all(TECHNIQUE_ID.match(t) for t in data["technique_id"]), name
        assert len(data["techniques"]) >= 1 and all(":" in t or t.isalpha() for t in data["techniques"]), name
        assert data["references"] and all(r.startswith("https://") for r in data["references"]), name
        assert any("attack.mitre.org" in r for r in data["references"]), f"{name}: cite the ATT&CK technique"
        assert data["data_category"], name


def test_lookups_exist_and_every_csv_is_used() -> None:
    used: set[str] = set()
    for rule in library_rules().values():
        if rule.id == SEED_RULE_ID:
            continue
        for table in re.findall(r"\|\s*lookup\s+(\S+)", rule.logic):
            assert (LOOKUPS_DIR / table).is_file(), f"{rule.id}: lookup {table} is not in rules/lookups"
            used.add(table)
        parse(rule.logic, rule_id=rule.id)  # the library needs no macros
    assert used == {path.name for path in LOOKUPS_DIR.glob("*.csv")}
