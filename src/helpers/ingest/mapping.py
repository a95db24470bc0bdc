"""Mappings: how an export's files and columns become the canonical tables.

A mapping is YAML (presets in ``helpers/mappings/``, or a user file). It lists *sources*: which
files (glob patterns on file names) feed which canonical table, which source column(s) fill each
canonical column (candidate names, matched ignoring case, spaces and underscores), value maps, wide
stage-date columns, a stage-status column, and columns that become activities. See
``docs/mappings.md`` for the format.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from helpers.errors import FileProblemError, KitError
from helpers.model import PERSONAL_COLUMNS, SCHEMAS, UTC_TS
from helpers.stages import StageModel, load_stage_model, normalise_label

PRESETS: tuple[str, ...] = ("kit", "hubspot", "salesforce", "olist")
TYPES: tuple[str, ...] = ("string", "date", "number", "int")


class MappingError(FileProblemError):
    """A mapping that cannot be used; ``problem`` names an ``ingest.mapping_problem``."""

    def __init__(self, source: str, problem: str, /, **values: str) -> None:
        super().__init__(
            "ingest.mapping_invalid", source, f"ingest.mapping_problem.{problem}", **values
        )


def canonical_type(table: str, column: str) -> str:
    """The parse type of a canonical column (``string`` for columns outside the schema)."""
    col = SCHEMAS[table].columns.get(column)
    if col is None:
        return "string"
    dtype = str(col.dtype)
    if dtype == str(UTC_TS) or "datetime" in dtype:
        return "date"
    if dtype.startswith("float"):
        return "number"
    if dtype.startswith("int"):
        return "int"
    return "string"


def required_columns(table: str) -> tuple[str, ...]:
    """Canonical columns a table must have."""
    return tuple(n for n, c in SCHEMAS[table].columns.items() if c.required)


@dataclass(frozen=True)
class ColumnSpec:
    """One target column: where it comes from and how its values are read."""

    name: str
    candidates: tuple[str, ...]
    type: str = "string"
    values: dict[str, str] = field(default_factory=dict)  # normalised label -> value
    default: str | None = None  # value for labels not in ``values`` (None keeps them)
    personal: bool = False
    split: str | None = None  # keep the first of several values joined by this separator


@dataclass(frozen=True)
class ActivitySpec:
    """A date column that records one activity per row (e.g. the first sales touch)."""

    type: str
    side: str | None
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class SourceSpec:
    """Files that feed one canonical table."""

    name: str
    table: str
    files: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    stage_dates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    stage_status: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (status, date) cands
    activities: tuple[ActivitySpec, ...] = ()
    merge_on: str | None = None  # add columns to rows of ``table`` with the same key
    keep_unmapped: bool = False
    outcome_stages: bool = False  # opportunities: add opportunity/won/lost stage entries
    outcome_flags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # won/closed columns

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Mapping:
    """A whole mapping: its sources, stage model, time zone and date order."""

    name: str
    sources: tuple[SourceSpec, ...]
    stage_model: StageModel
    timezone: str = "UTC"
    date_order: str | None = None  # "dmy", "mdy" or None (decide from the file)
    personal: tuple[str, ...] = PERSONAL_COLUMNS
    origin: str = "preset"  # the preset's name, or the name of the user's file
    preset: str | None = None  # the preset this is, or the one the user's file extends
    user_date_order: bool = False  # date_order was written in the user's own file

    def personal_columns(self) -> set[str]:
        cols = set(self.personal)
        for src in self.sources:
            cols.update(c.name for c in src.columns if c.personal)
        return cols


TOP_KEYS = frozenset(
    {"name", "sources", "stage_model", "stages", "date_order", "timezone", "personal", "extends"}
)
SOURCE_KEYS = frozenset(
    {
        "name",
        "table",
        "files",
        "columns",
        "stage_dates",
        "stage_status",
        "activities",
        "merge_on",
        "keep_unmapped",
        "outcome_stages",
        "outcome_flags",
    }
)
COLUMN_KEYS = frozenset({"from", "type", "values", "default", "personal", "split"})


def _check_keys(raw: dict[Any, Any], allowed: frozenset[str], where: str, source: str) -> None:
    """A typo in a key would otherwise be ignored in silence: name it, with the likely key."""
    unknown = sorted(set(map(str, raw)) - allowed)
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1)
    if len(unknown) == 1 and close:
        raise MappingError(source, "unknown_key_close", where=where, key=unknown[0], close=close[0])
    known = ", ".join(sorted(allowed))
    raise MappingError(source, "unknown_keys", where=where, keys=", ".join(unknown), known=known)


def _names(value: Any, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise MappingError(source, "names", where=where)


def _column(table: str, name: str, raw: Any, where: str, source: str) -> ColumnSpec:
    default_type = canonical_type(table, name)
    if raw is None:
        return ColumnSpec(name, (name,), default_type)
    if not isinstance(raw, dict):
        return ColumnSpec(name, _names(raw, where, source), default_type)
    _check_keys(raw, COLUMN_KEYS, where, source)
    ctype = str(raw.get("type", default_type))
    if ctype not in TYPES:
        raise MappingError(source, "type", where=where, types=", ".join(TYPES))
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise MappingError(source, "values", where=where)
    return ColumnSpec(
        name=name,
        candidates=_names(raw.get("from", name), f"{where}.from", source),
        type=ctype,
        values={normalise_label(str(k)): str(v) for k, v in values.items()},
        default=None if raw.get("default") is None else str(raw["default"]),
        personal=bool(raw.get("personal", False)),
        split=None if raw.get("split") is None else str(raw["split"]),
    )


def _flags(raw: Any, where: str, source: str) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= {"won", "closed"}:
        raise MappingError(source, "flags", where=where)
    return {str(k): _names(v, f"{where}.{k}", source) for k, v in raw.items()}


def _source(raw: Any, i: int, source: str) -> SourceSpec:
    where = f"sources[{i}]"
    if not isinstance(raw, dict):
        raise MappingError(source, "source", where=where)
    _check_keys(raw, SOURCE_KEYS, where, source)
    table = raw.get("table")
    if table not in SCHEMAS:
        raise MappingError(source, "table", where=where, tables=", ".join(SCHEMAS))
    files = _names(raw.get("files", ["*"]), f"{where}.files", source)
    cols_raw = raw.get("columns")
    if cols_raw is None:  # the canonical names themselves
        cols_raw = {c: None for c in SCHEMAS[table].columns}
    if not isinstance(cols_raw, dict):
        raise MappingError(source, "columns", where=where)
    columns = tuple(
        _column(table, str(k), v, f"{where}.columns.{k}", source) for k, v in cols_raw.items()
    )
    stage_dates = {
        str(k): _names(v, f"{where}.stage_dates.{k}", source)
        for k, v in (raw.get("stage_dates") or {}).items()
    }
    status = None
    if raw.get("stage_status"):
        st = raw["stage_status"]
        if not isinstance(st, dict) or "column" not in st or "date" not in st:
            raise MappingError(source, "stage_status", where=where)
        status = (
            _names(st["column"], f"{where}.stage_status.column", source),
            _names(st["date"], f"{where}.stage_status.date", source),
        )
    acts = []
    for j, a in enumerate(raw.get("activities") or []):
        if not isinstance(a, dict) or "type" not in a or "from" not in a:
            raise MappingError(source, "activity", where=where, index=str(j))
        acts.append(
            ActivitySpec(
                str(a["type"]), a.get("side"), _names(a["from"], f"{where}.activities", source)
            )
        )
    return SourceSpec(
        name=str(raw.get("name", table)),
        table=table,
        files=files,
        columns=columns,
        stage_dates=stage_dates,
        stage_status=status,
        activities=tuple(acts),
        merge_on=raw.get("merge_on"),
        keep_unmapped=bool(raw.get("keep_unmapped", False)),
        outcome_stages=bool(raw.get("outcome_stages", False)),
        outcome_flags=_flags(raw.get("outcome_flags"), f"{where}.outcome_flags", source),
    )


def mapping_from_dict(data: Any, source: str = "mapping", base: Path | None = None) -> Mapping:
    """Build and check a mapping from parsed YAML (``base``: folder for a relative stage model).

    Data with ``extends: PRESET`` is that preset with these keys on top (:func:`extend_preset`).
    """
    preset, own_order = None, isinstance(data, dict) and data.get("date_order") is not None
    if isinstance(data, dict) and "extends" in data:
        preset = data["extends"]
        if preset not in PRESETS:
            raise MappingError(source, "extends", name=str(preset), presets=", ".join(PRESETS))
        own_name = data.get("name", Path(source).stem)
        data = {**extend_preset(_preset_data(preset), data), "name": own_name}
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise MappingError(source, "no_sources")
    _check_keys(data, TOP_KEYS, "(file)", source)
    model_ref = str(data.get("stage_model", "default"))
    if base is not None and (base / model_ref).is_file():
        model_ref = str(base / model_ref)
    model = load_stage_model(model_ref)
    extra = data.get("stages") or {}
    if not isinstance(extra, dict):
        raise MappingError(source, "stages_map")
    if extra:
        aliases = dict(model.aliases)
        for label, key in extra.items():
            key_n = model.resolve(key)
            if key_n is None:
                raise MappingError(
                    source,
                    "stage_not_in_model",
                    label=str(label),
                    key=str(key),
                    model=model.name,
                    stages=", ".join(model.stages),
                )
            aliases[normalise_label(str(label))] = key_n
        model = replace(model, aliases=aliases)  # keeps the model's labels and roles
    order = data.get("date_order")
    if order not in (None, "dmy", "mdy"):
        raise MappingError(source, "date_order")
    tz = str(data.get("timezone", "UTC"))
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise MappingError(source, "timezone", tz=tz) from None
    sources = tuple(_source(s, i, source) for i, s in enumerate(data["sources"]))
    if not any(s.table == "leads" and not s.merge_on for s in sources):
        raise MappingError(source, "no_leads")
    personal = tuple(PERSONAL_COLUMNS) + tuple(str(p) for p in data.get("personal") or [])
    return Mapping(
        name=str(data.get("name", Path(source).stem)),
        sources=sources,
        stage_model=model,
        timezone=tz,
        date_order=order,
        personal=personal,
        origin=source,
        preset=preset,
        user_date_order=own_order,
    )


def _preset_data(name: str) -> dict[str, Any]:
    text = (resources.files("helpers") / "mappings" / f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def extend_preset(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A user file that ``extends:`` a preset, as one mapping: the file's keys replace the
    preset's, except ``stages:`` and ``personal:``, which add to them, and ``sources:``, where a
    source replaces the preset's source of the same name (default: its table) and any other is
    added."""
    merged = dict(base)
    for key, value in own.items():
        if key in ("extends", "sources", "stages", "personal"):
            continue
        merged[key] = value
    if isinstance(own.get("stages"), dict):
        merged["stages"] = {**(base.get("stages") or {}), **own["stages"]}
    elif "stages" in own:
        merged["stages"] = own["stages"]  # checked (and refused) as the user wrote it
    if own.get("personal") is not None:
        merged["personal"] = [*(base.get("personal") or []), *(own["personal"] or [])]
    if "sources" in own:
        if not isinstance(own["sources"], list):
            merged["sources"] = own["sources"]  # refused by the checks, as written
        else:

            def key(src: Any) -> Any:
                return src.get("name", src.get("table")) if isinstance(src, dict) else None

            sources = list(base["sources"])
            names = [key(s) for s in sources]
            for src in own["sources"]:
                if key(src) is not None and key(src) in names:
                    sources[names.index(key(src))] = src
                else:
                    sources.append(src)
            merged["sources"] = sources
    return merged


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A preset by name or a user YAML file; a clear :class:`KitError` when it cannot be used.

    A user file with ``extends: PRESET`` is that preset with the file's own keys on top (see
    :func:`extend_preset`): ``extends: salesforce`` and ``date_order: dmy`` are a whole mapping.
    """
    ref = str(name_or_path)
    if ref in PRESETS:
        return replace(mapping_from_dict(_preset_data(ref), ref), preset=ref, user_date_order=False)
    path = Path(ref)
    if not path.is_file():
        raise KitError("ingest.mapping_not_found", name=ref, presets=", ".join(PRESETS))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise KitError("ingest.mapping_yaml", source=path.name, line=line) from None
    return mapping_from_dict(data, path.name, base=path.parent)


def find_column(columns: dict[str, str], candidates: tuple[str, ...]) -> str | None:
    """The first candidate present; ``columns`` maps normalised names to actual names."""
    for cand in candidates:
        hit = columns.get(normalise_label(cand))
        if hit is not None:
            return hit
    return None


def column_index(names: list[str]) -> dict[str, str]:
    """Normalised name -> actual name (the first one wins)."""
    out: dict[str, str] = {}
    for n in names:
        out.setdefault(normalise_label(n), n)
    return out


def glob_match(filename: str, patterns: tuple[str, ...]) -> bool:
    name = filename.lower()
    return any(fnmatch.fnmatch(name, p.lower()) for p in patterns)


def match_score(src: SourceSpec, filename: str, names: list[str]) -> int | None:
    """How well a file fits a source (None: it does not fit)."""
    index = column_index(names)
    found = {c.name for c in src.columns if find_column(index, c.candidates)}
    found |= {k for k, cands in src.stage_dates.items() if find_column(index, cands)}
    keys = {src.merge_on} if src.merge_on else set(required_columns(src.table))
    if src.table == "stage_history" and src.stage_dates:
        keys = {"lead_id"}
    by_name = glob_match(filename, src.files)
    if not by_name and not keys <= found:
        return None
    if not found:
        return None
    return 1000 * by_name + 10 * len(keys & found) + len(found)


def detect_mapping(file_columns: list[tuple[str, list[str]]]) -> str:
    """The preset whose sources best fit the files' names and columns (default ``kit``)."""
    best, best_score = "kit", 0
    for name in PRESETS:
        mapping = load_mapping(name)
        score = 0
        has_leads = False
        for _filename, cols in file_columns:
            index = column_index(cols)
            for src in mapping.sources:
                if src.table != "leads" or src.merge_on:
                    continue
                if all(
                    find_column(index, c.candidates)
                    for c in src.columns
                    if c.name in required_columns("leads")
                ):
                    has_leads = True
                    score += sum(bool(find_column(index, c.candidates)) for c in src.columns)
        if has_leads and score > best_score:
            best, best_score = name, score
    return best
