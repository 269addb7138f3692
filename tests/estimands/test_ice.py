"""intercurrent_events: the ICE table derived from a trial's discontinuations and rescue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex import DataValidationError, intercurrent_events
from ketex.study.validation import build_trial
from tests.derive.build import protocol

STRATEGIES = {"lack of efficacy": "JR", "adverse event": "JR", "other": "MAR"}


def _trial(events, medications=None):
    """Weekly visits WEEK1..WEEK8 (target 7k, +-3 days); P1..P8 in arms A/B; MADRS rated
    at WEEK1 and WEEK2 (days 7, 14) by everyone, at WEEK3..8 by P6 only."""
    ids = [f"P{i}" for i in range(1, 9)]
    rows = [(p, 0, "BASELINE", 30.0) for p in ids]
    rows += [(p, 7, "WEEK1", 28.0) for p in ids] + [(p, 14, "WEEK2", 26.0) for p in ids]
    rows += [("P6", 7 * k, f"WEEK{k}", 20.0) for k in range(3, 9)]
    raw = {
        "participants": pd.DataFrame({"participant_id": ids, "arm": list("ABABABAB")}),
        "assessments": pd.DataFrame(rows, columns=["participant_id", "day", "visit", "total"])
        .assign(instrument="MADRS"),
        "events": pd.DataFrame(events, columns=["participant_id", "day", "event", "description"]),
        "medications": None if medications is None else pd.DataFrame(
            medications, columns=["participant_id", "name", "start_day", "rescue"]),
    }  # fmt: skip
    return build_trial(protocol(), raw)


EVENTS = [
    ("P1", 17, "discontinuation", "Lack of efficacy"),  # WEEK3 unrated, target 21 >= 17
    ("P2", 14, "discontinuation", "ADVERSE_EVENT"),  # rated on the day: WEEK2 affected
    ("P3", 30, "discontinuation", "withdrew consent"),  # other; WEEK4 due day 28: WEEK5
    ("P4", 10, "discontinuation", "moved away"),  # MAR first, then rescue (JR): rescue
    ("P5", 80, "discontinuation", "lack of efficacy"),  # after WEEK8: no visit affected
    ("P6", 30, "hospitalisation", "admitted"),  # not an intercurrent event
]
MEDS = [("P4", "lorazepam", 20, True), ("P7", "sertraline", -3, True),
        ("P8", "ibuprofen", 5, False)]  # fmt: skip


@pytest.fixture(scope="module")
def ice() -> pd.DataFrame:
    return intercurrent_events(
        _trial(EVENTS, MEDS), {**STRATEGIES, "rescue medication": "JR"}
    ).set_index("USUBJID")


def test_first_visit_affected_and_strategy(ice):
    assert list(ice.reset_index().columns) == [
        "USUBJID", "AVISIT", "strategy", "ice_type", "reason", "ice_day", "arm"
    ]  # fmt: skip
    assert ice.index.tolist() == ["P1", "P2", "P3", "P4"]
    assert ice["AVISIT"].tolist() == ["WEEK3", "WEEK2", "WEEK5", "WEEK3"]
    assert ice["strategy"].tolist() == ["JR", "JR", "MAR", "JR"]
    assert ice["reason"].tolist() == [
        "lack of efficacy", "adverse event", "withdrew consent", "rescue medication"
    ]  # fmt: skip
    assert ice.loc["P4", "ice_type"] == "rescue_medication"
    np.testing.assert_array_equal(ice["ice_day"], [17.0, 14.0, 30.0, 20.0])
    assert ice["arm"].tolist() == ["A", "B", "A", "B"]


def test_assessment_day_decides_over_target_day():
    # P6 is rated at WEEK3..8 on the target days; stopping on day 22 leaves WEEK3 (day 21)
    # unaffected, stopping on day 21 affects it
    for day, first in [(22, "WEEK4"), (21, "WEEK3")]:
        ice = intercurrent_events(_trial([("P6", day, "discontinuation", "adverse event")]),
                                  STRATEGIES)  # fmt: skip
        assert ice["AVISIT"].tolist() == [first]


def test_first_mar_event_when_no_other(ice):
    only_mar = intercurrent_events(_trial(EVENTS, MEDS), {"other": "MAR"}).set_index("USUBJID")
    assert only_mar.loc["P4", "reason"] == "moved away"
    assert only_mar.loc["P4", "AVISIT"] == "WEEK2"  # day 10: WEEK2 (day 14) affected
    assert set(only_mar["strategy"]) == {"MAR"}


def test_analysis_visits_restrict_the_first_visit():
    ice = intercurrent_events(_trial(EVENTS), STRATEGIES, visits=["WEEK4", "WEEK8"])
    assert dict(zip(ice["USUBJID"], ice["AVISIT"], strict=True)) == {
        "P1": "WEEK4", "P2": "WEEK4", "P3": "WEEK8", "P4": "WEEK4"
    }  # fmt: skip
    with pytest.raises(ValueError, match=r"visits \['WEEK9'\] are not scheduled"):
        intercurrent_events(_trial(EVENTS), STRATEGIES, visits=["WEEK9"])


def test_output_names_follow_the_data():
    ice = intercurrent_events(_trial(EVENTS), STRATEGIES, subject="id", visit="visit")
    assert list(ice.columns[:3]) == ["id", "visit", "strategy"]


def test_unlisted_reason_named():
    with pytest.raises(DataValidationError) as info:
        intercurrent_events(_trial(EVENTS), {"lack of efficacy": "JR", "adverse event": "CR"})
    message = str(info.value)
    assert "events row 2 (participant P3, day 30, description 'withdrew consent')" in message
    assert "'other' entry" in message and "moved away" in message


def test_bad_mapping_refused():
    with pytest.raises(ValueError, match=r"strategy 'jr' is not one of"):
        intercurrent_events(_trial(EVENTS), {"lack of efficacy": "jr", "other": "MAR"})
    with pytest.raises(ValueError, match="listed twice"):
        intercurrent_events(_trial(EVENTS), {"Other": "MAR", "other": "JR"})
    with pytest.raises(TypeError, match="must map each reason"):
        intercurrent_events(_trial(EVENTS), ["JR"])
    mine = intercurrent_events(_trial(EVENTS), {"other": "HALF"}, user_strategies=["HALF"])
    assert set(mine["strategy"]) == {"HALF"}


def test_rescue_without_start_day_named():
    with pytest.raises(DataValidationError, match=r"medications rows \[0\].*no start_day"):
        intercurrent_events(_trial(EVENTS, [("P4", "lorazepam", None, True)]), STRATEGIES)


def test_sample_study_into_reference_based_mi():
    import ketex

    trial = ketex.load_trial(ketex.sample_study_path())
    visits = ["WEEK4", "WEEK8", "WEEK12"]
    data = ketex.analysis_dataset(trial)
    data = data[(data["ANL01FL"] == "Y") & data["AVISIT"].isin(visits)].copy()
    data["AVISIT"] = pd.Categorical(data["AVISIT"].astype(str), visits)
    ice = intercurrent_events(trial, {"other": "JR"}, visits=visits)
    assert len(ice) > 0 and ice["AVISIT"].isin(visits).all()
    # every participant's outcome is missing from the first affected visit on (they
    # withdrew), so the ICE table is the first missing visit after a discontinuation
    first_missing = (
        data[data["CHG"].isna()].sort_values(["USUBJID", "AVISIT"]).groupby("USUBJID")["AVISIT"]
        .first().astype(str)
    )  # fmt: skip
    for pid, when in zip(ice["USUBJID"], ice["AVISIT"], strict=True):
        assert first_missing.get(pid) == when
    fit = ketex.reference_based_mi(
        data, "CHG ~ BASE * AVISIT + ARM * AVISIT", subject="USUBJID", visit="AVISIT",
        group="ARM", references={"SERIES": "SINGLE", "SINGLE": "SINGLE"}, ice=ice,
        analysis_covariates=["BASE"],
    )  # fmt: skip
    assert fit.data["strategy"].iloc[0] == "JR" and len(fit.data) == 3
