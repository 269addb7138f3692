"""Log-rank and G-rho tests against R's survdiff (survival 3.5.3).

Reference: ``tests/reference/survival/reference_survival.R``, e.g.::

    survdiff(Surv(days, relapsed) ~ arm + strata(site), data = relapse, rho = 1)

Tolerance: relative 1e-10 (closed form).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex.errors import DataValidationError
from ketex.survival import logrank_test
from tests.survival.conftest import as_array, load

RTOL = 1e-10


@pytest.fixture(params=range(12), ids=lambda i: f"case{i}")
def case(request, reference):
    return reference["logrank"][request.param]


def test_same_as_survdiff(case):
    data = load("tiny" if case["name"] == "tiny" else "relapse")
    test = logrank_test(
        data,
        time="days",
        event="relapsed",
        group="severity" if case["name"] == "severity" else "arm",
        strata="site" if "strata" in case["name"] else None,
        rho=case["rho"],
    )
    assert test.table["group"].astype(str).tolist() == case["groups"]
    assert test.table["n"].tolist() == case["n"]
    np.testing.assert_allclose(test.table["observed"], case["observed"], rtol=RTOL)
    np.testing.assert_allclose(test.table["expected"], case["expected"], rtol=RTOL)
    np.testing.assert_allclose(test.variance.to_numpy(), np.array(case["var"]), rtol=RTOL,
                               atol=1e-12)  # fmt: skip
    assert test.statistic == pytest.approx(case["chisq"], rel=RTOL)
    assert test.df == case["df"]
    assert test.p_value == pytest.approx(as_array(case["p_value"])[0], rel=1e-8)


def test_hand_computed_two_by_two():
    """Four participants, one event per arm at different times.

    t=1: n=4 (2 per arm), one death in A: E_A = 1/2, V = 1*(3)/(3) * 1/2 * 1/2 = 1/4.
    t=2: n=2 (one per arm; B's second censored at 1.5 is gone), death in B: E_A = 1/2,
    V = 1/4. O_A - E_A = 1 - 1 = 0, so chi-square 0.
    """
    d = pd.DataFrame({"t": [1, 3, 1.5, 2], "e": [1, 0, 0, 1], "arm": ["A", "A", "B", "B"]})
    test = logrank_test(d, time="t", event="e", group="arm")
    assert test.table["expected"].tolist() == pytest.approx([1.0, 1.0])
    assert test.variance.iloc[0, 0] == pytest.approx(0.5)
    assert test.statistic == pytest.approx(0.0, abs=1e-15)


def test_weighted_observed_uses_left_continuous_km():
    """rho = 1: the second event time gets weight S(2-) = 3/4."""
    d = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 0], "arm": ["A", "B", "A", "B"]})
    test = logrank_test(d, time="t", event="e", group="arm", rho=1)
    assert test.table["observed"].tolist() == pytest.approx([1.0, 0.75])


def test_needs_two_groups_and_valid_rho(tiny):
    with pytest.raises(DataValidationError, match="at least two groups"):
        logrank_test(tiny[tiny["arm"] == "a"], time="days", event="relapsed", group="arm")
    with pytest.raises(ValueError, match="rho"):
        logrank_test(tiny, time="days", event="relapsed", group="arm", rho=-1)
    with pytest.raises(ValueError, match="strata column 'site' is not in the data"):
        logrank_test(tiny, time="days", event="relapsed", group="arm", strata="site")
