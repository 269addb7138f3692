"""What ketex.mmrm refuses: a numeric visit used as a number, and data with no row to fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex import mmrm
from ketex.errors import DataValidationError


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    n = 40
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), 3), "visit": np.tile([2, 4, 12], n),
                          "arm": np.repeat(rng.permutation(np.repeat(["PBO", "KET"], n // 2)),
                                           3)})
    frame["change"] = (-2.0 * (frame["arm"] == "KET") + rng.normal(size=len(frame))
                       + np.repeat(rng.normal(size=n), 3))
    return frame


def test_a_numeric_visit_used_as_a_number_is_refused_naming_the_column(data):
    with pytest.raises(DataValidationError, match=r"the visit column 'visit' is numeric "
                       r"\(2, 4, 12\).*pd.Categorical\(data\['visit'\]\), or write C\(visit\)"):
        mmrm(data, "change ~ arm * visit", subject="id", visit="visit")


def test_a_numeric_visit_as_a_factor_fits_a_mean_per_visit(data):
    factor = mmrm(data.assign(visit=pd.Categorical(data["visit"])), "change ~ arm * visit",
                  subject="id", visit="visit")
    wrapped = mmrm(data, "change ~ arm * C(visit)", subject="id", visit="visit")
    assert len(factor.coef) == len(wrapped.coef) == 6
    np.testing.assert_allclose(wrapped.coef["estimate"], factor.coef["estimate"], rtol=1e-8)


def test_no_row_with_an_outcome_is_a_ketex_error_not_patsys(data):
    with pytest.raises(DataValidationError, match=r"outcome column 'change' has no value: all "
                       r"120 rows are missing"):
        mmrm(data.assign(change=np.nan), "change ~ arm * C(visit)", subject="id",
             visit="visit")
    with pytest.raises(DataValidationError, match="the data have no rows"):
        mmrm(data.iloc[:0], "change ~ arm * C(visit)", subject="id", visit="visit")
