"""Personas planted in the synthetic sample company are found again without their labels."""

from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from helpers import personas as ps
from helpers.sample import generate


@pytest.mark.parametrize("seed", [0, 1])
def test_personas_recovered_from_sample(seed):
    export = generate(leads=4000, seed=seed)
    leads = export.to_crm().leads
    features = export.truth["persona_features"]
    assert export.truth["persona_column"] not in features  # the label is not a clue
    res = ps.persona_candidates(leads, features, seed=seed, bootstrap=10)
    assert res.k == len(export.truth["personas"])
    assert adjusted_rand_score(leads[export.truth["persona_column"]], res.labels) >= 0.8
