"""The stage model: which funnel stages exist, in which order, and what each one means.

The model is configuration (``stage_models/*.yaml`` or a user file), never code. Analyses ask
the model for a stage by its *role* (``model.role("mql")``), so a model without a SAL stage
(HubSpot) simply skips that handoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from helpers.errors import FileProblemError, KitError
from helpers.messages import LANGUAGES, current_language, has, t

ROLES: tuple[str, ...] = (
    "lead",
    "mql",
    "sal",
    "sql",
    "opportunity",
    "won",
    "lost",
    "rejected",
    "recycled",
)
PRESETS: tuple[str, ...] = ("default", "hubspot", "salesforce", "olist")


class StageModelError(FileProblemError):
    """A stage model file that cannot be used; ``problem`` names a ``common.stage_problem``."""

    def __init__(self, problem: str, source: str = "stage model", /, **values: str) -> None:
        super().__init__(
            "common.stage_model_invalid", source, f"common.stage_problem.{problem}", **values
        )


def normalise_label(text: str) -> str:
    """Lower-case, trimmed, single-spaced form used to match stage names."""
    return re.sub(r"[\s_]+", " ", str(text).strip().lower())


def stage_key(text: str) -> str:
    """A stage key as written in a model: lower-case, words joined by underscores."""
    return normalise_label(text).replace(" ", "_")


@dataclass(frozen=True)
class StageModel:
    """Ordered funnel stages, side exits, role assignments, label aliases and display labels.

    ``labels`` maps a stage key to its display label per language (``{"en": ..., "it": ...}``),
    as given in the model file; stages without one use the catalogue (see :func:`stage_label`).
    """

    name: str
    funnel: tuple[str, ...]
    exits: tuple[str, ...] = ()
    roles: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def stages(self) -> tuple[str, ...]:
        """Every stage key: funnel first, then exits."""
        return self.funnel + self.exits

    def position(self, stage: str) -> int | None:
        """Index of ``stage`` along the funnel, or None for an exit stage."""
        return self.funnel.index(stage) if stage in self.funnel else None

    def role(self, role: str) -> str | None:
        """The stage key that plays ``role`` ("mql", "sql", ...), or None if the model has none."""
        return self.roles.get(role)

    def has_role(self, role: str) -> bool:
        return self.role(role) is not None

    def resolve(self, label: object) -> str | None:
        """The stage key for a raw CRM label (key or alias, any case), or None if unknown."""
        if label is None:
            return None
        norm = normalise_label(str(label))
        key = norm.replace(" ", "_")
        if key in self.stages:
            return key
        return self.aliases.get(norm)

    def funnel_between(self, start: str, end: str) -> tuple[str, ...]:
        """Funnel stages from ``start`` to ``end`` inclusive."""
        i, j = self.funnel.index(start), self.funnel.index(end)
        return self.funnel[i : j + 1]

    def to_dict(self) -> dict[str, Any]:
        inverse: dict[str, list[str]] = {}
        for alias, key in self.aliases.items():
            inverse.setdefault(key, []).append(alias)

        def entry(key: str) -> dict[str, Any]:
            out: dict[str, Any] = {"key": key, "aliases": inverse.get(key, [])}
            if key in self.labels:
                out["label"] = dict(self.labels[key])
            return out

        return {
            "name": self.name,
            "funnel": [entry(k) for k in self.funnel],
            "exits": [entry(k) for k in self.exits],
            "roles": dict(self.roles),
        }


_Entry = tuple[str, list[str], dict[str, str]]


def _entry_label(raw: Any, key: str, source: str) -> dict[str, str]:
    """A stage's ``label:``: one text for every language, or a mapping language -> text."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw = dict.fromkeys(LANGUAGES, raw)
    if not isinstance(raw, dict):
        raise StageModelError("label_type", source, key=key)
    unknown = sorted(str(lang) for lang in raw if lang not in LANGUAGES)
    if unknown:
        raise StageModelError(
            "label_languages",
            source,
            key=key,
            unknown=", ".join(unknown),
            languages=", ".join(LANGUAGES),
        )
    return {str(lang): str(text).strip() for lang, text in raw.items() if str(text).strip()}


def _stage_entries(raw: Any, section: str, source: str) -> list[_Entry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise StageModelError("not_a_list", source, section=section)
    out: list[_Entry] = []
    for item in raw:
        if isinstance(item, str):
            out.append((stage_key(item), [], {}))
        elif isinstance(item, dict) and "key" in item:
            key = stage_key(item["key"])
            aliases = [normalise_label(a) for a in item.get("aliases") or []]
            out.append((key, aliases, _entry_label(item.get("label"), key, source)))
        else:
            raise StageModelError("no_key", source, section=section)
    return out


def stage_model_from_dict(data: dict[str, Any], source: str = "stage model") -> StageModel:
    """Build and check a model from parsed YAML."""
    if not isinstance(data, dict):
        raise StageModelError("not_a_mapping", source)
    funnel = _stage_entries(data.get("funnel") or data.get("stages"), "funnel", source)
    exits = _stage_entries(data.get("exits"), "exits", source)
    if len(funnel) < 2:
        raise StageModelError("too_short", source)
    keys = [k for k, _, _ in funnel + exits]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise StageModelError("twice", source, stages=", ".join(dupes))
    aliases: dict[str, str] = {}
    for key, names, _ in funnel + exits:
        for name in names:
            aliases.setdefault(name, key)
    roles = {str(r): stage_key(s) for r, s in (data.get("roles") or {}).items()}
    if not roles:
        roles = {r: r for r in ROLES if r in keys}
    unknown_roles = sorted(set(roles) - set(ROLES))
    if unknown_roles:
        raise StageModelError(
            "unknown_roles", source, unknown=", ".join(unknown_roles), roles=", ".join(ROLES)
        )
    bad = sorted(s for s in roles.values() if s not in keys)
    if bad:
        raise StageModelError("bad_roles", source, stages=", ".join(bad))
    for needed in ("mql", "won"):
        if needed not in roles:
            raise StageModelError("role_needed", source, role=needed)
    return StageModel(
        name=str(data.get("name", "custom")),
        funnel=tuple(k for k, _, _ in funnel),
        exits=tuple(k for k, _, _ in exits),
        roles=roles,
        aliases=aliases,
        labels={k: label for k, _, label in funnel + exits if label},
    )


def load_stage_model(name_or_path: str | Path = "default") -> StageModel:
    """A preset by name (``default``, ``hubspot``, ``salesforce``) or a YAML file."""
    text: str
    source = str(name_or_path)
    if str(name_or_path) in PRESETS:
        text = (resources.files("helpers") / "stage_models" / f"{name_or_path}.yaml").read_text(
            encoding="utf-8"
        )
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise KitError(
                "common.stage_model_not_found", name=str(name_or_path), presets=", ".join(PRESETS)
            )
        text = path.read_text(encoding="utf-8")
    return stage_model_from_dict(yaml.safe_load(text), source)


def _tidy(code: str) -> str:
    """A readable fallback for a code with no label: underscores to spaces, first letter up."""
    text = re.sub(r"[\s_]+", " ", str(code)).strip()
    return text[:1].upper() + text[1:]


def stage_label(key: str, lang: str | None = None, model: StageModel | None = None) -> str:
    """The display label of a stage key (or of a role the ``model`` assigns to a stage).

    Order: the label in ``model`` for ``lang``; the catalogue label (``stages.labels.<key>``);
    the model's label in another language; a tidy form of the key ("never_worked" ->
    "Never worked"). Tables and JSON keep the raw key: this is only for what a person reads.
    """
    lang = lang or current_language()
    raw = str(key)
    norm = stage_key(raw)
    if model is not None and norm not in model.stages and model.role(norm):
        norm = raw = model.role(norm) or norm
    own = model.labels.get(norm, {}) if model is not None else {}
    if lang in own:
        return own[lang]
    if has(f"stages.labels.{norm}", lang):
        return t(f"stages.labels.{norm}", lang)
    for other in LANGUAGES:
        if other in own:
            return own[other]
    return _tidy(raw)


def step_label(
    from_key: str, to_key: str, lang: str | None = None, model: StageModel | None = None
) -> str:
    """The display label of a handoff, e.g. "MQL → SQL"."""
    return t(
        "stages.step",
        lang or current_language(),
        from_stage=stage_label(from_key, lang, model),
        to_stage=stage_label(to_key, lang, model),
    )


MISSING_REASON = "(missing)"


def reason_label(code: object, lang: str | None = None) -> str:
    """The display label of a rejection or loss reason code; the raw code when it has none.

    A blank code (None, NaN, "" or "(missing)") reads as the catalogue's "no reason given".
    """
    lang = lang or current_language()
    if code is None or pd.isna(code) is True or str(code).strip() in ("", MISSING_REASON):
        return t("stages.reasons.missing", lang)
    raw = str(code).strip()
    name = stage_key(raw)
    if name and "." not in name and has(f"stages.reasons.{name}", lang):
        return t(f"stages.reasons.{name}", lang)
    return raw
