"""What power analyses need from the simulator: a known arm effect, the fast path to the
change scores (equal to the full path), and the true difference from counterfactual twins."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.simulate import (
    AddedEffectDesign,
    ArmDesign,
    DropoutDesign,
    KetamineDesign,
    MeasurementDesign,
    TrialDesign,
    simulate_trial,
)
from ketex.simulate.fast import simulate_changes, true_difference
from ketex.simulate.power import null_design

SMALL = dataclasses.replace(TrialDesign(), n_per_arm=15)


def test_added_effects_round_trip_through_toml_and_leave_other_designs_unchanged():
    design = dataclasses.replace(
        TrialDesign(), added_effects=(AddedEffectDesign("SERIES", -2.5, onset_days=28.0),))
    assert TrialDesign.from_toml_text(design.to_toml()) == design
    assert "added_effects" not in TrialDesign().to_toml()  # the sample's design.toml as before


def test_added_effects_name_known_arms_once():
    with pytest.raises(ValueError, match="PLACEBO not among SINGLE, SERIES"):
        dataclasses.replace(TrialDesign(), added_effects=(AddedEffectDesign("PLACEBO", -1.0),))
    with pytest.raises(ValueError, match="SERIES more than one effect"):
        dataclasses.replace(TrialDesign(), added_effects=(
            AddedEffectDesign("SERIES", -1.0), AddedEffectDesign("SERIES", -2.0)))
    with pytest.raises(ValueError, match="onset_days must be >= 0"):
        AddedEffectDesign("SERIES", -1.0, onset_days=-3)


def test_an_added_effect_shifts_the_true_course_of_its_arm_only():
    # without ketamine nothing else depends on the arm, so the shift is exact (unless the
    # 0-60 clip binds, which a score near 24 at week 12 does not reach)
    plain = dataclasses.replace(SMALL, ketamine=KetamineDesign(acute_effect_madrs=0.0))
    shifted = dataclasses.replace(plain, added_effects=(AddedEffectDesign("SERIES", -3.0),))
    before, after = simulate_trial(plain, 5).truth, simulate_trial(shifted, 5).truth
    series = (before["arm"] == "SERIES").to_numpy(bool)
    change = (after["true_madrs_WEEK12"] - before["true_madrs_WEEK12"]).to_numpy()
    assert np.allclose(change[series], -3.0, atol=1e-12)
    assert np.allclose(change[~series], 0.0, atol=1e-12)
    assert (after["true_madrs_BASELINE"] == before["true_madrs_BASELINE"]).all()


def _analysed(design, seed, visits):
    data = ketex.analysis_dataset(simulate_trial(design, seed))
    keep = (data["ANL01FL"] == "Y").fillna(False) & data["AVISIT"].isin(visits)
    data = data[keep.to_numpy(bool)].reset_index(drop=True)
    return data[["USUBJID", "ARM", "AVISIT", "AVAL", "BASE", "CHG"]]


@pytest.mark.parametrize("design", [
    SMALL,  # blank items (prorated or unscorable totals), MCAR + MAR dropout, 24-hour visits
    dataclasses.replace(SMALL, dropout=DropoutDesign(0.1, 0.1, mnar_probability=0.2),
                        measurement=MeasurementDesign(missing_item_probability=0.0),
                        added_effects=(AddedEffectDesign("SINGLE", 2.0, onset_days=30),)),
], ids=["sample", "mnar-no-blanks"])
def test_fast_change_scores_equal_the_analysis_dataset_of_the_full_trial(design):
    visits = ["INF1_24H", "WEEK2", "WEEK4", "WEEK12", "WEEK24"]
    prorated = []
    for seed in (0, 7):
        fast = simulate_changes(design, seed, visits)
        full = _analysed(design, seed, visits)
        assert fast["AVISIT"].cat.categories.tolist() == visits
        pd.testing.assert_frame_equal(
            fast.astype({"AVISIT": str}), full.astype({"AVISIT": str}), check_exact=True)
        assert fast["CHG"].isna().any()  # dropouts are there as missing rows
        prorated.append(bool((fast[["AVAL", "BASE"]] % 1 > 0).any(axis=None)))
    # the blank-item path (prorating) was exercised where items go blank
    assert any(prorated) == (design.measurement.missing_item_probability > 0)


def test_fast_change_scores_reject_unknown_visits():
    with pytest.raises(ValueError, match="WEEK5 not among the MADRS visits"):
        simulate_changes(SMALL, 0, ["WEEK5"])
    with pytest.raises(ValueError, match="BASELINE not among"):
        simulate_changes(SMALL, 0, ["BASELINE"])


def test_counterfactual_twins_share_every_draw():
    # under the null design both twins live the same life: every difference is exactly 0
    truth = true_difference(null_design(TrialDesign()), "SERIES", "SINGLE", "WEEK12",
                            chunk=1000)
    assert (truth.estimate, truth.mcse, truth.n_participants) == (0.0, 0.0, 1000)


def test_true_difference_of_the_sample_design_fades_by_week_12():
    # six infusions vs one: a large true difference two weeks in, none left at week 12
    design = TrialDesign()
    early = true_difference(design, "SERIES", "SINGLE", "WEEK2", target_mcse=0.05)
    late = true_difference(design, "SERIES", "SINGLE", "WEEK12", target_mcse=0.01)
    assert -14 < early.estimate < -11 and early.mcse <= 0.05  # about -12.6
    assert abs(late.estimate) < 0.05 and late.mcse <= 0.01


def test_true_difference_checks_its_arguments():
    with pytest.raises(ValueError, match="treatment: 'PLACEBO' is not an arm"):
        true_difference(TrialDesign(), "PLACEBO", "SINGLE", "WEEK12")
    with pytest.raises(ValueError, match="'INF6_24H' is not scheduled for every arm"):
        true_difference(TrialDesign(), "SERIES", "SINGLE", "INF6_24H")


def test_null_design_gives_every_arm_the_control_treatment():
    design = dataclasses.replace(
        TrialDesign(), arms=(ArmDesign("A", infusion_days=(1, 8)), ArmDesign("B")),
        added_effects=(AddedEffectDesign("B", -2.0),))
    null = null_design(design, control="B")
    assert [(a.code, a.infusion_days) for a in null.arms] == [("A", (1,)), ("B", (1,))]
    assert null.added_effects is None
    with pytest.raises(ValueError, match="control: 'C' is not an arm"):
        null_design(design, control="C")
