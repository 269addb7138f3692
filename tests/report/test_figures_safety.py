"""Blood pressure around infusions: the course by arm against hand computation, and the
figure drawing it."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from scipy import stats

from ketex import figures
from ketex.study.protocol import Arm, Protocol, Visit
from ketex.study.validation import build_trial

# P1 (arm A): two infusions; P2 (arm A): one; P3 (arm B): one, with an extra early value
VITALS = [
    ("P1", 1, -5, 120), ("P1", 1, 40, 150), ("P1", 8, -5, 130), ("P1", 8, 40, 150),
    ("P2", 1, -5, 110), ("P2", 1, 40, 140),
    ("P3", 1, -30, 100), ("P3", 1, -5, 118), ("P3", 1, 40, 124),
    ("P3", 2, 40, 200),  # not an infusion day: left out
]


@pytest.fixture(scope="module")
def trial():
    protocol = Protocol(study_id="BP", arms=(Arm("A"), Arm("B")),
                        visits=(Visit("BL", 0, (-7, 0)),))
    return build_trial(protocol, {
        "participants": pd.DataFrame({"participant_id": ["P1", "P2", "P3"],
                                      "arm": ["A", "A", "B"]}),
        "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
                                     "instrument": ["MADRS"], "total": [30]}),
        "infusions": pd.DataFrame({"participant_id": ["P1", "P1", "P2", "P3"],
                                   "day": [1, 8, 1, 1], "drug": "ketamine", "dose": 0.5,
                                   "dose_unit": "mg/kg"}),
        "vitals": pd.DataFrame(VITALS, columns=["participant_id", "day", "time_min",
                                                "value"]).assign(test="SBP", unit="mmHg"),
    })


def _at(course, arm, minute):
    row = course[(course["arm"] == arm) & (course["time_min"] == minute)]
    assert len(row) == 1
    return row.iloc[0]


def test_course_averages_infusions_then_participants(trial):
    course = figures.infusion_vitals_course(trial, ["SBP"])
    a40 = _at(course, "A", 40)
    # P1: (150 + 150) / 2 = 150, P2: 140 -> mean 145, SD sqrt(50), 95% CI t(1) x SD / sqrt 2
    assert (a40["n_participants"], a40["n_infusions"]) == (2, 3)
    assert a40["mean"] == pytest.approx(145.0)
    assert a40["sd"] == pytest.approx(math.sqrt(50))
    half = stats.t.ppf(0.975, 1) * math.sqrt(50) / math.sqrt(2)
    assert (a40["ci_low"], a40["ci_high"]) == pytest.approx((145 - half, 145 + half))
    assert _at(course, "A", -5)["mean"] == pytest.approx((125 + 110) / 2)
    b40 = _at(course, "B", 40)  # one participant: no interval
    assert b40["mean"] == 124 and math.isnan(b40["ci_low"])
    assert course["time_min"].tolist() == [-5, 40, -30, -5, 40]
    assert set(course["unit"]) == {"mmHg"}


def test_course_of_the_change_from_pre_infusion(trial):
    course = figures.infusion_vitals_course(trial, ["SBP"], change=True)
    # P1: 30 and 20 -> 25; P2: 30 -> mean 27.5; B: 124 - 118 = 6; -30 (before the
    # baseline at -5) is left out; at the baseline time the change is 0
    assert _at(course, "A", 40)["mean"] == pytest.approx(27.5)
    assert _at(course, "B", 40)["mean"] == pytest.approx(6.0)
    assert _at(course, "A", -5)["mean"] == 0 and _at(course, "B", -5)["mean"] == 0
    assert -30 not in set(course["time_min"])


def test_course_of_one_infusion_number(trial):
    course = figures.infusion_vitals_course(trial, ["SBP"], infusion_number=2)
    assert set(course["arm"]) == {"A"} and _at(course, "A", 40)["n_participants"] == 1


def test_plot_draws_the_means_by_arm(trial):
    course = figures.infusion_vitals_course(trial, ["SBP"])
    fig = figures.plot_infusion_vitals(course, order=["A", "B"], labels={"B": "Placebo"},
                                       thresholds={"SBP": 180})
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(lines) == 2
    assert list(lines[0].get_ydata()) == pytest.approx([117.5, 145.0])
    assert list(lines[1].get_ydata()) == pytest.approx([100, 118, 124])
    assert 180 in [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle()
                   == "--"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "Placebo"]
    assert ax.get_title(loc="left") == "a  Systolic blood pressure"
    plt.close(fig)


def test_plot_refuses_an_empty_course(trial):
    course = figures.infusion_vitals_course(trial, ["HR"])
    assert course.empty
    with pytest.raises(ValueError, match="no measurements to plot"):
        figures.plot_infusion_vitals(course)
