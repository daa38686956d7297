"""The conformance suite: every YAML case under cases/ runs SPL over its events and must give its rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqldetect.errors import SqlDetectError

from .harness import comparable, load_case, run_case, sort_key

CASES = sorted((Path(__file__).parent / "cases").rglob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(Path(__file__).parent / "cases")) for p in CASES])
def test_case(path: Path) -> None:
    case = load_case(path)
    if "error" in case:
        expected = case["error"]
        with pytest.raises(SqlDetectError) as info:
            run_case(case)
        assert type(info.value).__name__ == expected["type"], str(info.value)
        assert expected.get("message", "") in str(info.value)
        return
    rows, sql = run_case(case)
    fields = case.get("fields")
    got = comparable(rows, fields)
    want = comparable(case.get("expected") or [], fields)
    if not case.get("ordered", True):
        got, want = sorted(got, key=sort_key), sorted(want, key=sort_key)
    assert got == want, f"\nSQL:\n{sql}"


def test_suite_is_large_enough() -> None:
    assert len(CASES) >= 300, "conformance cases went missing"
