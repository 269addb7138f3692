"""ketex.glmm recovers known effects from data simulated from the model itself.

Truth: ``logit P(y_ij = 1) = -1 + 0.8 KET + 0.15 week_j + b_i``, ``b_i ~ N(0, 1.2^2)``.
Deterministic (fixed seeds). Bounds, with reasons:
- one large trial (500 participants x 5 visits): each estimate within 4 SEs of the truth
  (for an unbiased, normal estimator this fails with probability 6e-5 per parameter);
  the Laplace approximation biases the SD downwards with few binary observations per
  group, so the SD bound is one-sided for it and AGQ (15 nodes) must come closer;
- 25 small trials (60 x 4): the 95% CIs of the arm effect cover the truth in at least
  21 (at 95% coverage fewer happens with probability 0.0012; at 70% coverage, SEs
  badly too small, 21 or more happens with probability 0.09).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex.models.glmm import glmm

TRUTH = {"Intercept": -1.0, "C(arm, Treatment('PBO'))[T.KET]": 0.8, "week": 0.15}
SD = 1.2
FORMULA = "response ~ C(arm, Treatment('PBO')) + week"


def simulate(n: int, visits: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["PBO", "KET"], n // 2))
    week = np.tile(np.arange(1, visits + 1) * 2.0, n)
    eta = (TRUTH["Intercept"] + TRUTH["C(arm, Treatment('PBO'))[T.KET]"] * np.repeat(
        arm == "KET", visits) + TRUTH["week"] * week + np.repeat(rng.normal(0, SD, n), visits))
    return pd.DataFrame({
        "id": np.repeat(np.arange(n), visits),
        "arm": np.repeat(arm, visits),
        "week": week,
        "response": (rng.random(n * visits) < 1 / (1 + np.exp(-eta))).astype(int),
    })


@pytest.fixture(scope="module")
def large():
    return simulate(500, 5, seed=101)


@pytest.mark.parametrize("nagq", [1, 15])
def test_large_trial_recovers_effects(large, nagq):
    fit = glmm(large, FORMULA, subject="id", nagq=nagq)
    coef = fit.coef.set_index("term")
    deviation = (coef["estimate"] - pd.Series(TRUTH)) / coef["se"]
    assert deviation.abs().max() < 4
    sd = fit.variance_components.iloc[0]
    assert abs(sd["estimate"] - SD) < 4 * sd["se"]


def test_quadrature_corrects_the_laplace_bias_of_the_sd(large):
    laplace = glmm(large, FORMULA, subject="id", nagq=1).random_effect_sd
    quadrature = glmm(large, FORMULA, subject="id", nagq=15).random_effect_sd
    assert laplace < quadrature
    assert abs(quadrature - SD) < abs(laplace - SD)


def test_confidence_intervals_cover_the_arm_effect():
    term = "C(arm, Treatment('PBO'))[T.KET]"
    covered = 0
    for seed in range(25):
        fit = glmm(simulate(60, 4, seed=1000 + seed), FORMULA, subject="id", nagq=5)
        row = fit.coef.set_index("term").loc[term]
        covered += row["ci_low"] <= TRUTH[term] <= row["ci_high"]
    assert covered >= 21
