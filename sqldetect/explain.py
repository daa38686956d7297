"""The rule card: what a detection rule looks for, in the shape of the catalog page.

A card holds the rule's metadata, its ATT&CK techniques, its pipeline stages (shown as the author wrote them,
macros unexpanded, wherever the stage maps back to the original text), the *indicators* it tests (a field,
an operator and a literal value) and the bare *search terms* it matches against ``_raw``. With a corpus of
other rules, each indicator also says how many other rules test the same thing, which separates
community-vetted indicators from ones specific to this rule.

Building a card is data only (``RuleCard``); ``render_text``, ``render_markdown`` and ``card_to_dict`` turn
it into output, so the CLI stays a thin shell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqldetect.errors import SqlDetectError
from sqldetect.macros import Expansion, MacroLibrary
from sqldetect.rules import Rule
from sqldetect.spl import ast

__all__ = [
    "CorpusIndex",
    "Indicator",
    "RuleCard",
    "SearchTermRow",
    "StageRow",
    "TechniqueRow",
    "build_card",
    "card_to_dict",
    "collect_indicators",
    "render_json",
    "render_markdown",
    "render_text",
]

_COMPARISONS = frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "LIKE"})
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_PATTERN_FUNCTIONS = frozenset({"like", "match"})


@dataclass
class TechniqueRow:
    """One ATT&CK technique. ``tactic`` and ``name`` come from the rule's ``techniques`` list
    (``tactic:technique[:sub-technique]``) when it pairs up with ``technique_id``, else are empty."""

    technique_id: str
    tactic: str = ""
    name: str = ""


@dataclass
class StageRow:
    """One pipeline stage: 1-based ``index``, the command ``name`` as written, and its SPL ``text``.

    ``original`` is True when ``text`` is the author's text (macros unexpanded), False when the stage came
    out of a macro expansion and only the expanded text exists.
    """

    index: int
    name: str
    text: str
    original: bool = True


@dataclass
class Indicator:
    """A test of a field against a literal: ``Image = *\\msiexec.exe``, ``c_process < 2``.

    ``language`` is ``search`` (case-insensitive, ``*`` wildcards: search, tstats where) or ``eval``
    (case-sensitive: where, eval). ``corpus_count`` is filled when a corpus is given: how many *other*
    rules there test the same ``key``.
    """

    stage: int
    field: str
    operator: str
    value: str
    language: str = "search"
    corpus_count: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What "the same indicator" means across rules: field as written (field names are
        case-sensitive), operator with ``IN`` read as ``=`` (``f IN (a, b)`` is ``f=a OR f=b``), and the
        value lower-cased where Splunk compares case-insensitively (search language without ``CASE()``)."""
        operator = self.operator.replace("IN", "=") if self.language == "search" else self.operator
        value = self.value
        if self.language == "search" and not value.startswith("CASE("):
            value = value.lower()
        return (self.field, operator, value)


@dataclass
class SearchTermRow:
    """A bare term or phrase matched against ``_raw``. ``term`` is the text (phrases keep their quotes);
    ``modifier`` is ``TERM``/``CASE``/``PREFIX``, prefixed by ``NOT`` when negated, else empty."""

    stage: int
    term: str
    modifier: str = ""


@dataclass
class RuleCard:
    id: str
    title: str
    description: str
    logic: str
    expanded: str
    techniques: list[TechniqueRow] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    data_category: list[str] = field(default_factory=list)
    stages: list[StageRow] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    terms: list[SearchTermRow] = field(default_factory=list)
    macros_used: list[str] = field(default_factory=list)
    source_file: str | None = None
    #: With a corpus: its directory, how many of its rules were indexed, and how many could not be.
    corpus: str | None = None
    corpus_rules: int | None = None
    corpus_failed: int | None = None


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------


def build_card(rule: Rule, library: MacroLibrary, corpus: CorpusIndex | None = None) -> RuleCard:
    """Expand and parse ``rule`` and describe it. Raises ``MacroError``/``SplSyntaxError`` on bad SPL."""
    from sqldetect.spl.parser import parse  # the parser is the heaviest import: only load it when used

    expansion = library.expand_with_map(rule.logic, rule.id)
    pipeline = parse(expansion.text, rule_id=rule.id)
    indicators, terms = collect_indicators(pipeline)
    if corpus is not None:
        for indicator in indicators:
            indicator.corpus_count = corpus.count(indicator.key, exclude=rule.id)
    return RuleCard(
        id=rule.id,
        title=rule.title,
        description=rule.description,
        logic=rule.logic,
        expanded=expansion.text,
        techniques=_technique_rows(rule),
        references=list(rule.references),
        data_category=list(rule.data_category),
        stages=list(_stage_rows(pipeline, expansion)),
        indicators=indicators,
        terms=terms,
        macros_used=expansion.macros_used,
        source_file=rule.source_file,
        corpus=str(corpus.directory) if corpus is not None else None,
        corpus_rules=corpus.indexed if corpus is not None else None,
        corpus_failed=corpus.failed if corpus is not None else None,
    )


def _technique_rows(rule: Rule) -> list[TechniqueRow]:
    paired = len(rule.techniques) == len(rule.technique_ids)
    rows: list[TechniqueRow] = []
    for i, technique_id in enumerate(rule.technique_ids):
        tactic = name = ""
        if paired:
            parts = [p.strip() for p in rule.techniques[i].split(":")]
            tactic = parts[0] if len(parts) > 1 else ""
            name = ": ".join(parts[1:]) if len(parts) > 1 else parts[0]
        rows.append(TechniqueRow(technique_id, tactic, name))
    if not paired:  # names that do not pair with ids are still worth showing
        rows.extend(TechniqueRow("", *_split_technique(t)) for t in rule.techniques)
    return rows


def _split_technique(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(":")]
    return (parts[0], ": ".join(parts[1:])) if len(parts) > 1 else ("", parts[0])


def _stage_rows(pipeline: ast.Pipeline, expansion: Expansion) -> Iterator[StageRow]:
    for i, command in enumerate(pipeline.commands):
        original_span = expansion.to_original(command.span)
        if original_span is not None:
            text = expansion.original[original_span.start : original_span.end].strip()
            # the span may include the stage's own `|` when the mapping snapped to a removed region
            text = text.removeprefix("|").strip()
            from_original = True
        else:
            text = pipeline.stage_text(i).strip()
            from_original = False
        if i > 0 or pipeline.generating:
            text = f"| {text}"
        yield StageRow(i + 1, command.name, text, from_original)


def collect_indicators(pipeline: ast.Pipeline) -> tuple[list[Indicator], list[SearchTermRow]]:
    """Every field-vs-literal test and every bare search term of a pipeline, by 1-based stage.

    Subsearches count as part of the stage that holds them.
    """
    indicators: list[Indicator] = []
    terms: list[SearchTermRow] = []
    for i, command in enumerate(pipeline.commands):
        _command_indicators(command, i + 1, indicators, terms)
    return indicators, terms


def _command_indicators(
    command: ast.Command, stage: int, indicators: list[Indicator], terms: list[SearchTermRow]
) -> None:
    if isinstance(command, ast.SearchCommand) and command.expr is not None:
        _search_expr(command.expr, stage, False, indicators, terms)
    elif isinstance(command, ast.TstatsCommand | ast.InputlookupCommand) and command.where is not None:
        _search_expr(command.where, stage, False, indicators, terms)
    elif isinstance(command, ast.WhereCommand) and command.expr is not None:
        _eval_expr(command.expr, stage, False, indicators)
    elif isinstance(command, ast.EvalCommand):
        for assignment in command.assignments:
            _eval_expr(assignment.expr, stage, False, indicators)
    elif isinstance(command, ast.RegexCommand):
        operator = "NOT regex" if command.negate else "regex"
        indicators.append(Indicator(stage, command.field, operator, command.regex, "eval"))
    for sub in _subpipelines(command):
        for inner in sub.commands:
            _command_indicators(inner, stage, indicators, terms)


def _subpipelines(command: ast.Command) -> Iterable[ast.Pipeline]:
    if isinstance(command, ast.JoinCommand | ast.SubsearchCommand) and command.subsearch is not None:
        yield command.subsearch.pipeline
    elif isinstance(command, ast.GenericCommand):
        yield from (s.pipeline for s in command.subsearches)


def _search_expr(
    expr: ast.SearchExpr, stage: int, negated: bool, indicators: list[Indicator], terms: list[SearchTermRow]
) -> None:
    prefix = "NOT " if negated else ""
    if isinstance(expr, ast.SearchAnd | ast.SearchOr):
        for operand in expr.operands:
            _search_expr(operand, stage, negated, indicators, terms)
    elif isinstance(expr, ast.SearchNot):
        _search_expr(expr.operand, stage, not negated, indicators, terms)
    elif isinstance(expr, ast.SearchCompare):
        indicators.append(Indicator(stage, expr.field, prefix + expr.op, _search_value(expr.value)))
    elif isinstance(expr, ast.SearchIn):
        for value in expr.values:
            indicators.append(Indicator(stage, expr.field, prefix + "IN", _search_value(value)))
    elif isinstance(expr, ast.SearchTerm):
        value = expr.value
        if value.text == "*" and not value.quoted and value.modifier is None:
            return  # matches every event: not something the rule looks for
        term = f'"{value.text}"' if value.quoted else value.text
        modifier = " ".join(p for p in (prefix.strip(), value.modifier or "") if p)
        terms.append(SearchTermRow(stage, term, modifier))
    elif isinstance(expr, ast.SearchSubsearch):
        for inner in expr.pipeline.commands:
            _command_indicators(inner, stage, indicators, terms)
    # TimeModifier: a time window, not an indicator


def _search_value(value: ast.SearchValue) -> str:
    return f"{value.modifier}({value.text})" if value.modifier else value.text


def _eval_expr(expr: ast.EvalExpr, stage: int, negated: bool, indicators: list[Indicator]) -> None:
    prefix = "NOT " if negated else ""
    if isinstance(expr, ast.BinaryOp):
        if expr.op in _COMPARISONS:
            pair = _field_and_literal(expr.left, expr.right)
            if pair is not None:
                name, literal, flipped = pair
                op = "=" if expr.op == "==" else expr.op
                if flipped:
                    op = _FLIPPED.get(op, op)
                indicators.append(Indicator(stage, name, prefix + op, literal, "eval"))
                return
        _eval_expr(expr.left, stage, negated, indicators)
        _eval_expr(expr.right, stage, negated, indicators)
    elif isinstance(expr, ast.UnaryOp):
        _eval_expr(expr.operand, stage, negated != (expr.op == "NOT"), indicators)
    elif isinstance(expr, ast.InList):
        neg = negated != expr.negated
        if isinstance(expr.operand, ast.FieldRef) and all(isinstance(v, ast.Literal) for v in expr.values):
            for value in expr.values:
                assert isinstance(value, ast.Literal)
                op = ("NOT " if neg else "") + "IN"
                indicators.append(Indicator(stage, expr.operand.name, op, _literal_text(value), "eval"))
    elif isinstance(expr, ast.Call):
        name = expr.name.lower()
        args = expr.args
        if (
            name in _PATTERN_FUNCTIONS
            and len(args) == 2
            and isinstance(args[0], ast.FieldRef)
            and isinstance(args[1], ast.Literal)
        ):
            indicators.append(Indicator(stage, args[0].name, prefix + name, _literal_text(args[1]), "eval"))
            return
        if (
            name == "in"
            and args
            and isinstance(args[0], ast.FieldRef)
            and all(isinstance(a, ast.Literal) for a in args[1:])
        ):
            for value in args[1:]:
                assert isinstance(value, ast.Literal)
                indicators.append(Indicator(stage, args[0].name, prefix + "IN", _literal_text(value), "eval"))
            return
        for arg in args:
            _eval_expr(arg, stage, negated, indicators)


def _field_and_literal(left: ast.EvalExpr, right: ast.EvalExpr) -> tuple[str, str, bool] | None:
    if isinstance(left, ast.FieldRef) and isinstance(right, ast.Literal):
        return left.name, _literal_text(right), False
    if isinstance(left, ast.Literal) and isinstance(right, ast.FieldRef):
        return right.name, _literal_text(left), True
    return None


def _literal_text(literal: ast.Literal) -> str:
    if isinstance(literal.value, str):
        return literal.value
    return literal.text or str(literal.value)


# --------------------------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CorpusIndex:
    """Which rules of a corpus test which indicator key (built once, asked once per indicator)."""

    directory: Path
    rules_by_key: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    indexed: int = 0
    failed: int = 0

    @classmethod
    def from_dir(cls, directory: str | Path, library: MacroLibrary) -> CorpusIndex:
        """Index ``directory/detections.jsonl`` (SPL in ``search``); rules that fail to expand or parse are
        counted in ``failed`` and skipped. ``library`` should already hold ``directory/macros.jsonl``."""
        from sqldetect.spl.parser import parse

        index = cls(Path(directory))
        path = Path(directory) / "detections.jsonl"
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    rule_id = str(record["id"])
                    pipeline = parse(library.expand(record["search"], rule_id), rule_id=rule_id)
                except (SqlDetectError, ValueError, KeyError, TypeError):
                    index.failed += 1
                    continue
                index.indexed += 1
                indicators, _terms = collect_indicators(pipeline)
                for indicator in indicators:
                    index.rules_by_key.setdefault(indicator.key, set()).add(rule_id)
        return index

    def count(self, key: tuple[str, str, str], exclude: str | None = None) -> int:
        rules = self.rules_by_key.get(key, set())
        return len(rules - {exclude}) if exclude is not None else len(rules)


# --------------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------------


def card_to_dict(card: RuleCard) -> dict[str, object]:
    return asdict(card)


def render_json(card: RuleCard) -> str:
    return json.dumps(card_to_dict(card), indent=2, ensure_ascii=False)


def render_text(card: RuleCard) -> str:
    lines = [card.title, f"id: {card.id}"]
    if card.source_file:
        lines.append(f"file: {card.source_file}")
    if card.description:
        lines += ["", card.description]
    lines += ["", "ATT&CK techniques"]
    lines += _text_table(
        ["Technique", "Tactic", "Name"], [[t.technique_id, t.tactic, t.name] for t in card.techniques]
    )
    if card.references:
        lines += ["", "References", *(f"  {r}" for r in card.references)]
    lines += ["", "Stages"]
    for stage in card.stages:
        lines.append(f"Stage {stage.index}: {stage.name}")
        lines.append(f"  {stage.text}")
    lines += ["", "Indicators"]
    lines += _text_table(*_indicator_table(card))
    lines += ["", "Search terms"]
    lines += _text_table(
        ["Stage", "Term", "Modifier"], [[str(t.stage), t.term, t.modifier] for t in card.terms]
    )
    if card.corpus is not None:
        lines += ["", _corpus_note(card)]
    return "\n".join(lines)


def render_markdown(card: RuleCard) -> str:
    lines = [f"# {card.title}", "", f"**id:** `{card.id}`"]
    if card.description:
        lines += ["", card.description]
    lines += ["", "## MITRE ATT&CK coverage", ""]
    lines += _md_table(
        ["Technique", "Tactic", "Name"], [[t.technique_id, t.tactic, t.name] for t in card.techniques]
    )
    if card.references:
        lines += ["", "## References", "", *(f"- {r}" for r in card.references)]
    lines += ["", "## Stages", ""]
    for stage in card.stages:
        lines += [f"**Stage {stage.index}: {stage.name}**", "", "```", stage.text, "```", ""]
    lines += ["## Indicators", ""]
    lines += _md_table(*_indicator_table(card))
    lines += ["", "## Search terms", ""]
    lines += _md_table(
        ["Stage", "Term", "Modifier"], [[str(t.stage), t.term, t.modifier] for t in card.terms]
    )
    if card.corpus is not None:
        lines += ["", _corpus_note(card)]
    return "\n".join(lines) + "\n"


def _indicator_table(card: RuleCard) -> tuple[list[str], list[list[str]]]:
    header = ["Stage", "Field", "Operator", "Value"]
    with_corpus = card.corpus is not None
    if with_corpus:
        header.append("Corpus")
    rows = []
    for ind in card.indicators:
        row = [str(ind.stage), ind.field, ind.operator, ind.value]
        if with_corpus:
            row.append("" if ind.corpus_count is None else str(ind.corpus_count))
        rows.append(row)
    return header, rows


def _corpus_note(card: RuleCard) -> str:
    note = f"Corpus: {card.corpus_rules} rules indexed from {card.corpus}"
    if card.corpus_failed:
        note += f" ({card.corpus_failed} could not be expanded or parsed)"
    return note + "; the Corpus column counts the other rules testing the same field, operator and value."


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()] + [
        fmt.format(*r).rstrip() for r in rows
    ]


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out
