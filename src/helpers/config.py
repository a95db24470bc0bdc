"""The client configuration: one YAML file that says whose data to read and what to promise.

A config is read with :func:`load_config`, checked key by key (unknown keys, wrong types and
missing files are :class:`~helpers.errors.KitError` naming the key, the problem and the fix), and
turned into notebook parameters with :func:`notebook_parameters`. Paths in the file are relative
to the file itself. ``docs/report.md`` documents every key; ``data/samples/client.yaml`` is a
commented example that runs on the bundled sample.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.errors import KitError
from helpers.ingest.mapping import PRESETS
from helpers.messages import LANGUAGES, t

NOTEBOOKS: tuple[str, ...] = (
    "00_alignment_assessment",
    "01_buyer_personas",
    "02_sla",
    "03_funnel_handoffs",
    "04_collaboration_impact",
)


class ConfigError(KitError):
    """A config key with a problem: the message names the key, the problem and the fix."""

    def __init__(self, key: str, problem: str, fix: str | None = None, **values: Any) -> None:
        super().__init__("report.config_invalid", **values)
        self.config_key, self.problem, self.fix = key, problem, fix or problem

    def message(self, lang: str | None = None) -> str:
        values, lang = self.values, lang or self.lang
        return t(
            "report.config_invalid",
            lang,
            key=self.config_key,
            problem=t(f"report.problem_{self.problem}", lang, **values),
            fix=t(f"report.fix_{self.fix}", lang, **values),
        )


def _bad(key: str, problem: str, fix: str | None = None, **values: Any) -> ConfigError:
    return ConfigError(key, problem, fix, **{k: str(v) for k, v in values.items()})


# --- value checkers: each returns the converted value or raises KitError naming the key -------


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(key, "expected_text", value=repr(value))
    return value.strip()


def _opt_str(key: str, value: Any) -> str | None:
    return None if value is None else _str(key, value)


def _number(key: str, value: Any, *, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(key, "expected_number", value=repr(value))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        fix = "between" if hi is not None else "at_least"
        raise _bad(key, "out_of_range", fix, value=value, lo=lo, hi=hi)
    return float(value)


def _int(key: str, value: Any, *, lo: int = 0, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, "expected_int", value=repr(value))
    if value < lo or (hi is not None and value > hi):
        fix = "between" if hi is not None else "at_least"
        raise _bad(key, "out_of_range", fix, value=value, lo=lo, hi=hi)
    return value


def _date(key: str, value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _bad(key, "expected_date", value=repr(value))


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _bad(key, "expected_list", value=repr(value))
    return tuple(str(v) for v in value)


def _treated(key: str, value: Any) -> dict[str, dt.date | None]:
    """Treated units: a list of names (all start at programme.start) or ``unit: start date``."""
    if isinstance(value, Mapping):
        return {str(k): _date(f"{key}.{k}", v) for k, v in value.items()}
    return dict.fromkeys(_str_list(key, value))


def _hour_range(key: str, value: Any) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2})(?::00)?\s*-\s*(\d{1,2})(?::00)?\s*", str(value))
    if not match or not (0 <= int(match[1]) < int(match[2]) <= 24):
        raise _bad(key, "expected_hours", value=repr(value))
    return int(match[1]), int(match[2])


# --- the configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Commercial targets for the SLA's reverse funnel."""

    revenue_target: float = 1_200_000.0
    marketing_share: float = 0.6
    avg_deal_size: float | None = None  # None: the median won deal in the client's history
    months: int = 12
    reps: int = 10


@dataclass(frozen=True)
class SlaCommitments:
    """What each side promises in the service level agreement."""

    marketing_mqls_per_month: float | None = None  # None: derived from the reverse funnel
    min_acceptance_rate: float = 0.7
    first_touch_hours: float = 24.0
    attempts: int = 5
    attempts_days: int = 14
    accept_reject_hours: float = 48.0
    business_hours: tuple[int, int] = (9, 18)
    holiday_country: str | None = "IT"
    timezone: str = "UTC"  # local time of the business hours
    attempts_per_rep_per_month: int = 400  # contact attempts one rep can make in a month


@dataclass(frozen=True)
class Programme:
    """The alignment programme whose effect the impact notebook measures."""

    start: dt.date | None = None
    unit: str = "region"
    treated: dict[str, dt.date | None] = field(default_factory=dict)  # unit -> its start date
    comparison: tuple[str, ...] = ()

    def starts(self) -> dict[str, str]:
        """Each treated unit's start date (ISO); units listed without one use ``start``."""
        out = {}
        for unit, start in self.treated.items():
            when = start or self.start
            if when is None:
                raise _bad(f"programme.treated.{unit}", "no_start")
            out[unit] = when.isoformat()
        return dict(sorted(out.items()))


@dataclass(frozen=True)
class ClientConfig:
    """One client's run: whose data, which period, what targets and promises, which notebooks."""

    client: str
    data: tuple[Path, ...]
    mapping: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    language: str = "en"
    targets: Targets = field(default_factory=Targets)
    sla: SlaCommitments = field(default_factory=SlaCommitments)
    programme: Programme = field(default_factory=Programme)
    personas: Path | None = None
    persona_features: tuple[str, ...] | None = None  # None: the lead attributes the data has
    notebooks: tuple[str, ...] = NOTEBOOKS
    notebooks_dir: Path | None = None  # None: the kit's notebooks
    cell_timeout: int = 600
    source: Path | None = None  # the YAML file this came from, if any

    @property
    def slug(self) -> str:
        """The client's name as a folder name (``ACME S.p.A.`` -> ``acme-s-p-a``)."""
        return slugify(self.client)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (``"Caffè Rossi"`` -> ``"caffe-rossi"``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "client"


# Each key: (checker, default). Sections map to nested dicts of the same form.
Checker = Callable[[str, Any], Any]

_TARGETS: dict[str, Checker] = {
    "revenue_target": lambda k, v: _number(k, v, lo=0),
    "marketing_share": lambda k, v: _number(k, v, lo=0, hi=1),
    "avg_deal_size": lambda k, v: None if v is None else _number(k, v, lo=0),
    "months": lambda k, v: _int(k, v, lo=1, hi=60),
    "reps": lambda k, v: _int(k, v, lo=1),
}
_SLA: dict[str, Checker] = {
    "marketing_mqls_per_month": lambda k, v: None if v is None else _number(k, v, lo=0),
    "min_acceptance_rate": lambda k, v: _number(k, v, lo=0, hi=1),
    "first_touch_hours": lambda k, v: _number(k, v, lo=0),
    "attempts": lambda k, v: _int(k, v, lo=1),
    "attempts_days": lambda k, v: _int(k, v, lo=1),
    "accept_reject_hours": lambda k, v: _number(k, v, lo=0),
    "business_hours": _hour_range,
    "holiday_country": _opt_str,
    "timezone": _str,
    "attempts_per_rep_per_month": lambda k, v: _int(k, v, lo=1),
}
_PROGRAMME: dict[str, Checker] = {
    "start": _date,
    "unit": _str,
    "treated": _treated,
    "comparison": _str_list,
}
_PERIOD: dict[str, Checker] = {"start": _date, "end": _date}
_TOP: dict[str, Any] = {
    "client": _str,
    "data": None,  # checked with the file's folder
    "mapping": _opt_str,
    "period": _PERIOD,
    "language": None,
    "targets": _TARGETS,
    "sla": _SLA,
    "programme": _PROGRAMME,
    "personas": None,
    "persona_features": lambda k, v: None if v is None else tuple(_str_list(k, v)),
    "notebooks": None,
    "notebooks_dir": None,
    "cell_timeout": lambda k, v: _int(k, v, lo=1),
}


def _check_keys(section: Mapping[str, Any], allowed: Mapping[str, Any], prefix: str) -> None:
    for key in section:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
            known = ", ".join(prefix + k for k in allowed)
            if close:
                raise _bad(f"{prefix}{key}", "unknown_key", "did_you_mean", close=prefix + close[0])
            raise _bad(f"{prefix}{key}", "unknown_key", "known_keys", known=known)


def _section(raw: Mapping[str, Any], name: str, spec: Mapping[str, Checker]) -> dict[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, Mapping):
        raise _bad(name, "expected_section", value=repr(value), name=name)
    _check_keys(value, spec, f"{name}.")
    return {k: spec[k](f"{name}.{k}", v) for k, v in value.items()}


def _programme(values: dict[str, Any]) -> Programme:
    programme = Programme(**values)
    programme.starts()  # every treated unit needs a start date
    return programme


def _paths(key: str, value: Any, base: Path) -> tuple[Path, ...]:
    items = value if isinstance(value, list) else [value]
    if value is None or not items or not all(isinstance(v, str) and v for v in items):
        raise _bad(key, "expected_paths", value=repr(value))
    paths = tuple((base / v).resolve() for v in items)
    for path in paths:
        if not path.exists():
            raise _bad(key, "path_missing", path=path)
    return paths


def _mapping(value: Any, base: Path) -> str | None:
    """A preset name as it is; a mapping file relative to ``base`` (the config's folder)."""
    name = _opt_str("mapping", value)
    if name is None or name in PRESETS:
        return name
    return str((base / name).resolve())


def parse_config(raw: Any, base: Path, source: Path | None = None) -> ClientConfig:
    """Check a config already read from YAML; ``base`` is the folder paths are relative to."""
    if not isinstance(raw, Mapping):
        raise _bad("(file)", "not_mapping")
    _check_keys(raw, _TOP, "")
    if "client" not in raw:
        raise _bad("client", "missing", "add_client")
    if "data" not in raw:
        raise _bad("data", "missing", "add_data")
    language = raw.get("language", "en")
    if language not in LANGUAGES:
        raise _bad("language", "language", value=repr(language), choices=", ".join(LANGUAGES))
    notebooks_dir = raw.get("notebooks_dir")
    if notebooks_dir is not None:
        notebooks_dir = _paths("notebooks_dir", notebooks_dir, base)[0]
        available = tuple(sorted(p.stem for p in notebooks_dir.glob("*.ipynb")))
    else:
        available = NOTEBOOKS
    notebooks = _str_list("notebooks", raw.get("notebooks") or list(available))
    for name in notebooks:
        if name not in available:
            close = (difflib.get_close_matches(name, available, n=1) or [""])[0]
            fix = "did_you_mean" if close else "known_keys"
            known = ", ".join(available)
            raise _bad("notebooks", "unknown_notebook", fix, value=name, close=close, known=known)
    period = _section(raw, "period", _PERIOD)
    if period.get("start") and period.get("end") and period["end"] < period["start"]:
        raise _bad("period.end", "period_order")
    personas = raw.get("personas")
    return ClientConfig(
        client=_str("client", raw["client"]),
        data=_paths("data", raw["data"], base),
        mapping=_mapping(raw.get("mapping"), base),
        period_start=period.get("start"),
        period_end=period.get("end"),
        language=language,
        targets=Targets(**_section(raw, "targets", _TARGETS)),
        sla=SlaCommitments(**_section(raw, "sla", _SLA)),
        programme=_programme(_section(raw, "programme", _PROGRAMME)),
        personas=None if personas is None else _paths("personas", personas, base)[0],
        persona_features=_TOP["persona_features"]("persona_features", raw.get("persona_features")),
        notebooks=notebooks,
        notebooks_dir=notebooks_dir,
        cell_timeout=_TOP["cell_timeout"]("cell_timeout", raw.get("cell_timeout", 600)),
        source=source,
    )


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise KitError("report.config_not_found", path=str(path))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise _bad(where, "not_yaml") from None


def load_config(path: str | Path) -> ClientConfig:
    """Read and check a client config YAML file."""
    return config_from_args(path)


def config_from_args(
    config: str | Path | None,
    *,
    data: str | None = None,
    mapping: str | None = None,
    lang: str | None = None,
    only: list[str] | None = None,
) -> ClientConfig:
    """The config file (if any) with command-line values laid over it."""
    if config is not None:
        path = Path(config)
        raw = _read_yaml(path)
        base, source = path.resolve().parent, path.resolve()
    else:
        if data is None:
            raise KitError("report.no_config_no_data")
        raw, base, source = {}, Path.cwd(), None
    if not isinstance(raw, dict):
        return parse_config(raw, base, source)
    raw = dict(raw)
    try:
        return _parse_with_overrides(raw, base, source, data, mapping, lang, only)
    except KitError as exc:  # said in the language the command line or the config asks for
        if only and isinstance(exc, ConfigError) and exc.config_key == "notebooks":
            exc = KitError("report.bad_only", value=exc.values["value"], known=exc.values["known"])
        wanted = lang or raw.get("language")
        exc.lang = exc.lang or (wanted if wanted in LANGUAGES else None)
        raise exc from None


def _parse_with_overrides(
    raw: dict[str, Any],
    base: Path,
    source: Path | None,
    data: str | None,
    mapping: str | None,
    lang: str | None,
    only: list[str] | None,
) -> ClientConfig:
    """``raw`` with the command line's values laid over it, checked."""
    if data is not None:
        raw["data"] = str(Path(data).resolve())
        raw.setdefault("client", Path(data).resolve().name)
    if mapping is not None:  # a file named on the command line is relative to where it runs
        raw["mapping"] = mapping if mapping in PRESETS else str(Path(mapping).resolve())
    if lang is not None:
        raw["language"] = lang
    if only:
        raw["notebooks"] = list(only)
    return parse_config(raw, base, source)


def notebook_parameters(config: ClientConfig) -> dict[str, dict[str, Any]]:
    """Notebook parameters grouped by section; the runner passes each notebook its sections.

    ``common`` goes to every notebook; paths (``data_dir``, ``canonical_dir``, ``run_dir``) are
    added by the runner.
    """
    t, s, p = config.targets, config.sla, config.programme

    def iso(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "common": {
            "client": config.client,
            "lang": config.language,
            "mapping": config.mapping,
            "period_start": iso(config.period_start),
            "period_end": iso(config.period_end),
        },
        "targets": {
            "revenue_target": t.revenue_target,
            "marketing_share": t.marketing_share,
            "avg_deal_size": t.avg_deal_size,
            "months": t.months,
            "reps": t.reps,
        },
        "sla": {
            "mqls_per_month": s.marketing_mqls_per_month,
            "min_acceptance_rate": s.min_acceptance_rate,
            "first_touch_hours": s.first_touch_hours,
            "attempts": s.attempts,
            "attempts_days": s.attempts_days,
            "accept_reject_hours": s.accept_reject_hours,
            "business_start_hour": s.business_hours[0],
            "business_end_hour": s.business_hours[1],
            "holiday_country": s.holiday_country,
            "timezone": s.timezone,
            "attempts_per_rep_per_month": s.attempts_per_rep_per_month,
        },
        "programme": {
            "programme_start": iso(p.start),
            "programme_unit": p.unit,
            "treated": p.starts(),
            "comparison": list(p.comparison),
        },
        "personas": {
            "persona_cards": str(config.personas) if config.personas else None,
            "persona_features": (
                None if config.persona_features is None else list(config.persona_features)
            ),
        },
    }


def describe(config: ClientConfig) -> dict[str, Any]:
    """The config as plain JSON-ready values (for the manifest)."""
    params = notebook_parameters(config)
    flat = {k: v for section in params.values() for k, v in section.items()}
    flat["notebooks"] = list(config.notebooks)
    flat["cell_timeout"] = config.cell_timeout
    return dict(sorted(flat.items()))


def sla_terms(
    mql_per_month: float,
    *,
    reps: int,
    min_acceptance_rate: float,
    first_touch_hours: float,
    attempts: int,
    attempts_days: int,
    accept_reject_hours: float,
    business_start_hour: int,
    business_end_hour: int,
    holiday_country: str | None,
    timezone: str,
) -> Any:
    """The SLA's terms (:class:`helpers.sla.SlaTerms`) from the notebook parameters.

    Response times are counted in business hours of ``timezone``; the rep is the lead's owner.
    """
    from helpers.sla import SlaTerms

    return SlaTerms(
        mql_per_month=mql_per_month,
        mql_per_rep_per_month=math.ceil(mql_per_month / reps),  # as the plan: rounded up
        min_acceptance_rate=min_acceptance_rate,
        first_touch_hours=first_touch_hours,
        business_hours=True,
        attempts=attempts,
        attempts_days=attempts_days,
        decision_hours=accept_reject_hours,
        timezone=timezone,
        open_hour=business_start_hour,
        close_hour=business_end_hour,
        holiday_country=holiday_country,
    )
