"""The first rule of the project (rules/msiexec_install_msi_file.yml) parses into its 7 documented stages."""

from __future__ import annotations

from pathlib import Path

import yaml

from sqldetect.spl import ast
from sqldetect.spl.parser import parse


def seed_logic(project_root: Path) -> tuple[str, str]:
    rule = yaml.safe_load((project_root / "rules" / "msiexec_install_msi_file.yml").read_text(encoding="utf-8"))
    logic = rule["logic"].replace("`get_endpoint_data`", "").replace("`get_endpoint_data_winevent`", "")
    return rule["id"], logic


def test_seed_rule_stages_and_arguments(project_root: Path, sx, spans) -> None:
    rule_id, logic = seed_logic(project_root)
    pipeline = parse(logic, rule_id=rule_id)
    spans(pipeline)
    assert [c.name for c in pipeline.commands] == ["search", "rex", "table", "bin", "stats", "eventstats", "where"]
    search, rex, table, bin_, stats, eventstats, where = pipeline.commands

    assert isinstance(search, ast.SearchCommand)
    assert sx(search.expr) == (
        'AND(OR(TERM(EventCode=1040), "<EventID>1040<"), OR(TERM(MsiInstaller), TERM(ingress.event.procstart)))'
    )

    assert isinstance(rex, ast.RexCommand)
    assert rex.field == "Message" and rex.max_match == 1
    assert rex.regex == "(?i)Beginning\\sa\\sWindows\\sInstaller\\stransaction:(\\s+)?(?<process>.+)"
    assert logic[rex.regex_span.start : rex.regex_span.end] == f'"{rex.regex}"'

    assert isinstance(table, ast.TableCommand)
    assert [f.name for f in table.fields] == ["_time", "host", "user", "host", "signature_id", "user", "process"]

    assert isinstance(bin_, ast.BinCommand) and bin_.canonical == "bin"
    assert (bin_.field, bin_.span_value) == ("_time", "1s")

    assert isinstance(stats, ast.StatsCommand) and stats.canonical == "stats"
    (values,) = stats.aggregations
    assert (values.func, values.arg.name, values.alias, values.text) == ("values", "*", "*", "values(*)")
    assert [f.name for f in stats.by] == ["_time", "host"]

    assert isinstance(eventstats, ast.StatsCommand) and eventstats.canonical == "eventstats"
    (dc,) = eventstats.aggregations
    assert (dc.func, dc.arg.name, dc.alias) == ("dc", "process", "c_process")
    assert [f.name for f in eventstats.by] == ["process"]

    assert isinstance(where, ast.WhereCommand)
    assert sx(where.expr) == "((c_process < 2) AND isnotnull(process))"


def test_seed_rule_stage_texts_match_the_catalog_page(project_root: Path) -> None:
    _, logic = seed_logic(project_root)
    pipeline = parse(logic)
    texts = [" ".join(pipeline.stage_text(i).split()) for i in range(7)]
    assert texts[1].startswith("rex field=Message ")
    assert texts[3] == "bin span=1s"
    assert texts[4] == "stats values(*) as * by _time, host"
    assert texts[6] == "where c_process < 2 and isnotnull(process)"
