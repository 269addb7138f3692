"""TrialDesign: the sample design as the brief states it, TOML round trip, clear errors."""

import dataclasses
import datetime

import pytest

from ketex.simulate import (
    ArmDesign,
    DropoutDesign,
    EndpointDesign,
    ExerciseDesign,
    MeasurementDesign,
    TrialDesign,
)
from ketex.study.protocol import Protocol, Visit

SERIES_DAYS = (1, 3, 5, 8, 10, 12)
SCHEDULED = ("BASELINE", "WEEK2", "WEEK3", "WEEK4", "WEEK6", "WEEK8", "WEEK10", "WEEK12",
             "WEEK16", "WEEK24")


def test_default_design_is_the_yale_style_sample():
    design = TrialDesign()
    assert design.arm_codes == ("SINGLE", "SERIES")
    assert [a.infusion_days for a in design.arms] == [(1,), SERIES_DAYS]
    assert {(a.dose_mg_per_kg, a.infusion_duration_min, a.route) for a in design.arms} == {
        (0.5, 40.0, "IV")}
    assert (design.n_per_arm, design.n_sites, design.n_participants) == (40, 2, 80)
    assert (design.baseline.mean_madrs, design.baseline.sd_madrs,
            design.baseline.eligibility_min_madrs) == (32.0, 4.0, 22.0)
    ex = design.exercise
    assert (ex.sessions_per_week, ex.duration_min, ex.hrr_fraction, ex.weeks) == (
        3, 45.0, (0.40, 0.59), 12)
    # Mon/Wed/Fri from day 1, for 12 weeks
    assert ex.session_days[:6] == (1, 3, 5, 8, 10, 12)
    assert len(ex.session_days) == 36 and ex.session_days[-1] == 1 + 7 * 11 + 4
    # domain.md: 45 min x 3/week at 6.8 MET = 918 MET-min/week = 16.1 KKW
    assert ex.target_kkw == 16.1


def test_protocol_of_the_sample_design():
    protocol = TrialDesign().protocol()
    infusion_visits = tuple(f"INF{k}_24H" for k in range(1, 7))
    assert protocol.visit_names == (
        "BASELINE", *infusion_visits, *SCHEDULED[1:])
    for k, day in enumerate(SERIES_DAYS, start=1):
        visit = protocol.visit(f"INF{k}_24H")
        assert visit.day == day + 1
        assert visit.arms == (() if k == 1 else ("SERIES",))
    qids = [v.name for v in protocol.visits if "QIDS-SR16" in v.instruments]
    assert qids == ["BASELINE", "WEEK4", "WEEK8", "WEEK12", "WEEK24"]
    assert protocol.visit("BASELINE").window == (-7, 0)
    ends = protocol.endpoints
    assert (ends.baseline_visit, ends.primary_visit, ends.remission_preset,
            ends.relapse_preset, ends.sustained_through_visit) == (
        "BASELINE", "WEEK12", "MADRS<=10", "SUSTAIN-1", "WEEK24")
    assert protocol.arm("SERIES").infusions.days == SERIES_DAYS
    assert protocol.arm("SINGLE").infusions.dose_unit == "mg/kg"
    # what the simulator writes as study.toml must read back as the same protocol
    assert Protocol.from_toml_text(protocol.to_toml()) == protocol


def test_toml_round_trip(tmp_path):
    design = dataclasses.replace(
        TrialDesign(),
        n_per_arm=12,
        first_randomization_date=datetime.date(2025, 3, 2),
        dropout=DropoutDesign(mcar_probability=0.2, mnar_probability=0.1),
        endpoints=EndpointDesign(sustained_through_visit=""),
    )
    path = design.write(tmp_path / "design.toml")
    assert TrialDesign.read(path) == design
    assert "[design]" in path.read_text()


def test_toml_keys_left_out_take_the_sample_values():
    text = '[design]\nn_per_arm = 7\n[design.ketamine]\nhalf_life_days = 6.5\n'
    design = TrialDesign.from_toml_text(text)
    assert design.n_per_arm == 7
    assert design.ketamine.half_life_days == 6.5
    assert design.ketamine.acute_effect_madrs == TrialDesign().ketamine.acute_effect_madrs
    assert design.arms == TrialDesign().arms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[design]\nn_per_arms = 3\n", r"design: unknown key\(s\) n_per_arms"),
        ("[design]\nn_per_arm = 'many'\n", r"design.n_per_arm: must be a number"),
        ("[design]\nn_per_arm = 2.5\n", r"design.n_per_arm: must be a whole number"),
        ("[design.exercise]\nadherence_alpha = -1\n",
         r"ExerciseDesign.adherence_alpha must be > 0, got -1"),
        ("[[design.arms]]\nlabel = 'x'\n", r"design.arms\[0\]: missing required key\(s\) code"),
        ("[design]\nfirst_randomization_date = 'soon'\n",
         r"design.first_randomization_date: must be a date"),
        ("n_per_arm = 3\n", r"no \[design\] section"),
        ("[design\n", r"not valid TOML"),
    ],
)
def test_toml_errors_name_the_key(text, message):
    with pytest.raises(ValueError, match=message):
        TrialDesign.from_toml_text(text, source="plan.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_per_arm": 0}, r"TrialDesign.n_per_arm must be > 0"),
        ({"n_sites": -1}, r"TrialDesign.n_sites must be > 0"),
        ({"arms": ()}, r"TrialDesign.arms must hold at least one arm"),
        ({"arms": (ArmDesign("A"), ArmDesign("A"))}, r"repeat the code\(s\) A"),
        ({"arms": (ArmDesign("A", infusion_days=(1,)), ArmDesign("B", infusion_days=(2,)))},
         r"infusion 1 falls on different days \(\[1, 2\]\)"),
        ({"endpoints": EndpointDesign(primary_visit="WEEK52")},
         r"EndpointDesign.primary_visit 'WEEK52' is not among the visits"),
        ({"measurement": MeasurementDesign(visits=(
            Visit("BASELINE", 3, (1, 5)), Visit("WEEK12", 84, (81, 87)),
            Visit("WEEK24", 168, (161, 175))))},
         r"must start with the baseline visit 'BASELINE', held on or before day 0"),
        ({"exercise": ExerciseDesign(start_day=0)}, r"must start after randomisation"),
        ({"measurement": MeasurementDesign(visits=(
            *MeasurementDesign().visits, Visit("WEEK30", 210, (203, 217), (), ("BOTH",))))},
         r"visits 'WEEK30': arm\(s\) BOTH not among SINGLE, SERIES"),
    ],
)
def test_invalid_designs_raise_value_error_naming_the_field(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrialDesign(), **change)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ArmDesign("A", dose_mg_per_kg=2.0), r"dose_mg_per_kg must lie in \(0, 1\]"),
        (lambda: ArmDesign("A", infusion_days=(3, 1)), r"must be increasing"),
        (lambda: ExerciseDesign(session_offsets_days=(0, 7)), r"session_offsets_days"),
        (lambda: ExerciseDesign(completion_probability=1.5),
         r"ExerciseDesign.completion_probability must be a probability"),
        (lambda: DropoutDesign(mcar_probability=1.0), r"DropoutDesign.mcar_probability"),
        (lambda: MeasurementDesign(residual_ar1_per_week=1.0), r"residual_ar1_per_week"),
        (lambda: MeasurementDesign(visits=(Visit("BASELINE", 0, (-7, 0), ("HAM-D17",)),)),
         r"rates MADRS and QIDS-SR16, not HAM-D17"),
    ],
)
def test_invalid_parts_raise_value_error_naming_the_field(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_exercise_only_arm_has_no_infusion_plan():
    design = dataclasses.replace(
        TrialDesign(), arms=(ArmDesign("EXERCISE", infusion_days=()), ArmDesign("KET")))
    protocol = design.protocol()
    assert protocol.arm("EXERCISE").infusions is None
    assert protocol.visit("INF1_24H").arms == ("KET",)
