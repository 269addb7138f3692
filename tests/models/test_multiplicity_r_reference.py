"""Multiplicity-adjusted treatment-vs-control contrasts vs R's mmrm + emmeans.

Data ``tests/reference/multiarm/multiarm_data.csv`` (a simulated four-arm trial,
``make_data.py``); script ``reference_multiarm.R`` and its output ``multiarm_reference.json``
beside it::

    fit <- mmrm(CHG ~ BASE + ARM * AVISIT + us(AVISIT | USUBJID), reml = TRUE,
                method = "Satterthwaite")
    emm <- emmeans(fit, ~ ARM | AVISIT)
    contrast(emm, "trt.vs.ctrl", ref = "CTRL", adjust = "mvt")    # and "holm", ...

on the three-arm trial (CTRL, KET, KET_AEX) and on all four arms. Two kinds of check:

- **the adjustment alone**, on R's own inputs (its contrasts' t, df, raw p and
  correlation), so that the fit's disagreement does not enter: Holm and Bonferroni
  p-values relative 1e-10 (arithmetic); Dunnett (``adjust = "mvt"``) p-values and
  critical values against mvtnorm recomputed at ``abseps = 3e-7`` (``p_mvt_precise``,
  ``cv_mvt_precise``): absolute 1e-7 for two contrasts (both sides deterministic: the
  Gauss-Legendre rule here, the bivariate t formula in mvtnorm; 8e-9 seen), 1e-5 in p and
  1e-4 in the critical value for three (the lattice rule, fixed seed, and R's 3e-7 and
  interpolation; 2.5e-6 and 1.4e-5 seen);
- **end to end**, ketex's fit and adjustment against emmeans's printed values, within
  what R mmrm's earlier optimiser stop allows (the fits differ by up to 1.1e-4 SE in
  estimates, 1.3e-4 relative in SEs, 0.045 in df, 3e-5 in -2 REML log-likelihood): the
  tolerances of the R mmrm comparison of the MMRM itself for the contrasts (estimates 5e-4
  SE, SEs relative 5e-4, df 0.1), adjusted p-values absolute 5e-4 (raw p-values differ by
  up to 4.5e-5 here, times the family size, plus emmeans's own mvt error of up to 1e-3
  requested, 1.5e-4 seen), critical values 1e-5 (two contrasts) and 1e-4 (three) against
  the precise ones where both fits round the df to the same integer (all but one row),
  and interval limits 2e-3 SE against emmeans's (whose critical value is found to
  ``ptol = 1e-3``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.models.multiplicity import adjust_contrasts, emmeans_df, p_adjust

HERE = Path(__file__).resolve().parents[1] / "reference" / "multiarm"
REFERENCE = json.loads((HERE / "multiarm_reference.json").read_text())
DATA = pd.read_csv(HERE / "multiarm_data.csv")
CASES = {"three_arm": (1e-7, 1e-7), "four_arm": (1e-5, 1e-4)}  # p, critical value


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    ref = REFERENCE[request.param]
    d = DATA[DATA["ARM"].isin(ref["arms"])].copy()
    visits = d.sort_values("AVISITN")["AVISIT"].unique().tolist()
    d["AVISIT"] = pd.Categorical(d["AVISIT"], categories=visits, ordered=True)
    d["ARM"] = pd.Categorical(d["ARM"], categories=ref["arms"])
    fit = ketex.mmrm(d, "CHG ~ BASE + ARM * AVISIT", subject="USUBJID", visit="AVISIT",
                     covariance="us", method="reml", df="satterthwaite")
    tables = {
        adjust: fit.contrast("ARM", by="AVISIT", method="trt_vs_ctrl", reference="CTRL",
                             adjust=adjust)
        for adjust in ("dunnett", "holm", "bonferroni", "none")
    }
    return request.param, ref, fit, tables


def _r(ref, adjust):
    return pd.DataFrame(ref["mvt" if adjust == "dunnett" else adjust])


def test_fit_and_raw_contrasts_are_r_mmrms(case):
    _, ref, fit, tables = case
    assert ref["converged"] and fit.converged and fit.n_obs == ref["n_obs"]
    assert -2 * fit.loglik == pytest.approx(ref["minus2loglik"], abs=1e-4)
    ours, theirs = tables["none"], _r(ref, "none")
    assert ours["contrast"].tolist() == theirs["contrast"].tolist()
    assert ours["AVISIT"].astype(str).tolist() == theirs["AVISIT"].tolist()
    se = theirs["SE"].to_numpy()
    assert np.max(np.abs(ours["estimate"] - theirs["estimate"]) / se) < 5e-4
    np.testing.assert_allclose(ours["se"], se, rtol=5e-4)
    np.testing.assert_allclose(ours["df"], theirs["df"], atol=0.1)
    np.testing.assert_array_equal(ours["p_value_adjusted"], ours["p_value"])
    # emmeans's integer df (.fix.df): the same on both sides but where the fits' df
    # straddle a rounding point (four arms, WEEK24 MID_AEX: 109.74 here, 109.78 in R)
    same = emmeans_df(ours["df"]) == emmeans_df(theirs["df"])
    assert same.sum() >= len(same) - 1


def _r_inputs(ref) -> pd.DataFrame:
    raw = _r(ref, "none")
    return pd.DataFrame({"estimate": raw["estimate"], "se": raw["SE"], "df": raw["df"],
                         "statistic": raw["t.ratio"], "p_value": raw["p.value"],
                         "ci_low": raw["lower.CL"], "ci_high": raw["upper.CL"]})


@pytest.mark.parametrize("adjust", ["holm", "bonferroni"])
def test_holm_and_bonferroni_on_rs_inputs_are_emmeans(case, adjust):
    _, ref, _, _ = case
    inputs = _r_inputs(ref)
    out = adjust_contrasts(inputs, np.asarray(ref["correlation"]),
                           _r(ref, "none")["AVISIT"].tolist(), adjust, 0.95)
    theirs = _r(ref, adjust)
    np.testing.assert_allclose(out["p_value_adjusted"], theirs["p.value"], rtol=1e-10)
    # emmeans gives Bonferroni intervals for both
    se = theirs["SE"].to_numpy()
    for mine, r in (("ci_low_adjusted", "lower.CL"), ("ci_high_adjusted", "upper.CL")):
        assert np.max(np.abs(out[mine] - theirs[r]) / se) < 1e-10


def test_dunnett_on_rs_inputs_is_mvtnorm(case):
    name, ref, _, _ = case
    p_tolerance, cv_tolerance = CASES[name]
    inputs = _r_inputs(ref)
    out = adjust_contrasts(inputs, np.asarray(ref["correlation"]),
                           _r(ref, "none")["AVISIT"].tolist(), "dunnett", 0.95)
    theirs = _r(ref, "dunnett")
    np.testing.assert_allclose(out["p_value_adjusted"], theirs["p_mvt_precise"],
                               atol=p_tolerance, rtol=0)
    critical = (out["ci_high_adjusted"] - out["estimate"]) / out["se"]
    np.testing.assert_allclose(critical, theirs["cv_mvt_precise"], atol=cv_tolerance, rtol=0)
    np.testing.assert_allclose(out["p_value_adjusted"], theirs["p.value"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("adjust", ["dunnett", "holm", "bonferroni"])
def test_end_to_end_as_emmeans(case, adjust):
    name, ref, _, tables = case
    ours, theirs = tables[adjust], _r(ref, adjust)
    assert (ours["adjust"] == adjust).all()
    assert (ours["p_value_adjusted"] >= ours["p_value"]).all()
    np.testing.assert_allclose(ours["p_value_adjusted"], theirs["p.value"], atol=5e-4, rtol=0)
    se = theirs["SE"].to_numpy()
    for mine, r in (("ci_low_adjusted", "lower.CL"), ("ci_high_adjusted", "upper.CL")):
        assert np.max(np.abs(ours[mine] - theirs[r]) / se) < 2e-3
    if adjust == "dunnett":
        # where the integer df agree (see test_fit_and_raw_contrasts_are_r_mmrms)
        same = emmeans_df(ours["df"]) == emmeans_df(theirs["df"])
        critical = ((ours["ci_high_adjusted"] - ours["estimate"]) / ours["se"]).to_numpy()
        np.testing.assert_allclose(critical[same], theirs["cv_mvt_precise"].to_numpy()[same],
                                   atol=max(1e-5, CASES[name][1]), rtol=0)
    for _, family in ours.groupby("AVISIT", observed=True):
        if adjust != "dunnett":
            np.testing.assert_allclose(family["p_value_adjusted"],
                                       p_adjust(family["p_value"], adjust), rtol=1e-14)


def test_the_committed_data_is_what_make_data_makes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_multiarm", HERE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.frame()
    assert fresh["USUBJID"].astype(str).tolist() == DATA["USUBJID"].tolist()
    assert fresh["AVISIT"].astype(str).tolist() == DATA["AVISIT"].tolist()
    assert fresh["ARM"].astype(str).tolist() == DATA["ARM"].tolist()
    for column in ("AVISITN", "BASE", "CHG"):
        np.testing.assert_allclose(fresh[column].to_numpy(float), DATA[column], rtol=1e-9,
                                   err_msg=column)
