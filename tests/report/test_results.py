"""Results files: plain JSON with sorted keys, written atomically, read back by the runner."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from helpers.results import dumps, read_results, to_jsonable, top_gaps, write_results


def test_numpy_and_pandas_values_become_plain_json(tmp_path):
    data = {
        "z": np.int64(3),
        "a": np.float32(0.5),
        "nan": float("nan"),
        "flag": np.bool_(True),
        "when": pd.Timestamp("2024-03-01", tz="UTC"),
        "series": pd.Series([1, 2], index=["x", "y"]),
        "array": np.array([1.5, np.inf]),
        "frame": pd.DataFrame({"k": ["a"], "v": [np.int64(1)]}),
    }
    path = write_results(tmp_path, "02_sla", data)
    assert path == tmp_path / "results" / "02_sla.json"
    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert list(loaded) == sorted(loaded)
    assert loaded == {
        "a": 0.5, "array": [1.5, None], "flag": True, "frame": [{"k": "a", "v": 1}],
        "nan": None, "series": {"x": 1, "y": 2}, "when": "2024-03-01T00:00:00+00:00", "z": 3,
    }  # fmt: skip
    assert read_results(tmp_path) == {"02_sla": loaded}
    assert not list((tmp_path / "results").glob("*.tmp"))


def test_unknown_objects_are_refused():
    try:
        to_jsonable({"x": object()})
    except TypeError as exc:
        assert "object" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an object() must not be stored silently")


def test_read_results_of_an_empty_run_is_empty(tmp_path):
    assert read_results(tmp_path) == {}


@given(st.dictionaries(st.text(min_size=1), st.one_of(st.integers(), st.floats(), st.text())))
def test_dumps_is_strict_json_and_independent_of_insertion_order(data):
    text = dumps(data)
    loaded = json.loads(text)  # strict: NaN/inf were turned into null
    assert dumps(dict(reversed(list(data.items())))) == text
    for key, value in data.items():
        if isinstance(value, float) and not math.isfinite(value):
            assert loaded[key] is None
        else:
            assert loaded[key] == value


def test_top_gaps_orders_by_score_over_all_notebooks():
    results = {
        "a": {"gaps": [{"score": 0.2, "text": "small"}, {"score": 0.9, "text": "big"}]},
        "b": {"gaps": [{"score": 0.5, "text": "middle"}, {"score": None, "text": "unknown"}]},
        "c": {"leads": 3},
        "d": {"gaps": [{"score": 0.1, "text": "tiny"}]},
    }
    assert [(g["notebook"], g["text"]) for g in top_gaps(results)] == [
        ("a", "big"), ("b", "middle"), ("a", "small"),
    ]  # fmt: skip
