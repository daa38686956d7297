"""CIM data models as data, and their compilation into relations over the event table.

Splunk detections rarely search raw Windows events directly: more than half start with ``| tstats ... from
datamodel=Endpoint.Processes``, whose rows are *events seen through a data model*: the events a data set's
constraint selects, with CIM fields (``process_name``, ``dest``, ``user``...) computed from the event's own fields.
Splunk does this with tags, event types and the add-ons' field extractions; sqldetect does it with one YAML file
per data model (``sqldetect/data/datamodels/*.yaml``) in which

* a **data set** declares its CIM fields (with an optional kind, and a ``default`` such as ``unknown`` used when
  the value is null or empty, as the CIM's calculated fields do),
* **branches** say which events feed it, each as an SPL *search* constraint over event fields (one branch per
  event type, e.g. Sysmon 1 and Security 4688), and give each CIM field as an SPL *eval* expression over that
  event's fields (a data-set-level ``eval`` serves every branch that gives none),
* **children** (``Authentication.Failed_Authentication``) inherit their parent's rows and fields, narrow them
  with a search over the parent's fields and may add fields of their own.

Because constraints and fields are SPL, they are translated by the same code as rules (``ctx.search_condition``
and ``ctx.eval``): one semantics serves everything. A user can add their own files (``load_datamodels``) to
override field expressions or point a data set at another table (a warehouse) with ``table`` and ``columns``.

File format (one model per YAML document)::

    model: Endpoint
    doc: ...
    datasets:
      Processes:
        doc: ...
        search: <optional constraint shared by every branch>
        fields:
          dest: {default: unknown, eval: coalesce(Computer, host)}
          process_hash: {kind: multivalue}
          action:                        # declared, no value unless a branch gives one
        branches:
          sysmon:
            search: EventCode=1 ...
            eval: {process: CommandLine, ...}
        children:
          Child: {search: ..., fields: ..., children: ...}

A root data set with no ``search``, no ``branches`` and no ``table`` is fed by no event (``Risk.All_Risk``): it
exists, so detections over it translate and run, and returns no rows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlglot import exp

from sqldetect.compile.relation import FieldInfo, Kind, OrderKey, Relation
from sqldetect.compile.sql import TRUE, alias, and_, anon, case, coalesce, col, ident, lit, null, star
from sqldetect.compile.typed import Typed, as_list, as_number, as_stored, as_string
from sqldetect.errors import DataModelError, SqlDetectError, TranslationError, UnsupportedError
from sqldetect.schema import FieldKind
from sqldetect.spl import ast

#: libyaml's parser when PyYAML has it (same constructor, so same values; reading the shipped models takes
#: ~5 ms instead of ~40 ms, paid by the first rule that uses a data model)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]

if TYPE_CHECKING:
    from sqldetect.compile.context import StageContext

PACKAGE_DIR = Path(__file__).parent / "data" / "datamodels"

_KINDS = {"string": Kind.STRING, "number": Kind.NUMBER, "multivalue": Kind.MULTIVALUE, "time": Kind.TIME}
_MODEL_KEYS = {"model", "doc", "datasets"}
_DATASET_KEYS = {"doc", "search", "fields", "branches", "children", "table", "columns"}
_FIELD_KEYS = {"kind", "default", "eval", "doc"}
_BRANCH_KEYS = {"doc", "search", "eval"}

#: Fields every data set has besides its own (Splunk's inherited ``_time, host, source, sourcetype``).
BASE_FIELDS = ("_time", "host", "source", "sourcetype")


# ---------------------------------------------------------------------------------------------------- syntax


@dataclass(frozen=True)
class SplText:
    """An SPL snippet of a definition: its text (for messages and SQL comments) and its parsed tree."""

    text: str
    tree: Any  # ast.EvalExpr or ast.SearchExpr (None for an empty search)


def _parse_eval(text: str) -> ast.EvalExpr:
    from sqldetect.spl.context import ParseContext
    from sqldetect.spl.eval_parser import parse_eval
    from sqldetect.spl.scanner import scan

    structure = scan(text)
    if structure.problem is not None:
        raise DataModelError(structure.problem.message)
    return parse_eval(ParseContext(structure), 0, len(text))


def _parse_search(text: str) -> ast.SearchExpr | None:
    from sqldetect.spl.context import ParseContext
    from sqldetect.spl.scanner import scan
    from sqldetect.spl.search_parser import parse_search

    structure = scan(text)
    if structure.problem is not None:
        raise DataModelError(structure.problem.message)
    expr, stop = parse_search(ParseContext(structure), 0, len(text))
    if text[stop:].strip():
        raise DataModelError(f"unexpected {text[stop:].strip()!r} after the search expression")
    return expr


# ---------------------------------------------------------------------------------------------------- model


@dataclass
class FieldSpec:
    """A CIM field a data set declares."""

    name: str
    kind: Kind | None = None  # forced kind (else inferred from the expressions; string when none gives one)
    default: str | None = None  # the value when the expression gives null or "" (CIM's "unknown")
    eval: SplText | None = None  # the expression every branch uses unless it gives its own
    doc: str = ""


@dataclass
class Branch:
    """One kind of event feeding a data set: its constraint and its field expressions."""

    name: str
    search: SplText | None
    evals: dict[str, SplText | None]  # None: this branch gives the field no value
    doc: str = ""


@dataclass
class Dataset:
    """A data set of a data model (a root such as ``Processes`` or a child such as ``Failed_Authentication``)."""

    model: str
    name: str
    parent: Dataset | None
    fields: dict[str, FieldSpec]
    branches: list[Branch]
    search: SplText | None = None
    children: dict[str, Dataset] = field(default_factory=dict)
    table: str | None = None
    columns: dict[str, FieldKind] | None = None
    doc: str = ""
    origin: str = ""

    @property
    def lineage(self) -> str:
        """``Authentication.Failed_Authentication``: the dotted path from the root data set, which is also the
        prefix tstats gives the fields this data set owns."""
        return self.name if self.parent is None else f"{self.parent.lineage}.{self.name}"

    @property
    def path(self) -> str:
        return f"{self.model}.{self.lineage}"

    def chain(self) -> list[Dataset]:
        """The root first, this data set last."""
        out: list[Dataset] = []
        node: Dataset | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    @property
    def fed_by_nothing(self) -> bool:
        return self.parent is None and self.table is None and self.search is None and not self.branches

    def walk(self) -> Iterator[Dataset]:
        yield self
        for child in self.children.values():
            yield from child.walk()

    def prefixed_fields(self) -> list[tuple[str, str]]:
        """``(tstats name, field name)`` of every field this data set has, inherited ones first:
        ``("Processes.process_name", "process_name")``."""
        out: list[tuple[str, str]] = []
        for owner in self.chain():
            out.extend((f"{owner.lineage}.{name}", name) for name in owner.fields)
        return out


@dataclass
class DataModel:
    name: str
    roots: dict[str, Dataset]
    doc: str = ""
    origin: str = ""

    def datasets(self) -> Iterator[Dataset]:
        for root in self.roots.values():
            yield from root.walk()

    def find(self, path: str) -> Dataset | None:
        """A data set by lineage (``Authentication.Failed_Authentication``) or by a name unique in the model."""
        for dataset in self.datasets():
            if dataset.lineage == path:
                return dataset
        named = [d for d in self.datasets() if d.name == path]
        return named[0] if len(named) == 1 else None


class DataModels:
    """The data model definitions a translation uses (``CompileOptions.datamodels``)."""

    def __init__(self, models: Iterable[DataModel] = ()) -> None:
        self.models: dict[str, DataModel] = {m.name: m for m in models}
        #: compiled data sets by (data set path, event schema, table, now): every rule over Endpoint.Processes
        #: needs the same SQL, and translating it is most of the cost of translating a tstats rule
        self.compiled: dict[tuple[Any, ...], list[CompiledLevel]] = {}

    def __iter__(self) -> Iterator[DataModel]:
        return iter(self.models.values())

    def __contains__(self, name: object) -> bool:
        return name in self.models

    def get(self, name: str) -> DataModel | None:
        return self.models.get(name)

    def resolve(self, spec: str, nodename: str | None = None) -> Dataset:
        """The data set ``datamodel=<spec> [where nodename=<nodename>]`` names.

        ``spec`` is ``Model`` or ``Model.Dataset`` (a root name, a lineage or a name unique in the model);
        ``nodename`` is a lineage (``Authentication.Failed_Authentication``) or a data set name. Raises
        ``UnsupportedError`` for a model sqldetect does not define and ``TranslationError`` for a data set the
        model does not have (both without a location: the caller adds it)."""
        model_name, _, rest = spec.partition(".")
        model = self.models.get(model_name)
        if model is None:
            known = ", ".join(sorted(self.models)) or "none"
            raise UnsupportedError(f"data model {model_name!r} is not defined (defined: {known})",
                                   construct=f"datamodel={model_name}")
        dataset: Dataset | None = None
        if rest:
            dataset = model.find(rest)
            if dataset is None:
                raise TranslationError(f"data model {model_name} has no data set {rest!r} "
                                       f"(it has: {_dataset_list(model)})")
        if nodename:
            target = model.find(nodename)
            if target is None and dataset is not None:
                target = model.find(f"{dataset.lineage}.{nodename}")
            if target is None:
                raise TranslationError(f"data model {model_name} has no data set {nodename!r} for nodename "
                                       f"(it has: {_dataset_list(model)})")
            if dataset is not None and dataset not in target.chain():
                raise TranslationError(f"nodename={nodename} is not inside {dataset.path}")
            return target
        if dataset is not None:
            return dataset
        if len(model.roots) == 1:
            return next(iter(model.roots.values()))
        raise TranslationError(f"data model {model_name} has several root data sets ({', '.join(model.roots)}): "
                               f"name one, e.g. datamodel={model_name}.{next(iter(model.roots))}")


def _dataset_list(model: DataModel) -> str:
    return ", ".join(d.lineage for d in model.datasets())


# ---------------------------------------------------------------------------------------------------- loading


def package_files() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.yaml"))


@functools.lru_cache(maxsize=1)
def package_datamodels() -> DataModels:
    """The data models shipped with sqldetect (loaded once)."""
    return load_datamodels()


def load_datamodels(paths: Iterable[str | Path] = (), *, include_package: bool = True) -> DataModels:
    """Load data model definitions: the package's (unless ``include_package`` is false), then each user file in
    order, a later definition of the same model merging into the earlier one (see ``merge_model``).

    Raises ``DataModelError`` naming the file, model, data set and field of the first problem found."""
    files = [*(package_files() if include_package else []), *(Path(p) for p in paths)]
    raw: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for path in files:
        for document in _read_documents(path):
            name = document["model"]
            if name in raw:
                raw[name] = merge_model(raw[name], document)
                origins[name] = f"{origins[name]} + {path}"
            else:
                raw[name] = document
                origins[name] = str(path)
    return DataModels(_build_model(doc, origins[name]) for name, doc in raw.items())


def _read_documents(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise DataModelError(f"{path}: cannot read data model file: {err.strerror or err}") from None
    try:
        documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as err:
        raise DataModelError(f"{path}: not valid YAML: {err}") from None
    for index, document in enumerate(documents, start=1):
        where = f"{path} (document {index})" if len(documents) > 1 else str(path)
        if not isinstance(document, dict):
            raise DataModelError(f"{where}: a data model must be a mapping with 'model' and 'datasets'")
        _check_keys(document, _MODEL_KEYS, where)
        if not isinstance(document.get("model"), str) or not document["model"]:
            raise DataModelError(f"{where}: 'model' (the data model's name) is missing")
        datasets = document.get("datasets") or {}
        if not isinstance(datasets, dict):
            raise DataModelError(f"{where}: data model {document['model']}: 'datasets' must be a mapping")
        document["datasets"] = datasets
    return documents


def _check_keys(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise DataModelError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def merge_model(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A later definition of a model merged into an earlier one, data set by data set (``merge_dataset``)."""
    merged = dict(base)
    if "doc" in over:
        merged["doc"] = over["doc"]
    datasets = dict(base.get("datasets") or {})
    for name, spec in (over.get("datasets") or {}).items():
        datasets[name] = merge_dataset(datasets[name], spec or {}) if name in datasets else spec
    merged["datasets"] = datasets
    return merged


def merge_dataset(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge a user's data set entry into the package's:

    * ``table`` replaces where the rows come from: the package's branches and search (written over Windows event
      fields) are dropped unless the user gives their own;
    * ``search`` / ``branches`` given alone replace the package's;
    * ``fields`` merge field by field; a field given an ``eval`` uses it in every branch (the package's
      per-branch expressions for that field are dropped);
    * ``children`` merge by name, recursively."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    merged = dict(base)
    if "table" in over:
        for key in ("search", "branches", "columns"):
            merged.pop(key, None)
    for key in ("doc", "search", "branches", "table", "columns"):
        if key in over:
            merged[key] = over[key]
    fields = dict(base.get("fields") or {})
    overridden: set[str] = set()
    for name, decl in (over.get("fields") or {}).items():
        old = fields.get(name)
        new = _field_decl(decl)
        if old is not None and isinstance(_field_decl(old), dict) and isinstance(new, dict):
            fields[name] = {**_field_decl(old), **new}
        else:
            fields[name] = decl
        if isinstance(new, dict) and "eval" in new:
            overridden.add(name)
    if fields:
        merged["fields"] = fields
    if overridden and isinstance(merged.get("branches"), dict) and merged.get("branches") is base.get("branches"):
        merged["branches"] = {
            bname: {**b, "eval": {k: v for k, v in (b.get("eval") or {}).items() if k not in overridden}}
            if isinstance(b, dict) else b
            for bname, b in merged["branches"].items()
        }
    children = dict(base.get("children") or {})
    for name, spec in (over.get("children") or {}).items():
        children[name] = merge_dataset(children[name], spec or {}) if name in children else spec
    if children:
        merged["children"] = children
    return merged


def _field_decl(decl: Any) -> Any:
    """A field declaration in its mapping form: ``None`` → ``{}``, a string → ``{eval: string}``."""
    if decl is None:
        return {}
    if isinstance(decl, str):
        return {"eval": decl}
    return decl


def _build_model(raw: dict[str, Any], origin: str) -> DataModel:
    name = raw["model"]
    model = DataModel(name, {}, str(raw.get("doc") or ""), origin)
    for ds_name, spec in raw["datasets"].items():
        model.roots[ds_name] = _build_dataset(name, ds_name, spec, None, origin)
    return model


def _build_dataset(model: str, name: str, spec: Any, parent: Dataset | None, origin: str) -> Dataset:
    lineage = name if parent is None else f"{parent.lineage}.{name}"
    where = f"{origin}: data set {model}.{lineage}"
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise DataModelError(f"{where}: must be a mapping")
    _check_keys(spec, _DATASET_KEYS, where)
    dataset = Dataset(model, name, parent, {}, [], doc=str(spec.get("doc") or ""), origin=origin)
    if spec.get("search") is not None:
        dataset.search = _search_text(spec["search"], f"{where}, search")
    dataset.table = _optional_text(spec.get("table"), f"{where}, table")
    if dataset.table is not None:
        try:
            table_ref(dataset.table)
        except DataModelError as err:
            raise DataModelError(f"{where}: {err.message}") from None
    if spec.get("columns") is not None:
        if dataset.table is None:
            raise DataModelError(f"{where}: 'columns' describes a 'table'; give the table too")
        dataset.columns = _columns(spec["columns"], f"{where}, columns")
    elif dataset.table is not None:
        raise DataModelError(f"{where}: a data set read from table {dataset.table!r} needs 'columns' "
                             "(its column names and kinds)")
    if dataset.table is not None and parent is not None:
        raise DataModelError(f"{where}: only a root data set can read its own table")
    fields = spec.get("fields") or {}
    if not isinstance(fields, dict):
        raise DataModelError(f"{where}: 'fields' must be a mapping of field name to declaration")
    for fname, decl in fields.items():
        dataset.fields[str(fname)] = _field_spec(str(fname), decl, f"{where}, field {fname}")
    branches = spec.get("branches") or {}
    if not isinstance(branches, dict):
        raise DataModelError(f"{where}: 'branches' must be a mapping of branch name to branch")
    for bname, bspec in branches.items():
        dataset.branches.append(_branch(str(bname), bspec, dataset, f"{where}, branch {bname}"))
    children = spec.get("children") or {}
    if not isinstance(children, dict):
        raise DataModelError(f"{where}: 'children' must be a mapping of data set name to data set")
    for cname, cspec in children.items():
        dataset.children[str(cname)] = _build_dataset(model, str(cname), cspec, dataset, origin)
    return dataset


def _optional_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise DataModelError(f"{where}: must be a non-empty string")
    return value


def _columns(value: Any, where: str) -> dict[str, FieldKind]:
    if isinstance(value, list):
        value = dict.fromkeys(value, "string")
    if not isinstance(value, dict):
        raise DataModelError(f"{where}: must map column names to kinds (string, number, time, multivalue)")
    out: dict[str, FieldKind] = {}
    for name, kind in value.items():
        try:
            out[str(name)] = FieldKind(kind or "string")
        except ValueError:
            raise DataModelError(f"{where}: column {name}: unknown kind {kind!r}") from None
    return out


def _field_spec(name: str, decl: Any, where: str) -> FieldSpec:
    decl = _field_decl(decl)
    if not isinstance(decl, dict):
        raise DataModelError(f"{where}: must be empty, an eval expression, or a mapping")
    _check_keys(decl, _FIELD_KEYS, where)
    spec = FieldSpec(name, doc=str(decl.get("doc") or ""))
    if decl.get("kind") is not None:
        if decl["kind"] not in _KINDS:
            raise DataModelError(f"{where}: unknown kind {decl['kind']!r} (one of {', '.join(_KINDS)})")
        spec.kind = _KINDS[decl["kind"]]
    if decl.get("default") is not None:
        spec.default = str(decl["default"])
    if decl.get("eval") is not None:
        spec.eval = _eval_text(decl["eval"], where)
    return spec


def _branch(name: str, spec: Any, dataset: Dataset, where: str) -> Branch:
    if not isinstance(spec, dict):
        raise DataModelError(f"{where}: must be a mapping with 'search' and 'eval'")
    _check_keys(spec, _BRANCH_KEYS, where)
    search = _search_text(spec["search"], f"{where}, search") if spec.get("search") is not None else None
    evals: dict[str, SplText | None] = {}
    raw_evals = spec.get("eval") or {}
    if not isinstance(raw_evals, dict):
        raise DataModelError(f"{where}: 'eval' must map field names to eval expressions")
    for fname, text in raw_evals.items():
        fname = str(fname)
        if fname not in dataset.fields:
            raise DataModelError(f"{where}: eval of {fname!r}, which the data set does not declare in 'fields'")
        evals[fname] = None if text is None else _eval_text(text, f"{where}, field {fname}")
    return Branch(name, search, evals, str(spec.get("doc") or ""))


def _eval_text(value: Any, where: str) -> SplText:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise DataModelError(f"{where}: the eval expression must be a non-empty string")
    try:
        return SplText(value, _parse_eval(value))
    except SqlDetectError as err:
        raise DataModelError(f"{where}: bad eval expression {value!r}: {err.message}") from None


def _search_text(value: Any, where: str) -> SplText:
    if not isinstance(value, str):
        raise DataModelError(f"{where}: the search constraint must be a string")
    try:
        return SplText(value, _parse_search(value))
    except SqlDetectError as err:
        raise DataModelError(f"{where}: bad search constraint {value!r}: {err.message}") from None


# ---------------------------------------------------------------------------------------------------- compiling


@dataclass
class CompiledLevel:
    """One data set of the chain as a SELECT (a CTE): its name, a one-line comment, and its relation."""

    name: str
    comment: str
    select: exp.Expression
    relation: Relation


class DatasetCompiler:
    """Compiles a data set (and its ancestors) into SELECTs over the event table, one per data set.

    Each SELECT adds the data set's fields to the input's (a CIM field replaces an input field of the same
    name); branches are ``UNION ALL``-ed with their kinds unified. Two shapes:

    * ``all_fields`` (``| from datamodel``): every event field passes through (``* EXCLUDE``), because the rows
      are events that later stages may search on any field (and ``_raw``);
    * narrow (tstats): only what tstats can see passes through: ``_time``, ``host``, ``source``,
      ``sourcetype``, ``index``, the row-order columns, the CIM fields, and the event fields a child data set of
      the chain still reads. On a wide event table this halves DuckDB's planning time."""

    def __init__(self, ctx: StageContext, dataset: Dataset, *, all_fields: bool, span: Any = None) -> None:
        self.ctx = ctx
        self.dataset = dataset
        self.all_fields = all_fields
        self.span = span

    def compile(self) -> list[CompiledLevel]:
        chain = self.dataset.chain()
        root = chain[0]
        if root.table is not None:
            assert root.columns is not None
            relation = Relation(fields={n: FieldInfo(n, Kind.of_field(k), n) for n, k in root.columns.items()})
            source = root.table
        else:  # the events, with the warehouse mapping's and calculated fields when there are any
            source, relation = self.ctx.compiler.event_source()
        levels: list[CompiledLevel] = []
        for index, dataset in enumerate(chain):
            keep = None if self.all_fields else _kept_fields(chain, index)
            level = self._level(dataset, source, relation, keep)
            levels.append(level)
            source, relation = level.name, level.relation
        return levels

    # ------------------------------------------------------------------------------------------------
    def _level(self, dataset: Dataset, source: str, relation: Relation, keep: set[str] | None) -> CompiledLevel:
        shared = self._condition(dataset.search, relation, dataset, "search") if dataset.search else None
        branches = dataset.branches or [Branch("", None, {})]
        conditions: list[exp.Expression | None] = []
        for branch in branches:
            own = self._condition(branch.search, relation, dataset, f"branch {branch.name} search") \
                if branch.search else None
            parts = [c for c in (shared, own) if c is not None]
            if shared is not None and len(branches) > 1:
                parts = [c.copy() if c is shared else c for c in parts]  # a tree can have one parent only
            conditions.append(and_(*parts) if parts else None)
        if dataset.fed_by_nothing:
            conditions = [exp.Boolean(this=False)]

        # What passes through from the input, then the data set's own fields.
        order_columns = {k.column.lower() for k in relation.order}
        passed = [info for info in relation
                  if keep is None or info.name in keep or info.column.lower() in order_columns]
        output = Relation(fields={info.name: info for info in passed}, hidden=list(relation.hidden))
        excluded: list[str] = []
        columns: list[tuple[str, list[exp.Expression]]] = []
        for spec in dataset.fields.values():
            values = [self._value(spec, branch, relation, dataset) for branch in branches]
            sqls, kind = _finish(spec, values)
            existing = output.fields.get(spec.name)
            if existing is not None:
                excluded.append(existing.column)
                column = self.ctx.new_column(spec.name, output, reuse=existing.column)
            else:
                column = self.ctx.new_column(spec.name, output)
            output.fields[spec.name] = FieldInfo(spec.name, kind, column)
            columns.append((column, sqls))

        dropped = {c.lower() for c in excluded}
        selects: list[exp.Select] = []
        for index, condition in enumerate(conditions):
            items: list[exp.Expression]
            if keep is None:
                items = [star(exclude=excluded)]
            else:
                items = [col(info.column) for info in passed if info.column.lower() not in dropped]
                items.extend(col(h) for h in relation.hidden)
            items.extend(alias(sqls[index], column) for column, sqls in columns)  # each used once: no copy
            select = exp.select(*items, copy=False).from_(table_ref(source), copy=False)
            if condition is not None and condition != TRUE:
                select = select.where(condition, copy=False)
            selects.append(_folded(select, {info.column: info.kind for info in output}))
        # A branch over fields the event table lacks can never match: leave it out (keeping at least one).
        live = [s for s in selects if not _never_matches(s)]
        selects = live or selects[:1]
        body: exp.Expression = selects[0]
        for select in selects[1:]:
            body = exp.union(body, select, distinct=False)

        output.order = [k for k in relation.order if k.column.lower() not in dropped]
        if len(output.order) != len(relation.order):  # the data set redefines a field the order used
            time = output.fields.get("_time")
            output.order = [OrderKey(time.column, descending=True)] if time is not None else []
        if not relation.order and "_time" in output.fields:
            output.order = [OrderKey(output.fields["_time"].column, descending=True)]
        name = cte_name(dataset) + ("_events" if keep is None else "")
        return CompiledLevel(name, self._comment(dataset), body, output)

    def _comment(self, dataset: Dataset) -> str:
        text = f"data model {dataset.path}"
        if dataset.fed_by_nothing:
            return text + " (no events feed it)"
        if dataset.table is not None:
            text += f" from table {dataset.table}"
        if dataset.branches:
            text += ": " + ", ".join(b.name for b in dataset.branches)
        if self.all_fields:
            text += " (with every event field)"
        return text

    def _value(self, spec: FieldSpec, branch: Branch, relation: Relation, dataset: Dataset) -> Typed:
        text = branch.evals.get(spec.name, spec.eval)
        if text is None:
            return Typed.null()
        what = f"field {spec.name}" + (f" (branch {branch.name})" if branch.name else "")
        return as_stored(self._translate(lambda: self.ctx.eval(text.tree, relation), dataset, what, text))

    def _condition(self, text: SplText, relation: Relation, dataset: Dataset, what: str) -> exp.Expression:
        return self._translate(lambda: self.ctx.search_condition(text.tree, relation), dataset, what, text)

    def _translate(self, fn: Any, dataset: Dataset, what: str, text: SplText) -> Any:
        """Run a translation of a definition snippet; an error is re-raised naming the data set, the snippet and
        the definition file, located at the rule's reference to the data model (the snippet is not rule text)."""
        try:
            return fn()
        except SqlDetectError as err:
            message = f"data model {dataset.path}, {what} {text.text!r} ({dataset.origin}): {err.message}"
            location = self.ctx.location(self.span)
            if isinstance(err, UnsupportedError):
                raise UnsupportedError(message, location, construct=err.construct) from None
            raise TranslationError(message, location) from None


def _folded(select: exp.Select, kinds: dict[str, Kind]) -> exp.Select:
    """The SELECT with constant sub-expressions folded (``FALSE OR x`` → ``x``, ``CASE WHEN NULL ...`` arms
    dropped): the definitions are written for every Windows field, and a table that lacks some would otherwise
    get SQL full of ``CAST(NULL AS TEXT)`` tests. sqlglot's simplifier preserves SQL semantics; a column it
    folds to a bare ``NULL`` gets its type back (``kinds``: column → kind), so the CTE's column types stay."""
    from sqlglot.optimizer.simplify import simplify

    folded = simplify(select)
    if not isinstance(folded, exp.Select):
        return select
    for item in folded.expressions:
        if isinstance(item, exp.Alias) and isinstance(item.this, exp.Null) and item.alias in kinds:
            item.set("this", null(kinds[item.alias].sql_type))
    return folded


def _never_matches(select: exp.Select) -> bool:
    where = select.args.get("where")
    condition = where.this if where is not None else None
    return isinstance(condition, exp.Boolean) and not condition.this


#: Fields a narrow data set keeps from the events: what tstats can group and filter on besides CIM fields.
NARROW_EVENT_FIELDS = frozenset({*BASE_FIELDS, "index"})


def _kept_fields(chain: list[Dataset], index: int) -> set[str] | None:
    """The input fields level ``index`` of a narrow chain passes on: the base fields, the CIM fields of the
    levels before it, and every field the levels after it read (None: keep all, when a later level uses
    something whose fields cannot be known, such as searchmatch())."""
    keep = set(NARROW_EVENT_FIELDS)
    for earlier in chain[:index]:
        keep.update(earlier.fields)
    for later in chain[index + 1 :]:
        texts = [later.search, *(b.search for b in later.branches)]
        texts += [f.eval for f in later.fields.values()]
        texts += [t for b in later.branches for t in b.evals.values()]
        for text in texts:
            if text is None:
                continue
            names = _referenced_fields(text.tree)
            if names is None:
                return None
            keep.update(names)
    return keep


def _referenced_fields(node: Any) -> set[str] | None:
    """Every field an eval or search tree reads (``_raw`` for bare terms); None when it cannot be known."""
    out: set[str] = set()

    def walk(n: Any) -> bool:
        if isinstance(n, ast.FieldRef):
            out.add(n.name)
            out.update(n.dot_parts())  # a bare ``a.b`` may be the concatenation of ``a`` and ``b``
        elif isinstance(n, (ast.SearchCompare, ast.SearchIn)):
            out.add(n.field)
        elif isinstance(n, ast.SearchTerm):
            out.add("_raw")
        elif isinstance(n, ast.Call) and n.name.lower() == "searchmatch":
            return False
        if isinstance(n, (list, tuple)):
            return all(walk(item) for item in n)
        if is_dataclass(n) and not isinstance(n, type):
            return all(walk(getattr(n, f.name)) for f in fields(n))
        return True

    return out if walk(node) else None


def _finish(spec: FieldSpec, values: list[Typed]) -> tuple[list[exp.Expression], Kind]:
    """The branches' values of one field as SQL of one kind: unified, forced to the declared kind, and with the
    declared default for null or empty values."""
    from sqldetect.compile.functions import unify

    sqls, kind = unify(values)
    if kind is Kind.NULL:
        kind = spec.kind or Kind.STRING
        sqls = [null(kind.sql_type) for _ in values]
    elif spec.kind is not None and spec.kind is not kind:
        convert = {Kind.STRING: as_string, Kind.NUMBER: as_number, Kind.MULTIVALUE: as_list}.get(spec.kind)
        if convert is not None:
            sqls = [convert(Typed(s, kind)) for s in sqls]
            kind = spec.kind
    if spec.default is None:
        return sqls, kind
    default = lit(spec.default)
    if kind is Kind.MULTIVALUE:
        out = [case([(exp.Or(this=exp.Is(this=s, expression=exp.Null()),
                             expression=exp.EQ(this=anon("len", s.copy()), expression=lit(0))),
                      exp.Array(expressions=[default.copy()]))], s.copy()) for s in sqls]
        return out, Kind.MULTIVALUE
    texts = [s if kind is Kind.STRING else as_string(Typed(s, kind)) for s in sqls]
    return [coalesce(exp.Nullif(this=t, expression=lit("")), default.copy()) for t in texts], Kind.STRING


def table_ref(name: str) -> exp.Table:
    """A table by name; dots separate catalog, schema and table (``warehouse.edr.processes``), each quoted."""
    parts = name.split(".")
    if len(parts) > 3 or not all(parts):
        raise DataModelError(f"bad table name {name!r}: expected table, schema.table or catalog.schema.table")
    table = exp.Table(this=ident(parts[-1]))
    if len(parts) >= 2:
        table.set("db", ident(parts[-2]))
    if len(parts) == 3:
        table.set("catalog", ident(parts[0]))
    return table


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def cte_name(dataset: Dataset) -> str:
    """``dm_Endpoint_Processes``: the CTE of a data set, named after it (not after a stage) because a query
    holds it once however many stages read it (``_events`` is appended for the shape with every event field)."""
    return "dm_" + _slug(dataset.path)


def datamodels_of(ctx: StageContext) -> DataModels:
    """The definitions a translation uses: ``CompileOptions.datamodels``, else the package's."""
    models = ctx.compiler.options.datamodels
    if models is None:
        return package_datamodels()
    if not isinstance(models, DataModels):
        raise TypeError("CompileOptions.datamodels must be a sqldetect.datamodels.DataModels")
    return models


def resolve_dataset(ctx: StageContext, spec: str, nodename: str | None, span: Any = None) -> Dataset:
    """``resolve`` with the error located at the rule's reference to the data model."""
    try:
        return datamodels_of(ctx).resolve(spec, nodename)
    except UnsupportedError as err:
        raise UnsupportedError(err.message, ctx.location(span), construct=err.construct) from None
    except TranslationError as err:
        raise TranslationError(err.message, ctx.location(span)) from None


def emit_dataset(ctx: StageContext, dataset: Dataset, span: Any = None, *, all_fields: bool = False) -> CompiledLevel:
    """Place ``dataset``'s CTEs before the current stage (one per data set of its chain, root first, named by
    ``cte_name`` and commented with the data set's path) unless the query already has them; return the last.

    Compiled data sets are cached on the ``DataModels`` (the SQL depends only on the data set, the event schema,
    the table, "now" and the derived fields); the cached trees are shared, so nothing may modify a stage's SELECT once built."""
    from sqldetect.compile.planner import CompiledStage

    options = ctx.compiler.options
    source: tuple[str, ...] = ()
    if dataset.chain()[0].table is None:
        # the cached levels read s0_source when there is one: place it first. Which derived fields it has
        # depends on the rule (the calculated fields it names), so that is part of the key too.
        name, relation = ctx.compiler.event_source()
        source = (name, *relation.fields) if name != options.table else (name,)
    key = (dataset.path, all_fields, _schema_key(ctx.compiler.schema), options.table, options.now,
           tuple(ctx.compiler.derived_fields()), source)
    cache = datamodels_of(ctx).compiled
    levels = cache.get(key)
    if levels is None:
        levels = DatasetCompiler(ctx, dataset, all_fields=all_fields, span=span).compile()
        if len(cache) >= _CACHE_LIMIT:  # many schemas in one process (tests, services): start afresh
            cache.clear()
        cache[key] = levels
    root = dataset.chain()[0]
    if root.fed_by_nothing:  # a rule over it runs, but over nothing: say so rather than let it look clean
        feeds = "it" if root is dataset else f"{root.model}.{root.name}"
        ctx.note(f"data model {dataset.path} has no rows: no Windows event feeds {feeds} "
                 "(a data model file of your own can point it at a table)")
    present = {stage.name for stage in ctx.compiler.stages}
    for level in levels:
        if level.name not in present:
            ctx.compiler.stages.append(CompiledStage(level.name, level.comment, level.select, level.relation))  # type: ignore[arg-type]
    return levels[-1]


_CACHE_LIMIT = 256


class _SchemaKey:
    """The event schema's part of a cache key: its fields, with their hash computed once (a tuple of a wide
    schema's hundreds of fields would be hashed again at every lookup, i.e. for every tstats rule)."""

    __slots__ = ("_hash", "fields")

    def __init__(self, fields: tuple[tuple[str, str, str], ...]) -> None:
        self.fields = fields
        self._hash = hash(fields)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _SchemaKey) and self._hash == other._hash
                                 and self.fields == other.fields)


def _schema_key(schema: Any) -> _SchemaKey:
    key = getattr(schema, "_sqldetect_key", None)
    if key is None:  # a run translates many rules against one schema: build the key once
        key = _SchemaKey(tuple((f.name, f.kind.value, f.column_name) for f in schema))
        schema._sqldetect_key = key
    return key


def text_span(ctx: StageContext, needle: str) -> Any:
    """The span of ``needle`` inside the current stage's text (for pointing at ``datamodel=...``)."""
    from sqldetect.errors import Span

    command = ctx.command
    text = ctx.compiler.source[command.span.start : command.span.end]
    at = text.find(needle)
    if at < 0:
        return command.span
    return Span(command.span.start + at, command.span.start + at + len(needle))


__all__ = [
    "BASE_FIELDS",
    "Branch",
    "CompiledLevel",
    "DataModel",
    "DataModels",
    "Dataset",
    "DatasetCompiler",
    "FieldSpec",
    "emit_dataset",
    "load_datamodels",
    "package_datamodels",
    "resolve_dataset",
]
