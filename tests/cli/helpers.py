"""Helpers of the CLI tests: invoke a command in-process; the rules of a small rules directory."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from sqldetect.cli import main

ROOT = Path(__file__).resolve().parents[2]
MSI_EVTX = ROOT / "fixtures" / "msiinstaller.evtx"
SEED = ROOT / "rules" / "msiexec_install_msi_file.yml"

REFUSED_RULE = """\
id: refused.1
title: Uses a command sqldetect refuses
logic_format: Splunk
logic: 'EventCode=1040 | nosuchcommand x=1'
technique_id: [T1059.001]
"""
QUIET_RULE = """\
id: quiet.1
title: Finds nothing
logic_format: Splunk
logic: 'EventCode=99999 | table _time host'
technique_id: [T1003]
"""


def cli(*args: object) -> Result:
    """Run ``sqldetect ARGS`` in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args])
