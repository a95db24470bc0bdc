"""Every funnel and SLA chart draws from a result, in both languages, with catalogue titles."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from test_funnel import AS_OF, tiny_crm

from helpers import funnel as fn
from helpers import sla
from helpers.messages import t
from helpers.plotting import funnel as pf
from helpers.plotting import sla as ps
from helpers.sample import generate


@pytest.fixture(scope="module")
def crm():
    return generate(3_000, seed=3, programme_uplift=0.0).to_crm()


@pytest.mark.parametrize("lang", ["en", "it"])
def test_funnel_charts(crm, lang):
    sh, model = crm.stage_history, crm.stage_model
    figs = {
        "funnel.chart.funnel_title": pf.plot_funnel(fn.funnel_summary(crm), lang),
        "funnel.chart.bottleneck_title": pf.plot_bottlenecks(fn.bottlenecks(crm, lang=lang), lang),
        "funnel.chart.response_title": pf.plot_response_effect(fn.response_time_effect(crm), lang),
    }
    cohorts = fn.cohort_conversion(
        sh, model, "mql", "sql", by="persona", leads=crm.leads, period="Q"
    )
    figs["cohort"] = pf.plot_cohort_conversion(cohorts, "mql", "sql", lang, by="persona")
    curve = fn.conversion_curve(sh, model, "mql", "sql", by="persona", leads=crm.leads)
    figs["km"] = pf.plot_conversion_curves(curve, "mql", "sql", lang)
    for key, fig in figs.items():
        title = fig.axes[0].get_title(loc="left")
        if "." in key:
            assert title == t(key, lang)
        else:
            assert "MQL" in title and "SQL" in title
        plt.close(fig)
    assert len(figs["cohort"].axes[0].get_lines()) == crm.leads["persona"].nunique()


@pytest.mark.parametrize("lang", ["en", "it"])
def test_sla_charts(lang):
    crm = tiny_crm()
    rates = sla.rates_from_history(crm, as_of=AS_OF)
    rf = sla.reverse_funnel(100_000, 0.5, 1_000, rates, months=6, reps=2)
    comp = sla.sla_compliance(crm, sla.SlaTerms(mql_per_month=2), as_of=AS_OF)
    by_rep = sla.compliance_by_rep(comp)
    assert by_rep.set_index("rep")["mql_received"].to_dict() == {"ann": 2, "bob": 3}
    for fig, key in (
        (ps.plot_reverse_funnel(rf, lang), "sla.chart.reverse_title"),
        (ps.plot_marketing_delivery(comp, lang), "sla.chart.marketing_title"),
        (ps.plot_compliance_by_rep(by_rep, lang), "sla.chart.compliance_title"),
    ):
        assert fig.axes[0].get_title(loc="left") == t(key, lang)
        plt.close(fig)
