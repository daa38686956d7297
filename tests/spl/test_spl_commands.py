"""Structured arguments of every command the parser understands, and GenericCommand for the rest."""

from __future__ import annotations

import pytest

from sqldetect.errors import SplSyntaxError, UnsupportedError
from sqldetect.spl import ast
from sqldetect.spl.parser import parse


def names(fields: list[ast.FieldName]) -> list[str]:
    return [f.name for f in fields]


def aggs(command) -> list[tuple]:
    return [(a.func, a.arg.name if isinstance(a.arg, ast.FieldName) else a.arg, a.alias, a.text)
            for a in command.aggregations]


# -------------------------------------------------------------------------------------- search / where / eval


def test_explicit_search_later_in_the_pipeline(sx) -> None:
    pipeline = parse("a | search count>5 user!=*$")
    command = pipeline.commands[1]
    assert isinstance(command, ast.SearchCommand) and command.name == "search"
    assert sx(command.expr) == "AND(count>5, user!=*$)"
    assert command.args_text == "count>5 user!=*$"


def test_where(stage, sx) -> None:
    command = stage('where cidrmatch("10.0.0.0/8", src) AND count > 5')
    assert isinstance(command, ast.WhereCommand)
    assert sx(command.expr) == '(cidrmatch("10.0.0.0/8", src) AND (count > 5))'


def test_eval_assignments(stage, sx) -> None:
    command = stage("eval a=1, 'b c' = x . \"y\" ,  d=if(a>0, \"p\", \"n\"), \"e\"=1")
    assert isinstance(command, ast.EvalCommand)
    assert [(a.field, sx(a.expr)) for a in command.assignments] == [
        ("a", "1"), ("b c", '(x . "y")'), ("d", 'if((a > 0), "p", "n")'), ("e", "1"),
    ]
    source = "| " + "eval a=1, 'b c' = x . \"y\" ,  d=if(a>0, \"p\", \"n\"), \"e\"=1"
    second = command.assignments[1]
    assert source[second.field_span.start : second.field_span.end] == "'b c'"
    assert source[second.span.start : second.span.end] == "'b c' = x . \"y\""


def test_eval_comparison_inside_assignment(stage, sx) -> None:
    command = stage("eval x = a == b")
    assert sx(command.assignments[0].expr) == "(a == b)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eval", "eval needs at least one assignment"),
        ("eval a", "expected 'field=expression'"),
        ("eval a=", "missing expression after 'a='"),
        ("eval a=1,", "expected 'field=expression'"),
        ("eval a=1 b=2", "separate assignments with ','"),
        ("eval a==1", "expected 'field=expression'"),
        ("where", "where needs an expression"),
    ],
)
def test_eval_and_where_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


# ----------------------------------------------------------------------------------------------- rex / regex


def test_rex(stage) -> None:
    command = stage('rex field=Message max_match=0 "(?i)Beginning\\stransaction:(\\s+)?(?<process>.+)"')
    assert isinstance(command, ast.RexCommand)
    assert command.field == "Message" and command.max_match == 0 and command.mode is None
    assert command.regex == "(?i)Beginning\\stransaction:(\\s+)?(?<process>.+)"
    assert set(command.options) == {"field", "max_match"}


def test_rex_defaults_options_after_regex_and_sed(stage) -> None:
    command = stage('rex "(?<a>\\d+)" offset_field=o')
    assert command.field == "_raw" and command.max_match == 1 and command.option("offset_field") == "o"
    sed = stage('rex field=x mode=sed "s/a/b/g"')
    assert sed.mode == "sed" and sed.regex == "s/a/b/g"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rex field=x", "rex needs a quoted regular expression"),
        ('rex "a" "b"', "second one"),
        ("rex field=x abc", "expected a quoted regular expression"),
        ('rex max_match=many "a"', "option max_match= must be an integer"),
        ('rex mode=perl "a"', "rex mode must be 'sed'"),
    ],
)
def test_rex_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


def test_regex(stage) -> None:
    plain = stage('regex "^a.*"')
    assert (plain.field, plain.negate, plain.regex) == ("_raw", False, "^a.*")
    negated = stage('regex process_name!="(?i)cmd\\.exe"')
    assert (negated.field, negated.negate, negated.regex) == ("process_name", True, "(?i)cmd\\.exe")
    positive = stage('regex field="x"')
    assert (positive.field, positive.negate) == ("field", False)


# ------------------------------------------------------------------------------------ table / fields / rename


def test_table_with_commas_spaces_and_wildcards(stage) -> None:
    command = stage('table _time, host, user host,Processes.* "Quoted Name"')
    assert names(command.fields) == ["_time", "host", "user", "host", "Processes.*", "Quoted Name"]
    assert command.fields[-1].quoted


def test_fields(stage) -> None:
    assert stage("fields - _raw, b").remove is True
    kept = stage("fields + a b*")
    assert kept.remove is False and names(kept.fields) == ["a", "b*"]
    assert names(stage("fields a").fields) == ["a"]


def test_rename(stage) -> None:
    command = stage('rename Processes.* AS *, a as b "Old Name" AS new x AS "y z"')
    assert [(p.source.name, p.target.name) for p in command.pairs] == [
        ("Processes.*", "*"), ("a", "b"), ("Old Name", "new"), ("x", "y z")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rename a b", "expected AS after 'a' in rename, found 'b'"),
        ("rename a AS", "expected the new field name after AS"),
        ("rename AS b", "misplaced AS"),
        ("rename a AS AS", "expected the new field name after AS"),
        ("rename", "rename needs at least one"),
        ("table", "table needs at least one field"),
        ("table a = b", "unexpected 'a' in table"),
    ],
)
def test_field_command_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


# ----------------------------------------------------------------------------------------------------- bin


@pytest.mark.parametrize("name", ["bin", "bucket", "discretize"])
def test_bin_aliases(stage, name: str) -> None:
    command = stage(f"{name} span=1h _time")
    assert isinstance(command, ast.BinCommand)
    assert command.name == name and command.canonical == "bin"
    assert (command.field, command.span_value, command.alias) == ("_time", "1h", None)


def test_bin_defaults_and_alias(stage) -> None:
    assert stage("bin span=1s").field == "_time"
    command = stage("bin bytes bins=10 as bytes_bin start=0")
    assert (command.field, command.alias, command.bins, command.option("start")) == ("bytes", "bytes_bin", 10, "0")
    with pytest.raises(SplSyntaxError, match="misplaced AS"):
        parse("| bin AS x")
    with pytest.raises(SplSyntaxError, match="takes one field"):
        parse("| bin a b")


# ------------------------------------------------------------------------------------------ aggregations


def test_stats_aggregations_and_by(stage) -> None:
    command = stage(
        "stats count, c, count(x) dc(user) AS users values(*) as * values(Processes.*) perc95(t) p99(t) "
        "min(_time) as firstTime by host, user dest"
    )
    assert isinstance(command, ast.StatsCommand) and command.canonical == "stats"
    assert aggs(command) == [
        ("count", None, None, "count"),
        ("c", None, None, "c"),
        ("count", "x", None, "count(x)"),
        ("dc", "user", "users", "dc(user)"),
        ("values", "*", "*", "values(*)"),
        ("values", "Processes.*", None, "values(Processes.*)"),
        ("perc95", "t", None, "perc95(t)"),
        ("p99", "t", None, "p99(t)"),
        ("min", "_time", "firstTime", "min(_time)"),
    ]
    assert names(command.by) == ["host", "user", "dest"]


def test_aggregation_with_eval(stage, sx) -> None:
    command = stage('stats count(eval(a > 1)) as big avg(eval(if(x="y", 1, 0))) BY h')
    first, second = command.aggregations
    assert first.arg_is_eval and sx(first.arg) == "(a > 1)" and first.alias == "big"
    assert first.text == "count(eval(a > 1))"
    assert second.arg_is_eval and sx(second.arg) == 'if((x = "y"), 1, 0)'
    assert second.text == 'avg(eval(if(x="y", 1, 0)))' and second.alias is None
    assert names(command.by) == ["h"]


def test_aggregation_quoted_field_and_alias_with_parentheses(stage) -> None:
    command = stage('stats dc("DNS.query") as count values(aceFlags) as aceFlags(inheritance) max(x) AS "Max X"')
    assert aggs(command) == [
        ("dc", "DNS.query", "count", "dc(DNS.query)"),
        ("values", "aceFlags", "aceFlags(inheritance)", "values(aceFlags)"),
        ("max", "x", "Max X", "max(x)"),
    ]


def test_eventstats_and_streamstats_options(stage) -> None:
    eventstats = stage("eventstats dc(process) as c_process by process")
    assert eventstats.canonical == "eventstats" and names(eventstats.by) == ["process"]
    streamstats = stage("streamstats window=5 current=f count by user reset_on_change=true")
    assert streamstats.canonical == "streamstats"
    assert [(k, o.value) for k, o in streamstats.options.items()] == [
        ("window", "5"), ("current", "f"), ("reset_on_change", "true")
    ]
    assert names(streamstats.by) == ["user"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stats", "stats needs at least one aggregation"),
        ("stats by x", "stats needs at least one aggregation"),
        ("stats count by", "expected at least one field after BY"),
        ("stats count as", "expected a name after AS"),
        ("stats as x count", "misplaced AS"),
        ("stats count as x as y", "misplaced AS"),
        ("stats count() ", "missing field name inside count()"),
        ("stats count by a by b", "a second BY clause"),
        ("stats count by a values(x)", "expected a field name or option in the BY clause"),
        ("stats count(eval(a >)) as x", "expression ends too early"),
        ("stats count(eval(a) b) as x", "unexpected 'b'"),
    ],
)
def test_stats_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


def test_multi_argument_aggregation_is_unsupported_not_a_syntax_error() -> None:
    with pytest.raises(UnsupportedError) as info:
        parse("| stats sparkline(count, 1h)")
    assert info.value.construct == "sparkline"


def test_chart_over_by(stage) -> None:
    command = stage("chart count over host by user")
    assert command.canonical == "chart" and names(command.by) == ["host", "user"]
    assert names(stage("chart count by a, b").by) == ["a", "b"]
    with pytest.raises(SplSyntaxError, match="OVER must come before BY"):
        parse("| chart count by a over b")


def test_timechart(stage) -> None:
    command = stage("timechart limit=0 span=5m count by host")
    assert isinstance(command, ast.TimechartCommand)
    assert command.span_value == "5m" and names(command.by) == ["host"] and command.option("limit") == "0"


# -------------------------------------------------------------------------------------------------- tstats


def test_tstats_full(stage, sx) -> None:
    command = stage(
        "tstats summariesonly=false allow_old_summaries=true fillnull_value=null prestats=t count "
        "min(_time) as firstTime values(Processes.process) as process from datamodel=Endpoint.Processes "
        'where Processes.process_name="7z.exe" AND Processes.process="*\\\\C$\\\\*" '
        "by Processes.dest, Processes.user _time span=1h"
    )
    assert isinstance(command, ast.TstatsCommand)
    assert [k for k in command.options] == ["summariesonly", "allow_old_summaries", "fillnull_value", "prestats", "span"]
    assert command.option("fillnull_value") == "null"
    assert [a.text for a in command.aggregations] == ["count", "min(_time)", "values(Processes.process)"]
    assert command.datamodel == "Endpoint.Processes" and command.nodename is None
    assert sx(command.where) == 'AND(Processes.process_name="7z.exe", Processes.process="*\\C$\\*")'
    assert names(command.by) == ["Processes.dest", "Processes.user", "_time"]
    assert command.span_value == "1h"


@pytest.mark.parametrize("spelling", ["datamodel=Endpoint.Processes", "datamodel:Endpoint.Processes",
                                      "datamodel Endpoint.Processes", "DATAMODEL = Endpoint.Processes"])
def test_tstats_datamodel_spellings(stage, spelling: str) -> None:
    assert stage(f"tstats count from {spelling}").datamodel == "Endpoint.Processes"


def test_tstats_nodename_moves_out_of_where(stage, sx) -> None:
    command = stage('tstats count from datamodel=Network_Resolution where nodename=DNS "DNS.message_type"="QUERY" by "DNS.src"')
    assert command.datamodel == "Network_Resolution" and command.nodename == "DNS"
    assert sx(command.where) == "DNS.message_type=\"QUERY\""
    assert names(command.by) == ["DNS.src"] and command.by[0].quoted
    alone = stage("tstats count from datamodel=Change where (nodename = All_Changes)")
    assert alone.nodename == "All_Changes" and alone.where is None


def test_tstats_without_datamodel_and_prefix(stage, sx) -> None:
    command = stage("tstats count where index=fw by PREFIX(action=) span=1d")
    assert command.datamodel is None and sx(command.where) == "index=fw"
    assert names(command.by) == ["PREFIX(action=)"] and command.span_value == "1d"


def test_tstats_where_stops_at_by_in_any_case(stage, sx) -> None:
    command = stage("tstats count where a=1 (b=2 OR by) BY x")
    assert sx(command.where) == "AND(a=1, OR(b=2, by))" and names(command.by) == ["x"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tstats from datamodel=X", "tstats needs at least one aggregation"),
        ("tstats count where", "WHERE needs a search expression"),
        ("tstats count where by x", "WHERE needs a search expression"),
        ("tstats count from", "expected datamodel=<Model>.<Dataset> after FROM"),
        ("tstats count from x", "expected datamodel=<Model>.<Dataset> after FROM"),
        ("tstats count where x=1 by a where y=2", "a second WHERE clause"),
        ("tstats count from datamodel=X count", "expected FROM, WHERE, BY or an option"),
    ],
)
def test_tstats_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


# ----------------------------------------------------------------------------------- dedup / sort / head / top


def test_dedup(stage) -> None:
    command = stage("dedup 3 src, dest keepempty=true consecutive=f sortby -_time +user")
    assert isinstance(command, ast.DedupCommand)
    assert command.count == 3 and names(command.fields) == ["src", "dest"]
    assert command.option("keepempty") == "true" and command.option("consecutive") == "f"
    assert [(k.field, k.descending) for k in command.sortby] == [("_time", True), ("user", False)]
    assert stage("dedup _time").count == 1
    with pytest.raises(SplSyntaxError, match="dedup needs at least one field"):
        parse("| dedup 2")
    with pytest.raises(SplSyntaxError, match="dedup count must be at least 1"):
        parse("| dedup 0 x")


def test_sort(stage) -> None:
    command = stage("sort 100 -count, +num(bytes) str(user) ip(src) -auto(x) host")
    assert isinstance(command, ast.SortCommand) and command.limit == 100 and not command.reverse
    assert [(k.field, k.descending, k.kind) for k in command.keys] == [
        ("count", True, "auto"), ("bytes", False, "num"), ("user", False, "str"), ("src", False, "ip"),
        ("x", True, "auto"), ("host", False, "auto"),
    ]


def test_sort_detached_sign_limit_option_and_trailing_desc(stage) -> None:
    detached = stage("sort - total_failures, b")
    assert [(k.field, k.descending) for k in detached.keys] == [("total_failures", True), ("b", True)]
    assert detached.limit is None
    limited = stage("sort limit=5 a desc")
    assert limited.limit == 5 and limited.reverse and [k.field for k in limited.keys] == ["a"]
    assert stage("sort 0 a d").reverse and stage("sort 0 a d").limit == 0
    assert [k.field for k in stage("sort d").keys] == ["d"]


def test_head_and_tail(stage, sx) -> None:
    assert stage("head").count == 10
    assert stage("head 5").count == 5
    assert stage("head limit=7").count == 7
    head_expr = stage("head (count > 5) keeplast=true")
    assert sx(head_expr.expr) == "(count > 5)" and head_expr.option("keeplast") == "true"
    tail = stage("tail 3")
    assert isinstance(tail, ast.HeadCommand) and tail.canonical == "tail" and tail.count == 3
    with pytest.raises(SplSyntaxError, match="expected a count, found"):
        parse("| tail (x > 1)")


def test_top_and_rare(stage) -> None:
    command = stage("top limit=5 showperc=f src dest by user")
    assert isinstance(command, ast.TopCommand) and command.canonical == "top"
    assert command.limit == 5 and names(command.fields) == ["src", "dest"] and names(command.by) == ["user"]
    rare = stage("rare 3 process_name")
    assert rare.canonical == "rare" and rare.limit == 3 and rare.by == []
    assert stage("top x").limit == 10


# ---------------------------------------------------------------------------------------- fillnull / convert


def test_fillnull(stage) -> None:
    assert (stage("fillnull").value, stage("fillnull").fields) == ("0", [])
    command = stage('fillnull value="N/A" a, b c')
    assert command.value == "N/A" and names(command.fields) == ["a", "b", "c"]
    assert stage("fillnull a value=NULL").value == "NULL"


def test_convert(stage) -> None:
    command = stage('convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime) mktime(t) AS epoch, dur2sec(*Time)')
    assert isinstance(command, ast.ConvertCommand)
    assert command.option("timeformat") == "%Y-%m-%dT%H:%M:%S"
    assert [(c.func, c.field.name, c.alias) for c in command.conversions] == [
        ("ctime", "firstTime", None), ("mktime", "t", "epoch"), ("dur2sec", "*Time", None)
    ]
    with pytest.raises(SplSyntaxError, match="expected a conversion such as ctime"):
        parse("| convert firstTime")
    with pytest.raises(SplSyntaxError, match="expected a field name inside ctime"):
        parse("| convert ctime()")
    with pytest.raises(SplSyntaxError, match="misplaced AS"):
        parse("| convert AS x")


# ------------------------------------------------------------------------------------------ lookup family


def test_lookup(stage) -> None:
    command = stage(
        'lookup local=t update=true ransomware_notes_lookup ransomware_notes as file_name, other '
        'OUTPUT status as "Known Ransomware Notes", note'
    )
    assert isinstance(command, ast.LookupCommand)
    assert command.table == "ransomware_notes_lookup" and command.option("update") == "true"
    assert [(f.lookup_field, f.event_field) for f in command.inputs] == [("ransomware_notes", "file_name"),
                                                                       ("other", "other")]
    assert command.output_mode == "OUTPUT"
    assert [(f.lookup_field, f.event_field) for f in command.outputs] == [("status", "Known Ransomware Notes"),
                                                                        ("note", "note")]


def test_lookup_outputnew_lowercase_and_no_output(stage) -> None:
    command = stage("lookup t process_name as process_name outputnew a,b,c")
    assert command.output_mode == "OUTPUTNEW" and [f.lookup_field for f in command.outputs] == ["a", "b", "c"]
    bare = stage("lookup t x")
    assert bare.output_mode is None and bare.outputs == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lookup", "expected a lookup table name"),
        ("lookup t", "expected at least one input field"),
        ("lookup t x OUTPUT", "OUTPUT needs at least one field"),
        ("lookup t x AS", "expected a field name after AS"),
        ("lookup t AS x", "misplaced AS"),
    ],
)
def test_lookup_errors(text: str, message: str) -> None:
    with pytest.raises(SplSyntaxError, match=message):
        parse(f"| {text}")


def test_inputlookup(stage, sx) -> None:
    command = stage('inputlookup append=t max=10 users.csv where user="a*" NOT disabled=1')
    assert isinstance(command, ast.InputlookupCommand) and command.table == "users.csv"
    assert command.option("append") == "t" and command.option("max") == "10"
    assert sx(command.where) == 'AND(user="a*", NOT(disabled=1))'
    assert stage("inputlookup t").where is None
    with pytest.raises(SplSyntaxError, match="WHERE needs a search expression"):
        parse("| inputlookup t where")


def test_makeresults_and_from(stage) -> None:
    assert stage("makeresults").count == 1
    assert stage("makeresults count=5 annotate=t").count == 5
    assert stage("from datamodel:Endpoint.Processes").dataset == "datamodel:Endpoint.Processes"
    assert stage("from datamodel Alerts.Alerts").dataset == "datamodel:Alerts.Alerts"
    assert stage("from inputlookup:users.csv").dataset == "inputlookup:users.csv"
    assert stage("from mydataset").dataset == "mydataset"


# ---------------------------------------------------------------------------------- join / append / foreach


def test_join(stage) -> None:
    command = stage("join type=left max=0 overwrite=f usetime=t earlier=f user, host [search index=x | fields user host]")
    assert isinstance(command, ast.JoinCommand)
    assert command.join_type == "left" and command.max == 0 and names(command.fields) == ["user", "host"]
    assert command.option("usetime") == "t"
    assert [c.name for c in command.subsearch.pipeline.commands] == ["search", "fields"]


def test_join_options_after_fields_and_defaults(stage) -> None:
    command = stage("join domain type=outer [| tstats count by domain]")
    assert command.join_type == "outer" and names(command.fields) == ["domain"]
    assert command.subsearch.pipeline.generating
    default = stage("join x [search y]")
    assert default.join_type == "inner" and default.max == 1
    with pytest.raises(SplSyntaxError, match=r"join needs a \[subsearch\]"):
        parse("| join x")


@pytest.mark.parametrize("name", ["append", "appendcols", "appendpipe"])
def test_subsearch_commands(stage, name: str) -> None:
    command = stage(f"{name} maxout=5 [| stats count]")
    assert isinstance(command, ast.SubsearchCommand) and command.option("maxout") == "5"
    assert [c.name for c in command.subsearch.pipeline.commands] == ["stats"]


def test_appendpipe_starts_with_a_command_append_with_a_search(stage) -> None:
    assert isinstance(stage("appendpipe [stats count by x]").subsearch.pipeline.commands[0], ast.StatsCommand)
    assert isinstance(stage("append [stats count by x]").subsearch.pipeline.commands[0], ast.SearchCommand)


def test_foreach_keeps_its_template_as_text(stage) -> None:
    source = '| foreach mode=multifield * [ eval <<FIELD>> = if(<<FIELD>>="null",null(),<<FIELD>>)]'
    command = parse(source).commands[0]
    assert isinstance(command, ast.ForeachCommand)
    assert names(command.fields) == ["*"] and command.option("mode") == "multifield"
    assert command.template == 'eval <<FIELD>> = if(<<FIELD>>="null",null(),<<FIELD>>)'
    assert source[command.template_span.start : command.template_span.end].strip() == command.template


def test_mvexpand_makemv_spath(stage) -> None:
    mvexpand = stage("mvexpand new_values limit=100")
    assert (mvexpand.field, mvexpand.limit) == ("new_values", 100)
    makemv = stage('makemv delim="," allowempty=t setsv=f emails')
    assert (makemv.field, makemv.delim, makemv.tokenizer, makemv.option("allowempty")) == ("emails", ",", None, "t")
    tokenized = stage('makemv tokenizer="([\\\\w\\\\d\\\\-]+)" process')
    assert tokenized.tokenizer == "([\\w\\d\\-]+)"
    spath = stage("spath input=Properties output=x path=a.b{}.c")
    assert (spath.input, spath.output, spath.path) == ("Properties", "x", "a.b{}.c")
    bare = stage("spath a.b{1}")
    assert (bare.input, bare.path) == ("_raw", "a.b{1}")
    assert stage("spath").path is None
    with pytest.raises(SplSyntaxError, match="mvexpand takes exactly one field"):
        parse("| mvexpand a b")


# ------------------------------------------------------------------------------------------------ transaction


def test_transaction(stage, sx) -> None:
    command = stage(
        'transaction user, host maxspan=30s maxpause=5m maxevents=10 keepevicted=t mvlist=f '
        'startswith="EventCode=4624 user=a*" endswith=eval(EventCode==4634)'
    )
    assert isinstance(command, ast.TransactionCommand)
    assert names(command.fields) == ["user", "host"]
    assert command.option("maxspan") == "30s" and command.option("mvlist") == "f"
    assert sx(command.startswith) == "AND(EventCode=4624, user=a*)"
    assert sx(command.endswith) == "(EventCode == 4634)"
    assert command.option("startswith") == "EventCode=4624 user=a*"
    assert command.option("endswith") == "eval(EventCode==4634)"


def test_transaction_parenthesised_and_bare_boundaries(stage, sx) -> None:
    command = stage("transaction startswith=(a=1 OR b=2) endswith=logout")
    assert sx(command.startswith) == "OR(a=1, b=2)" and sx(command.endswith) == "logout"


# --------------------------------------------------------------------------------------------------- generic


def test_unknown_command_is_generic(stage) -> None:
    command = stage('replace "::ffff:*" with * in src')
    assert isinstance(command, ast.GenericCommand) and command.name == "replace"
    assert command.words == ["::ffff:*", "with", "*", "in", "src"]


def test_generic_options_and_subsearches(stage) -> None:
    command = stage("outputlookup append=true createinapp=t my.csv [search x] , y")
    assert command.options.keys() == {"append", "createinapp"}
    assert command.words == ["my.csv", "y"]
    assert len(command.subsearches) == 1 and command.subsearches[0].pipeline.commands[0].name == "search"


def test_command_names_are_lower_cased(stage) -> None:
    command = stage("STATS count")
    assert command.name == "stats" and isinstance(command, ast.StatsCommand)


def test_options_keys_are_lower_cased_and_keep_quotes_flag(stage) -> None:
    command = stage('rex Field=x MAX_MATCH=2 "a"')
    assert command.field == "x" and command.max_match == 2
    quoted = stage('fillnull value="x y"').options["value"]
    assert quoted.quoted and quoted.value == "x y"


def test_option_value_missing() -> None:
    with pytest.raises(SplSyntaxError, match="missing value for option 'max_match='"):
        parse('| rex "a" max_match=')


def test_transaction_quoted_boundary_with_escapes_and_brackets(stage, sx) -> None:
    """The quoted search is parsed in place: \\" is an escaped quote, brackets inside it are structure."""
    command = stage('transaction startswith="user=\\"bob\\" (a OR b)" endswith="[search x]"')
    assert sx(command.startswith) == 'AND(user="bob", OR(a, b))'
    assert sx(command.endswith) == "[search]"


def test_transaction_quoted_boundary_with_unbalanced_bracket_is_an_error() -> None:
    with pytest.raises(SplSyntaxError, match="in quoted search: unbalanced bracket"):
        parse('| transaction u startswith="[x=1"')


def test_repeated_option_keeps_the_last_value(stage) -> None:
    command = stage("makeresults count=2 COUNT = 3")
    assert command.count == 3 and list(command.options) == ["count"]
