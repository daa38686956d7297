"""Which fields later stages use (for xmlkv/fromjson/spath without a path)."""

from __future__ import annotations

from sqldetect.compile.demand import fields_used_later
from sqldetect.spl.parser import parse


def later(spl: str) -> set[str] | None:
    """The demand of every stage after the first of ``spl``."""
    return fields_used_later(parse(spl).commands[1:])


def test_names_until_a_bounding_command() -> None:
    names = later("* | where a > 1 | eval b=c+1 | search d=x e | stats count by f | table zzz")
    assert names is not None
    assert {"a", "b", "c", "d", "_raw", "f"} <= names
    assert "zzz" not in names  # after stats, later names cannot be extracted fields


def test_unbounded_pipelines() -> None:
    assert later("* | where a > 1") is None  # the output shows every field
    assert later("* | table a*") is None
    assert later("* | stats values(*) as * by a") is None
    assert later("* | addtotals | table Total") is None
    assert later("* | join [search x] | table a") is None
    assert later("* | fields - a") is None


def test_field_by_field_commands_need_no_names() -> None:
    names = later("* | fillnull | transaction Task_Name startswith=(EventCode=1) | where duration<30 | table dest")
    assert names is not None
    assert {"Task_Name", "EventCode", "duration", "dest"} <= names


def test_wildcard_rename_is_followed_backwards() -> None:
    names = later("* | rename Rule.* AS *, TargetUser AS user | stats count by PolicyName user")
    assert names is not None
    assert {"Rule.PolicyName", "Rule.user", "TargetUser", "PolicyName"} <= names


def test_join_subsearch_is_not_read_but_appendpipe_is() -> None:
    names = later("* | join k [search * | table *] | appendpipe [stats count by q] | table k")
    assert names is not None
    assert {"k", "q"} <= names


def test_bare_dotted_name_demands_its_pieces() -> None:
    """A bare ``a.b`` in eval may be the concatenation ``a . b`` (decided on the fields present), so both
    readings' fields are demanded; a quoted ``'c.d'`` is always one field."""
    names = later("* | eval x=a.b, y='c.d' | where e.f.g > 1 | table x y")
    assert names is not None
    assert {"a.b", "a", "b", "c.d", "e.f.g", "e", "f", "g"} <= names
    assert not {"c", "d"} & names
