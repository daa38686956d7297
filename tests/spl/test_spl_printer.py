"""The readable dump and the JSON form of a parsed pipeline."""

from __future__ import annotations

import json

from sqldetect.spl.parser import parse
from sqldetect.spl.printer import format_pipeline, pipeline_to_dict

SPL = (
    'a b OR c NOT d=1 | eval x=if(y>1, "p", null()) | stats count(eval(z>1)) as n, dc(u) by h '
    "| join type=left h [search e | fields h] | sort - n"
)


def test_format_pipeline_shows_stages_options_and_trees() -> None:
    text = format_pipeline(parse(SPL))
    lines = text.splitlines()
    assert lines[0].startswith("pipeline [0..") and "5 stage(s)" in lines[0]
    assert "  1. search (SearchCommand) [0..16]" in lines
    # precedence is visible: AND over (OR b c) and NOT
    expr_at = lines.index("    expr:")
    assert lines[expr_at + 1 : expr_at + 8] == [
        "      AND",
        "        term a",
        "        OR",
        "          term b",
        "          term c",
        "        NOT",
        "          d = 1",
    ]
    assert "        call if" in lines and "            field y" in lines
    assert "      count(eval(...)) AS n  -- output name 'count(eval(z>1))'" in lines
    assert "      dc(u)" in lines
    assert "    options: type=left" in lines
    assert any(line.strip().startswith("generating pipeline") or line.strip().startswith("pipeline [") for line in lines[1:])
    assert "    keys: -n" in lines


def test_format_pipeline_of_bucket_names_its_canonical_command() -> None:
    assert "1. bucket = bin (BinCommand)" in format_pipeline(parse("| bucket _time span=1h"))


def test_pipeline_to_dict_is_json_with_spans() -> None:
    pipeline = parse(SPL)
    data = pipeline_to_dict(pipeline)
    encoded = json.loads(json.dumps(data))
    assert encoded["node"] == "Pipeline" and encoded["source"] == SPL
    assert [c["node"] for c in encoded["commands"]] == [
        "SearchCommand", "EvalCommand", "StatsCommand", "JoinCommand", "SortCommand"
    ]
    stats = encoded["commands"][2]
    first = stats["aggregations"][0]
    assert first["func"] == "count" and first["arg_is_eval"] is True and first["arg"]["node"] == "BinaryOp"
    start, end = first["span"]
    assert SPL[start:end] == "count(eval(z>1)) as n"
    join = encoded["commands"][3]
    assert join["options"]["type"]["value"] == "left"
    inner = join["subsearch"]["pipeline"]
    assert "source" not in inner and inner["commands"][0]["node"] == "SearchCommand"
