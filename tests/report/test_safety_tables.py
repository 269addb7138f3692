"""Safety tables on a hand-built trial, against counts made by hand (comments say how)."""

from __future__ import annotations

import statistics

import pandas as pd
import pytest

from ketex import tables
from ketex.study.validation import build_trial
from tests.derive.build import protocol

GI, NERVOUS, MUSCULO = ("Gastrointestinal disorders", "Nervous system disorders",
                        "Musculoskeletal and connective tissue disorders")
# arm A: P1-P4 (N=4), arm B: P5-P6 (N=2), arm C: P7 (N=1, no events at all)
PARTICIPANTS = [("P1", "A"), ("P2", "A"), ("P3", "A"), ("P4", "A"), ("P5", "B"), ("P6", "B"),
                ("P7", "C")]
AE_COLUMNS = ["participant_id", "term", "pt", "soc", "start_day", "end_day", "severity",
              "serious", "related", "action", "outcome"]
EVENTS = [
    ("P1", "nausea", "Nausea", GI, 0, 1, "mild", False, "drug", "none", "recovered"),
    ("P1", "sick again", "Nausea", GI, 7, 7, "moderate", False, "drug", "none", "recovered"),
    ("P1", "headache", "Headache", NERVOUS, 1, 1, "mild", False, "none", "none", "recovered"),
    ("P2", "vomiting", "Nausea", GI, 0, 3, "severe", True, "drug", "drug_withdrawn",
     "recovered"),
    # before the first infusion and over before it: not treatment-emergent
    ("P2", "dizzy", "Dizziness", NERVOUS, -3, -1, "mild", False, "none", "none", "recovered"),
    ("P3", "light-headed", "Dizziness", NERVOUS, 2, 2, "mild", False, "drug", "none",
     "recovered"),
    ("P3", "queasy", None, None, 4, 4, "mild", False, "none", "none", "recovered"),
    ("P5", "sore calves", "Myalgia", MUSCULO, 3, 9, "mild", False, "exercise",
     "exercise_stopped", "recovered"),
    ("P5", "headache", "Headache", NERVOUS, 8, 8, "moderate", False, "none", "none",
     "recovered"),
    # before the first infusion, ongoing, no baseline severity: not treatment-emergent
    ("P6", "nausea", "Nausea", GI, -5, None, "mild", False, "none", "none", "not_recovered"),
]
VITALS = [
    ("P1", 0, -5, "SBP", 130), ("P1", 0, 40, "SBP", 185), ("P1", 0, -5, "DBP", 80),
    ("P1", 0, 40, "DBP", 112), ("P1", 7, -5, "SBP", 125), ("P1", 7, 40, "SBP", 160),
    ("P2", 0, -5, "SBP", 120), ("P2", 0, 30, "SBP", 181),
    ("P5", 0, -5, "SBP", 118), ("P5", 0, 40, "SBP", 140),
    ("P5", 7, 40, "SBP", 190),  # no baseline that day
]


def _trial(events=EVENTS, columns=AE_COLUMNS):
    ids = [p for p, _ in PARTICIPANTS]
    raw = {
        "participants": pd.DataFrame(PARTICIPANTS, columns=["participant_id", "arm"]),
        "assessments": pd.DataFrame({"participant_id": ids, "day": 0, "visit": "BASELINE",
                                     "instrument": "MADRS", "total": 30}),
        "infusions": pd.DataFrame([(p, d) for p in ids for d in (0, 7)],
                                  columns=["participant_id", "day"]).assign(
            drug="ketamine", dose=0.5, dose_unit="mg/kg"),
        "adverse_events": pd.DataFrame([e[: len(columns)] for e in events], columns=columns),
        "vitals": pd.DataFrame(VITALS, columns=["participant_id", "day", "time_min", "test",
                                                "value"]).assign(unit="mmHg"),
    }
    return build_trial(protocol(arms=("A", "B", "C")), raw)


@pytest.fixture(scope="module")
def trial():
    return _trial()


def test_overview_counts_participants_over_arm_n(trial):
    data = tables.teae_overview_table(trial).data
    got = {(r.category, r.arm): (r.n_participants, r.n_events, r.N)
           for r in data.itertuples()}
    expected = {
        # A: P1 (3 TEAEs), P2 (1; its dizziness is pre-treatment), P3 (2); P4 none
        "Any TEAE": {"A": (3, 6, 4), "B": (1, 2, 2), "C": (0, 0, 1)},
        "Serious TEAE": {"A": (1, 1, 4), "B": (0, 0, 2), "C": (0, 0, 1)},
        "Severe TEAE": {"A": (1, 1, 4), "B": (0, 0, 2), "C": (0, 0, 1)},
        "TEAE related to the drug": {"A": (3, 4, 4), "B": (0, 0, 2), "C": (0, 0, 1)},
        "TEAE related to exercise": {"A": (0, 0, 4), "B": (1, 1, 2), "C": (0, 0, 1)},
        "TEAE leading to discontinuation": {"A": (1, 1, 4), "B": (1, 1, 2), "C": (0, 0, 1)},
        "TEAE with fatal outcome": {"A": (0, 0, 4), "B": (0, 0, 2), "C": (0, 0, 1)},
    }
    assert got == {(c, a): v for c, arms in expected.items() for a, v in arms.items()}
    any_teae = data[data["category"] == "Any TEAE"].set_index("arm")["percent"]
    assert any_teae.to_dict() == {"A": 75.0, "B": 50.0, "C": 0.0}
    display = tables.teae_overview_table(trial).display
    assert list(display.columns) == ["", "A (N=4)", "B (N=2)", "C (N=1)"]
    assert display.iloc[0].tolist() == ["Any TEAE", "3 (75.0%)", "1 (50.0%)", "0 (0.0%)"]


def test_overview_says_not_recorded_for_a_missing_column():
    trial = _trial(columns=AE_COLUMNS[:7])  # no serious, related, action, outcome
    table = tables.teae_overview_table(trial)
    serious = table.data[table.data["category"] == "Serious TEAE"]
    assert serious["n_participants"].isna().all()
    assert table.display.iloc[1].tolist() == ["Serious TEAE", *["not recorded"] * 3]
    assert table.display.iloc[2, 1] == "1 (25.0%)"  # severe comes from severity


def test_soc_pt_counts_and_order(trial):
    data = tables.adverse_event_table(trial).data
    rows = [(r.soc, None if pd.isna(r.pt) else r.pt, r.arm, r.n_participants, r.n_events)
            for r in data.itertuples()]
    nc = "(system organ class not coded)"
    expected = [
        # Nervous: 3 participants (P1, P3 in A; P5 in B) before GI's 2 (P1, P2)
        (NERVOUS, None, "A", 2, 2), (NERVOUS, None, "B", 1, 1), (NERVOUS, None, "C", 0, 0),
        (NERVOUS, "Headache", "A", 1, 1), (NERVOUS, "Headache", "B", 1, 1),
        (NERVOUS, "Headache", "C", 0, 0),
        (NERVOUS, "Dizziness", "A", 1, 1), (NERVOUS, "Dizziness", "B", 0, 0),
        (NERVOUS, "Dizziness", "C", 0, 0),
        # P1 had nausea twice: one participant, two events; P6's is pre-treatment
        (GI, None, "A", 2, 3), (GI, None, "B", 0, 0), (GI, None, "C", 0, 0),
        (GI, "Nausea", "A", 2, 3), (GI, "Nausea", "B", 0, 0), (GI, "Nausea", "C", 0, 0),
        (MUSCULO, None, "A", 0, 0), (MUSCULO, None, "B", 1, 1), (MUSCULO, None, "C", 0, 0),
        (MUSCULO, "Myalgia", "A", 0, 0), (MUSCULO, "Myalgia", "B", 1, 1),
        (MUSCULO, "Myalgia", "C", 0, 0),
        # not coded: listed by verbatim term, last
        (nc, None, "A", 1, 1), (nc, None, "B", 0, 0), (nc, None, "C", 0, 0),
        (nc, "queasy", "A", 1, 1), (nc, "queasy", "B", 0, 0), (nc, "queasy", "C", 0, 0),
    ]
    assert rows == expected
    assert set(data["N"].groupby(data["arm"]).unique().map(tuple)) == {(4,), (2,), (1,)}
    nausea = data[(data["pt"] == "Nausea") & (data["arm"] == "A")].iloc[0]
    assert nausea["percent"] == 50.0
    display = tables.adverse_event_table(trial).display
    assert display.iloc[0, 0] == NERVOUS and display.iloc[1, 0] == "    Headache"
    assert display.iloc[1, 1:].tolist() == ["1 (25.0%)", "1 (50.0%)", "0 (0.0%)"]


def test_min_percent_keeps_the_most_common_terms(trial):
    data = tables.adverse_event_table(trial, min_percent=50).data
    # >= 50% in some arm: Nausea (A 2/4), Headache (B 1/2), Myalgia (B 1/2);
    # Dizziness (A 1/4) and queasy (A 1/4) go, and with queasy its uncoded class
    assert data["pt"].dropna().unique().tolist() == ["Headache", "Nausea", "Myalgia"]
    assert data.loc[data["pt"].isna(), "soc"].unique().tolist() == [NERVOUS, GI, MUSCULO]
    # the class row still counts every term of the class (Dizziness of P3 included)
    nervous_a = data[(data["soc"] == NERVOUS) & data["pt"].isna() & (data["arm"] == "A")]
    assert nervous_a["n_participants"].tolist() == [2]
    with pytest.raises(ValueError, match="min_percent"):
        tables.adverse_event_table(trial, min_percent=120)


def test_vital_sign_thresholds_by_arm(trial):
    data = tables.infusion_vitals_table(trial).data.set_index(["test", "arm"])
    sbp_a = data.loc[("SBP", "A")]
    # P1 day 0 (185) and P2 day 0 (181) above 180; P1 day 7 (160) not
    assert (sbp_a["n_participants"], sbp_a["n_measured"], sbp_a["N"]) == (2, 2, 4)
    assert (sbp_a["n_infusions_above"], sbp_a["n_infusions_measured"]) == (2, 3)
    assert sbp_a["percent"] == 50.0
    rises = [185 - 130, 160 - 125, 181 - 120]
    assert sbp_a["peak_change_mean"] == pytest.approx(statistics.mean(rises), abs=1e-12)
    assert sbp_a["peak_change_sd"] == pytest.approx(statistics.stdev(rises), abs=1e-12)
    sbp_b = data.loc[("SBP", "B")]
    # P5 day 7 (190, no baseline) is above; its rise is unknown, so only day 0 (22) counts
    assert (sbp_b["n_participants"], sbp_b["n_infusions_above"],
            sbp_b["n_infusions_measured"]) == (1, 1, 2)
    assert sbp_b["peak_change_mean"] == 22 and pd.isna(sbp_b["peak_change_sd"])
    dbp_a = data.loc[("DBP", "A")]
    assert (dbp_a["n_participants"], dbp_a["percent"], dbp_a["peak_change_mean"]) == (
        1, 25.0, 32)
    assert data.loc[("DBP", "B"), "n_measured"] == 0
    display = tables.infusion_vitals_table(trial).display
    assert display.iloc[0].tolist() == ["SBP > 180 mmHg after an infusion", "2 (50.0%)",
                                        "1 (50.0%)", "not measured"]
    assert display.iloc[1, 1] == "2/3 (66.7%)"
