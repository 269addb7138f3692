"""Write the HAM-D17 test study: participants and assessments only, two arms, drop-out.

A conventional antidepressant trial as a new user brings it: HAM-D17 totals at baseline
and weeks 1, 2, 4 and 6, arms DRUG and PLACEBO, no infusions, no exercise, no age column.
Run from the repository root: ``python tests/data/hamd/make_hamd.py``; a test checks the
committed files equal a fresh run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261203
N_PER_ARM = 24
WEEKS = (1, 2, 4, 6)

STUDY = """[study]
id = "HAMD-TEST"
title = "Drug vs placebo, HAM-D17 at weeks 1, 2, 4 and 6 (test study)"
primary_scale = "HAM-D17"

[[arms]]
code = "PLACEBO"
label = "Placebo"

[[arms]]
code = "DRUG"
label = "Drug"

[[visits]]
name = "BASELINE"
day = 0
window = [-7, 0]

[[visits]]
name = "WEEK1"
day = 7
window = [4, 10]

[[visits]]
name = "WEEK2"
day = 14
window = [11, 17]

[[visits]]
name = "WEEK4"
day = 28
window = [25, 31]

[[visits]]
name = "WEEK6"
day = 42
window = [39, 45]

[endpoints]
baseline_visit = "BASELINE"
primary_visit = "WEEK6"
remission_preset = "HAM-D17<=7"
"""


def rows(seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """Participants and assessments: per-visit drop-out 6%, drug 3 points better by week 6."""
    rng = np.random.default_rng(seed)
    people, ratings = [], []
    arms = rng.permutation(["PLACEBO", "DRUG"] * N_PER_ARM)
    for i, arm in enumerate(arms, start=1):
        pid = f"H{i:03d}"
        people.append({"participant_id": pid, "arm": arm, "sex": rng.choice(["F", "M"]),
                       "site": rng.choice(["S1", "S2"])})
        base = int(np.clip(np.round(rng.normal(24, 3)), 18, 34))
        subject = rng.normal(0, 3)
        ratings.append({"participant_id": pid, "day": int(rng.integers(-5, 1)),
                        "visit": "BASELINE", "instrument": "HAM-D17", "total": base})
        for week in WEEKS:
            if rng.random() < 0.06:
                break
            effect = -3.0 * (arm == "DRUG") * min(week / 4, 1)
            mean = base - 8 * (1 - np.exp(-week / 2.5)) + effect + subject
            total = int(np.clip(np.round(mean + rng.normal(0, 2.5)), 0, 52))
            ratings.append({"participant_id": pid, "day": 7 * week + int(rng.integers(-2, 3)),
                            "visit": f"WEEK{week}", "instrument": "HAM-D17", "total": total})
    return people, ratings


def write(folder: Path = HERE) -> None:
    people, ratings = rows()
    (folder / "study.toml").write_text(STUDY, encoding="utf-8")
    for name, table in (("participants", people), ("assessments", ratings)):
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(table[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(table)


if __name__ == "__main__":
    write()
