"""The README's main job, end to end, through the installed console script: exactly the command the Set-up section
gives (``sqldetect run rules/ fixtures/ --raw-format classic`` from the project root) prints the seed rule's hits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAIN_JOB = "sqldetect run rules/ fixtures/ --raw-format classic"


def test_the_readme_main_job_prints_the_seed_rules_hits() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"&& {re.escape(MAIN_JOB)}\n", readme), "README's set-up command changed"
    script = shutil.which("sqldetect")
    if script is None:
        pytest.skip("the sqldetect console script is not installed on PATH")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))  # this checkout's code
    done = subprocess.run([script, *MAIN_JOB.split()[1:]], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]  # not a terminal: JSON lines
    seed = [h["row"] for h in hits if h["rule_id"] == "1117.1196"]
    assert sorted((row["_time"], row["host"]) for row in seed) == [
        ("2024-05-06T11:02:11Z", "WS02.corp.example"),
        ("2024-05-06T23:47:03Z", "SRV01.corp.example"),
        ("2024-05-07T08:30:00Z", "WS02.corp.example"),
        ("2024-05-07T09:12:45Z", "WS01.corp.example"),
        ("2024-05-07T23:05:12Z", "SRV01.corp.example"),
        ("2024-05-08T14:21:09Z", "WS02.corp.example"),
    ]
    assert all(row["c_process"] == 1 and row["signature_id"] == "1040" for row in seed)
    assert re.search(r"\n  1117\.1196 +6 hit\(s\) ", done.stderr), done.stderr  # the summary line of the seed rule
