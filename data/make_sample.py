"""Write the bundled sample studies, ``ketex/data/sample/`` and
``ketex/data/sample_factorial/``, with the trial simulator (fixed seeds).

Run from anywhere (``make sample`` does it): ``python data/make_sample.py``. Running it
twice gives byte-identical files; ``tests/simulate/test_sim_sample.py`` and
``tests/simulate/test_sim_factorial.py`` check that the committed folders equal a fresh
simulation, so regenerate and commit after changing the simulator or the designs.

The factorial sample (:data:`FACTORIAL_DESIGN`) is a 2 x 2 trial: IV ketamine 0.5 mg/kg or
midazolam 0.045 mg/kg (active placebo: no ketamine effect), six infusions over two weeks,
crossed with 12 weeks of aerobic cycling (the trial's programme, 16.1 KKW) or a stretching
control (2.3 METs, 5.4 KKW); 40 per cell. Its known synergy: the simulator's exercise
lengthens the ketamine effect and lowers the relapse hazard (ketamine arms only), and
ketamine + aerobic exercise has an added -2 MADRS from day 28 (``added_effects``). The
control cell, midazolam + stretching (:data:`FACTORIAL_REFERENCE`), is the primary
analysis's ``reference_arm`` (``[analysis.primary]``), so every comparison of the report
is with it and the factorial analysis's reference levels are midazolam and stretching.
The true course of every participant is in ``truth.csv``.

The folder holds the study (``study.toml`` and the five tables, as written by
:func:`ketex.io.folder.write_trial`), plus ``design.toml`` (the simulator's design, its
``[design]`` section) and ``truth.csv`` (the latent truth, one row per participant);
readers ignore those two. The Yale sample also has a ``streams/`` folder
(:func:`write_sample_streams`): simulated per-second recordings of some sessions, as
Parquet and ``.fit`` files (writing FIT needs fit-tool, ``pip install 'ketex[fit]'``).
Each sample is also written in its other source forms, from the
same trial: a REDCap export (``sample_redcap/``, ``sample_factorial_redcap/``) and CDISC
SDTM datasets (``sample_sdtm/``, ``sample_factorial_sdtm/``); ``tests/io/test_sample_forms.py``
checks that every reader loads an equal trial.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "ketex" / "data"  # package data: the samples ship in the wheel
sys.path.insert(0, str(REPO))  # the ketex of this checkout, installed or not

from ketex.io.folder import write_trial  # noqa: E402
from ketex.io.redcap import write_redcap  # noqa: E402
from ketex.io.sdtm import write_sdtm  # noqa: E402
from ketex.simulate import (  # noqa: E402
    AddedEffectDesign,
    ArmDesign,
    ExerciseDesign,
    SafetyDesign,
    TrialDesign,
    simulate_trial,
)
from ketex.simulate.streams import simulate_streams  # noqa: E402
from ketex.streams.write import write_streams  # noqa: E402
from ketex.study.trial import Trial  # noqa: E402

SEED = 1
DESIGN = TrialDesign()
SAMPLE = "sample"
#: Device streams of the sample: the first participants of each arm (by identifier), their
#: sessions of programme weeks 1-4; each arm's shortest such session as a .fit file, the
#: rest as Parquet (a FIT file is slow to decode: load_trial checks every recording).
STREAM_PARTICIPANTS_PER_ARM = 4
STREAM_LAST_DAY = 28

SERIES = (1, 3, 5, 8, 10, 12)
STRETCHING = ExerciseDesign(
    modality="stretching", intensity="light", hrr_fraction=(0.10, 0.30), target_met=2.3,
    initial_met_mean=2.3, initial_met_sd=0.2, training_met_gain=0.0, hrr_fraction_mean=0.2,
)


def _cell(code: str, label: str, drug: str, exercise: str) -> ArmDesign:
    ketamine = drug == "ketamine"
    return ArmDesign(
        code, label, SERIES, dose_mg_per_kg=0.5 if ketamine else 0.045, drug=drug,
        role="active" if ketamine else "active_placebo",
        exercise=None if exercise == "aerobic" else STRETCHING,
        factors=(("drug", drug), ("exercise", exercise)),
    )


FACTORIAL_SEED = 2
FACTORIAL_DESIGN = TrialDesign(
    study_id="KETEX-FACTORIAL",
    title="Simulated 2 x 2 factorial: IV ketamine vs midazolam (active placebo), each with "
    "12 weeks of aerobic cycling or stretching",
    arms=(
        _cell("KET_AEX", "Ketamine + aerobic exercise", "ketamine", "aerobic"),
        _cell("KET_STR", "Ketamine + stretching", "ketamine", "stretching"),
        _cell("MID_AEX", "Midazolam + aerobic exercise", "midazolam", "aerobic"),
        _cell("MID_STR", "Midazolam + stretching", "midazolam", "stretching"),
    ),
    added_effects=(AddedEffectDesign("KET_AEX", -2.0, onset_days=28),),
    # adverse events, infusion-day vital signs and medications: ketamine against its
    # active placebo is the safety comparison such a trial reports
    safety=SafetyDesign(),
)
FACTORIAL = "sample_factorial"
#: The factorial's control cell: the reference arm of its primary analysis.
FACTORIAL_REFERENCE = "MID_STR"


def make_sample(root: Path = DATA) -> Trial:
    """Simulate the sample study and write it, and its other forms, under ``root``."""
    trial = simulate_trial(DESIGN, seed=SEED)
    folder = write_trial(trial, root / SAMPLE, format="csv")
    DESIGN.write(folder / "design.toml")
    trial.truth.to_csv(folder / "truth.csv", index=False, lineterminator="\n")
    write_sample_streams(trial, folder)
    write_other_forms(trial, root)
    return trial


def write_sample_streams(trial: Trial, folder: Path) -> Path:
    """Simulate device streams for some of the sample's sessions into ``folder/streams``.

    Extra files: the tables are unchanged, and a study folder without ``streams/`` (the
    other forms) loads an equal trial. Returns the manifest.
    """
    people = trial.participants.sort_values("participant_id")
    ids = [pid for arm in DESIGN.arms
           for pid in people.loc[people["arm"] == arm.code, "participant_id"]
           .head(STREAM_PARTICIPANTS_PER_ARM)]  # fmt: skip
    streams = simulate_streams(trial, ids, seed=SEED)
    streams = streams[streams["day"] <= STREAM_LAST_DAY]
    sessions = trial.exercise[trial.exercise["participant_id"].isin(ids)
                              & (trial.exercise["day"] <= STREAM_LAST_DAY)]
    arm = trial.participants.set_index("participant_id")["arm"]
    sessions = sessions.assign(arm=arm.loc[sessions["participant_id"]].to_numpy())
    shortest = sessions.sort_values(["duration_min", "participant_id", "day"],
                                    kind="stable").groupby("arm").head(1)  # fmt: skip
    fit = [(pid, f"day{day:03d}") for pid, day in zip(shortest["participant_id"],
                                                      shortest["day"], strict=True)]
    return write_streams(streams, folder / "streams", fit=fit)


def write_other_forms(trial: Trial, root: Path, name: str = SAMPLE) -> None:
    """Write a sample in its other source formats, beside its study folder ``root / name``.

    The REDCap export (records, data dictionary, mapping) goes to
    ``root / f"{name}_redcap"``, the CDISC SDTM datasets (CSV) to ``root / f"{name}_sdtm"``;
    all forms are made from this same ``trial``, so every reader loads
    an equal trial (``tests/io/test_sample_forms.py``). The safety tables (the
    factorial's adverse events, vitals, medications) go to both forms too.
    """
    write_redcap(trial, root / f"{name}_redcap")
    write_sdtm(trial, root / f"{name}_sdtm", format="csv")


def factorial_trial() -> Trial:
    """The simulated 2 x 2 factorial, its primary analysis compared with the control cell."""
    trial = simulate_trial(FACTORIAL_DESIGN, seed=FACTORIAL_SEED)
    protocol = trial.protocol
    primary = dataclasses.replace(protocol.analysis.primary, reference_arm=FACTORIAL_REFERENCE)
    analysis = dataclasses.replace(protocol.analysis, primary=primary)
    return dataclasses.replace(trial, protocol=dataclasses.replace(protocol, analysis=analysis))


def make_factorial_sample(root: Path = DATA) -> Trial:
    """Simulate the 2 x 2 factorial sample and write it, and its other forms, under ``root``."""
    trial = factorial_trial()
    folder = write_trial(trial, root / FACTORIAL, format="csv")
    FACTORIAL_DESIGN.write(folder / "design.toml")
    trial.truth.to_csv(folder / "truth.csv", index=False, lineterminator="\n")
    write_other_forms(trial, root, FACTORIAL)
    return trial


if __name__ == "__main__":
    sample = make_sample()
    print(f"wrote {DATA / SAMPLE}: {sample!r}")
    factorial = make_factorial_sample()
    print(f"wrote {DATA / FACTORIAL}: {factorial!r}")
