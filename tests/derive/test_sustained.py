"""Response, remission and endpoints over several visits on hand-made participants.

Weekly visits (WEEKk on day 7k); baseline 30 on day 0, so a response is a total <= 15; the
protocol's primary visit is WEEK4 and its remission preset MADRS <= 10 unless stated.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.derive.endpoints import (
    Achieved,
    ConsistentRemission,
    Remission,
    Response,
    StableRemission,
    SustainedRemission,
    SustainedResponse,
    endpoint_preset,
)
from ketex.derive.evaluate import evaluate_endpoint
from ketex.derive.time_to_event import time_to_event
from tests.derive.build import trial

MISSING = None


def weekly(pid: str, totals: list[float | None], baseline: float | None = 30) -> list[tuple]:
    """Rows for a participant: baseline on day 0, then WEEK1.. on days 7, 14, ...
    (a None total leaves the visit out)."""
    rows = [(pid, 0, "BASELINE", baseline)] if baseline is not None else []
    rows += [(pid, 7 * k, f"WEEK{k}", t) for k, t in enumerate(totals, start=1)
             if t is not None]
    return rows


def evaluate(rule, participants: dict[str, list], **endpoints) -> pd.DataFrame:
    rows = [r for pid, totals in participants.items() for r in weekly(pid, totals)]
    return evaluate_endpoint(trial(rows, **endpoints), rule).set_index("participant_id")


# -- response and remission at, by a visit --------------------------------------------


def test_response_at_the_primary_visit():
    out = evaluate(Response(), {"yes": [20, 20, 20, 15], "no": [10, 10, 10, 16],
                                "missing": [10, 10, 10, MISSING]})
    assert bool(out.loc["yes", "met"]) and not bool(out.loc["no", "met"])
    assert out.loc["yes", "day"] == 28 and out.loc["yes", "visit"] == "WEEK4"
    assert pd.isna(out.loc["missing", "met"])
    assert out.loc["missing", "reason"] == "WEEK4 missing"
    failure = evaluate(Achieved(Response(), missing="failure"), {"missing": [10, MISSING]})
    assert failure.loc["missing", "met"] == False  # noqa: E712 (pandas boolean)


def test_response_by_a_visit_and_by_a_day():
    people = {"week3": [20, 16, 15, 30], "never": [20, 16, 16, 16], "week1": [15]}
    by_visit = evaluate(Achieved(Response(), "WEEK3", by=True), people)
    assert by_visit.loc["week3", "day"] == 21 and by_visit.loc["week1", "day"] == 7
    assert not bool(by_visit.loc["never", "met"])
    by_day = evaluate(Achieved(Response(), by_day=20), people)  # day 21 is too late
    assert not bool(by_day.loc["week3", "met"])
    assert by_day.loc["week3", "reason"] == "not met at any of 2 assessments on or before day 20"


def test_remission_cut_offs_from_presets():
    people = {"ten": [10], "eleven": [11], "twelve": [12]}
    at = evaluate(Achieved(endpoint_preset("MADRS<=10"), "WEEK1"), people)
    assert at["met"].tolist() == [False, True, False]  # eleven, ten, twelve
    at = evaluate(Achieved(endpoint_preset("MADRS<=12"), "WEEK1"), people)
    assert at["met"].tolist() == [True, True, True]
    # a bare rule is evaluated at the primary visit
    bare = evaluate(Remission("MADRS", max_score=11), people, primary_visit="WEEK1")
    assert bare.loc["eleven", "reason"] == "MADRS 11 at WEEK1 (day 7): met"
    assert bare.loc["twelve", "reason"] == "MADRS 12 at WEEK1 (day 7): not met"


def test_other_scale_presets():
    assert endpoint_preset("PHQ-9<5").met(4) and not endpoint_preset("PHQ-9<5").met(5)
    assert endpoint_preset("QIDS-SR16<=5").met(5) and not endpoint_preset("QIDS-SR16<=5").met(6)
    assert endpoint_preset("HAM-D17<=7").met(7) and not endpoint_preset("HAM-D17<=7").met(8)


# -- sustained ---------------------------------------------------------------------------

SUSTAINED = SustainedResponse(through_visit="WEEK6")  # from WEEK4 (primary) through WEEK6


@pytest.mark.parametrize(("totals", "missing", "met", "reason"), [
    ([20, 20, 20, 15, 15, 15], "failure", True, "met at WEEK4, WEEK5, WEEK6"),
    ([20, 20, 20, 15, MISSING, 15], "failure", False,
     "met at WEEK4; WEEK5 missing (counts as failure)"),
    ([20, 20, 20, 15, MISSING, 15], "skip", True,
     "met at WEEK4, WEEK6 (WEEK5 missing, skipped)"),
    ([20, 20, 20, 15, 15, MISSING], "skip", True,
     "met at WEEK4, WEEK5 (WEEK6 missing, skipped)"),
    ([20, 20, 20, MISSING, 15, 15], "skip", False,
     "WEEK4 missing (the first visit must be observed)"),
    ([20, 20, 20, 15, 16, 15], "failure", False,
     "met at WEEK4; not met at WEEK5: MADRS 16 at WEEK5 (day 35), baseline 30"),
    ([10, 10, 10, 16, 10, 10], "failure", False,
     "not met at WEEK4: MADRS 16 at WEEK4 (day 28), baseline 30"),
])
def test_sustained_response(totals, missing, met, reason):
    rule = SustainedResponse(through_visit="WEEK6", missing=missing)
    out = evaluate(rule, {"P1": totals}).loc["P1"]
    assert bool(out["met"]) is met
    assert out["reason"] == reason
    assert (out["day"] == 28) if met else pd.isna(out["day"])


def test_sustained_remission_and_protocol_settings():
    # the protocol names the last visit: sustained_through_visit = WEEK5
    out = evaluate(SustainedRemission(), {"P1": [20, 20, 20, 10, 10, 30]},
                   sustained_through_visit="WEEK5")
    assert out.loc["P1", "reason"] == "met at WEEK4, WEEK5"
    with pytest.raises(ValueError, match="through_visit: no visit given"):
        evaluate(SustainedRemission(), {"P1": [10]})
    with pytest.raises(ValueError, match="visit 'WEEK99' is not in the protocol"):
        evaluate(SustainedResponse(through_visit="WEEK99"), {"P1": [10]})


def test_sustained_without_baseline_is_left_out():
    rows = weekly("P1", [10, 10, 10, 10, 10, 10], baseline=None)
    out = evaluate_endpoint(trial(rows), SUSTAINED).iloc[0]
    assert (out["eligible"], pd.isna(out["met"])) == (False, True)
    assert out["reason"] == "no baseline MADRS (nothing on or before day 0); left out"


# -- stable remission (SUSTAIN-1: MADRS <= 12 at >= 3 of the last 4 visits, an excursion
#    allowed only in the first two) ---------------------------------------------------

Y, N = 12, 13  # met, not met


@pytest.mark.parametrize(("last4", "met"), [
    ([Y, Y, Y, Y], True),
    ([N, Y, Y, Y], True),
    ([Y, N, Y, Y], True),
    ([MISSING, Y, Y, Y], True),
    ([Y, Y, N, Y], False),  # excursion at the third visit
    ([Y, Y, Y, MISSING], False),
    ([N, N, Y, Y], False),  # only 2 of 4
])
def test_sustain1_stable_remission(last4, met):
    rule = endpoint_preset("SUSTAIN-1 stable remission")  # through the primary visit WEEK4
    out = evaluate(rule, {"P1": last4}).loc["P1"]
    assert bool(out["met"]) is met
    if met:
        assert out["day"] == 28 and out["visit"] == "WEEK4"


def test_stable_remission_without_required_last_visits_and_too_few_visits():
    rule = StableRemission(Remission("MADRS", max_score=12), last=4, at_least=3)
    out = evaluate(rule, {"P1": [Y, Y, N, Y]}).loc["P1"]
    assert bool(out["met"])
    assert out["reason"] == ("met at 3 of the last 4 visits (WEEK1 yes, WEEK2 yes, WEEK3 no, "
                             "WEEK4 yes); 3 needed")
    few = evaluate(StableRemission(Remission("MADRS", max_score=12), through_visit="WEEK3"),
                   {"P1": [Y, Y, Y]}).loc["P1"]
    assert not few["eligible"]
    assert few["reason"] == ("only 3 scheduled MADRS visits after baseline through WEEK3, 4 "
                             "needed; left out")


def test_sustain1_stable_response():
    rule = endpoint_preset("SUSTAIN-1 stable response")  # >= 50 % at each of the last 2
    out = evaluate(rule, {"yes": [30, 30, 15, 15], "no": [15, 15, 15, 16]})
    assert bool(out.loc["yes", "met"]) and not bool(out.loc["no", "met"])


# -- consistent remission -----------------------------------------------------------------


@pytest.mark.parametrize(("totals", "missing", "event_day", "day"), [
    ([13, 10, 11, 20], "failure", "first", 14),
    ([13, 10, 11, 20], "failure", "last", 21),
    ([10, MISSING, 10, 20], "failure", "first", None),  # the missing visit breaks the run
    ([10, MISSING, 10, 20], "skip", "first", 7),
    ([10, 20, 10, 20], "failure", "first", None),
])
def test_consistent_remission(totals, missing, event_day, day):
    rule = ConsistentRemission(Remission("MADRS", max_score=12), missing=missing,
                               event_day=event_day)
    out = evaluate(rule, {"P1": totals}).loc["P1"]
    assert bool(out["met"]) is (day is not None)
    if day is not None:
        assert out["day"] == day


# -- time to response and remission -----------------------------------------------------


def test_time_to_response_and_remission():
    rows = (weekly("resp3", [20, 16, 15, 30]) + weekly("never", [20, 16, 16])
            + weekly("noafter", []) + weekly("nobase", [10, 10], baseline=None))
    t = trial(rows)
    tte = time_to_event(t, Response())
    table = tte.table.set_index("USUBJID")
    # first response at WEEK3 (day 21); never responds: censored at the last visit, day 21;
    # nothing after baseline: censored at the origin, AVAL 0
    assert table.loc["resp3", ["ADY", "AVAL", "CNSR"]].tolist() == [21, 21.0, 0]
    assert table.loc["never", ["ADY", "AVAL", "CNSR"]].tolist() == [21, 21.0, 1]
    assert table.loc["noafter", ["ADY", "AVAL", "CNSR"]].tolist() == [0, 0.0, 1]
    assert table.loc["noafter", "CNSDTDSC"] == "no assessment after origin"
    assert tte.excluded["USUBJID"].tolist() == ["nobase"]
    assert tte.paramcd == "TTRESP" and table["PARAM"].iloc[0] == (
        "MADRS response (>= 50% reduction from baseline)")
    remission = time_to_event(t, Remission("MADRS", max_score=10)).table.set_index("USUBJID")
    # remission needs no baseline: nobase remits at WEEK1
    assert remission.loc["nobase", ["ADY", "CNSR"]].tolist() == [7, 0]
    assert remission.loc["resp3", "CNSR"] == 1
    with pytest.raises(ValueError, match="Achieved at a single visit"):
        time_to_event(t, Achieved(Response(), "WEEK2"))
