"""Make the small simulated data sets the R references are computed on.

Run from the repository root:  python tests/reference/mmrm/make_data.py
Deterministic (fixed seed); the CSVs it writes are committed beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VISITS = ["W1", "W2", "W3", "W4"]
TIMES = [1.0, 2.0, 4.0, 8.0]  # weeks: irregular spacing for the spatial structure


def simulate(n_subjects: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sd = np.array([3.0, 3.5, 4.0, 5.0])
    corr = np.array(
        [[1.0, 0.6, 0.45, 0.3], [0.6, 1.0, 0.55, 0.4], [0.45, 0.55, 1.0, 0.5], [0.3, 0.4, 0.5, 1.0]]
    )
    covariance = np.outer(sd, sd) * corr
    arm = rng.permutation(np.repeat(["PBO", "KET"], n_subjects // 2))
    baseline = np.round(rng.normal(32, 5, n_subjects), 1)
    mean = (
        np.array([-4.0, -6.0, -8.0, -9.0])[None, :]
        + np.where(arm == "KET", 1.0, 0.0)[:, None] * np.array([-3.0, -3.5, -2.5, -2.0])[None, :]
        - 0.3 * (baseline - 32)[:, None]
    )
    outcome = mean + rng.multivariate_normal(np.zeros(4), covariance, n_subjects)
    # dropout after each visit with probability 8%, plus 5% intermittent gaps
    dropped = np.cumsum(rng.random((n_subjects, 4)) < 0.08, axis=1) > 0
    dropped[:, 0] = False
    gaps = rng.random((n_subjects, 4)) < 0.05
    gaps[:, 0] = False
    outcome[dropped | gaps] = np.nan
    return pd.DataFrame(
        {
            "subject": np.repeat([f"P{i:03d}" for i in range(n_subjects)], 4),
            "arm": np.repeat(arm, 4),
            "visit": np.tile(VISITS, n_subjects),
            "visit_index": np.tile(np.arange(1, 5), n_subjects),
            "week": np.tile(TIMES, n_subjects),
            "baseline": np.repeat(baseline, 4),
            "change": np.round(outcome.ravel(), 3),
            "weight": np.round(rng.uniform(0.5, 2.0, n_subjects * 4), 3),
        }
    )


if __name__ == "__main__":
    simulate(120, seed=20240601).to_csv(HERE / "sim_mmrm.csv", index=False, na_rep="NA")
