"""Imputed values under each strategy, worked by hand from the MMRM fit.

The imputation model is ketex's MMRM on the antidepressant trial (every observed value
is MAR here: nobody in the ICE table has data after the event).  For one DRUG patient
who stopped before week 6 the means are assembled from the named coefficients, the
strategy applied as Carpenter, Roger and Kenward (2013) define it, and the missing
values set to ``mu_m + S_mo S_oo^-1 (y_o - mu_o)``; they must equal the imputed values
of ``reference_based_mi`` (relative 1e-8, the same engine fit).  Under MAR the
conditional-mean ANCOVA estimate equals the MMRM's treatment contrast at each visit
(Wolbers et al. 2022), checked at relative 1e-7.
"""

from __future__ import annotations

import numpy as np
import pytest

from ketex import mmrm
from tests.estimands.conftest import FORMULA

VISITS = ["4", "5", "6", "7"]


@pytest.fixture(scope="module")
def engine_fit(antidepressant):
    return mmrm(antidepressant, FORMULA, subject="PATIENT", visit="VISIT")


def _mean(coef: dict, therapy: str, basval: float) -> np.ndarray:
    mu = []
    for v in VISITS:
        value = coef["Intercept"] + coef["BASVAL"] * basval
        if v != "4":
            value += coef[f"VISIT[T.{v}]"] + coef[f"BASVAL:VISIT[T.{v}]"] * basval
        if therapy == "DRUG":
            value += coef["THERAPY[T.DRUG]"]
            if v != "4":
                value += coef[f"THERAPY[T.DRUG]:VISIT[T.{v}]"]
        mu.append(value)
    return np.array(mu)


def _patient(antidepressant, antidepressant_ice):
    drug_at_6 = antidepressant_ice[antidepressant_ice["VISIT"] == "6"]["PATIENT"]
    rows = antidepressant[antidepressant["PATIENT"].isin(drug_at_6)]
    rows = rows[rows["THERAPY"] == "DRUG"]
    patient = rows["PATIENT"].iloc[0]
    own = antidepressant[antidepressant["PATIENT"] == patient].set_index("VISIT").loc[VISITS]
    return patient, own


@pytest.mark.parametrize("strategy", ["JR", "CR", "CIR", "LMCF", "MAR"])
def test_imputed_values_by_hand(engine_fit, fit_jr, antidepressant, antidepressant_ice, strategy):
    patient, own = _patient(antidepressant, antidepressant_ice)
    coef = dict(zip(engine_fit.coef["term"], engine_fit.coef["estimate"], strict=True))
    basval = float(own["BASVAL"].iloc[0])
    mu_drug, mu_placebo = _mean(coef, "DRUG", basval), _mean(coef, "PLACEBO", basval)
    mu = {
        "MAR": mu_drug,
        "JR": np.r_[mu_drug[:2], mu_placebo[2:]],
        "CR": mu_placebo,
        "CIR": np.r_[mu_drug[:2], mu_drug[1] + mu_placebo[2:] - mu_placebo[1]],
        "LMCF": np.r_[mu_drug[:2], mu_drug[1], mu_drug[1]],
    }[strategy]
    sigma = engine_fit.covariance_matrix.loc[VISITS, VISITS].to_numpy()
    y_o = own["CHANGE"].to_numpy()[:2]
    expected = mu[2:] + sigma[2:, :2] @ np.linalg.solve(sigma[:2, :2], y_o - mu[:2])

    result = fit_jr.with_ice(antidepressant_ice.assign(strategy=strategy))
    imputed = result.imputed_data()
    mine = imputed[imputed["PATIENT"] == patient].set_index("VISIT")
    np.testing.assert_allclose(mine.loc[["6", "7"], "CHANGE"], expected, rtol=1e-8)
    assert mine.loc[["6", "7"], "DTYPE"].tolist() == ["IMPUTED", "IMPUTED"]
    np.testing.assert_array_equal(mine.loc[["4", "5"], "CHANGE"], y_o)


def test_mar_estimate_equals_mmrm_contrast(engine_fit, fit_mar):
    contrast = engine_fit.contrast("THERAPY", by="VISIT", method="trt_vs_ctrl", reference="PLACEBO")
    np.testing.assert_allclose(
        fit_mar.data["estimate"].to_numpy(), contrast["estimate"].to_numpy(), rtol=1e-7
    )
