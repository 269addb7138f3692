"""Simulate the two 2 x 2 factorial trials of ``factorial_trials.csv`` (fixed seed).

Run from the repository root: ``python tests/reference/factorial/make_data.py``.
``trial = "main"``: about 25 participants per cell, response risks 0.20 (neither),
0.35 (ketamine only), 0.30 (exercise only), 0.60 (both), 4 outcomes missing.
``trial = "small"``: 8 to 10 per cell, risks 0.3, 0.4, 0.4, 0.8 (small counts, where
MOVER and the delta method differ most).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
DESIGNS = {
    "main": {("no", "no"): (24, 0.20), ("yes", "no"): (26, 0.35),
             ("no", "yes"): (25, 0.30), ("yes", "yes"): (23, 0.60)},
    "small": {("no", "no"): (10, 0.3), ("yes", "no"): (9, 0.4),
              ("no", "yes"): (8, 0.4), ("yes", "yes"): (10, 0.8)},
}  # fmt: skip


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261202)
    rows = []
    for trial, cells in DESIGNS.items():
        for (ketamine, exercise), (n, risk) in cells.items():
            for response in rng.binomial(1, risk, size=n):
                rows.append((trial, ketamine, exercise, float(response)))
    frame = pd.DataFrame(rows, columns=["trial", "ketamine", "exercise", "response"])
    frame.insert(1, "participant_id", [f"P{i:03d}" for i in range(1, len(frame) + 1)])
    main = np.flatnonzero(frame["trial"] == "main")
    frame.loc[rng.choice(main, size=4, replace=False), "response"] = np.nan
    return frame


if __name__ == "__main__":
    make().to_csv(HERE / "factorial_trials.csv", index=False)
