"""The simulator's safety data (SafetyDesign): absent by default, valid, and showing the
designed difference between ketamine and an active placebo in the derivations and tables."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import ketex
from ketex.io.folder import load_trial, write_trial
from ketex.io.sdtm import load_sdtm, write_sdtm
from ketex.report.safety_tables import (
    adverse_event_table,
    infusion_vitals_table,
    teae_overview_table,
)
from ketex.simulate import (
    AdverseEventDesign,
    ArmDesign,
    SafetyDesign,
    TrialDesign,
    simulate_trial,
)

SERIES = (1, 3, 5, 8, 10, 12)
SAFETY = SafetyDesign()
DESIGN = TrialDesign(
    study_id="SAFETY",
    arms=(ArmDesign("KET", "Ketamine", SERIES),
          ArmDesign("MID", "Midazolam", SERIES, dose_mg_per_kg=0.045, drug="midazolam",
                    role="active_placebo")),
    n_per_arm=30,
    safety=SAFETY,
)
SEED = 4


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(DESIGN, seed=SEED)


def test_default_design_has_no_safety_part():
    assert TrialDesign().safety is None
    assert "safety" not in TrialDesign().to_toml()
    assert not simulate_trial(dataclasses.replace(TrialDesign(), n_per_arm=2)).has_safety_data


def test_design_with_safety_survives_toml():
    design = dataclasses.replace(DESIGN, safety=dataclasses.replace(
        SAFETY, sbp_rise_mmhg=12.0, adverse_events=SAFETY.adverse_events[:2]))
    assert TrialDesign.from_toml_text(design.to_toml()) == design


@pytest.mark.parametrize(("change", "match"), [
    ({"severity_probabilities": (0.5, 0.5, 0.5)}, "adding up to 1"),
    ({"vital_times_min": (40.0, -10.0)}, "increasing"),
    ({"placebo_rise_fraction": 1.5}, r"\[0, 1\]"),
])
def test_bad_safety_design_is_refused(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(SAFETY, **change)


def test_event_follows_infusions_or_sessions_not_both():
    with pytest.raises(ValueError, match="not both"):
        AdverseEventDesign("x", "X", "Investigations", per_infusion_active=0.1, per_session=0.1)


def test_safety_data_leaves_the_rest_of_the_trial_unchanged(trial):
    without = simulate_trial(dataclasses.replace(DESIGN, safety=None), seed=SEED)
    assert without.differences(dataclasses.replace(
        trial, adverse_events=without.adverse_events, vitals=without.vitals,
        medications=without.medications)) == []


def test_simulated_trial_loads_without_errors(trial):
    assert set(trial.report["severity"]) <= {"warning"}
    assert set(trial.report["rule"]) <= {"total_not_scorable"}
    assert len(trial.adverse_events) and len(trial.vitals) and len(trial.medications)
    assert set(trial.vitals["test"]) == {"SBP", "DBP", "HR"}
    assert set(trial.vitals["time_min"]) == set(SAFETY.vital_times_min)
    # one pre, end-of-infusion and later value per test and infusion given
    assert len(trial.vitals) == 3 * 3 * len(trial.infusions)
    medications = trial.medications
    assert set(medications.loc[medications["rescue"], "name"]) <= {"lorazepam"}


def test_written_and_read_back_it_is_the_same_trial(trial, tmp_path):
    assert load_trial(write_trial(trial, tmp_path / "folder")).differences(trial) == []
    assert load_sdtm(write_sdtm(trial, tmp_path / "sdtm", format="xpt")).differences(trial) == []


def _share_with(events, pt: str) -> dict[str, float]:
    """Share of each arm's participants with a treatment-emergent event of ``pt``."""
    n = DESIGN.n_per_arm
    hit = events[events["treatment_emergent"] & (events["pt"] == pt)]
    return (hit.groupby("arm")["participant_id"].nunique() / n).reindex(
        ["KET", "MID"], fill_value=0.0).to_dict()


def test_treatment_emergent_events_are_more_common_on_ketamine(trial):
    events = ketex.treatment_emergent(trial)
    assert events["treatment_emergent"].all()  # every onset is on an infusion or session day
    dissociation = _share_with(events, "Dissociation")
    # designed: 1 - (1 - 0.30)^6 = 0.88 of ketamine participants vs 1 - 0.96^6 = 0.22
    assert dissociation["KET"] > dissociation["MID"] + 0.3
    for pt in ("Nausea", "Dizziness"):
        share = _share_with(events, pt)
        assert share["KET"] > share["MID"], pt


def test_blood_pressure_rises_after_ketamine_as_designed(trial):
    measured = ketex.infusion_vitals(trial, per="measurement")
    at_end = measured[(measured["test"] == "SBP") & (measured["time_min"] == 40.0)]
    rise = at_end.groupby("arm")["change"].agg(["mean", "count"])
    # expected change at the end of the infusion: 15 mmHg (ketamine), 0.15 x 15 (midazolam);
    # SD of a change ~ sqrt((0.4 x 15)^2 + 2 x 5^2) = 9.3 mmHg over ~170 infusions: SE 0.7
    assert rise.loc["KET", "mean"] == pytest.approx(SAFETY.sbp_rise_mmhg, abs=3.0)
    assert rise.loc["MID", "mean"] == pytest.approx(
        SAFETY.placebo_rise_fraction * SAFETY.sbp_rise_mmhg, abs=3.0)
    peaks = ketex.infusion_vitals(trial)
    peak = peaks[peaks["test"] == "SBP"].groupby("arm")["peak_change"].mean()
    assert peak["KET"] > peak["MID"] + 8


def test_safety_tables_show_the_difference(trial):
    overview = teae_overview_table(trial).data.set_index(["category", "arm"])
    assert overview.loc[("Any TEAE", "KET"), "percent"] > overview.loc[
        ("Any TEAE", "MID"), "percent"]
    assert (overview.loc[("Any TEAE", "KET"), "N"], overview.loc[("Any TEAE", "MID"), "N"]) == (
        DESIGN.n_per_arm, DESIGN.n_per_arm)
    by_term = adverse_event_table(trial).data
    dissociation = by_term[by_term["pt"] == "Dissociation"].set_index("arm")["percent"]
    assert dissociation["KET"] > dissociation["MID"]
    pressure = infusion_vitals_table(trial).data
    sbp = pressure[pressure["test"] == "SBP"].set_index("arm")["peak_change_mean"]
    assert sbp["KET"] > sbp["MID"]
    assert np.isfinite(sbp).all()


def test_no_rescue_medication_after_dropout():
    # everyone would get rescue medication in weeks 1-4, and many drop out early
    design = dataclasses.replace(
        DESIGN, n_per_arm=20, safety=dataclasses.replace(SAFETY, rescue_fraction=1.0),
        dropout=dataclasses.replace(DESIGN.dropout, mcar_probability=0.9))
    trial = simulate_trial(design, seed=SEED)
    dropped = trial.events[trial.events["event"] == "discontinuation"].set_index(
        "participant_id")["day"]
    assert (dropped < 28).sum() >= 5
    rescue = trial.medications[trial.medications["rescue"]]
    late = rescue["start_day"] >= rescue["participant_id"].map(dropped)
    assert not late.any()
    completed = set(trial.participants["participant_id"]) - set(dropped.index)
    assert completed and completed <= set(rescue["participant_id"])
