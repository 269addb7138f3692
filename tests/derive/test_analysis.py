"""analysis_dataset on hand-made participants; every expected value is worked out here."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ketex.derive.analysis import ANALYSIS_COLUMNS, analysis_dataset
from ketex.derive.endpoints import Remission, Response
from ketex.study.protocol import Visit
from tests.derive.build import WEEKLY, trial


def rows(ds: pd.DataFrame, pid: str, visit: str | None = None) -> pd.DataFrame:
    out = ds[ds["USUBJID"] == pid]
    if visit is not None:
        out = out[out["AVISIT"] == visit]
    return out


def analysed(ds: pd.DataFrame, pid: str, visit: str) -> pd.Series:
    found = rows(ds, pid, visit)
    found = found[found["ANL01FL"] == "Y"]
    assert len(found) == 1
    return found.iloc[0]


def test_columns_and_one_analysed_row_per_scheduled_visit():
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", 20)])
    ds = analysis_dataset(t)
    assert list(ds.columns[: len(ANALYSIS_COLUMNS)]) == list(ANALYSIS_COLUMNS)
    # 9 scheduled visits (BASELINE, WEEK1..WEEK8): 2 observed, 7 phantom rows
    assert (ds["ANL01FL"] == "Y").sum() == 9
    assert (ds["DTYPE"] == "PHANTOM").sum() == 7
    assert list(ds["AVISIT"].cat.categories) == [v.name for v in WEEKLY]
    assert ds["AVISIT"].cat.ordered
    assert ds["AVISITN"].tolist() == list(range(1, 10))


def test_missing_visit_stays_as_a_row_with_missing_aval():
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", 20), ("P1", 21, "WEEK3", 18)])
    week2 = analysed(analysis_dataset(t), "P1", "WEEK2")
    assert week2["DTYPE"] == "PHANTOM"
    assert math.isnan(week2["AVAL"]) and pd.isna(week2["ADY"]) and pd.isna(week2["VISIT"])
    assert week2["AWTARGET"] == 14 and week2["AWLO"] == 11 and week2["AWHI"] == 17
    assert math.isnan(week2["CHG"]) and pd.isna(week2["CRIT1FL"])


def test_change_percent_change_and_flags():
    # baseline 30: 15 is a 50% reduction (response), 16 is not; remission MADRS <= 10
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", 15), ("P1", 14, "WEEK2", 16),
               ("P1", 21, "WEEK3", 10), ("P1", 28, "WEEK4", 11)])
    ds = analysis_dataset(t)
    w1, w2, w3, w4 = (analysed(ds, "P1", f"WEEK{k}") for k in range(1, 5))
    assert (w1["BASE"], w1["CHG"], w1["PCHG"]) == (30.0, -15.0, -50.0)
    assert (w2["CHG"], w2["PCHG"]) == (-14.0, pytest.approx(-46.6667, abs=1e-4))
    assert [w["CRIT1FL"] for w in (w1, w2, w3, w4)] == ["Y", "N", "Y", "Y"]
    assert [w["CRIT2FL"] for w in (w1, w2, w3, w4)] == ["N", "N", "Y", "N"]
    base = analysed(ds, "P1", "BASELINE")
    assert base["ABLFL"] == "Y" and math.isnan(base["CHG"]) and pd.isna(base["CRIT1FL"])
    assert w1["CRIT1"] == "MADRS response (>= 50% reduction from baseline)"
    assert w1["CRIT2"] == "remission (MADRS <= 10)"


def test_configured_response_and_remission():
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", 21)])
    ds = analysis_dataset(t, response=Response(0.3),
                          remission=Remission("MADRS", max_score=21))
    w1 = analysed(ds, "P1", "WEEK1")
    # 30 - 21 = 9 = 0.3 x 30 exactly: a response at 30 %; 21 <= 21 is a remission
    assert (w1["CRIT1FL"], w1["CRIT2FL"]) == ("Y", "Y")
    with pytest.raises(ValueError, match="remission is a HAM-D17 cut-off"):
        analysis_dataset(t, remission=Remission("HAM-D17", max_score=7))


def test_two_records_in_one_window_the_closest_is_analysed():
    # WEEK1: target 7, window 4..10; day 5 is 2 days off, day 8 is 1 day off
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 5, "WEEK1", 20), ("P1", 8, "WEEK1", 25)])
    ds = analysis_dataset(t)
    week1 = rows(ds, "P1", "WEEK1")
    assert len(week1) == 2
    chosen = week1[week1["ANL01FL"] == "Y"].iloc[0]
    other = week1[week1["ANL01FL"].isna()].iloc[0]
    assert (chosen["ADY"], chosen["AVAL"]) == (8, 25.0)
    assert other["ADY"] == 5 and pd.isna(other["ANL01FL"])
    assert other["ANL01RSN"] == "farther from the target day 7; day 8 is analysed for WEEK1"
    assert other["CHG"] == -10.0  # kept with its values, only not analysed


@pytest.mark.parametrize(("tie", "day", "value"), [("later", 8, 25.0), ("earlier", 6, 20.0)])
def test_tie_in_a_window_is_broken_by_the_stated_rule(tie, day, value):
    # days 6 and 8 are both 1 day from the target 7
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 6, "WEEK1", 20), ("P1", 8, "WEEK1", 25)])
    ds = analysis_dataset(t, tie=tie)
    chosen = analysed(ds, "P1", "WEEK1")
    assert (chosen["ADY"], chosen["AVAL"]) == (day, value)
    loser = rows(ds, "P1", "WEEK1")
    loser = loser[loser["ANL01FL"].isna()].iloc[0]
    assert loser["ANL01RSN"] == f"as far from the target day as day {day}; the {tie} record " \
                               "is analysed"


def test_a_record_with_a_total_beats_a_closer_one_without():
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", None), ("P1", 9, "WEEK1", 22)])
    ds = analysis_dataset(t)
    assert analysed(ds, "P1", "WEEK1")["ADY"] == 9
    loser = rows(ds, "P1", "WEEK1")
    assert loser[loser["ANL01FL"].isna()].iloc[0]["ANL01RSN"].startswith("no total score")


def test_record_mapped_by_its_day_not_its_label():
    # collected as WEEK2 but on day 9: inside WEEK1's window only, so it is WEEK1
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 9, "WEEK2", 20)])
    ds = analysis_dataset(t)
    week1 = analysed(ds, "P1", "WEEK1")
    assert (week1["ADY"], week1["VISIT"]) == (9, "WEEK2")
    assert analysed(ds, "P1", "WEEK2")["DTYPE"] == "PHANTOM"


def test_record_outside_every_window_is_kept_and_flagged():
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 2, "WEEK1", 20)])  # WEEK1 window is 4..10
    ds = analysis_dataset(t)
    outside = ds[ds["ADY"] == 2].iloc[0]
    assert pd.isna(outside["AVISIT"]) and pd.isna(outside["ANL01FL"])
    assert outside["ANL01RSN"] == "outside every scheduled visit window of the arm"
    assert outside["CHG"] == -10.0


def test_overlapping_windows_use_the_collected_visit_then_the_nearest_target():
    visits = (Visit("BASELINE", 0, (-7, 0)), Visit("INF", 13, (13, 14)),
              Visit("WEEK2", 14, (14, 17)))
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 14, "INF", 20), ("P1", 15, "WEEK2", 18),
               ("P2", 0, "BASELINE", 30), ("P2", 14, "WEEK2", 19)],
              visits=visits, primary_visit="WEEK2")
    ds = analysis_dataset(t)
    # P1's day-14 record lies in both windows and was collected at INF: it is INF
    assert analysed(ds, "P1", "INF")["ADY"] == 14
    assert analysed(ds, "P1", "WEEK2")["ADY"] == 15
    # P2's day-14 record, collected at WEEK2, is WEEK2; INF is missing
    assert analysed(ds, "P2", "WEEK2")["ADY"] == 14
    assert analysed(ds, "P2", "INF")["DTYPE"] == "PHANTOM"


def test_overlap_without_collected_visit_goes_to_nearest_target():
    visits = (Visit("BASELINE", 0, (-7, 0)), Visit("INF", 13, (13, 14)),
              Visit("WEEK2", 14, (14, 17)), Visit("OTHER", 30, (25, 35)))
    # collected as OTHER on day 14: inside INF (target 13) and WEEK2 (target 14) -> WEEK2
    t = trial([("P1", 0, "BASELINE", 30), ("P1", 14, "OTHER", 20)], visits=visits,
              primary_visit="WEEK2")
    assert analysed(analysis_dataset(t), "P1", "WEEK2")["ADY"] == 14


def test_visits_of_another_arm_are_not_scheduled():
    visits = (Visit("BASELINE", 0, (-7, 0)), Visit("INF2", 4, (4, 5), arms=("B",)),
              Visit("WEEK2", 14, (11, 17)))
    t = trial([("PA", 0, "BASELINE", 30), ("PA", 4, "WEEK2", 20),
               ("PB", 0, "BASELINE", 30), ("PB", 4, "INF2", 20)],
              participants=[("PA", "A"), ("PB", "B")], visits=visits, primary_visit="WEEK2")
    ds = analysis_dataset(t)
    assert set(rows(ds, "PA")["AVISIT"].dropna()) == {"BASELINE", "WEEK2"}
    assert rows(ds, "PA")["ANL01RSN"].dropna().tolist() == [
        "outside every scheduled visit window of the arm"]
    assert analysed(ds, "PB", "INF2")["AVAL"] == 20.0


def test_baseline_is_the_last_non_missing_on_or_before_day_0():
    t = trial([("P1", -6, "BASELINE", 34), ("P1", -2, "BASELINE", 31),
               ("P1", 0, "BASELINE", None), ("P1", 7, "WEEK1", 15)])
    ds = analysis_dataset(t)
    base = ds[ds["ABLFL"] == "Y"]
    assert len(base) == 1 and base.iloc[0]["ADY"] == -2 and base.iloc[0]["AVAL"] == 31
    assert base.iloc[0]["ANL01FL"] == "Y" and base.iloc[0]["AVISIT"] == "BASELINE"
    others = rows(ds, "P1", "BASELINE")
    others = others[others["ABLFL"].isna()]
    assert sorted(others["ADY"].tolist()) == [-6, 0]
    assert set(others["ANL01RSN"]) == {"not the baseline record"}
    w1 = analysed(ds, "P1", "WEEK1")
    assert (w1["BASE"], w1["CHG"]) == (31.0, -16.0)


def test_baseline_outside_its_window_still_counts_with_last():
    # day -10 is before the BASELINE window (-7..0): it is still the last rating by day 0
    t = trial([("P1", -10, "BASELINE", 30), ("P1", 7, "WEEK1", 15)])
    base = analysis_dataset(t)
    base = base[base["ABLFL"] == "Y"].iloc[0]
    assert (base["ADY"], base["AVISIT"], base["AVAL"]) == (-10, "BASELINE", 30.0)


def test_baseline_from_the_visit_and_a_configured_day():
    t = trial([("P1", -3, "BASELINE", 30), ("P1", 0, "BASELINE", 28), ("P1", 2, "WEEK1", 26),
               ("P1", 7, "WEEK1", 14)])
    by_visit = analysis_dataset(t, baseline="visit")
    # the analysed BASELINE record is the nearest to day 0: day 0, total 28
    assert by_visit.loc[by_visit["ABLFL"] == "Y", "AVAL"].tolist() == [28.0]
    assert analysed(by_visit, "P1", "WEEK1")["CRIT1FL"] == "Y"  # 14 <= 28 / 2
    later = analysis_dataset(t, baseline_day=2)
    # day 2 (26) is now the last rating on or before the baseline day
    assert later.loc[later["ABLFL"] == "Y", "ADY"].tolist() == [2]
    assert analysed(later, "P1", "WEEK1")["CHG"] == -12.0


def test_participant_without_baseline_has_missing_base_and_change():
    t = trial([("P1", 7, "WEEK1", 15), ("P2", 0, "BASELINE", 30)])
    ds = analysis_dataset(t)
    w1 = analysed(ds, "P1", "WEEK1")
    assert math.isnan(w1["BASE"]) and math.isnan(w1["CHG"]) and pd.isna(w1["CRIT1FL"])
    assert w1["CRIT2FL"] == "N"  # remission needs no baseline: 15 > 10
    assert analysed(ds, "P1", "BASELINE")["DTYPE"] == "PHANTOM"


def test_covariates_and_errors():
    t = trial([("P1", 0, "BASELINE", 30)])
    ds = analysis_dataset(t)
    assert ds["ARM"].unique().tolist() == ["A"]
    with pytest.raises(ValueError, match="unknown instrument"):
        analysis_dataset(t, "HAMD21")
    with pytest.raises(ValueError, match="no protocol visit rates PHQ-9"):
        analysis_dataset(t, "PHQ-9")
    with pytest.raises(ValueError, match="tie must be one of"):
        analysis_dataset(t, tie="nearest")
    with pytest.raises(ValueError, match="baseline must be one of"):
        analysis_dataset(t, baseline="first")


def test_every_instrument_has_an_adam_parameter_code():
    from ketex.derive.analysis import PARAMCD
    from ketex.scales import INSTRUMENTS

    assert set(PARAMCD) == set(INSTRUMENTS)
    assert all(code.isalnum() and len(code) <= 8 for code in PARAMCD.values())
    assert len(set(PARAMCD.values())) == len(PARAMCD)


def test_analysis_dataset_of_a_scale_beyond_the_depression_five():
    # a GAD-7 total was a raw KeyError (no parameter code) before
    visits = tuple(Visit(v.name, v.day, v.window, instruments=("GAD-7",)) for v in WEEKLY)
    data = trial([("P1", 0, "BASELINE", 15, "GAD-7"), ("P1", 28, "WEEK4", 9, "GAD-7")],
                 visits=visits)
    ds = analysis_dataset(data, scale="GAD-7")
    assert set(ds["PARAMCD"]) == {"GAD7"}
    week4 = ds[(ds["AVISIT"] == "WEEK4") & (ds["ANL01FL"] == "Y")].iloc[0]
    assert week4["AVAL"] == 9 and week4["CHG"] == -6
