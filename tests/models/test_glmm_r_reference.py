"""ketex.glmm vs lme4::glmer (nAGQ = 1, 15, 25) and glmmTMB (Laplace) on simulated data.

Data: ``tests/reference/glmm/sim_remission.csv`` and ``sim_relapse.csv`` (``make_data.py``,
fixed seeds); the R script and its output beside them (``reference_glmm.R`` ->
``glmm_reference.json``), e.g.::

    glmer(remission ~ arm * visit + madrs_baseline + (1 | participant_id), data = rem,
          family = binomial, nAGQ = 15,
          control = glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12,
                                 optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
    glmmTMB(relapse ~ arm + week + kkw + days_since_infusion + offset(log_exposure)
            + (1 | site), data = rel, family = binomial(link = "cloglog"))

Tolerances, with reasons:
- estimates: ``|ours - R| <= 1e-4 max(|R|, SE)`` (relative 1e-4, and 1e-4 SE for
  estimates near zero); log-likelihood, AIC and BIC within 1e-4 absolute; the
  random-intercept SD relative 1e-4; conditional modes within 1e-4 absolute.
- SEs relative 1e-4 against lme4's ``vcov(fit, use.hessian = TRUE)`` (the inverse of
  its finite-difference Hessian over (theta, beta), which is what ours is, from the
  analytic gradient) and glmmTMB's ``vcov`` (exact Hessian by automatic
  differentiation). One exception: with 10 groups and SD 0.19 (``cohort-laplace``)
  lme4's finite-difference Hessian is off by 1.4e-4 relative; glmmTMB, on the same
  model, agrees with ours to 2e-6, so that row allows 5e-4.
- lme4's conditional SDs (``condVar``) and its quadrature nodes use the expected
  (Fisher) information, which equals the observed one for the logit link only: for
  probit and cloglog they are not compared, and lme4's AGQ fits are compared at 15 and
  25 nodes, where both rules have converged to the integral.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketex.models.glmm import glmm

HERE = Path(__file__).resolve().parents[1] / "reference" / "glmm"
REFERENCE = json.loads((HERE / "glmm_reference.json").read_text())

FITS = {
    "remission": ("remission", "remission ~ arm * visit + madrs_baseline", "participant_id",
                  None),
    "probit": ("remission", "remission ~ arm + week + madrs_baseline", "participant_id", None),
    "relapse-cloglog": ("relapse", "relapse ~ arm + week + kkw + days_since_infusion", "site",
                        "log_exposure"),
    "relapse-logit": ("relapse", "relapse ~ arm + week + kkw", "site", None),
    "cohort": ("remission", "remission ~ arm + visit", "cohort", None),
}
SE_TOLERANCE = {"cohort-laplace": 5e-4}


@pytest.fixture(scope="module")
def datasets():
    remission = pd.read_csv(HERE / "sim_remission.csv")
    remission["arm"] = pd.Categorical(remission["arm"], categories=["SINGLE", "SERIES"])
    remission["visit"] = pd.Categorical(remission["visit"], categories=["W2", "W4", "W8", "W12"])
    relapse = pd.read_csv(HERE / "sim_relapse.csv")
    relapse["arm"] = pd.Categorical(relapse["arm"], categories=["SINGLE", "SERIES"])
    return {"remission": remission, "relapse": relapse}


def _term(r_name: str) -> str:
    if r_name == "(Intercept)":
        return "Intercept"
    name = r_name.replace("armSERIES", "arm[T.SERIES]")
    return re.sub(r"visit(W\d+)", r"visit[T.\1]", name)


def _fit(datasets, row):
    key = next(k for k in FITS if row["name"].startswith(k))
    data, formula, groups, offset = FITS[key]
    return glmm(datasets[data], formula, subject=groups, link=row["link"], nagq=row["nagq"],
                offset=offset)


@pytest.fixture(scope="module")
def fits(datasets):
    return {row["name"]: _fit(datasets, row) for row in REFERENCE["results"]}


@pytest.mark.parametrize("row", REFERENCE["results"], ids=lambda r: r["name"])
def test_same_as_r(fits, row):
    fit = fits[row["name"]]
    assert fit.converged and not fit.singular
    assert fit.n_obs == row["n_obs"]
    coef = fit.coef.set_index("term").loc[[_term(t) for t in row["terms"]]]
    expected, se = np.array(row["estimate"]), np.array(row["se"])
    scale = np.maximum(np.abs(expected), se)
    assert np.max(np.abs(coef["estimate"].to_numpy() - expected) / scale) < 1e-4
    np.testing.assert_allclose(coef["se"].to_numpy(), se,
                               rtol=SE_TOLERANCE.get(row["name"], 1e-4))
    assert fit.loglik == pytest.approx(row["loglik"], abs=1e-4)
    assert fit.aic == pytest.approx(row["aic"], abs=1e-4)
    assert fit.bic == pytest.approx(row["bic"], abs=1e-4)
    assert fit.random_effect_sd == pytest.approx(row["sd"], rel=1e-4)
    modes = fit.random_effects.set_index("group").loc[row["ranef_group"]]
    np.testing.assert_allclose(modes["estimate"], row["ranef_mode"], atol=1e-4)
    if "ranef_sd" in row and row["link"] == "logit":
        np.testing.assert_allclose(modes["se"], row["ranef_sd"], rtol=1e-4)
    if "log_sd_se" in row:  # glmmTMB: SE of log(sd) from its exact Hessian
        assert np.sqrt(fit.theta_vcov[-1, -1]) == pytest.approx(row["log_sd_se"], rel=1e-4)


@pytest.mark.parametrize("name", ["remission-laplace", "remission-agq15"])
def test_probabilities_and_odds_ratios_same_as_emmeans(fits, name):
    """emmeans(fit, ~ arm | visit, type = "response") and pairs(reverse = TRUE); the
    population-averaged probabilities against R's integrate() at lme4's estimates."""
    row = next(r for r in REFERENCE["results"] if r["name"] == name)
    fit = fits[name]
    cells = list(zip(row["emm_visit"], row["emm_arm"], strict=True))
    typical = fit.predicted_probabilities("arm", by="visit", kind="typical")
    typical = typical.set_index(["visit", "arm"]).loc[cells]
    for ours, theirs in [("probability", "emm_prob"), ("se", "emm_se"),
                         ("ci_low", "emm_low"), ("ci_high", "emm_high")]:
        np.testing.assert_allclose(typical[ours], row[theirs], rtol=1e-4)
    marginal = fit.predicted_probabilities("arm", by="visit").set_index(["visit", "arm"])
    np.testing.assert_allclose(marginal.loc[cells, "probability"], row["marginal_prob"],
                               rtol=1e-4)
    odds = fit.contrast("arm", by="visit").set_index("visit").loc[row["diff_visit"]]
    assert odds["contrast"].tolist() == row["diff_contrast"]
    np.testing.assert_allclose(odds["estimate"], row["diff_estimate"], rtol=1e-4)
    np.testing.assert_allclose(odds["se"], row["diff_se"], rtol=1e-4)
    np.testing.assert_allclose(odds["odds_ratio"], row["odds_ratio"], rtol=1e-4)
