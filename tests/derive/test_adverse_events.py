"""Treatment-emergent flag: hand-worked cases and admiral's own test cases."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.derive.adverse_events import TreatmentEmergence, treatment_emergent
from ketex.study.validation import build_trial
from tests.derive.build import protocol

AE_COLUMNS = ["participant_id", "term", "start_day", "end_day", "baseline_severity",
              "severity"]


def _trial(events, *, infusions=(("P1", 0), ("P1", 119)), sessions=()):
    raw = {
        "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": ["A", "B"]}),
        "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0],
                                     "visit": ["BASELINE"], "instrument": ["MADRS"],
                                     "total": [30]}),
        "infusions": pd.DataFrame(
            [(p, d, "ketamine", 0.5, "mg/kg") for p, d in infusions],
            columns=["participant_id", "day", "drug", "dose", "dose_unit"]),
        "exercise": pd.DataFrame([(p, d, 45) for p, d in sessions],
                                 columns=["participant_id", "day", "duration_min"])
        if sessions else None,
        "adverse_events": pd.DataFrame(events, columns=AE_COLUMNS[: len(events[0])]),
    }
    return build_trial(protocol(), raw)


# admiral tests/testthat/test-derive_var_trtemfl.R (expected TRTEMFL and TRTEM2FL), with
# TRTSDTM 2022-01-01 as day 0, TRTEDTM 2022-04-30 as day 119, dates as study days and
# toxicity grades 1, 2, 3, 4 as mild, moderate, moderate, severe (the order is kept).
G = {1: "mild", 2: "moderate", 3: "moderate", 4: "severe"}
ADMIRAL = [
    # start, end, initial grade, grade, TRTEMFL, TRTEM2FL (end_window 10, worsening)
    (-19, -17, 1, 1, False, False),   # before treatment
    (-18, -18, 1, 3, False, False),
    (-2, 13, 1, 3, False, True),      # before treatment, ending during it
    (-1, 0, 1, 1, False, False),
    (0, 1, 3, 4, True, True),         # during treatment
    (129, 129, 2, 2, True, True),     # after treatment
    (130, 130, 2, 2, True, False),
    (None, None, 3, 4, True, True),   # missing dates
    (-2, None, 3, 4, False, True),
    (-2, None, 3, 3, False, False),
    (None, 3, 3, 4, True, True),
    (None, -8, 3, 4, False, False),
    (None, 154, 3, 4, True, True),
]


@pytest.mark.parametrize(("rule", "column"), [
    (TreatmentEmergence(worsening=False), 4),
    (TreatmentEmergence(end_window_days=10), 5),
])
def test_admiral_cases(rule, column):
    events = [("P1", f"e{k}", s, e, G[i], G[g]) for k, (s, e, i, g, *_) in enumerate(ADMIRAL)]
    events += [("P2", "untreated", None, 2, "mild", "moderate"),
               ("P2", "untreated", -1, 2, "mild", "moderate"),
               ("P2", "untreated", 4, None, "mild", "moderate")]
    trial = _trial(events)
    # the TEAE table keeps the trial's order; look each event up by its term
    out = treatment_emergent(trial, rule).set_index("term")
    for k, case in enumerate(ADMIRAL):
        assert out.loc[f"e{k}", "treatment_emergent"] == case[column], (k, case, out.loc[f"e{k}"])
    untreated = out.loc["untreated"]
    assert not untreated["treatment_emergent"].any()
    assert set(untreated["teae_reason"]) == {"no treatment received"}


def test_hand_worked_reasons():
    trial = _trial(
        [("P1", "onset day 0", 0, 2), ("P1", "before", -5, -1), ("P1", "late", 140, 141),
         ("P1", "no onset", None, None)],
        infusions=(("P1", 0), ("P1", 10)),
    )
    out = treatment_emergent(trial, TreatmentEmergence(end_window_days=14)).set_index("term")
    assert out["treatment_emergent"].to_dict() == {
        "before": False, "late": False, "no onset": True, "onset day 0": True}
    assert out.loc["before", "teae_reason"] == "ended on day -1 before first treatment (day 0)"
    assert out.loc["late", "teae_reason"] == (
        "onset day 140 more than 14 days after the last treatment (day 10)")
    assert out.loc["no onset", "teae_reason"].startswith("onset day unknown")
    assert out.loc["onset day 0", "first_treatment_day"] == 0
    assert out.loc["onset day 0", "last_treatment_day"] == 10
    # day 24 = last + 14 is still inside the window, day 25 is not
    edge = _trial([("P1", "d24", 24, None), ("P1", "d25", 25, None)],
                  infusions=(("P1", 0), ("P1", 10)))
    flags = treatment_emergent(edge, TreatmentEmergence(end_window_days=14))
    assert flags.set_index("term")["treatment_emergent"].to_dict() == {"d24": True, "d25": False}


def test_first_exercise_session_starts_treatment_and_attribution():
    events = [("P1", "sore knee", 3, None), ("P1", "nausea", 6, None),
              ("P1", "dizzy", 8, None), ("P1", "headache", 20, None)]
    trial = _trial(events, infusions=(("P1", 5), ("P1", 8)), sessions=(("P1", 2), ("P1", 8)))
    out = treatment_emergent(trial).set_index("term")
    assert out.loc["sore knee", "first_treatment_day"] == 2
    assert out["near_treatment"].to_dict() == {
        "dizzy": "both", "headache": "neither", "nausea": "infusion", "sore knee": "exercise"}
    only_drug = treatment_emergent(trial, TreatmentEmergence(treatment="infusion"))
    assert not only_drug.set_index("term").loc["sore knee", "treatment_emergent"]


@pytest.mark.parametrize("kwargs", [{"treatment": "drug"}, {"end_window_days": -1},
                                    {"attribution_window_days": 0.5}])
def test_bad_rule(kwargs):
    with pytest.raises(ValueError):
        TreatmentEmergence(**kwargs)


def test_worsening_judged_only_where_baseline_severity_is_given():
    # one event carries baseline_severity, so the column exists; the other pre-treatment
    # event has none and must not be counted as worsened (admiral's NA rule does not apply)
    trial = _trial([("P1", "worse", -3, None, "mild", "severe"),
                    ("P1", "same", -3, None, "moderate", "moderate"),
                    ("P1", "unrecorded", -3, None, None, "severe"),
                    ("P1", "worst unknown", -3, None, "mild", None)])
    out = treatment_emergent(trial).set_index("term")
    assert out["treatment_emergent"].to_dict() == {
        "same": False, "unrecorded": False, "worse": True, "worst unknown": True}
    assert out.loc["worse", "teae_reason"] == (
        "onset day -3 before first treatment (day 0), worsened from mild to severe")
    assert out.loc["same", "teae_reason"] == (
        "onset day -3 before first treatment (day 0), not worse than at baseline (moderate)")


def test_pre_existing_with_unknown_onset_is_judged_for_worsening():
    events = pd.DataFrame({"participant_id": "P1", "term": ["kept", "worse", "new"],
                           "start_day": [None, None, None],
                           "pre_existing": [True, True, False],
                           "baseline_severity": ["mild", "mild", None],
                           "severity": ["mild", "moderate", "mild"]})
    raw = _trial([("P1", "x", 1)])  # reuse the design tables
    trial = build_trial(protocol(), {**{k: getattr(raw, k) for k in
                                        ("participants", "assessments", "infusions")},
                                     "adverse_events": events})
    out = treatment_emergent(trial).set_index("term")
    assert out["treatment_emergent"].to_dict() == {"kept": False, "new": True, "worse": True}
    assert out.loc["kept", "teae_reason"].startswith("onset day unknown before first treatment")


def test_no_treatment_records_is_an_error_not_all_false():
    events = [("P1", "nausea", 3)]
    with pytest.raises(ValueError, match="no treatment records.*infusions.csv"):
        treatment_emergent(_trial(events, infusions=()))
    # exercise alone starts treatment under the default rule, but not under "infusion"
    only_exercise = _trial(events, infusions=(), sessions=(("P1", 1),))
    assert treatment_emergent(only_exercise)["treatment_emergent"].tolist() == [True]
    with pytest.raises(ValueError, match=r"no treatment records \(infusions.csv is"):
        treatment_emergent(only_exercise, TreatmentEmergence(treatment="infusion"))


def test_session_of_zero_minutes_does_not_start_treatment():
    trial = _trial([("P1", "sore knee", 3)], infusions=())
    raw = {k: getattr(trial, k) for k in ("participants", "assessments", "adverse_events")}
    raw["exercise"] = pd.DataFrame({"participant_id": ["P1", "P1"], "day": [2, 4],
                                    "duration_min": [0.0, 30.0]})
    out = treatment_emergent(build_trial(protocol(), raw))
    assert out["first_treatment_day"].tolist() == [4]
    assert out["treatment_emergent"].tolist() == [False]


def test_no_adverse_events_gives_empty_table():
    trial = _trial([("P1", "x", 1)])
    empty = build_trial(protocol(), {k: getattr(trial, k) for k in
                                     ("participants", "assessments", "infusions")})
    out = treatment_emergent(empty)
    assert out.empty and {"treatment_emergent", "teae_reason"} <= set(out.columns)
