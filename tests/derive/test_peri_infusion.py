"""Peak CADSS and BPRS positive after infusions, per infusion and by infusion number and
arm, on a hand-made trial (the expected numbers are worked out in the comments)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from ketex import figures, tables
from ketex.derive.peri_infusion import peri_infusion_ratings, peri_infusion_summary
from ketex.study.protocol import Arm, Protocol, Visit
from ketex.study.validation import build_trial

RATINGS = [
    # participant, day, instrument, minute, total
    ("P1", 1, "CADSS", -10, 2), ("P1", 1, "CADSS", 40, 25), ("P1", 1, "CADSS", 120, 25),
    ("P1", 1, "CADSS", 240, 1),  # peak 25 at 40 (tied at 120: the first), rise 23
    ("P1", 1, "BPRS-POSITIVE", -10, 4), ("P1", 1, "BPRS-POSITIVE", 40, 9),  # rise 5
    ("P1", 3, "CADSS", 40, 18),  # second infusion, no pre-infusion rating
    ("P1", 2, "CADSS", 40, 30),  # not an infusion day: left out
    ("P2", 1, "CADSS", -10, 0), ("P2", 1, "CADSS", 40, 15),  # peak 15, rise 15
    ("P3", 1, "CADSS", -10, 1), ("P3", 1, "CADSS", 40, 3),  # arm B: peak 3, rise 2
    ("P3", 3, "CADSS", -10, 1),  # arm B, second infusion: nothing after the start
]


@pytest.fixture(scope="module")
def trial():
    protocol = Protocol(study_id="PERI", arms=(Arm("A"), Arm("B")),
                        visits=(Visit("BL", 0, (-7, 0)), Visit("INF", 1, (1, 3))))
    ratings = pd.DataFrame(RATINGS, columns=["participant_id", "day", "instrument",
                                             "time_min", "total"]).assign(visit="INF")
    visit = pd.DataFrame({"participant_id": ["P1", "P2", "P3", "P1"], "day": [0, 0, 0, 1],
                          "visit": ["BL", "BL", "BL", "INF"],
                          "instrument": ["MADRS", "MADRS", "MADRS", "CADSS"],
                          "total": [30, 28, 31, 40]})  # an untimed CADSS: left out
    return build_trial(protocol, {
        "participants": pd.DataFrame({"participant_id": ["P1", "P2", "P3"],
                                      "arm": ["A", "A", "B"]}),
        "assessments": pd.concat([visit, ratings], ignore_index=True),
        "infusions": pd.DataFrame({"participant_id": ["P1", "P1", "P2", "P3", "P3"],
                                   "day": [1, 3, 1, 1, 3], "drug": "ketamine", "dose": 0.5,
                                   "dose_unit": "mg/kg"}),
    })


def test_per_infusion_peak_and_rise(trial):
    per = peri_infusion_ratings(trial).set_index(["participant_id", "day", "instrument"])
    first = per.loc[("P1", 1, "CADSS")]
    assert (first["baseline"], first["baseline_time_min"]) == (2, -10)
    assert (first["peak"], first["peak_time_min"], first["peak_change"]) == (25, 40, 23)
    assert first["n_after"] == 3 and first["infusion_number"] == 1
    assert per.loc[("P1", 1, "BPRS-POSITIVE"), "peak_change"] == 5
    second = per.loc[("P1", 3, "CADSS")]
    assert second["infusion_number"] == 2 and second["peak"] == 18
    assert math.isnan(second["peak_change"]) and "no baseline" in second["note"]
    empty = per.loc[("P3", 3, "CADSS")]
    assert math.isnan(empty["peak"]) and "no rating after" in empty["note"]
    assert ("P1", 2, "CADSS") not in per.index
    assert len(per) == 6


def test_summary_by_infusion_number_and_arm(trial):
    summary = peri_infusion_summary(trial).set_index(["instrument", "infusion_number", "arm"])
    a1 = summary.loc[("CADSS", 1, "A")]
    # peaks 25, 15; rises 23, 15
    assert (a1["n_participants"], a1["N"]) == (2, 2)
    assert a1["peak_mean"] == 20 and a1["peak_median"] == 20
    assert a1["peak_sd"] == pytest.approx(math.sqrt(50))
    assert a1["peak_change_mean"] == 19 and a1["peak_change_sd"] == pytest.approx(
        math.sqrt(32))
    a2 = summary.loc[("CADSS", 2, "A")]
    assert a2["n_participants"] == 1 and a2["peak_mean"] == 18
    assert math.isnan(a2["peak_sd"]) and math.isnan(a2["peak_change_mean"])
    b2 = summary.loc[("CADSS", 2, "B")]  # rated before the start only: no peak
    assert b2["n_participants"] == 0 and math.isnan(b2["peak_mean"]) and b2["N"] == 1
    bprs = summary.loc["BPRS-POSITIVE"]
    assert bprs.index.tolist() == [(1, "A"), (1, "B")]
    assert bprs.loc[(1, "A"), "peak_mean"] == 9 and bprs.loc[(1, "B"), "n_participants"] == 0


def test_table_cells(trial):
    table = tables.peri_infusion_table(trial, group_labels={"B": "Control"})
    display = table.display.set_index("")
    assert list(display.columns) == ["A (N=2)", "Control (N=1)"]
    rows = display.index.tolist()
    assert rows == ["CADSS total (dissociation), peak after the infusion", "    Infusion 1",
                    "    Infusion 2", "BPRS positive symptoms, peak after the infusion",
                    "    Infusion 1"]
    assert display.iloc[1].tolist() == ["20.0 (7.1), n=2", "3.0, n=1"]
    assert display.iloc[2].tolist() == ["18.0, n=1", "\u2013"]


def test_course_and_figure(trial):
    course = figures.peri_infusion_course(trial, infusion_numbers=[1])
    cadss = course[(course["instrument"] == "CADSS") & (course["arm"] == "A")]
    assert cadss["time_min"].tolist() == [-10, 40, 120, 240]
    assert cadss["mean"].tolist() == [1, 20, 25, 1]
    assert cadss["n_participants"].tolist() == [2, 2, 1, 1]
    fig = figures.plot_peri_infusion(course, order=["A", "B"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == [
        "a  CADSS total, infusion 1", "b  BPRS positive, infusion 1"]
    lines = [line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]
    assert list(lines[0].get_ydata()) == [1, 20, 25, 1]
    plt.close(fig)
