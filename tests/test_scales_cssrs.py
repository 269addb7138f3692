"""C-SSRS as a categorical outcome: ideation score, worst category and the Scoring and
Data Analysis Guide's endpoints (Nilsson et al. 2013), on hand-worked participants."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.errors import KetexError
from ketex.scales.cssrs import CSSRS_OUTCOME_COLUMNS, cssrs_outcomes, cssrs_scores

NA = pd.NA
IDEATION = ["wish_to_be_dead", "nonspecific_active_thoughts", "active_ideation_method",
            "active_ideation_intent", "active_ideation_plan_intent"]
BEHAVIOUR = ["preparatory_behaviour", "aborted_attempt", "interrupted_attempt",
             "actual_attempt", "completed_suicide"]


def _rating(pid, day, yes=(), asked=IDEATION + BEHAVIOUR, self_injury=None):
    row = {"participant_id": pid, "day": day, "non_suicidal_self_injury": self_injury}
    row |= {c: ("Y" if c in yes else "N") if c in asked else None
            for c in IDEATION + BEHAVIOUR}
    return row


RATINGS = pd.DataFrame([
    # P1: wish to be dead at baseline (score 1); intent (4) on day 7; nothing on day 14
    _rating("P1", -7, {"wish_to_be_dead"}),
    _rating("P1", 7, {"wish_to_be_dead", "nonspecific_active_thoughts",
                      "active_ideation_intent"}),
    _rating("P1", 14),
    # P2: a lifetime attempt (day -30) and no ideation at the recent baseline (day 0);
    # plan and intent (5) with an interrupted attempt (8) on day 10
    _rating("P2", -30, {"actual_attempt"}, asked=BEHAVIOUR),
    _rating("P2", 0),
    _rating("P2", 10, {"wish_to_be_dead", "nonspecific_active_thoughts",
                       "active_ideation_plan_intent", "interrupted_attempt"}),
    # P3: no baseline rating; preparatory acts (6) on day 7
    _rating("P3", 7, {"preparatory_behaviour"}),
    # P4: baseline ideation 3 (questions 3-5 asked); after it only 1 and 2 asked, both no
    _rating("P4", 0, {"wish_to_be_dead", "nonspecific_active_thoughts",
                      "active_ideation_method"}),
    _rating("P4", 21, asked=IDEATION[:2] + BEHAVIOUR),
    # P5: self-injury without suicidal intent after baseline, nothing else
    _rating("P5", 0),
    _rating("P5", 5, self_injury="Y"),
])


def test_scores_per_rating():
    scored = cssrs_scores(RATINGS)
    assert scored["ideation_score"].tolist() == [1, 4, 0, NA, 0, 5, 0, 3, 0, 0, 0]
    assert scored["worst_category"].tolist() == [1, 4, 0, 9, 0, 8, 6, 3, 0, 0, 0]
    assert scored["any_behaviour"].tolist() == [False, False, False, True, False, True, True,
                                                False, False, False, False]
    assert scored.loc[6, "worst_label"] == "Preparatory acts or behaviour"
    assert scored.loc[0, "worst_label"] == "Wish to be dead"
    assert scored.loc[10, "self_injury"] and pd.isna(scored.loc[0, "self_injury"])


def test_outcomes_per_participant():
    out = cssrs_outcomes(RATINGS, arms={"P1": "A", "P2": "B"}).set_index("participant_id")
    assert list(out.reset_index().columns) == list(CSSRS_OUTCOME_COLUMNS)
    p1 = out.loc["P1"]
    assert (p1["arm"], p1["n_baseline"], p1["n_after"]) == ("A", 1, 2)
    assert (p1["baseline_ideation_score"], p1["worst_category"], p1["max_ideation_score"],
            p1["last_ideation_score"]) == (1, 4, 4, 0)
    # 4 > 1: emergent; 4 from 1 (<= 3): emergent serious; not from 0: not new serious;
    # last 0 < baseline 1: improved
    assert [p1[c] for c in ("suicidal_ideation", "suicidal_behaviour", "emergent_ideation",
                            "emergent_serious_ideation", "new_serious_ideation",
                            "improved_ideation", "emergent_behaviour")] == [
        True, False, True, True, False, True, False]
    p2 = out.loc["P2"]
    # baseline: the lifetime attempt and the recent rating; ideation score 0 at baseline
    assert (p2["n_baseline"], p2["baseline_ideation_score"], p2["baseline_behaviour"]) == (
        2, 0, True)
    assert (p2["worst_category"], p2["worst_label"]) == (8, "Interrupted attempt")
    assert p2["new_serious_ideation"] and p2["emergent_serious_ideation"]
    assert p2["suicidal_behaviour"] and not p2["emergent_behaviour"]  # attempted before
    p3 = out.loc["P3"]  # no baseline: the comparisons are missing, the rest is known
    assert p3["worst_category"] == 6 and p3["suicidal_behaviour"]
    assert pd.isna(p3["arm"]) and pd.isna(p3["baseline_ideation_score"])
    assert all(pd.isna(p3[c]) for c in ("emergent_ideation", "emergent_serious_ideation",
                                        "new_serious_ideation", "improved_ideation",
                                        "emergent_behaviour"))
    p4 = out.loc["P4"]
    assert (p4["baseline_ideation_score"], p4["max_ideation_score"]) == (3, 0)
    assert p4["improved_ideation"] and not p4["emergent_ideation"]
    assert not p4["ideation_or_behaviour"]
    p5 = out.loc["P5"]
    assert (p5["worst_category"], p5["worst_label"]) == (
        0, "No suicidal ideation or behaviour")
    assert p5["self_injury"] and not p5["ideation_or_behaviour"]


def test_baseline_day_moves_the_split():
    out = cssrs_outcomes(RATINGS, baseline_day=7).set_index("participant_id")
    # P1's day 7 rating (score 4) is now baseline; day 14 (0) is not worse
    assert out.loc["P1", "baseline_ideation_score"] == 4
    assert not out.loc["P1", "emergent_ideation"] and out.loc["P1", "improved_ideation"]
    assert out.loc["P3", "n_after"] == 0 and pd.isna(out.loc["P3", "worst_category"])


def test_answers_in_any_spelling():
    ratings = pd.DataFrame({"participant_id": "P1", "day": [1, 2, 3, 4],
                            "wish_to_be_dead": [True, 1, "yes", "0"],
                            "actual_attempt": [False, 0.0, "No", "TRUE"]})
    scored = cssrs_scores(ratings)
    assert scored["worst_category"].tolist() == [1, 1, 1, 9]


def test_bad_answer_names_row_and_column():
    ratings = pd.DataFrame({"participant_id": ["P1", "P2"], "day": [0, 0],
                            "wish_to_be_dead": ["N", "maybe"]})
    with pytest.raises(KetexError, match=r"row 1, column wish_to_be_dead: 'maybe'"):
        cssrs_scores(ratings)


def test_no_category_column_is_an_error():
    with pytest.raises(KetexError, match="none of the category columns"):
        cssrs_scores(pd.DataFrame({"participant_id": ["P1"], "day": [0], "item_1": [1]}))
    with pytest.raises(KetexError, match="no day column"):
        cssrs_outcomes(pd.DataFrame({"participant_id": ["P1"], "wish_to_be_dead": [1]}))


def test_table_counts_by_arm():
    from ketex import tables
    from ketex.study.protocol import Arm, Protocol, Visit
    from ketex.study.validation import build_trial

    protocol = Protocol(study_id="S", arms=(Arm("A"), Arm("B")),
                        visits=(Visit("BL", 0, (-7, 0)),))
    people = [("P1", "A"), ("P2", "A"), ("P3", "B"), ("P4", "B"), ("P5", "B"), ("P6", "B")]
    trial = build_trial(protocol, {
        "participants": pd.DataFrame(people, columns=["participant_id", "arm"]),
        "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
                                     "instrument": ["MADRS"], "total": [30]})})
    outcomes = cssrs_outcomes(RATINGS, arms=trial.arms)
    table = tables.cssrs_table(outcomes, trial, group_labels={"B": "Control"})
    data = table.data.set_index(["row", "arm"])
    # arm A: P1 (worst 4), P2 (worst 8), both rated after baseline
    assert data.loc[("Active suicidal ideation with some intent to act, without specific "
                     "plan", "A"), ["n", "denominator"]].tolist() == [1, 2]
    assert data.loc[("Interrupted attempt", "A"), "n"] == 1
    # arm B: P3 (6), P4 (0), P5 (0); P6 has no C-SSRS rating at all
    assert data.loc[("No suicidal ideation or behaviour", "B"), ["n", "denominator"]].tolist(
        ) == [2, 3]
    # suicidal behaviour: P2 in A; P3 in B; known for everyone rated after baseline
    assert data.loc[("Suicidal behaviour (categories 6-10)", "A"), "n"] == 1
    assert data.loc[("Suicidal behaviour (categories 6-10)", "B"), ["n", "denominator"]
                    ].tolist() == [1, 3]
    # emergent behaviour needs a baseline: P3 has none, so B's denominator is P4, P5
    assert data.loc[("Emergence of suicidal behaviour", "B"), ["n", "denominator"]].tolist(
        ) == [0, 2]
    assert data.loc[("Emergence of suicidal behaviour", "A"), "n"] == 0  # P2 attempted before
    display = table.display.set_index("")
    assert list(display.columns) == ["A (N=2)", "Control (N=4)"]
    # self-injury was asked only of P5 after baseline: unknown in A, 1/1 in B
    assert display.loc["Self-injurious behaviour without suicidal intent"].tolist() == [
        "\u2013", "1/1 (100.0%)"]
