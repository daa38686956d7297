"""Every command's ``--help`` shows examples, the examples work, and README and ``--help`` agree on exit codes."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sqldetect.cli import main
from tests.product.tables import create_flat_ecs_table, load_native

from .helpers import ROOT, cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)


def help_text(*command: str) -> str:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    return result.output


def examples(command: str) -> list[str]:
    """The example command lines of a command's help (indented lines after ``Example:``/``Examples:``)."""
    text = help_text(command)
    block = re.search(r"Examples?:\n((?:[ ]{4,}\S.*\n)+)", text)
    assert block, f"`sqldetect {command} --help` shows no example"
    return [line.strip() for line in block.group(1).splitlines()]


def normalized(text: str) -> str:
    return " ".join(text.replace("`", "").split())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example_of_itself(command: str) -> None:
    lines = examples(command)
    assert any(line.startswith(f"sqldetect {command}") for line in lines), lines


def test_readme_and_help_agree_on_exit_codes() -> None:
    main_help = normalized(help_text())
    sentence = re.search(r"Exit codes: .*?given\.", main_help)
    assert sentence, main_help
    assert sentence.group(0) in normalized(README)
    codes = {"0": "ran (with or without hits)", "1": "usage or input error", "3": "hits found and --fail-on-hits given"}
    for code, meaning in codes.items():
        assert f"{code} {meaning}" in sentence.group(0)
    run_help = normalized(help_text("run"))
    assert "0 ran (with or without hits), 1 usage or input error" in run_help
    assert "with --strict, a rule that could not be loaded, translated or run" in run_help
    assert "3 hits found and --fail-on-hits given" in run_help
    assert "With --strict, run also exits 1 when a rule could not be loaded, translated or run" in normalized(README)
    for command in COMMANDS:  # no command documents a code the README does not
        assert set(re.findall(r"\b(\d) (?=ran|usage|hits|every|a rule|the rule)", normalized(help_text(command)))) \
            <= set(codes)


def test_every_command_is_in_the_readme_table() -> None:
    table = README[README.index("## Commands"):README.index("## Rule format")]
    for command in COMMANDS:
        assert f"`sqldetect {command}" in table, command


# ---------------------------------------------------------------------------------------------- examples


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory laid out like the examples expect: rules/, fixtures/, logs/*.evtx, and warehouse.duckdb with
    sqldetect's `events` table and a Winlogbeat-shaped `winlogbeat` table."""
    folder = tmp_path_factory.mktemp("examples")
    shutil.copytree(ROOT / "rules", folder / "rules")
    shutil.copytree(ROOT / "fixtures", folder / "fixtures")
    (folder / "logs").mkdir()
    shutil.copy(ROOT / "fixtures" / "msiinstaller.evtx", folder / "logs" / "msiinstaller.evtx")
    engine = load_native(duckdb.connect(str(folder / "warehouse.duckdb")))
    create_flat_ecs_table(engine)
    engine.con.close()
    return folder


def _runnable_examples() -> list[tuple[str, str]]:
    out = []
    for command in COMMANDS:
        for line in examples(command):
            if line.startswith("sqldetect ") and "../shared" not in line and "|" not in line.split("'")[0]:
                out.append((command, line))
    return out


@pytest.mark.parametrize(("command", "line"), _runnable_examples(), ids=lambda v: v if " " not in v else None)
def test_the_help_examples_work(command: str, line: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    args = shlex.split(line)[1:]
    result = CliRunner().invoke(main, args)
    expected = {0, 3} if "--fail-on-hits" in args else {0}  # 3 when the example's rules match its events
    assert result.exit_code in expected, f"{line}\n{result.output}"


def _readme_section(title: str) -> str:
    start = README.index(f"## {title}\n")
    return README[start:README.index("\n## ", start + 1)]


@pytest.mark.parametrize("line", [line.strip() for line in _readme_section("Warehouse").splitlines()
                                  if line.startswith("    sqldetect ")])
def test_the_readme_warehouse_commands_work(line: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    result = CliRunner().invoke(main, shlex.split(line)[1:])
    assert result.exit_code == 0, f"{line}\n{result.output}"
    assert "detect_" in result.output or "s0_source" in result.output or result.stdout.count("1117.1196") == 6


def test_the_readme_python_example_works(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = re.search(r"## Python API\n\n```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(workdir)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("WITH") or printed[0].startswith("SELECT")
    assert "1117.1196 ok 6" in printed
    assert "{'host': 'WS02.corp.example', 'count': 3}" in printed[-2]
    assert printed[-1].startswith("['@timestamp', 'event.original'") and printed[-1].endswith("[]")
