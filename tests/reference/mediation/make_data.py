"""Simulate ``mediation_trial.csv`` (fixed seed) for the mediation reference tests.

Run from the repository root: ``python tests/reference/mediation/make_data.py``.
140 participants of a two-arm exercise trial: ``exercise`` (0/1, randomised),
``dose_kkw`` (weekly exercise dose, continuous exposure), covariates ``age`` and
``madrs_base``; mediators ``vo2_change`` (VO2max change, mL/kg/min) and ``fit_gain``
(0/1: VO2max up by at least 2 mL/kg/min); outcomes ``madrs_change`` and ``response``
(0/1). Three participants miss ``vo2_change``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
N = 140


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261203)
    exercise = rng.permutation(np.repeat([0, 1], N // 2))
    dose = np.round(np.where(exercise == 1, rng.gamma(6.0, 2.5, N), rng.gamma(1.5, 2.0, N)), 2)
    age = rng.integers(19, 66, N)
    base = rng.integers(20, 45, N)
    vo2 = 0.5 + 2.5 * exercise - 0.03 * (age - 40) + rng.normal(0.0, 2.0, N)
    gain = (vo2 + rng.normal(0.0, 1.0, N) > 2.0).astype(int)
    change = (-8.0 - 3.0 * exercise - 0.9 * vo2 - 0.5 * exercise * vo2
              - 0.25 * (base - 32) + rng.normal(0.0, 5.0, N))
    response = (change + rng.normal(0.0, 3.0, N) < -14.0).astype(int)
    frame = pd.DataFrame({
        "participant_id": [f"P{i:03d}" for i in range(1, N + 1)],
        "exercise": exercise, "dose_kkw": dose, "age": age, "madrs_base": base,
        "vo2_change": np.round(vo2, 3), "fit_gain": gain,
        "madrs_change": np.round(change, 2), "response": response,
    })  # fmt: skip
    frame["vo2_change"] = frame["vo2_change"].astype(float)
    frame.loc[rng.choice(N, size=3, replace=False), "vo2_change"] = np.nan
    return frame


if __name__ == "__main__":
    make().to_csv(HERE / "mediation_trial.csv", index=False)
