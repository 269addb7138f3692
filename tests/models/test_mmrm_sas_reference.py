"""ketex vs SAS PROC MIXED on fev_data: unstructured covariance, REML, Satterthwaite.

Reference: ``tests/reference/mmrm/fev_data_sas_us_reml.json`` (SAS code inside it)::

    PROC MIXED DATA=fev cl method=reml;
      CLASS RACE(ref='Asian') AVISIT(ref='VIS1') SEX(ref='Male') ARMCD(ref='PBO') USUBJID;
      MODEL FEV1 = ARMCD AVISIT ARMCD*AVISIT RACE SEX / ddfm=satterthwaite solution chisq;
      REPEATED AVISIT / subject=USUBJID type=un r rcorr;
      LSMEANS AVISIT*ARMCD / pdiff=all cl alpha=0.05 slice=AVISIT;

Tolerances (issue #4): estimates within 0.001 of their SE (SAS stops its optimiser a
little earlier than we do; R's mmrm differs from SAS by about 0.0003 SE too); SEs to a
relative 1e-3 (SAS prints 4 decimals); df within 1 (SAS rounds df to integers);
-2 REML log-likelihood within 0.01; covariance entries to 0.01 (SAS prints 4
decimals of values near 40, plus its looser optimum); Type III F within 0.01 (printed
with 2 decimals).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ketex.models import mmrm
from tests.models.conftest import FEV_FORMULA, REFERENCE_DIR

TERMS = {
    "Intercept": "Intercept",
    "ARMCD=TRT": "C(ARMCD, Treatment('PBO'))[T.TRT]",
    "AVISIT=VIS2": "AVISIT[T.VIS2]",
    "AVISIT=VIS3": "AVISIT[T.VIS3]",
    "AVISIT=VIS4": "AVISIT[T.VIS4]",
    "ARMCD=TRT:AVISIT=VIS2": "C(ARMCD, Treatment('PBO'))[T.TRT]:AVISIT[T.VIS2]",
    "ARMCD=TRT:AVISIT=VIS3": "C(ARMCD, Treatment('PBO'))[T.TRT]:AVISIT[T.VIS3]",
    "ARMCD=TRT:AVISIT=VIS4": "C(ARMCD, Treatment('PBO'))[T.TRT]:AVISIT[T.VIS4]",
    "RACE=Black or African American": "C(RACE, Treatment('Asian'))[T.Black or African American]",
    "RACE=White": "C(RACE, Treatment('Asian'))[T.White]",
    "SEX=Female": "C(SEX, Treatment('Male'))[T.Female]",
}
EFFECTS = {
    "ARMCD": "C(ARMCD, Treatment('PBO'))",
    "AVISIT": "AVISIT",
    "ARMCD:AVISIT": "C(ARMCD, Treatment('PBO')):AVISIT",
    "RACE": "C(RACE, Treatment('Asian'))",
    "SEX": "C(SEX, Treatment('Male'))",
}


@pytest.fixture(scope="module")
def sas():
    return json.loads((REFERENCE_DIR / "fev_data_sas_us_reml.json").read_text())


@pytest.fixture(scope="module")
def fit(fev_data):
    return mmrm(fev_data, FEV_FORMULA, subject="USUBJID", visit="AVISIT")


def test_fixed_effects_same_as_sas(fit, sas):
    ours = fit.coef.set_index("term")
    for row in sas["fixed_effects"]:
        mine = ours.loc[TERMS[row["term"]]]
        assert abs(mine.estimate - row["estimate"]) <= 1e-3 * row["se"], row["term"]
        assert mine.se == pytest.approx(row["se"], rel=1e-3), row["term"]
        assert abs(mine.df - row["df"]) <= 1.0, row["term"]


def test_reml_loglik_and_counts_same_as_sas(fit, sas):
    assert -2 * fit.loglik == pytest.approx(sas["minus2_reml_loglik"], abs=0.01)
    assert fit.aic == pytest.approx(sas["aic"], abs=0.06)  # SAS prints one decimal
    assert fit.n_obs == sas["n_obs_used"]
    assert fit.n_missing_outcome == 800 - sas["n_obs_used"]
    assert fit.converged


def test_covariance_matrix_same_as_sas(fit, sas):
    expected = np.array(sas["covariance_by_visit"]["matrix"])
    assert list(fit.covariance_matrix.index) == sas["covariance_by_visit"]["visits"]
    np.testing.assert_allclose(fit.covariance_matrix.to_numpy(), expected, atol=0.01)


def test_lsmeans_same_as_sas(fit, sas):
    ours = fit.lsmeans("ARMCD", by="AVISIT").set_index(["AVISIT", "ARMCD"])
    for row in sas["lsmeans"]:
        mine = ours.loc[(row["AVISIT"], row["ARMCD"])]
        assert abs(mine.estimate - row["estimate"]) <= 1e-3 * row["se"]
        assert mine.se == pytest.approx(row["se"], rel=1e-3)
        assert abs(mine.df - row["df"]) <= 1.0


def test_lsmean_differences_same_as_sas(fit, sas):
    ours = fit.contrast("ARMCD", by="AVISIT").set_index("AVISIT")
    assert set(ours["contrast"]) == {"TRT - PBO"}
    for row in sas["lsmean_differences_TRT_minus_PBO"]:
        mine = ours.loc[row["AVISIT"]]
        assert abs(mine.estimate - row["estimate"]) <= 1e-3 * row["se"]
        assert mine.se == pytest.approx(row["se"], rel=1e-3)
        assert abs(mine.df - row["df"]) <= 1.0
        # CI limits printed with 4 decimals; 1e-3 SE plus the df rounding of SAS
        assert mine.ci_low == pytest.approx(row["ci_low"], abs=2e-3 * row["se"] + 5e-4)
        assert mine.ci_high == pytest.approx(row["ci_high"], abs=2e-3 * row["se"] + 5e-4)


def test_type3_tests_same_as_sas(fit, sas):
    ours = fit.anova().set_index("term")
    for row in sas["type3_tests"]:
        mine = ours.loc[EFFECTS[row["effect"]]]
        assert mine.num_df == row["num_df"]
        assert abs(mine.den_df - row["den_df"]) <= 1.0, row["effect"]
        assert mine.statistic == pytest.approx(row["F"], abs=0.01), row["effect"]


def test_categorical_reference_level_from_pandas_categorical(fev_data, fit):
    data = fev_data.assign(
        ARMCD=pd.Categorical(fev_data["ARMCD"], categories=["PBO", "TRT"]),
        RACE=pd.Categorical(
            fev_data["RACE"], categories=["Asian", "Black or African American", "White"]
        ),
        SEX=pd.Categorical(fev_data["SEX"], categories=["Male", "Female"]),
    )
    other = mmrm(data, "FEV1 ~ ARMCD * AVISIT + RACE + SEX", subject="USUBJID", visit="AVISIT")
    assert other.coef["term"].iloc[1] == "ARMCD[T.TRT]"
    # same model, same parametrisation: identical to optimiser precision
    np.testing.assert_allclose(other.coef["estimate"], fit.coef["estimate"], rtol=1e-6)
