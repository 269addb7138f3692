"""Write the factorial sample's primary analysis rows for the R MMRM reference.

Run from the repository root:  python tests/reference/factorial/make_mmrm_data.py
Writes ``mmrm_factorial_data.csv`` beside this file: the rows
``ketex.primary.primary_dataset`` gives for the bundled 2 x 2 factorial sample
(``ketex.sample_study_path(study="factorial")``, made by ``data/make_sample.py``):
analysed records of the visits after baseline, phantom rows (missing ``CHG``) included,
with the columns the model needs. The CSV is committed; the tests read it, so a new sample
does not silently change the reference.
"""

from __future__ import annotations

from pathlib import Path

import ketex
from ketex.primary import primary_dataset

HERE = Path(__file__).resolve().parent
COLUMNS = ["USUBJID", "ARM", "DRUG", "EXERCISE", "AVISIT", "AVISITN", "BASE", "CHG"]


def write(path: Path) -> None:
    trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    ds = primary_dataset(trial)[COLUMNS]
    ds.to_csv(path, index=False, float_format="%.10g")


if __name__ == "__main__":
    write(HERE / "mmrm_factorial_data.csv")
