"""Cox models and cox.zph against R's coxph (survival 3.5.3).

Reference: ``tests/reference/survival/reference_survival.R`` -> ``survival_reference.json``
on ``relapse.csv`` (one row per participant, whole days, many ties) and
``relapse_weekly.csv`` (counting-process weeks with a time-varying exercise dose), e.g.::

    coxph(Surv(start, stop, relapsed) ~ arm + kkw, data = weekly, ties = "efron",
          cluster = participant_id, control = coxph.control(eps = 1e-10))
    cox.zph(fit, transform = "km")

Tolerances, with reasons: estimates, SEs (model and robust), test statistics, the
cox.zph chi-squares and scaled residuals to relative 1e-6 -- both programs stop
Newton-Raphson when the log-likelihood changes by 1e-10 relative, which leaves the
estimates within ~1e-9 of the optimum, and everything else is closed-form at the
estimates; the log-likelihood to 1e-8 absolute; the concordance exactly (counts of pairs).
The term order differs (patsy puts factor terms first): rows are matched by name.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketex.survival import cox
from tests.survival.conftest import as_array, load

RTOL = 1e-6

SPECS = {
    "efron": dict(data="relapse", formula="arm + age + severity", ties="efron"),
    "breslow": dict(data="relapse", formula="arm + age + severity", ties="breslow"),
    "efron_strata": dict(data="relapse", formula="arm + age", ties="efron", strata="site"),
    "efron_robust": dict(
        data="relapse", formula="arm + age + severity", ties="efron", cluster="participant_id"
    ),
    "breslow_cluster_site": dict(
        data="relapse", formula="arm + age", ties="breslow", cluster="site"
    ),
    "counting_efron_cluster": dict(
        data="relapse_weekly", formula="arm + kkw", ties="efron", start="start",
        cluster="participant_id",
    ),
    "counting_breslow": dict(
        data="relapse_weekly", formula="arm + kkw", ties="breslow", start="start"
    ),
    "counting_efron_strata": dict(
        data="relapse_weekly", formula="arm + kkw", ties="efron", start="start", strata="site"
    ),
}  # fmt: skip


def _r_name(term: str) -> str:
    """patsy's ``arm[T.series]`` is R's ``armseries``."""
    return term.replace("[T.", "").replace("]", "")


@pytest.fixture(params=list(SPECS), scope="module")
def case(request, reference):
    spec = dict(SPECS[request.param])
    found = [c for c in reference["cox"] if c["name"] == request.param]
    assert len(found) == 1
    data = load(spec.pop("data"))
    formula = spec.pop("formula")
    fit = cox(
        data,
        formula,
        time="stop" if "start" in spec else "days",
        event="relapsed",
        **spec,
    )
    return fit, found[0]


def _aligned(fit, expected):
    names = [_r_name(t) for t in fit.coef["term"]]
    return fit.coef.iloc[[names.index(t) for t in expected["terms"]]]


def test_coefficients_same_as_coxph(case):
    fit, expected = case
    coef = _aligned(fit, expected)
    np.testing.assert_allclose(coef["estimate"], expected["estimate"], rtol=RTOL)
    np.testing.assert_allclose(coef["se_model"], expected["se_model"], rtol=RTOL)
    np.testing.assert_allclose(coef["se"], expected["se"], rtol=RTOL)
    assert fit.robust == expected["robust"]
    names = [_r_name(t) for t in fit.coef["term"]]
    order = [names.index(t) for t in expected["terms"]]
    np.testing.assert_allclose(
        fit.vcov.to_numpy()[np.ix_(order, order)], np.array(expected["vcov"]), rtol=RTOL
    )


def test_likelihood_and_tests_same_as_coxph(case):
    fit, expected = case
    assert fit.loglik_null == pytest.approx(expected["loglik"][0], abs=1e-8)
    assert fit.loglik == pytest.approx(expected["loglik"][1], abs=1e-8)
    tests = fit.tests.set_index("test")["statistic"]
    assert tests["score"] == pytest.approx(expected["score_test"], rel=RTOL)
    assert tests["wald"] == pytest.approx(expected["wald_test"], rel=RTOL)
    if expected["robust"]:
        assert tests["robust_score"] == pytest.approx(expected["robust_score_test"], rel=RTOL)
    else:
        assert "robust_score" not in tests
    assert fit.n_obs == expected["n"]
    assert fit.n_events == expected["n_event"]


def test_concordance_same_as_coxph(case):
    fit, expected = case
    assert fit.concordance == pytest.approx(expected["concordance"], rel=1e-12)


def test_ph_test_same_as_cox_zph(case):
    fit, expected = case
    for zph in expected["zph"]:
        found = fit.ph_test(transform=zph["transform"])
        table = found.table.set_index("term")
        assert sorted(table.index) == sorted(zph["terms"])
        np.testing.assert_allclose(
            table.loc[zph["terms"], "chisq"], as_array(zph["chisq"]), rtol=RTOL
        )
        assert table.loc[zph["terms"], "df"].tolist() == list(zph["df"])
        np.testing.assert_allclose(
            table.loc[zph["terms"], "p_value"], as_array(zph["p"]), rtol=1e-5
        )
        _check_residuals(found, zph)


def _check_residuals(found, zph):
    """R orders tied events differently: sort both by (time, first column)."""
    y = np.array(zph["y"], dtype=float).reshape(len(zph["time"]), -1)
    terms = list(zph["y_terms"])
    expected_order = np.lexsort((y[:, 0], zph["time"]))
    ours = found.residuals
    values = ours[terms].to_numpy()
    order = np.lexsort((values[:, 0], ours["time"].to_numpy()))
    np.testing.assert_allclose(
        ours["time"].to_numpy()[order], np.array(zph["time"])[expected_order]
    )
    np.testing.assert_allclose(
        ours["transformed_time"].to_numpy()[order],
        np.array(zph["x"])[expected_order],
        rtol=1e-12,
    )
    np.testing.assert_allclose(values[order], y[expected_order], rtol=RTOL, atol=1e-9)
