"""Write the bundled sample study, ``ketex/data/sample/``, with the trial simulator (fixed seed).

Run from anywhere (``make sample`` does it): ``python data/make_sample.py``. Running it
twice gives byte-identical files; ``tests/simulate/test_sample.py`` checks that the
committed folder equals a fresh simulation, so regenerate and commit after changing the
simulator or the design.

The folder holds the study (``study.toml`` and the five tables, as written by
:func:`ketex.io.folder.write_trial`), plus ``design.toml`` (the simulator's design, its
``[design]`` section) and ``truth.csv`` (the latent truth, one row per participant);
readers ignore those two.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "ketex" / "data"  # package data: the samples ship in the wheel
sys.path.insert(0, str(REPO))  # the ketex of this checkout, installed or not

from ketex.io.folder import write_trial  # noqa: E402
from ketex.io.redcap import write_redcap  # noqa: E402
from ketex.io.sdtm import write_sdtm  # noqa: E402
from ketex.simulate import TrialDesign, simulate_trial  # noqa: E402
from ketex.study.trial import Trial  # noqa: E402

SEED = 1
DESIGN = TrialDesign()
SAMPLE = "sample"


def make_sample(root: Path = DATA) -> Trial:
    """Simulate the sample study and write it, and its other forms, under ``root``."""
    trial = simulate_trial(DESIGN, seed=SEED)
    folder = write_trial(trial, root / SAMPLE, format="csv")
    DESIGN.write(folder / "design.toml")
    trial.truth.to_csv(folder / "truth.csv", index=False, lineterminator="\n")
    write_other_forms(trial, root)
    return trial


def write_other_forms(trial: Trial, root: Path) -> None:
    """Write the sample in its other source formats, beside ``ketex/data/sample``.

    The REDCap export (records, data dictionary, mapping) goes to
    ``root / "sample_redcap"``, the CDISC SDTM datasets (CSV) to ``root / "sample_sdtm"``;
    all forms are made from this same ``trial``, so every reader loads
    an equal trial (``tests/io/test_sample_forms.py``).
    """
    write_redcap(trial, root / "sample_redcap")
    write_sdtm(trial, root / "sample_sdtm", format="csv")


if __name__ == "__main__":
    sample = make_sample()
    print(f"wrote {DATA / SAMPLE}: {sample!r}")
