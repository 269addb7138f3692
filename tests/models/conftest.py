"""Shared fixtures for the model tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference" / "mmrm"

FEV_FORMULA = (
    "FEV1 ~ C(ARMCD, Treatment('PBO')) * AVISIT + C(RACE, Treatment('Asian'))"
    " + C(SEX, Treatment('Male'))"
)


@pytest.fixture(scope="session")
def fev_data() -> pd.DataFrame:
    """R mmrm's ``fev_data`` (Apache-2.0), committed in ``tests/reference/mmrm/``."""
    return pd.read_csv(REFERENCE_DIR / "fev_data.csv")


def simulate_trial(
    n_subjects: int = 80,
    n_visits: int = 4,
    seed: int = 0,
    covariance=None,
    effects=(1.0, -2.0, 0.5),
    dropout: float = 0.15,
) -> pd.DataFrame:
    """Two-arm trial, long format, monotone dropout plus some intermittent gaps.

    ``effects`` = (visit slope, arm effect, baseline slope); the truth is
    ``change = slope * visit_index + arm_effect * KET + baseline_slope * (baseline - 20) + e``.
    """
    rng = np.random.default_rng(seed)
    if covariance is None:
        sd = np.linspace(2.0, 3.0, n_visits)
        corr = 0.6 ** np.abs(np.subtract.outer(np.arange(n_visits), np.arange(n_visits)))
        covariance = np.outer(sd, sd) * corr
    slope, arm_effect, base_slope = effects
    arm = rng.permutation(np.repeat(["PBO", "KET"], n_subjects // 2 + 1)[:n_subjects])
    baseline = rng.normal(20, 4, n_subjects)
    errors = rng.multivariate_normal(np.zeros(n_visits), covariance, n_subjects)
    visit_index = np.arange(n_visits)
    mean = (
        slope * visit_index[None, :]
        + arm_effect * (arm == "KET")[:, None]
        + base_slope * (baseline - 20)[:, None]
    )
    outcome = mean + errors
    last = np.where(
        rng.random(n_subjects) < dropout, rng.integers(1, n_visits, n_subjects), n_visits
    )
    observed = visit_index[None, :] < last[:, None]
    observed &= rng.random((n_subjects, n_visits)) > 0.05
    observed[:, 0] |= ~observed.any(axis=1)
    return pd.DataFrame(
        {
            "subject": np.repeat([f"S{i:03d}" for i in range(n_subjects)], n_visits),
            "visit": np.tile([f"W{v + 1}" for v in range(n_visits)], n_subjects),
            "time": np.tile(visit_index.astype(float), n_subjects),
            "arm": np.repeat(arm, n_visits),
            "baseline": np.repeat(baseline, n_visits),
            "change": np.where(observed, outcome, np.nan).ravel(),
            "weight": rng.uniform(0.5, 2.0, n_subjects * n_visits),
        }
    )
