"""Simulate the multi-arm trial of the multiplicity reference (fixed seed).

Run from the repository root:  python tests/reference/multiarm/make_data.py
Writes ``multiarm_data.csv`` beside this file: the primary analysis rows
(``ketex.primary.primary_dataset``) of a trial simulated by ``ketex.simulate`` with four
arms, 30 per arm: ``CTRL`` (midazolam 0.045 mg/kg + stretching, the control), ``KET``
(ketamine 0.5 mg/kg + stretching), ``KET_AEX`` (ketamine + aerobic cycling) and
``MID_AEX`` (midazolam + aerobic cycling), six infusions each,
restricted to the visits WEEK2 ... WEEK24 (nine visits: a small unstructured
covariance). The three-arm reference is its CTRL, KET and KET_AEX rows (two contrasts per
visit); the four-arm one all rows (three). The CSV is committed; the tests read it.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # this checkout's ketex

from ketex.primary import primary_dataset  # noqa: E402
from ketex.simulate import ArmDesign, ExerciseDesign, TrialDesign, simulate_trial  # noqa: E402

SEED = 10
SERIES = (1, 3, 5, 8, 10, 12)
STRETCHING = ExerciseDesign(
    modality="stretching", intensity="light", hrr_fraction=(0.10, 0.30), target_met=2.3,
    initial_met_mean=2.3, initial_met_sd=0.2, training_met_gain=0.0, hrr_fraction_mean=0.2,
)
DESIGN = TrialDesign(
    study_id="KETEX-MULTIARM",
    title="Simulated three-arm trial: midazolam + stretching (control), ketamine + "
    "stretching, ketamine + aerobic cycling",
    arms=(
        ArmDesign("CTRL", "Midazolam + stretching", SERIES, dose_mg_per_kg=0.045,
                  drug="midazolam", role="active_placebo", exercise=STRETCHING),
        ArmDesign("KET", "Ketamine + stretching", SERIES, exercise=STRETCHING),
        ArmDesign("KET_AEX", "Ketamine + aerobic cycling", SERIES),
        ArmDesign("MID_AEX", "Midazolam + aerobic cycling", SERIES, dose_mg_per_kg=0.045,
                  drug="midazolam", role="active_placebo"),
    ),
    n_per_arm=30,
)
COLUMNS = ["USUBJID", "ARM", "AVISIT", "AVISITN", "BASE", "CHG"]


def frame():
    ds = primary_dataset(simulate_trial(DESIGN, seed=SEED))
    ds = ds[ds["AVISIT"].astype(str).str.startswith("WEEK")]
    return ds[COLUMNS].reset_index(drop=True)


if __name__ == "__main__":
    frame().to_csv(HERE / "multiarm_data.csv", index=False, float_format="%.10g")
