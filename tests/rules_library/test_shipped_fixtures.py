"""The README's main job, ``sqldetect run rules/ fixtures/``: which library rules fire on the shipped fixture
files, and how often, in each rendering of ``_raw``. A change to a rule or to a fixture that changes this
must be deliberate. The hit counts follow from the fixture stories (fixtures/README.md): e.g. the encoded
PowerShell start on WS01 is logged by Security 4688 and by Sysmon 1 (two rows), mshta's start also appears as
a Winlogbeat-shaped JSON event (three rows), and the seed rule's TERM(EventCode=1040) needs the classic
rendering except for one event.
"""

from __future__ import annotations

import pytest
from rules_library_support import (
    LIBRARY_HITS,
    RENDERINGS,
    SEED_HITS,
    SEED_RULE_ID,
    SHIPPED_FIXTURES,
    SILENT_ON_SHIPPED,
    engine_over,
    library_rules,
)


@pytest.fixture(scope="module", params=RENDERINGS)
def shipped_run(request):
    rules = library_rules()
    engine = engine_over([SHIPPED_FIXTURES], request.param)
    return request.param, rules, engine.run(rules.values())


def test_expected_rules_fire_on_the_shipped_fixtures(shipped_run) -> None:
    rendering, rules, report = shipped_run
    assert not report.refused and not report.failed, [(o.rule.id, str(o.error)) for o in report.refused + report.failed]
    hits = {o.rule.id: o.hits for o in report.outcomes if o.hits}
    assert hits == {**LIBRARY_HITS, SEED_RULE_ID: SEED_HITS[rendering]}
    assert set(rules) == set(LIBRARY_HITS) | SILENT_ON_SHIPPED | {SEED_RULE_ID}


def test_shipped_hits_name_the_story(shipped_run) -> None:
    """A few rows checked in full: the password spray, the new administrator, the discovery burst."""
    _, _, report = shipped_run
    rows = {o.rule.id: o.rows for o in report.outcomes}
    assert rows["sqld-0025"] == [{
        "_time": "2024-05-07T13:30:00Z", "src": "192.0.2.44", "account_count": 6, "failures": 6,
        "accounts": ["backup", "helpdesk", "jsmith", "kwilliams", "mjones", "scanner"],
        "targets": "SRV01.corp.example", "attempts_per_account": 1}]
    assert rows["sqld-0022"] == [{
        "host": "DC01.corp.example", "account_name": "svc_backup2",
        "account_sid": "S-1-5-21-3623811015-3361044348-30300820-1187", "actors": "administrator",
        "created_time": "2024-05-07T00:02:17Z", "added_time": "2024-05-07T00:02:41Z", "minutes_between": 0.4}]
    assert rows["sqld-0016"] == [{
        "_time": "2024-05-07T13:00:00Z", "host": "WS02.corp.example", "user": "CORP\\bob", "tool_count": 5,
        "tools": ["ipconfig.exe", "net.exe", "nltest.exe", "systeminfo.exe", "whoami.exe"],
        "discovery_types": ["accounts and shares", "domain trusts", "identity", "network configuration",
                            "system information"],
        "executions": 6}]
