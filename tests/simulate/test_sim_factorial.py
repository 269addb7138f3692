"""The bundled 2 x 2 factorial sample: made by data/make_sample.py, loads, validates, and
each arm follows its own drug and exercise programme."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.io.adam import adsl
from ketex.simulate import TrialDesign, simulate_trial
from ketex.simulate.fast import true_difference

DATA = Path(__file__).resolve().parents[2] / "data"
FOLDER = DATA.parent / "ketex" / "data" / "sample_factorial"
ARMS = ["KET_AEX", "KET_STR", "MID_AEX", "MID_STR"]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("make_sample", DATA / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh(script):
    return script.factorial_trial()


@pytest.fixture(scope="module")
def sample():
    return ketex.load_trial(ketex.sample_study_path(study="factorial"), on_error="raise")


def test_committed_factorial_equals_a_fresh_simulation(script, sample, fresh):
    assert ketex.sample_study_path(study="factorial") == FOLDER
    assert TrialDesign.read(FOLDER / "design.toml") == script.FACTORIAL_DESIGN
    assert sample.differences(fresh) == []
    # the simulated trial, its primary analysis compared with the control cell
    simulated = simulate_trial(script.FACTORIAL_DESIGN, seed=script.FACTORIAL_SEED)
    assert fresh.participants.equals(simulated.participants)
    assert simulated.protocol.analysis.primary.reference_arm is None
    assert sample.protocol.analysis.primary.reference_arm == "MID_STR"
    strings = {"participant_id": "string", "arm": "string", "site": "string"}
    committed = pd.read_csv(FOLDER / "truth.csv", dtype=strings)
    pd.testing.assert_frame_equal(committed, fresh.truth, check_exact=False, rtol=1e-12)


FORMS = ["sample_factorial", "sample_factorial_redcap", "sample_factorial_sdtm"]


def test_make_factorial_sample_is_byte_reproducible(script, tmp_path):
    # the study folder and its REDCap and SDTM forms
    script.make_factorial_sample(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == FORMS
    for form in FORMS:
        committed = FOLDER.parent / form
        names = sorted(p.name for p in (tmp_path / form).iterdir())
        assert names == sorted(p.name for p in committed.iterdir()), form
        for name in names:
            assert (tmp_path / form / name).read_bytes() == (
                committed / name).read_bytes(), f"{form}/{name}"


def test_loads_without_errors_as_a_2x2_factorial(sample):
    assert set(sample.report["severity"]) <= {"warning"}
    assert set(sample.report["rule"]) <= {"total_not_scorable"}  # no drug_not_in_arm
    protocol = sample.protocol
    assert protocol.arm_codes == tuple(ARMS)
    assert protocol.factors == {"drug": ("ketamine", "midazolam"),
                                "exercise": ("aerobic", "stretching")}
    assert sample.participants.groupby("arm").size().to_dict() == dict.fromkeys(ARMS, 40)
    assert protocol.arm("MID_STR").treatments[0].role == "active_placebo"
    assert protocol.arm("MID_STR").treatments[0].dose == 0.045
    assert protocol.exercise_for("KET_STR").modality == "stretching"
    assert protocol.exercise_for("KET_AEX").modality == "cycling"
    drugs = sample.infusions.merge(sample.participants[["participant_id", "arm"]])
    assert drugs.groupby("arm")["drug"].unique().map(tuple).to_dict() == {
        "KET_AEX": ("ketamine",), "KET_STR": ("ketamine",),
        "MID_AEX": ("midazolam",), "MID_STR": ("midazolam",)}


def test_arms_follow_their_own_exercise_programme(sample):
    dose = ketex.exercise_dose(sample, by="participant").groupby("arm")
    # aerobic: 0.0175 x 6.8 MET x 45 min x 3 = 16.1 KKW; stretching 2.3 METs: 5.4 KKW
    assert dose["target_kkw"].unique().map(tuple).to_dict() == {
        "KET_AEX": (16.1,), "KET_STR": (5.4,), "MID_AEX": (16.1,), "MID_STR": (5.4,)}
    kkw = dose["kkw"].mean()
    assert kkw[["KET_STR", "MID_STR"]].max() < 5.4 < kkw[["KET_AEX", "MID_AEX"]].min()
    sessions = sample.exercise.merge(sample.participants[["participant_id", "arm"]])
    stretching = sessions["arm"].str.endswith("_STR")
    assert set(sessions.loc[stretching, "modality"]) == {"stretching"}
    assert sessions.loc[stretching, "watts"].isna().all()  # no power in stretching
    assert sessions.loc[~stretching, "watts"].notna().all()


def test_midazolam_has_no_ketamine_effect():
    truth = pd.read_csv(FOLDER / "truth.csv", dtype={"arm": "string"})
    # relapse is the loss of the ketamine effect: none without ketamine
    assert not truth.loc[truth["arm"].str.startswith("MID"), "relapsed"].any()
    assert truth.loc[truth["arm"].str.startswith("KET"), "relapsed"].any()
    # 24 hours after the first infusion (day 2) the true score is the untreated level less
    # the nonspecific improvement 8 x (1 - exp(-2/21)) = 0.727, less a little exercise
    # (one day of 28-day build-up: at most 0.5 x KKW x 0.035 < 0.5), less ketamine's 14
    below = (truth["untreated_madrs"] - truth["true_madrs_INF1_24H"]).groupby(truth["arm"])
    nonspecific = 8 * (1 - np.exp(-2 / 21))
    for arm in ("MID_AEX", "MID_STR"):
        assert below.get_group(arm).between(nonspecific, nonspecific + 0.5).all(), arm
    for arm in ("KET_AEX", "KET_STR"):
        unclipped = truth.loc[truth["arm"] == arm, "true_madrs_INF1_24H"] > 0
        values = below.get_group(arm)[unclipped]
        assert values.between(14 + nonspecific, 14 + nonspecific + 0.5).all(), arm


def test_true_interaction_from_counterfactual_twins(script):
    design = script.FACTORIAL_DESIGN

    def effect(a, b, visit):
        return true_difference(design, a, b, visit, chunk=2000, max_participants=2000)

    for visit in ("WEEK4", "WEEK12"):
        aerobic_with_ketamine = effect("KET_AEX", "KET_STR", visit)
        aerobic_with_midazolam = effect("MID_AEX", "MID_STR", visit)
        ketamine_with_stretching = effect("KET_STR", "MID_STR", visit)
        interaction = aerobic_with_ketamine.estimate - aerobic_with_midazolam.estimate
        mcse = np.hypot(aerobic_with_ketamine.mcse, aerobic_with_midazolam.mcse)
        if visit == "WEEK4":
            # the ketamine effect is still there and exercise lengthens it: synergy beyond
            # the added -2
            assert interaction < -2.0 - 4 * mcse
            assert ketamine_with_stretching.estimate < -1.0
        else:
            # ten weeks after the last infusion the ketamine effect is gone (half-life about
            # 5-7 days), so ketamine alone does not differ from midazolam and the interaction
            # is the added -2 of ketamine + aerobic exercise
            assert abs(ketamine_with_stretching.estimate) < 0.05
            assert abs(interaction - (-2.0)) < 4 * mcse + 0.05


def test_adsl_and_summary_name_the_factorial_cells(sample):
    table = adsl(sample)
    assert (table["TRT01A"] == table["TRT01P"]).all()
    cells = table.groupby(["DRUG", "EXERCISE"]).size()
    assert cells.to_dict() == {("ketamine", "aerobic"): 40, ("ketamine", "stretching"): 40,
                               ("midazolam", "aerobic"): 40, ("midazolam", "stretching"): 40}
    by_arm = ketex.summarize(sample).by_arm.set_index("arm")
    assert by_arm.loc["MID_STR", "exercise"] == "stretching 3 x 45 min/week, 12 weeks"
    assert by_arm.loc["KET_AEX", "exercise"] == "cycling 3 x 45 min/week, 12 weeks"
