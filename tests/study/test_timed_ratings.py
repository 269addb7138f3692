"""Timed CADSS / BPRS-POSITIVE ratings belong to the infusion of their day, not to a visit:
no window or unknown-visit problems; a warning when the day has no infusion; never in the
depression analysis dataset."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.derive.analysis import analysis_dataset
from ketex.study.protocol import Arm, Protocol, Visit
from ketex.study.validation import build_trial


@pytest.fixture(scope="module")
def trial():
    protocol = Protocol(study_id="T", arms=(Arm("A"),),
                        visits=(Visit("BL", 0, (-7, 0)), Visit("WEEK2", 14, (12, 16))))
    assessments = pd.DataFrame({
        "participant_id": "P1",
        "day": [0, 14, 1, 1, 1, 5, 14],
        "visit": ["BL", "WEEK2", "INF1", "INF1", "INF1", "INF9", "WEEK2"],
        "instrument": ["MADRS", "MADRS", "CADSS", "CADSS", "BPRS-POSITIVE", "CADSS", "MADRS"],
        "time_min": [None, None, 0, 40, 40, 40, 40],  # the last: a timed MADRS
        "total": [30, 20, 1, 18, 6, 12, 5],
    })
    return build_trial(protocol, {
        "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
        "assessments": assessments,
        "infusions": pd.DataFrame({"participant_id": ["P1"], "day": [1], "drug": "ketamine",
                                   "dose": 0.5, "dose_unit": "mg/kg"}),
    })


def test_timed_ratings_are_not_checked_against_visits(trial):
    rules = trial.report["rule"].tolist() if len(trial.report) else []
    assert "visit_outside_window" not in rules and "unknown_visit" not in rules
    assert len(trial.assessments) == 7  # every row kept


def test_rating_off_an_infusion_day_is_a_warning(trial):
    off = trial.report[trial.report["rule"] == "timed_rating_off_infusion_day"]
    assert len(off) == 1
    assert off["severity"].tolist() == ["warning"]
    message = off["message"].iloc[0]
    assert "day 5" in message and "P1" in message and "40 min" in message


def test_timed_ratings_never_enter_the_analysis_dataset(trial):
    ds = analysis_dataset(trial, "MADRS")
    analysed = ds[ds["ANL01FL"] == "Y"]
    # the timed MADRS (total 5) on day 14 is left out: WEEK2 is the visit's rating, 20
    assert analysed.set_index("AVISIT").loc["WEEK2", "AVAL"] == 20
    assert 5 not in ds["AVAL"].tolist()
