"""Alignment questionnaire and word exercise: hand-scored cases, planted gaps and properties."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from helpers import assessment as asm
from helpers.errors import KitError, MissingTableError
from helpers.messages import t

INSTRUMENT = asm.load_instrument()


def test_bundled_instrument_structure():
    ins = INSTRUMENT
    assert ins.item_ids == tuple(f"q{i:02d}" for i in range(1, 21))
    assert len(ins.dimensions) == 5
    for d in ins.dimensions:
        assert sum(i.dimension == d for i in ins.items) == 4
        assert ins.dimension_label(d, "en") and ins.dimension_label(d, "it")
    for item in ins.items:
        assert item.text["en"].strip() and item.text["it"].strip()
        assert item.text["en"] != item.text["it"]
    assert ins.total_range == (20, 100)
    assert "Kotler" in ins.source["en"] and "Kotler" in ins.source["it"]
    assert len(ins.to_frame("it")) == 20


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (20, "undefined"),
        (39, "undefined"),
        (40, "defined"),
        (59, "defined"),
        (60, "aligned"),
        (79, "aligned"),
        (80, "integrated"),
        (100, "integrated"),
    ],
)
def test_bands_follow_the_structure(total, band):
    assert INSTRUMENT.band(total) == band


def test_band_labels_in_both_languages():
    assert INSTRUMENT.band_label("integrated", "en") == "Integrated"
    assert INSTRUMENT.band_label("integrated", "it") == "Integrato"
    assert INSTRUMENT.band_label(INSTRUMENT.band(float("nan")), "en") == "not available"


def small_instrument() -> dict:
    return {
        "name": "mini",
        "scale": {"min": 1, "max": 5},
        "dimensions": [{"key": "a", "label": {"en": "A", "it": "A"}}],
        "bands": [{"key": "low", "min": 2, "max": 5}, {"key": "high", "min": 6, "max": 10}],
        "items": [
            {"id": "x1", "dimension": "a", "text": {"en": "one", "it": "uno"}},
            {"id": "x2", "dimension": "a", "text": {"en": "two", "it": "due"}},
        ],
    }


def test_load_instrument_from_a_facilitator_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(small_instrument()), encoding="utf-8")
    ins = asm.load_instrument(path)
    assert ins.item_ids == ("x1", "x2") and ins.total_range == (2, 10)
    assert ins.band(5) == "low" and ins.band(6) == "high"


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("items"),
        lambda d: d["items"].append(dict(d["items"][0])),
        lambda d: d["items"][0].update(dimension="zzz"),
        lambda d: d["bands"][1].update(min=8),  # gap 6-7
        lambda d: d["bands"][0].update(min=3),  # total 2 uncovered
        lambda d: d["scale"].update(min=5),
    ],
)
def test_invalid_instrument_is_a_kit_error(tmp_path, breakage):
    data = small_instrument()
    breakage(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KitError) as err:
        asm.load_instrument(path)
    assert err.value.key == "assessment.instrument_invalid"
    assert "bad.yaml" in err.value.message("it")


def test_missing_instrument_file(tmp_path):
    with pytest.raises(KitError):
        asm.load_instrument(tmp_path / "nope.yaml")


def survey_rows(respondent: str, team: str, wave: str, scores: list[int]) -> list[tuple]:
    return [(respondent, team, wave, f"x{i + 1}", s) for i, s in enumerate(scores)]


def test_score_survey_hand_computed():
    ins = asm.instrument_from_dict(small_instrument())
    rows = (
        survey_rows("s1", "sales", "before", [5, 5])
        + survey_rows("s2", "sales", "before", [3, 3])
        + survey_rows("m1", "marketing", "before", [2, 2])
        + survey_rows("m2", "marketing", "before", [1, 3])
        + survey_rows("m3", "marketing", "before", [4])  # incomplete: no total
    )
    survey = pd.DataFrame(rows, columns=["respondent_id", "team", "wave", "item_id", "score"])
    res = asm.score_survey(survey, ins)
    per = res.respondents.set_index("respondent_id")
    assert per.loc["s1", "total"] == 10 and per.loc["s1", "band"] == "high"
    assert per.loc["m1", "total"] == 4 and per.loc["m1", "band"] == "low"
    assert np.isnan(per.loc["m3", "total"]) and pd.isna(per.loc["m3", "band"])
    sales = res.by_team.query("team == 'sales' and dimension == 'a'").iloc[0]
    assert sales["mean"] == 4.0 and sales["n"] == 2
    # t interval: mean 4, sd sqrt(2), n 2 -> half width 12.706 * 1, then cut to the 1-5 scale
    _, low, high = asm._mean_ci(np.array([5.0, 3.0]), 0.05, (-np.inf, np.inf))
    assert (4.0 - low, high - 4.0) == pytest.approx((12.7062, 12.7062), rel=1e-4)
    assert (sales["ci_low"], sales["ci_high"]) == (1.0, 5.0)
    mkt = res.by_team.query("team == 'marketing' and dimension == 'a'").iloc[0]
    assert mkt["mean"] == pytest.approx((2 + 2 + 4) / 3)  # m3's one answer counts here
    gap = res.gap.query("dimension == 'total'").iloc[0]
    assert gap["sales"] == 8.0 and gap["marketing"] == 4.0 and gap["difference"] == 4.0
    assert res.change.empty  # one wave only


def planted_survey(
    seed: int, n: int = 30, gap_dim: str = "handoff", gap: float = 1.0, uplift: float = 0.0
) -> pd.DataFrame:
    """Scores around 3; sales score ``gap`` higher on one dimension; the after wave ``uplift``."""
    rng = np.random.default_rng(seed)
    rows = []
    for team in ("sales", "marketing"):
        for wave, up in (("before", 0.0), ("after", uplift)):
            for r in range(n):
                person = rng.normal(0, 0.3)
                for item in INSTRUMENT.items:
                    mu = (
                        3
                        + up
                        + person
                        + (gap if team == "sales" and item.dimension == gap_dim else 0)
                    )
                    score = int(np.clip(np.rint(mu + rng.normal(0, 0.5)), 1, 5))
                    rows.append((f"{team}-{wave}-{r}", team, wave, item.id, score))
    return pd.DataFrame(rows, columns=["respondent_id", "team", "wave", "item_id", "score"])


def test_planted_gap_and_change_are_recovered():
    res = asm.score_survey(planted_survey(1, uplift=0.6), INSTRUMENT)
    assert res.waves == ("before", "after")
    handoff = res.gap.query("wave == 'after' and dimension == 'handoff'").iloc[0]
    # planted on the latent scale; rounding to 1-5 answers shrinks it a little
    assert 0.7 < handoff["difference"] <= 1.0 and handoff["ci_low"] > 0.5
    assert handoff["p_value"] < 0.001
    goals = res.gap.query("wave == 'after' and dimension == 'goals'").iloc[0]
    assert goals["ci_low"] < 0 < goals["ci_high"]
    change = res.change.query("team == 'marketing' and dimension == 'definitions'").iloc[0]
    assert change["ci_low"] < 0.6 < change["ci_high"] and change["ci_low"] > 0
    en, it = res.gap_sentence("en"), res.gap_sentence("it")
    assert "The handoff" in en and "sales rate it" in en
    assert "Il passaggio dei lead" in it
    json.dumps(res.to_dict())


def test_survey_errors_are_kit_errors():
    good = planted_survey(0, n=2)
    with pytest.raises(KitError):
        asm.score_survey(good.assign(item_id="q99"), INSTRUMENT)
    with pytest.raises(KitError):
        asm.score_survey(good.assign(score=7), INSTRUMENT)
    with pytest.raises(KitError):
        asm.score_survey(pd.concat([good, good.head(1)]), INSTRUMENT)
    with pytest.raises(MissingTableError):
        asm.score_survey(good.drop(columns="wave"), INSTRUMENT)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=20 * 4, max_size=20 * 4), st.integers(0, 10**6))
def test_property_scores_within_range_and_row_order_irrelevant(scores, seed):
    rows = []
    for k, team in enumerate(["sales", "sales", "marketing", "marketing"]):
        rows += [(f"r{k}", team, "before", f"q{i + 1:02d}", scores[k * 20 + i]) for i in range(20)]
    survey = pd.DataFrame(rows, columns=["respondent_id", "team", "wave", "item_id", "score"])
    a = asm.score_survey(survey, INSTRUMENT, n_boot=200)
    b = asm.score_survey(survey.sample(frac=1, random_state=seed % 2**32), INSTRUMENT, n_boot=200)
    assert a.respondents["total"].between(20, 100).all()
    dims = a.by_team[a.by_team["dimension"] != "total"]
    assert dims["mean"].between(1, 5).all()
    # two people a team: the t interval alone reaches far outside the scale; it is cut to it
    totals = a.by_team[a.by_team["dimension"] == "total"]
    for frame, (low, high) in ((dims, (1, 5)), (totals, (20, 100))):
        spread = frame.dropna(subset=["ci_low"])
        assert (
            spread["ci_low"].between(low, high).all() and spread["ci_high"].between(low, high).all()
        )
        assert (spread["ci_low"] <= spread["mean"]).all() and (
            spread["mean"] <= spread["ci_high"]
        ).all()
    pd.testing.assert_frame_equal(a.respondents, b.respondents)
    pd.testing.assert_frame_equal(a.by_team, b.by_team)
    pd.testing.assert_frame_equal(a.gap, b.gap)


# --- words ---

LEXICON = asm.load_lexicon()


def test_lexicon_is_large_and_consistent():
    for lang in ("en", "it"):
        assert LEXICON.size(lang) >= 150
        tones = set(LEXICON.tones[lang].values())
        assert tones == {"positive", "negative", "neutral"}


def test_lexicon_with_a_word_in_two_tones_is_rejected():
    with pytest.raises(KitError):
        asm.lexicon_from_dict({"en": {"positive": ["fast"], "negative": ["Fast"]}})


@pytest.mark.parametrize(
    ("word", "lang", "lemma", "tone"),
    [
        ("Arroganti", "it", "arrogante", "negative"),
        ("lente", "it", "lento", "negative"),
        ("lenta", "it", "lento", "negative"),
        ("CREATIVE", "it", "creativo", "positive"),
        ("disponibilità", "it", "disponibilita", "unscored"),
        (" Lazy! ", "en", "lazy", "negative"),
        ("allies", "en", "ally", "positive"),
        ("excuses", "en", "excuses", "negative"),
        ("partners", "en", "partner", "positive"),
        ("zorgle", "en", "zorgle", "unscored"),
    ],
)
def test_lemma_and_tone(word, lang, lemma, tone):
    assert asm.lemma_and_tone(word, LEXICON, lang) == (lemma, tone)


def test_normalise_word_strips_accents_and_punctuation():
    assert asm.normalise_word("  Perché? ") == "perche"
    assert asm.normalise_word("Perché", strip_accents=False) == "perché"


def words_frame() -> pd.DataFrame:
    rows = (
        [("sales", "before", w, "it") for w in ["arroganti", "teorici", "lenti", "creativi", "blu"]]
        + [("sales", "after", w, "it") for w in ["creativo", "disponibili", "lento"]]
        + [("marketing", "before", w, "en") for w in ["pushy", "Pushy", "lazy", "helpful"]]
    )
    return pd.DataFrame(rows, columns=["team", "wave", "word", "lang"])


def test_score_words_hand_computed():
    res = asm.score_words(words_frame(), LEXICON)
    tone = res.tone.set_index(["team", "wave"])
    before = tone.loc[("sales", "before")]
    assert (before["n_words"], before["n_scored"], before["n_negative"]) == (5, 4, 3)
    assert before["share_negative"] == 0.75 and before["n_unscored"] == 1
    low, high = proportion_confint(3, 4, 0.05, method="wilson")
    assert (before["ci_low"], before["ci_high"]) == pytest.approx((low, high))
    assert tone.loc[("marketing", "before"), "share_negative"] == pytest.approx(0.75)
    counts = res.counts.set_index(["team", "wave", "word"])["n"]
    assert counts[("marketing", "before", "pushy")] == 2
    assert res.unscored == ("blu",)
    change = res.change.set_index("team").loc["sales"]
    assert change["before"] == 0.75 and change["after"] == pytest.approx(1 / 3)
    assert change["ci_low"] < change["difference"] < change["ci_high"]


def test_word_sentence_carries_the_87_percent_caveat():
    res = asm.score_words(words_frame(), LEXICON)
    en = res.sentence("sales", "en", "before")
    it = res.sentence("sales", "it", "before")
    assert "75%" in en and "source not located" in en
    assert "fonte non è stata individuata" in it
    assert t("assessment.claim_87", "en") in en
    json.dumps(res.to_dict())


def test_planted_drop_in_negative_words_is_recovered():
    rng = np.random.default_rng(3)
    neg = [w for w, tn in LEXICON.tones["en"].items() if tn == "negative"]
    pos = [w for w, tn in LEXICON.tones["en"].items() if tn == "positive"]
    rows = []
    for wave, p_neg in (("before", 0.8), ("after", 0.4)):
        for _ in range(300):
            word = rng.choice(neg) if rng.random() < p_neg else rng.choice(pos)
            rows.append(("sales", wave, word))
    res = asm.score_words(pd.DataFrame(rows, columns=["team", "wave", "word"]), LEXICON)
    change = res.change.iloc[0]
    assert change["ci_low"] < -0.4 < change["ci_high"] and change["ci_high"] < 0
    assert change["p_value"] < 0.001


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["sales", "marketing"]),
            st.sampled_from(["before", "after"]),
            st.sampled_from([*sorted(LEXICON.tones["en"])[:40], "xyzzy", "Foo"]),
        ),
        min_size=1,
        max_size=60,
    ),
    st.randoms(use_true_random=False),
)
def test_property_word_shares_are_rates_and_order_free(rows, rnd):
    frame = pd.DataFrame(rows, columns=["team", "wave", "word"])
    a = asm.score_words(frame, LEXICON)
    shuffled = frame.iloc[rnd.sample(range(len(frame)), len(frame))]
    b = asm.score_words(shuffled, LEXICON)
    shares = a.tone["share_negative"].dropna()
    assert shares.between(0, 1).all()
    assert (a.tone["n_scored"] + a.tone["n_unscored"] == a.tone["n_words"]).all()
    pd.testing.assert_frame_equal(a.tone, b.tone)
    pd.testing.assert_frame_equal(a.counts, b.counts)
