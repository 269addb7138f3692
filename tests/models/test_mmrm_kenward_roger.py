"""Kenward-Roger: adjusted covariance and df against SAS PROC MIXED on fev_data.

Reference values: ``tests/reference/mmrm/fev_kenward_roger_sas.json`` (SAS results
kept in R mmrm's test suite; provenance inside the file).

SAS parametrises every structure so that, for these models, its Kenward-Roger matches
the *linear* variant (second derivatives of the covariance dropped), which is
parametrisation free; the full variant depends on the parametrisation (ours: log
standard deviations, ``rho = phi / sqrt(1 + phi^2)``), so it is only checked to be a
small correction of the same size.

Tolerances: SE relative 5e-4 and df within 0.1; SAS stops its optimiser earlier than
we do (relative differences up to 1.2e-4 seen for csh and adh, as R mmrm's own tests
allow 1e-3 there).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ketex.models import mmrm
from tests.models.conftest import REFERENCE_DIR

REFERENCE = json.loads((REFERENCE_DIR / "fev_kenward_roger_sas.json").read_text())
FORMULA = "FEV1 ~ C(ARMCD, Treatment('PBO'))"


@pytest.mark.parametrize("row", REFERENCE["results"], ids=lambda r: r["covariance"])
def test_kenward_roger_linear_same_as_sas(fev_data, row):
    fit = mmrm(
        fev_data,
        FORMULA,
        subject="USUBJID",
        visit="AVISIT",
        covariance=row["covariance"],
        df="kenward_roger_linear",
    )
    arm = fit.coef.iloc[1]
    assert arm.se == pytest.approx(row["se_kenward_roger_linear"], rel=5e-4)
    assert arm.df == pytest.approx(row["df"], abs=0.1)


@pytest.mark.parametrize("covariance", ["us", "ar1", "csh"])
def test_full_kenward_roger_is_a_small_inflation(fev_data, covariance):
    model = mmrm(fev_data, FORMULA, subject="USUBJID", visit="AVISIT", covariance=covariance)
    full = mmrm(
        fev_data,
        FORMULA,
        subject="USUBJID",
        visit="AVISIT",
        covariance=covariance,
        df="kenward_roger",
    )
    ratio = full.coef["se"].to_numpy() / model.coef["se"].to_numpy()
    # the KR correction is O(1/n): within 5% of the model-based SE with 200 subjects
    assert np.all(np.abs(ratio - 1) < 0.05)
    # same df for one-row contrasts as the Satterthwaite df from the same W and P
    np.testing.assert_allclose(full.coef["df"], model.coef["df"], rtol=1e-8)


def test_kenward_roger_f_test_scales(fev_data):
    fit = mmrm(
        fev_data,
        "FEV1 ~ C(ARMCD, Treatment('PBO')) * AVISIT",
        subject="USUBJID",
        visit="AVISIT",
        df="kenward_roger_linear",
    )
    table = fit.anova().set_index("term")
    assert np.all(table["den_df"] > 100) and np.all(table["p_value"].between(0, 1))
