"""Every funnel and SLA chart draws from a result, in both languages, with catalogue titles."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import pytest
from test_funnel import AS_OF, tiny_crm

from helpers import funnel as fn
from helpers import sla
from helpers.messages import t
from helpers.plotting import funnel as pf
from helpers.plotting import sla as ps
from helpers.results import fmt_number
from helpers.sample import generate
from helpers.stages import stage_label, stage_model_from_dict, step_label


@pytest.fixture(scope="module")
def crm():
    return generate(3_000, seed=3, programme_uplift=0.0).to_crm()


@pytest.mark.parametrize("lang", ["en", "it"])
def test_funnel_charts(crm, lang):
    sh, model = crm.stage_history, crm.stage_model
    figs = {
        "funnel.chart.funnel_title": pf.plot_funnel(fn.funnel_summary(crm), lang),
        "funnel.chart.bottleneck_title": pf.plot_bottlenecks(fn.bottlenecks(crm, lang=lang), lang),
        "response": pf.plot_response_effect(fn.response_time_effect(crm), lang),
    }
    cohorts = fn.cohort_conversion(
        sh, model, "mql", "sql", by="persona", leads=crm.leads, period="Q"
    )
    figs["cohort"] = pf.plot_cohort_conversion(cohorts, "mql", "sql", lang, by="persona")
    curve = fn.conversion_curve(sh, model, "mql", "sql", by="persona", leads=crm.leads)
    figs["km"] = pf.plot_conversion_curves(curve, "mql", "sql", lang)
    for key, fig in figs.items():
        title = fig.axes[0].get_title(loc="left")
        if key == "response":
            assert title == t("funnel.chart.response_title", lang, to_stage="SQL")
        elif "." in key:
            assert title == t(key, lang)
        else:
            assert "MQL" in title and "SQL" in title
        plt.close(fig)
    assert len(figs["cohort"].axes[0].get_lines()) == crm.leads["persona"].nunique()


def _ticks(fig: plt.Figure, axis: str = "y") -> list[str]:
    ax = fig.axes[0]
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [label.get_text() for label in labels]


@pytest.mark.parametrize(
    ("lang", "sal", "won"),
    [("en", "Sales accepted (SAL)", "Won"), ("it", "Accettato dalle vendite (SAL)", "Vinto")],
)
def test_funnel_and_bottleneck_charts_show_stage_labels(crm, lang, sal, won):
    summary = fn.funnel_summary(crm)
    fig = pf.plot_funnel(summary, lang)
    ticks = _ticks(fig)
    assert ticks == [stage_label(s, lang) for s in summary["stage"]]
    assert sal in ticks and won in ticks and "sal" not in ticks
    counts = [text.get_text().split()[0] for text in fig.axes[0].texts]
    assert counts == [fmt_number(n, lang) for n in summary["reached"]]
    assert counts[0] == {"en": "3,000", "it": "3.000"}[lang]
    plt.close(fig)
    table = fn.bottlenecks(crm, lang=lang)
    fig = pf.plot_bottlenecks(table, lang)
    ticks = _ticks(fig)
    assert f"{sal} → SQL" in ticks
    assert ticks[0] == step_label(table["from_stage"].iloc[0], table["to_stage"].iloc[0], lang)
    plt.close(fig)


def test_a_user_model_label_reaches_the_chart(crm):
    model = stage_model_from_dict(
        {
            "funnel": ["lead", {"key": "mql", "label": {"it": "Lead qualificato"}}, "won"],
        }
    )
    summary = fn.funnel_summary(crm)
    fig = pf.plot_funnel(summary, "it", model=model)
    assert "Lead qualificato" in _ticks(fig) and "MQL" not in _ticks(fig)
    plt.close(fig)
    curve = fn.conversion_curve(crm.stage_history, crm.stage_model, "mql", "sql")
    fig = pf.plot_conversion_curves(curve, "mql", "sql", "it", model=model)
    assert fig.axes[0].get_title(loc="left") == t(
        "funnel.chart.km_title", "it", from_stage="Lead qualificato", to_stage="SQL"
    )
    plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_sla_charts(lang):
    crm = tiny_crm()
    rates = sla.rates_from_history(crm, as_of=AS_OF)
    rf = sla.reverse_funnel(100_000, 0.5, 1_000, rates, months=6, reps=2)
    comp = sla.sla_compliance(crm, sla.SlaTerms(mql_per_month=2), as_of=AS_OF)
    by_rep = sla.compliance_by_rep(comp)
    assert by_rep.set_index("rep")["mql_received"].to_dict() == {"ann": 2, "bob": 3}
    fig = ps.plot_reverse_funnel(rf, lang)
    assert _ticks(fig) == [stage_label(s, lang) for s in rf.stages]
    assert {"en": "Won", "it": "Vinto"}[lang] in _ticks(fig)
    for fig, key in (
        (ps.plot_reverse_funnel(rf, lang), "sla.chart.reverse_title"),
        (ps.plot_marketing_delivery(comp, lang), "sla.chart.marketing_title"),
        (ps.plot_compliance_by_rep(by_rep, lang), "sla.chart.compliance_title"),
    ):
        assert fig.axes[0].get_title(loc="left") == t(key, lang)
        plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "it"])
def test_response_chart_counts_use_the_readers_number_format(crm, lang):
    effect = fn.response_time_effect(crm)
    bins = effect.bins.assign(n=effect.bins["n"] + 1000)  # counts that need a separator
    fig = pf.plot_response_effect(dataclasses.replace(effect, bins=bins), lang)
    labels = _ticks(fig, "x")
    plt.close(fig)
    assert len(labels) == len(bins)
    for label, n in zip(labels, bins["n"], strict=True):
        thousands, rest = divmod(int(n), 1000)
        assert label.endswith(f"(n={thousands}{'.' if lang == 'it' else ','}{rest:03d})")
