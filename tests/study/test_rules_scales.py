"""Validation of the tolerability and safety scales in an assessments table."""

from __future__ import annotations

import pandas as pd

import ketex


def _add(folder, rows: list[dict]) -> None:
    path = folder / "assessments.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = pd.concat([table, pd.DataFrame(rows, dtype=str)], ignore_index=True).fillna("")
    table.to_csv(path, index=False)


def test_new_scales_are_accepted_scored_and_range_checked(mini_folder):
    base = {"participant_id": "M01", "day": "0", "visit": "BASELINE"}
    _add(mini_folder, [
        {**base, "instrument": "BPRS-POSITIVE", "item_1": "1", "item_2": "7", "item_3": "3",
         "item_4": "5"},                                          # 1 + 7 + 3 + 5 = 16
        {**base, "instrument": "CGI-S", "item_1": "4"},
        {**base, "instrument": "SHAPS", "item_1": "0", **{f"item_{k}": "1"
                                                           for k in range(2, 15)}},
        {**base, "instrument": "CADSS", **{f"item_{k}": "1" for k in range(1, 24)}},  # 23
    ])
    trial = ketex.load_trial(mini_folder, on_error="drop")
    report = trial.report
    bad = report[report["rule"] == "item_out_of_range"]
    assert bad["value"].tolist() == ["0"]  # SHAPS responses are 1-4
    assert "SHAPS item range 1-4" in bad["message"].iloc[0]
    assert "unknown_instrument" not in report["rule"].tolist()
    totals = trial.assessments.set_index("instrument")["total"]
    assert totals["BPRS-POSITIVE"] == 16.0
    assert totals["CGI-S"] == 4.0
    assert totals["CADSS"] == 23.0
    assert "SHAPS" not in totals.index  # the row with the invalid item is dropped
