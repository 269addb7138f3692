"""Recovery: the interaction's 95% CI covers the true interaction in about 95% of trials.

``tests/reference/factorial/simulate_interaction_coverage.py`` simulated 200 trials of the
bundled factorial sample's design, fitted each with the MMRM and took
``ketex.factorial_contrasts``'s interaction at WEEK12; it wrote one row per trial
(``interaction_coverage_trials.csv``) and the summary (``interaction_coverage.csv``). This
test checks the committed coverage against the binomial range of a correct 95% interval
in 200 trials, and re-runs the first five trials so the committed rows cannot drift from
what the code computes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

HERE = Path(__file__).resolve().parent / "reference" / "factorial"
SUMMARY = pd.read_csv(HERE / "interaction_coverage.csv").iloc[0]
TRIALS = pd.read_csv(HERE / "interaction_coverage_trials.csv")


def _script():
    path = HERE / "simulate_interaction_coverage.py"
    spec = importlib.util.spec_from_file_location("simulate_interaction_coverage", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_is_inside_the_binomial_range_of_a_95_percent_interval():
    n = 200
    assert SUMMARY["n_trials"] == len(TRIALS) == n and SUMMARY["nominal"] == 0.95
    # X ~ Binomial(200, 0.95): P(X < 184) < 0.025 and P(X > 196) < 0.025
    low, high = stats.binom.ppf(0.025, n, 0.95), stats.binom.isf(0.025, n, 0.95)
    assert (low, high) == (184, 196)
    assert (SUMMARY["expected_low"], SUMMARY["expected_high"]) == (low / n, high / n)
    truth = SUMMARY["true_interaction"]
    covered = int(((TRIALS["ci_low"] <= truth) & (truth <= TRIALS["ci_high"])).sum())
    assert covered == SUMMARY["covered"] == TRIALS["covered"].sum()
    assert low <= covered <= high
    assert SUMMARY["coverage"] == covered / n
    assert TRIALS["converged"].all()
    assert SUMMARY["true_interaction_mcse"] < 0.01
    # the estimator is unbiased within its Monte Carlo error
    assert abs(SUMMARY["bias"]) < 3 * TRIALS["estimate"].std() / np.sqrt(n)


def test_the_first_five_trials_are_what_the_script_computes():
    script = _script()
    assert SUMMARY["seed"] == script.SEED and SUMMARY["truth_seed"] == script.TRUTH_SEED
    again = script.trials(script.factorial_design(), range(5))
    committed = TRIALS.iloc[:5]
    assert again["seed"].tolist() == committed["seed"].tolist()
    assert again["n_obs"].tolist() == committed["n_obs"].tolist()
    for column in ("estimate", "se", "df", "ci_low", "ci_high"):
        np.testing.assert_allclose(again[column], committed[column], rtol=1e-7, atol=1e-9,
                                   err_msg=column)


@pytest.mark.parametrize("k", [0, 5, 200])
def test_clopper_pearson_limits(k):
    low, high = _script().clopper_pearson(k, 200)
    assert low <= k / 200 <= high
    if 0 < k:
        assert stats.binom.sf(k - 1, 200, low) == pytest.approx(0.025, rel=1e-8)
