"""``sqldetect datamodels``: list models, show a data set's branches and field expressions, print its SQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sqldetect.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["datamodels", *args])


def test_lists_models_and_data_sets() -> None:
    result = run()
    assert result.exit_code == 0, result.output
    assert "Processes: 26 fields; sysmon_process_create, security_process_create" in result.output
    assert "Authentication.Failed_Authentication: 0 fields; where action=failure" in result.output
    assert "All_Risk: 15 fields; no events feed it" in result.output


def test_shows_branches_and_per_branch_expressions() -> None:
    result = run("Endpoint.Processes")
    assert result.exit_code == 0, result.output
    assert "branch security_process_create: (Channel=Security" in result.output
    assert "Processes.process_name ('unknown' when empty)" in result.output
    assert 'sysmon_process_create: replace(Image, "^.*\\\\\\\\", "")' in result.output
    assert "security_process_create: NewProcessName" in result.output  # process_path differs per branch


def test_sql_of_a_data_set() -> None:
    result = run("Authentication.Failed_Authentication", "--sql")
    assert result.exit_code == 0, result.output
    assert '"dm_Authentication_Authentication_Failed_Authentication_events" AS (' in result.output
    assert '"dm_Authentication_Authentication_events" AS (' in result.output  # the parent comes first
    assert 'FROM "dm_Authentication_Authentication_Failed_Authentication_events"' in result.output


def test_user_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("model: Malware\ndatasets:\n  Malware_Attacks:\n    fields: {src_user: }\n", encoding="utf-8")
    assert "Malware_Attacks: 1 fields; no events feed it" in run("-f", str(path)).output
    unknown = run("Nope.X")
    assert unknown.exit_code == 1 and "data model 'Nope' is not defined" in unknown.output
    path.write_text("model: Malware\ndatasets: {Malware_Attacks: {colour: red}}\n", encoding="utf-8")
    bad = run("-f", str(path))
    assert bad.exit_code == 1 and "unknown key 'colour'" in bad.output
    assert run("--sql").exit_code == 2
