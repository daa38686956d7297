"""Human-readable and JSON renderings of a parsed ``Pipeline`` (used by ``sqldetect parse``).

``format_pipeline`` prints one block per stage: its number and command, its options, then every other
argument, with search and eval expressions drawn as indented trees so precedence is visible
(``A B OR C`` shows an AND over an OR). ``pipeline_to_dict`` gives the same tree as plain JSON-able data,
every node tagged with its class name and every span as ``[start, end]``.

Both walk the dataclasses generically, so a field added to ``ast.py`` shows up without touching this file.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqldetect.errors import Span
from sqldetect.spl.ast import (
    Aggregation,
    Assignment,
    BinaryOp,
    Call,
    Command,
    Conversion,
    FieldName,
    FieldRef,
    InList,
    Literal,
    LookupField,
    Option,
    Pipeline,
    RenamePair,
    SearchAnd,
    SearchCompare,
    SearchIn,
    SearchNot,
    SearchOr,
    SearchSubsearch,
    SearchTerm,
    SearchValue,
    SortKey,
    Subsearch,
    TimeModifier,
    UnaryOp,
)

_INDENT = "  "
# Command fields that the stage header already shows (or that only repeat the source).
_HIDDEN = {"name", "span", "args_text", "options", "canonical"}

# --------------------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------------------


def format_pipeline(pipeline: Pipeline, indent: int = 0) -> str:
    """An indented, readable dump of ``pipeline`` (stages, options, arguments, expression trees)."""
    return "\n".join(_pipeline_lines(pipeline, indent))


def _pipeline_lines(pipeline: Pipeline, depth: int) -> list[str]:
    pad = _INDENT * depth
    kind = "generating pipeline" if pipeline.generating else "pipeline"
    lines = [f"{pad}{kind} [{_span(pipeline.span)}], {len(pipeline.commands)} stage(s)"]
    for number, command in enumerate(pipeline.commands, start=1):
        lines.extend(_command_lines(number, command, depth + 1))
    return lines


def _command_lines(number: int, command: Command, depth: int) -> list[str]:
    pad = _INDENT * depth
    alias = f" = {command.canonical}" if command.canonical != command.name else ""
    lines = [f"{pad}{number}. {command.name}{alias} ({type(command).__name__}) [{_span(command.span)}]"]
    inner = _INDENT * (depth + 1)
    if command.options:
        rendered = " ".join(_option(option) for option in command.options.values())
        lines.append(f"{inner}options: {rendered}")
    for item in dataclasses.fields(command):
        if item.name in _HIDDEN:
            continue
        value = getattr(command, item.name)
        if value is None or value == [] or value == "":
            continue
        lines.extend(_field_lines(item.name, value, depth + 1))
    return lines


def _field_lines(label: str, value: Any, depth: int) -> list[str]:
    pad = _INDENT * depth
    if _is_expression(value):
        return [f"{pad}{label}:", *_expr_lines(value, depth + 1)]
    if isinstance(value, Subsearch):
        return [f"{pad}{label}:", *_pipeline_lines(value.pipeline, depth + 1)]
    if isinstance(value, list):
        items = [_item_text(item) for item in value]
        if all(text is not None for text in items):
            return [f"{pad}{label}: {', '.join(text for text in items if text is not None)}"]
        lines = [f"{pad}{label}:"]
        for item in value:
            lines.extend(_item_lines(item, depth + 1))
        return lines
    if isinstance(value, Span):
        return [f"{pad}{label}: [{_span(value)}]"]
    return [f"{pad}{label}: {value!r}" if isinstance(value, str) else f"{pad}{label}: {value}"]


def _item_text(item: Any) -> str | None:
    """One-line text of a simple list item, or ``None`` when it needs several lines."""
    if isinstance(item, FieldName):
        return _quoted_name(item.name, item.quoted)
    if isinstance(item, SortKey):
        kind = f"{item.kind}({item.field})" if item.kind != "auto" else item.field
        return ("-" if item.descending else "+") + kind
    if isinstance(item, RenamePair):
        return f"{_quoted_name(item.source.name, item.source.quoted)} AS {_quoted_name(item.target.name, item.target.quoted)}"
    if isinstance(item, LookupField):
        return item.lookup_field if item.lookup_field == item.event_field else f"{item.lookup_field} AS {item.event_field}"
    if isinstance(item, Conversion):
        text = f"{item.func}({item.field.name})"
        return f"{text} AS {item.alias}" if item.alias else text
    if isinstance(item, str):
        return repr(item)
    if isinstance(item, Aggregation) and not item.arg_is_eval:
        alias = f" AS {item.alias}" if item.alias else ""
        return f"{item.text}{alias}"
    return None


def _item_lines(item: Any, depth: int) -> list[str]:
    pad = _INDENT * depth
    text = _item_text(item)
    if text is not None:
        return [f"{pad}{text}"]
    if isinstance(item, Aggregation):
        alias = f" AS {item.alias}" if item.alias else ""
        return [f"{pad}{item.func}(eval(...)){alias}  -- output name {item.text!r}",
                *_expr_lines(item.arg, depth + 1)]
    if isinstance(item, Assignment):
        return [f"{pad}{item.field} =", *_expr_lines(item.expr, depth + 1)]
    if isinstance(item, Subsearch):
        return _pipeline_lines(item.pipeline, depth)
    return [f"{pad}{item!r}"]


def _is_expression(value: Any) -> bool:
    return isinstance(
        value,
        (SearchAnd, SearchOr, SearchNot, SearchTerm, SearchCompare, SearchIn, TimeModifier, SearchSubsearch,
         Literal, FieldRef, Call, BinaryOp, UnaryOp, InList),
    )


def _expr_lines(node: Any, depth: int) -> list[str]:
    """Search and eval expression trees, one node a line."""
    pad = _INDENT * depth
    if isinstance(node, (SearchAnd, SearchOr)):
        label = "AND" if isinstance(node, SearchAnd) else "OR"
        if not node.operands:
            return [f"{pad}{label} (empty: matches everything)"]
        lines = [f"{pad}{label}"]
        for operand in node.operands:
            lines.extend(_expr_lines(operand, depth + 1))
        return lines
    if isinstance(node, SearchNot):
        return [f"{pad}NOT", *_expr_lines(node.operand, depth + 1)]
    if isinstance(node, SearchTerm):
        return [f"{pad}term {_search_value(node.value)}"]
    if isinstance(node, SearchCompare):
        return [f"{pad}{_quoted_name(node.field, False)} {node.op} {_search_value(node.value)}"]
    if isinstance(node, SearchIn):
        return [f"{pad}{node.field} IN ({', '.join(_search_value(v) for v in node.values)})"]
    if isinstance(node, TimeModifier):
        return [f"{pad}time {node.name}={node.value}"]
    if isinstance(node, SearchSubsearch):
        return [f"{pad}subsearch", *_pipeline_lines(node.pipeline, depth + 1)]
    if isinstance(node, Literal):
        return [f"{pad}{_literal(node)}"]
    if isinstance(node, FieldRef):
        return [f"{pad}field {_quoted_name(node.name, node.quoted)}"]
    if isinstance(node, Call):
        lines = [f"{pad}call {node.name}()" if not node.args else f"{pad}call {node.name}"]
        for arg in node.args:
            lines.extend(_expr_lines(arg, depth + 1))
        return lines
    if isinstance(node, BinaryOp):
        return [f"{pad}{node.op}", *_expr_lines(node.left, depth + 1), *_expr_lines(node.right, depth + 1)]
    if isinstance(node, UnaryOp):
        return [f"{pad}{node.op} (unary)", *_expr_lines(node.operand, depth + 1)]
    if isinstance(node, InList):
        lines = [f"{pad}{'NOT IN' if node.negated else 'IN'}", *_expr_lines(node.operand, depth + 1),
                 f"{pad}{_INDENT}values:"]
        for value in node.values:
            lines.extend(_expr_lines(value, depth + 2))
        return lines
    return [f"{pad}{node!r}"]  # pragma: no cover - every expression node is handled above


def _search_value(value: SearchValue) -> str:
    text = _quote(value.text) if value.quoted else value.text
    return f"{value.modifier}({text})" if value.modifier else text


def _literal(node: Literal) -> str:
    return _quote(node.value) if isinstance(node.value, str) else node.text or str(node.value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quoted_name(name: str, quoted: bool) -> str:
    return _quote(name) if quoted or not name or any(c.isspace() for c in name) else name


def _option(option: Option) -> str:
    return f"{option.key}={_quote(option.value) if option.quoted else option.value}"


def _span(span: Span) -> str:
    return f"{span.start}..{span.end}"


# --------------------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------------------


def pipeline_to_dict(pipeline: Pipeline) -> dict[str, Any]:
    """``pipeline`` as JSON-able data: ``{"node": "Pipeline", "source": ..., "commands": [...], ...}``.

    Every dataclass becomes a dict with a ``node`` key naming its class; spans become ``[start, end]``;
    nested pipelines (subsearches) leave out ``source``, which they share with the outermost one.
    """
    return _to_data(pipeline, top=True)


def _to_data(value: Any, top: bool = False) -> Any:
    if isinstance(value, Span):
        return [value.start, value.end]
    if isinstance(value, Pipeline):
        data: dict[str, Any] = {"node": "Pipeline"}
        if top:
            data["source"] = value.source
        data["span"] = _to_data(value.span)
        data["generating"] = value.generating
        data["commands"] = [_to_data(command) for command in value.commands]
        return data
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {"node": type(value).__name__}
        for item in dataclasses.fields(value):
            data[item.name] = _to_data(getattr(value, item.name))
        return data
    if isinstance(value, dict):
        return {key: _to_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_data(item) for item in value]
    return value
