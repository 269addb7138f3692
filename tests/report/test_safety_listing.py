"""The serious adverse event listing on a hand-built trial (infusions on days 0 and 7)."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex import tables
from ketex.report.safety_listing import SERIOUS_LISTING_COLUMNS
from tests.report.test_safety_tables import AE_COLUMNS, EVENTS, GI, NERVOUS, _trial

SERIOUS = [
    # arm B before arm A's events in the data: the listing puts arm A first
    ("P5", "fainted", "Syncope", NERVOUS, 8, 8, "severe", True, "drug", "drug_withdrawn",
     "recovered"),
    # before the first infusion (day 0) and over before it: serious, not a TEAE
    ("P3", "admitted for suicidal thoughts", "Suicidal ideation", "Psychiatric disorders",
     -2, -1, "severe", True, "none", "none", "recovered"),
    # onset unknown: a TEAE by the conservative rule, listed after the known onsets
    ("P1", "bleeding", "Haematochezia", GI, None, None, None, True, "none", "none",
     "unknown"),
    ("P1", "fracture", "Wrist fracture", "Injury, poisoning and procedural complications", 9,
     None, "moderate", True, "exercise", "exercise_stopped", "not_recovered"),
]


def _listing(**options):
    return tables.serious_event_listing(_trial(EVENTS + SERIOUS), **options)


def test_lists_every_serious_event_in_arm_participant_day_order():
    data = _listing().data
    # serious in EVENTS: P2 vomiting (day 0, arm A)
    assert list(zip(data["participant_id"], data["term"], strict=True)) == [
        ("P1", "fracture"), ("P1", "bleeding"), ("P2", "vomiting"),
        ("P3", "admitted for suicidal thoughts"), ("P5", "fainted")]
    assert data["arm"].tolist() == ["A", "A", "A", "A", "B"]
    assert data["treatment_emergent"].tolist() == [True, True, True, False, True]
    # start_day minus the first infusion day (0 for everyone here)
    days = data["day_from_first_treatment"]
    assert pd.isna(days.iloc[1])
    assert days.drop(index=1).tolist() == [9, 0, -2, 8]
    assert list(data.columns) == list(SERIOUS_LISTING_COLUMNS)


def test_display_cells():
    display = _listing(group_labels={"B": "Placebo"}).display.set_index("Participant")
    fracture = display.loc["P1"].iloc[0]
    assert fracture["Event (preferred term)"] == "Wrist fracture (fracture)"
    assert fracture["Onset day (from first treatment)"] == "9 (+9)"
    assert fracture["End day"] == "ongoing"
    assert (fracture["Related to"], fracture["Action taken"], fracture["Outcome"]) == (
        "exercise", "exercise stopped", "not recovered")
    bleeding = display.loc["P1"].iloc[1]
    assert bleeding["Onset day (from first treatment)"] == "unknown"
    assert bleeding["Severity"] == "\u2013" and bleeding["TEAE"] == "yes"
    assert display.loc["P3", "TEAE"] == "no"
    assert display.loc["P3", "Onset day (from first treatment)"] == "-2 (-2)"
    assert display.loc["P5", "Arm"] == "Placebo"


def test_treatment_emergent_only_drops_the_pre_treatment_event():
    data = _listing(treatment_emergent_only=True).data
    assert "P3" not in set(data["participant_id"]) and len(data) == 4


def test_no_serious_events_gives_an_empty_listing_with_a_note():
    no_serious = [e[:7] + (False,) + e[8:] for e in EVENTS]
    listing = tables.serious_event_listing(_trial(no_serious))
    assert listing.data.empty and listing.display.empty
    assert "No serious adverse events." in listing.notes


def test_without_a_serious_column_nothing_is_listed():
    listing = tables.serious_event_listing(_trial(EVENTS, AE_COLUMNS[:7]))
    assert listing.data.empty


def test_adverse_events_by_a_factor_pools_the_arms():
    from ketex.study.protocol import Arm, Protocol, Visit
    from ketex.study.validation import build_trial

    arms = (Arm("KA", factors={"drug": "ketamine", "exercise": "aerobic"}),
            Arm("KS", factors={"drug": "ketamine", "exercise": "stretching"}),
            Arm("MA", factors={"drug": "midazolam", "exercise": "aerobic"}))
    protocol = Protocol("F", arms, (Visit("BL", 0, (-7, 0)),))
    people = [("P1", "KA"), ("P2", "KS"), ("P3", "KS"), ("P4", "MA")]
    ids = [p for p, _ in people]
    trial = build_trial(protocol, {
        "participants": pd.DataFrame(people, columns=["participant_id", "arm"]),
        "assessments": pd.DataFrame({"participant_id": ids, "day": 0, "visit": "BL",
                                     "instrument": "MADRS", "total": 30}),
        "infusions": pd.DataFrame({"participant_id": ids, "day": 1, "drug": "ketamine",
                                   "dose": 0.5, "dose_unit": "mg/kg"}),
        "adverse_events": pd.DataFrame({
            "participant_id": ["P1", "P2", "P2", "P4"], "term": "spaced out",
            "pt": "Dissociation", "soc": "Psychiatric disorders", "start_day": [1, 1, 3, 1]}),
    })
    data = tables.adverse_events(trial, by="drug").data
    pt = data[data["pt"] == "Dissociation"].set_index("arm")
    # ketamine: P1-P3 (N=3), P1 and P2 with it (P2 twice); midazolam: P4 (N=1)
    assert pt.loc["ketamine", ["n_participants", "n_events", "N"]].tolist() == [2, 3, 3]
    assert pt.loc["midazolam", ["n_participants", "n_events", "N"]].tolist() == [1, 1, 1]
    by_arm = tables.adverse_events(trial).data
    assert set(by_arm["arm"]) == {"KA", "KS", "MA"}
    with pytest.raises(ValueError, match="'dose' is not 'arm' or a factor"):
        tables.adverse_events(trial, by="dose")
