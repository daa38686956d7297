"""The coverage runner: phases in order, failure reasons, status split, JSON, and the summary's last line."""

from __future__ import annotations

import json
from pathlib import Path

from sqldetect.coverage import Attempt, run_coverage
from sqldetect.errors import Location, UnsupportedError
from sqldetect.macros import MacroLibrary


def corpus(tmp_path: Path) -> Path:
    detections = [
        {"id": "1", "name": "ok one", "status": "production", "search": "`src` a=1 | `one_filter`"},
        {"id": "2", "name": "ok two", "status": "experimental", "search": "b=2"},
        {"id": "3", "name": "bad macro", "status": "production", "search": "`missing` x"},
        {"id": "4", "name": "refused", "status": "deprecated", "search": "a | transaction host"},
        {"id": "5", "name": "refused too", "status": "production", "search": "b | transaction user"},
    ]
    lines = [json.dumps(d) for d in detections]
    lines.insert(2, "{not json")
    (tmp_path / "detections.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "macros.jsonl").write_text(
        json.dumps({"name": "src", "definition": "sourcetype=x", "arguments": []}) + "\n", encoding="utf-8"
    )
    return tmp_path


def refuse_transaction(attempt: Attempt) -> None:
    """A stand-in later phase: refuses `transaction`, pointing at stage 2."""
    assert attempt.expanded is not None
    if "transaction" in attempt.expanded:
        raise UnsupportedError(
            "transaction is not supported",
            Location(rule_id=attempt.id, stage_index=2, stage_name="transaction"),
            construct="transaction",
        )
    attempt.artifacts["checked"] = True


def test_phases_run_in_order_and_stop_at_the_first_failure(tmp_path: Path) -> None:
    from sqldetect.coverage import DEFAULT_PHASES

    expand_phase = DEFAULT_PHASES[0]
    report = run_coverage(corpus(tmp_path), phases=[expand_phase, ("check", refuse_transaction)])
    assert report.phases == ["expand", "check"]
    assert report.total == 5
    assert (report.passed("expand"), report.passed("check")) == (4, 2)
    by_id = {r.id: r for r in report.results}
    assert by_id["1"].ok and by_id["1"].passed == ["expand", "check"]
    assert by_id["3"].phase == "expand" and by_id["3"].passed == []
    assert by_id["3"].reason == "expand: unknown macro `missing`"
    assert by_id["3"].error == "rule 3, column 1: unknown macro `missing`"
    assert by_id["4"].phase == "check" and by_id["4"].stage == "2 (transaction)"
    assert report.reasons().most_common() == [
        ("check: unsupported: transaction", 2),
        ("expand: unknown macro `missing`", 1),
    ]
    assert report.by_status("check") == {"production": (1, 3), "experimental": (1, 1), "deprecated": (0, 1)}
    assert report.warnings == [
        f"{tmp_path / 'detections.jsonl'}:3: unreadable detection (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    ]


def test_render_ends_with_the_last_phase_count_and_json_has_every_detection(tmp_path: Path) -> None:
    from sqldetect.coverage import DEFAULT_PHASES

    report = run_coverage(corpus(tmp_path), phases=[DEFAULT_PHASES[0], ("check", refuse_transaction)])
    text = report.render()
    assert text.splitlines()[-1] == "check 2/5"
    assert "      2  check: unsupported: transaction" in text
    production = next(line for line in text.splitlines() if line.startswith("  production"))
    assert production.split()[1:] == ["2/3", "(66.7%)", "1/3", "(33.3%)"]
    rows = report.to_json()
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert set(rows[0]) == {"id", "name", "status", "ok", "passed", "phase", "stage", "error", "reason", "datamodel"}


def test_an_explicit_library_is_used_as_given(tmp_path: Path) -> None:
    from sqldetect.coverage import DEFAULT_PHASES

    library = MacroLibrary()
    library.add("missing", "found")
    library.add("src", "s")
    report = run_coverage(corpus(tmp_path), phases=[DEFAULT_PHASES[0]], library=library)
    assert report.passed("expand") == 5
