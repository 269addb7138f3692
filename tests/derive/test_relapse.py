"""Relapse on hand-made participants: every expected day is worked out in the comments.

Each participant has baseline 30 on day 0 and 12 at WEEK1 (day 7), so the entry rule
``Achieved(Response(), "WEEK1")`` (12 <= 30 / 2) is met on day 7 and evidence counts from
day 8 on. SUSTAIN-1: MADRS >= 22 at two consecutive assessments 5 to 15 days apart.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from ketex.derive.endpoints import Achieved, Response, endpoint_preset
from ketex.derive.evaluate import evaluate_endpoint
from ketex.derive.time_to_event import time_to_event
from tests.derive.build import trial

ENTRY_WEEK1 = Achieved(Response(), "WEEK1")
RULE = dataclasses.replace(endpoint_preset("SUSTAIN-1"), entry=ENTRY_WEEK1)
START = [(0, "BASELINE", 30), (7, "WEEK1", 12)]


def visit_of(day: int) -> str:
    """The weekly visit whose window (7k - 3 .. 7k + 3) holds the day."""
    return f"WEEK{(day + 3) // 7}"


def participant(pid: str, scores: dict[int, float]) -> list[tuple]:
    later = [(day, visit_of(day), total) for day, total in scores.items()]
    return [(pid, *row) for row in START + later]


# (participant, later scores {day: total}, events, relapsed, day with "last", with "first")
CASES = [
    ("gap_5_inside", {14: 22, 19: 25}, [], True, 19, 14),
    ("gap_4_outside", {14: 22, 18: 25}, [], False, None, None),
    ("gap_15_inside", {14: 30, 29: 30}, [], True, 29, 14),
    ("gap_16_outside", {14: 30, 30: 30}, [], False, None, None),
    # 14 and 30 are 16 days apart, but 30 and 37 are neighbours 7 days apart
    ("next_pair_counts", {14: 30, 30: 30, 37: 24}, [], True, 37, 30),
    ("threshold_22_counts", {14: 22, 21: 22}, [], True, 21, 14),
    ("threshold_21_does_not", {14: 22, 21: 21}, [], False, None, None),
    # a low score between two high ones breaks the run
    ("run_broken", {14: 25, 21: 10, 28: 25}, [], False, None, None),
    ("event_only", {14: 10, 21: 9}, [(20, "hospitalisation")], True, 20, 20),
    ("suicide_attempt", {14: 10}, [(12, "suicide_attempt")], True, 12, 12),
    ("discontinuation_is_not_relapse", {14: 10}, [(20, "discontinuation")], False, None,
     None),
    # hospitalised on day 16, between the two high scores (14, 21): the earliest evidence
    # wins, the event with "last", the first score with "first"
    ("event_before_confirmation", {14: 25, 21: 25}, [(16, "hospitalisation")], True, 16, 14),
    # both records lie in WEEK2's window (only day 16 is analysed): every scored assessment
    # counts; 12 -> 16 is 4 days (too close), 16 -> 21 is 5 days
    ("unanalysed_record_counts", {12: 25, 16: 25, 21: 25}, [], True, 21, 16),
]


def case_trial():
    rows, events = [], []
    for pid, scores, evs, *_ in CASES:
        rows += participant(pid, scores)
        events += [(pid, day, kind) for day, kind in evs]
    return trial(rows, events=events)


@pytest.fixture(scope="module")
def outcomes():
    t = case_trial()
    first = dataclasses.replace(RULE, event_day="first")
    return (evaluate_endpoint(t, RULE).set_index("participant_id"),
            evaluate_endpoint(t, first).set_index("participant_id"))


@pytest.mark.parametrize(("pid", "relapsed", "last_day", "first_day"),
                         [(c[0], c[3], c[4], c[5]) for c in CASES], ids=[c[0] for c in CASES])
def test_relapse_cases(outcomes, pid, relapsed, last_day, first_day):
    by_last, by_first = outcomes
    assert by_last.loc[pid, "eligible"]
    assert by_last.loc[pid, "start_day"] == 7
    assert bool(by_last.loc[pid, "met"]) is relapsed
    assert bool(by_first.loc[pid, "met"]) is relapsed
    if relapsed:
        assert by_last.loc[pid, "day"] == last_day
        assert by_first.loc[pid, "day"] == first_day
    else:
        assert pd.isna(by_last.loc[pid, "day"])


def test_reasons_name_the_evidence(outcomes):
    by_last, _ = outcomes
    assert by_last.loc["gap_5_inside", "reason"] == (
        "MADRS >= 22 at 2 consecutive assessments: 22 on day 14, 25 on day 19 (5 days apart);"
        " relapse day = the last")
    assert by_last.loc["event_only", "reason"] == "hospitalisation on day 20"
    assert by_last.loc["gap_16_outside", "reason"] == (
        "no relapse after entry on day 7; 2 MADRS assessments after entry")


def test_relapse_before_the_entry_condition_is_not_counted():
    # high scores on days 7 and 14 and a hospitalisation on day 10, all before the first
    # response (day 21, 14 <= 30 / 2); after entry only 10 on day 28: no relapse
    rows = [("P1", 0, "BASELINE", 30), ("P1", 7, "WEEK1", 25), ("P1", 14, "WEEK2", 26),
            ("P1", 21, "WEEK3", 14), ("P1", 28, "WEEK4", 10)]
    t = trial(rows, events=[("P1", 10, "hospitalisation")])
    rule = dataclasses.replace(RULE, entry=Achieved(Response(), "WEEK4", by=True))
    out = evaluate_endpoint(t, rule).iloc[0]
    assert (out["eligible"], out["met"], out["start_day"], out["last_day"]) == (
        True, False, 21, 28)


def test_participants_left_out_with_their_reason():
    rows = [("NORESP", 0, "BASELINE", 30), ("NORESP", 7, "WEEK1", 20),
            ("NOBASE", 7, "WEEK1", 12), ("NOBASE", 14, "WEEK2", 25),
            ("MISSED", 0, "BASELINE", 30)]
    t = trial(rows)
    out = evaluate_endpoint(t, RULE).set_index("participant_id")
    assert not out["eligible"].any() and out["met"].isna().all()
    assert out.loc["NORESP", "reason"] == (
        "entry condition not met (MADRS 20 at WEEK1 (day 7), baseline 30: not met); left out")
    assert out.loc["NOBASE", "reason"] == (
        "entry condition not met (no baseline MADRS (nothing on or before day 0)); left out")
    assert out.loc["MISSED", "reason"] == "entry condition not met (WEEK1 missing); left out"
    tte = time_to_event(t, RULE)
    assert tte.table.empty
    assert tte.excluded["USUBJID"].tolist() == ["MISSED", "NOBASE", "NORESP"]


def test_follow_up_limit_and_three_consecutive():
    rows = participant("P1", {14: 25, 21: 25, 29: 25})
    t = trial(rows)
    # within 14 days of entry (day 7 -> 21): 14 and 21 relapse; with 10 days only day 14
    assert evaluate_endpoint(t, dataclasses.replace(RULE, follow_up_days=14))["day"][0] == 21
    short = evaluate_endpoint(t, dataclasses.replace(RULE, follow_up_days=10)).iloc[0]
    assert (short["met"], short["last_day"]) == (False, 14)
    three = dataclasses.replace(RULE, consecutive=3)
    assert evaluate_endpoint(t, three)["day"][0] == 29  # 14, 21, 29: gaps 7 and 8


def test_time_to_relapse_table():
    t = case_trial()
    tte = time_to_event(t, RULE)
    table = tte.table.set_index("USUBJID")
    row = table.loc["gap_5_inside"]
    assert (row["STARTDY"], row["ADY"], row["AVAL"], row["CNSR"], row["event"]) == (
        7, 19, 12.0, 0, True)
    assert row["EVNTDESC"] == "MADRS >= 22 at 2 consecutive assessments"
    assert pd.isna(row["CNSDTDSC"])
    # censored at the last MADRS assessment after entry: day 18, 11 days after day 7
    row = table.loc["gap_4_outside"]
    assert (row["ADY"], row["AVAL"], row["CNSR"], row["event"]) == (18, 11.0, 1, False)
    assert row["CNSDTDSC"] == "last MADRS assessment after entry"
    assert table.loc["event_only", "EVNTDESC"] == "hospitalisation"
    assert table.loc["event_only", "AVAL"] == 13.0  # day 20 - day 7
    assert (table["CNSR"] == (~table["event"]).astype(int)).all()
    assert len(tte.table) == len(CASES) and tte.excluded.empty
    from_randomisation = time_to_event(t, dataclasses.replace(RULE, origin="randomisation"))
    row = from_randomisation.table.set_index("USUBJID").loc["gap_5_inside"]
    assert (row["STARTDY"], row["AVAL"]) == (0, 19.0)


def test_hamd_preset():
    rule = endpoint_preset("HAM-D17>=18")
    assert (rule.scale, rule.threshold, rule.gap_days, rule.event_day) == (
        "HAM-D17", 18.0, (7, 14), "last")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("gap_days", (5,), "gap_days must be"),
    ("threshold", 61, "threshold must lie in"),
    ("event_day", "second", "event_day must be"),
    ("origin", "baseline", "origin must be"),
    ("events", "hospitalisation", "events must be a tuple"),
    ("consecutive", 0, "consecutive must be"),
])
def test_rule_checks(field, value, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(RULE, **{field: value})


def test_entry_by_stable_remission_and_bare_criterion():
    # MADRS <= 12 at WEEK1..WEEK4: stable remission through WEEK4 (day 28) is the entry;
    # 25 on days 35 and 42 (7 days apart) is the relapse, dated day 42
    rows = [("P1", 0, "BASELINE", 30), *[("P1", 7 * k, f"WEEK{k}", 12) for k in (1, 2, 3, 4)],
            ("P1", 35, "WEEK5", 25), ("P1", 42, "WEEK6", 25)]
    t = trial(rows)
    rule = dataclasses.replace(RULE, entry=endpoint_preset("SUSTAIN-1 stable remission"))
    out = evaluate_endpoint(t, rule).iloc[0]
    assert (out["start_day"], out["met"], out["day"]) == (28, True, 42)
    bare = dataclasses.replace(RULE, entry=Response())  # response at the primary visit
    assert bare.entry == Achieved(Response())
    assert evaluate_endpoint(t, bare)["start_day"][0] == 28
