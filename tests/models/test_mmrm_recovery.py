"""Recovery: simulate from a known covariance and known effects, fit, get them back."""

from __future__ import annotations

import numpy as np
import pytest

from ketex.models import mmrm
from tests.models.conftest import simulate_trial

TRUE_COVARIANCE = np.array(
    [[4.0, 2.4, 1.5, 1.0], [2.4, 6.0, 3.0, 2.0], [1.5, 3.0, 9.0, 4.5], [1.0, 2.0, 4.5, 12.0]]
)


@pytest.fixture(scope="module")
def fit():
    data = simulate_trial(
        n_subjects=3000,
        n_visits=4,
        seed=2024,
        covariance=TRUE_COVARIANCE,
        effects=(1.0, -2.0, 0.5),
        dropout=0.2,
    )
    return mmrm(
        data,
        "change ~ C(arm, Treatment('PBO')) + visit + baseline",
        subject="subject",
        visit="visit",
    )


def test_fixed_effects_recovered(fit):
    coef = fit.coef.set_index("term")
    truth = {
        "C(arm, Treatment('PBO'))[T.KET]": -2.0,
        "visit[T.W2]": 1.0,
        "visit[T.W3]": 2.0,
        "visit[T.W4]": 3.0,
        "baseline": 0.5,
    }
    for term, value in truth.items():
        # fixed seed; 4 SE is a bound a correct estimator breaks with probability < 1e-4
        assert abs(coef.loc[term, "estimate"] - value) < 4 * coef.loc[term, "se"], term
    # and the confidence intervals are about the right width: SE of the arm effect
    # with 3000 subjects and var 4 at W1 is about sqrt(4 * 4 / 3000) = 0.073
    assert 0.04 < coef.loc["C(arm, Treatment('PBO'))[T.KET]", "se"] < 0.1


def test_covariance_recovered(fit):
    estimate = fit.covariance_matrix.to_numpy()
    # sampling sd of a covariance entry with ~2500 subjects is below 4% of the
    # variances here; 15% relative to the matching variance scale is > 4 SD
    scale = np.sqrt(np.outer(np.diag(TRUE_COVARIANCE), np.diag(TRUE_COVARIANCE)))
    assert np.all(np.abs(estimate - TRUE_COVARIANCE) < 0.15 * scale)


def test_satterthwaite_df_near_number_of_subjects(fit):
    # arm is a between-subject effect: df close to the number of subjects minus a few
    arm = fit.coef.set_index("term").loc["C(arm, Treatment('PBO'))[T.KET]"]
    assert 0.8 * fit.n_subjects < arm.df < fit.n_subjects
