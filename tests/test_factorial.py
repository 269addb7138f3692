"""Tests of ketex.factorial.additive_interaction.

Hand-worked 2 x 2 tables (formulas evaluated in the test, relative 1e-8), and base-R
reference values (tests/reference/factorial/reference_interaction.R, relative 1e-8: both
programs evaluate the same closed forms; the R script's Wilson limits come from
prop.test, its gradients from deriv, its MOVER-R limits from uniroot at tol 1e-14).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex import DataValidationError, additive_interaction

REFERENCE = Path(__file__).parent / "reference" / "factorial"
Z = 1.959963984540054


def _trial(counts: dict) -> pd.DataFrame:
    rows = [
        {"ket": a, "ex": b, "resp": int(i < x)}
        for (a, b), (x, n) in counts.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def _fit(frame, **kwargs):
    return additive_interaction(
        frame, outcome="resp", factor_a="ket", factor_b="ex", reference_a="no",
        reference_b="no", **kwargs,
    )  # fmt: skip


def _row(result, measure, method):
    table = result.measures
    row = table[(table["measure"] == measure) & (table["method"] == method)]
    assert len(row) == 1
    return row.iloc[0]


COUNTS = {("no", "no"): (10, 40), ("yes", "no"): (16, 40),
          ("no", "yes"): (14, 40), ("yes", "yes"): (28, 40)}  # fmt: skip


def test_hand_worked_delta_method():
    result = _fit(_trial(COUNTS))
    p00, p10, p01, p11 = 10 / 40, 16 / 40, 14 / 40, 28 / 40
    v = {k: p * (1 - p) / 40 for k, p in {"00": p00, "10": p10, "01": p01, "11": p11}.items()}
    # DID = 0.70 - 0.40 - 0.35 + 0.25 = 0.20
    did = _row(result, "risk_difference_interaction", "delta")
    assert did["estimate"] == pytest.approx(0.20, rel=1e-8)
    se_did = math.sqrt(sum(v.values()))
    assert did["se"] == pytest.approx(se_did, rel=1e-8)
    assert did["ci_low"] == pytest.approx(0.20 - Z * se_did, rel=1e-8)
    # RERI = 2.8 - 1.6 - 1.4 + 1 = 0.8; d/dp00 = -(p11 - p10 - p01) / p00^2 = 0.8
    reri = _row(result, "reri", "delta")
    assert reri["estimate"] == pytest.approx(0.8, rel=1e-8)
    se_reri = math.sqrt(0.8**2 * v["00"] + (v["10"] + v["01"] + v["11"]) / p00**2)
    assert reri["se"] == pytest.approx(se_reri, rel=1e-8)
    assert reri["p_value"] == pytest.approx(2 * (1 - _phi(0.8 / se_reri)), rel=1e-8)
    # S = (2.8 - 1) / (0.6 + 0.4) = 1.8; log S = log(p11 - p00) - log(p10 + p01 - 2 p00)
    s = _row(result, "synergy_index", "delta")
    assert s["estimate"] == pytest.approx(1.8, rel=1e-8)
    a, b = p11 - p00, p10 + p01 - 2 * p00
    se_log = math.sqrt(
        (-1 / a + 2 / b) ** 2 * v["00"] + (v["10"] + v["01"]) / b**2 + v["11"] / a**2
    )
    assert s["se"] == pytest.approx(se_log, rel=1e-8)
    assert s["ci_high"] == pytest.approx(1.8 * math.exp(Z * se_log), rel=1e-8)


def _phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _wilson(x, n):
    p = x / n
    centre, half = p + Z**2 / (2 * n), Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return (centre - half) / (1 + Z**2 / n), (centre + half) / (1 + Z**2 / n)


def test_hand_worked_mover_for_did():
    result = _fit(_trial(COUNTS))
    w = {
        k: _wilson(x, n)
        for k, (x, n) in zip(("00", "10", "01", "11"), COUNTS.values(), strict=True)
    }
    p = {"00": 0.25, "10": 0.40, "01": 0.35, "11": 0.70}
    low = 0.2 - math.sqrt((p["11"] - w["11"][0]) ** 2 + (p["00"] - w["00"][0]) ** 2
                          + (w["10"][1] - p["10"]) ** 2 + (w["01"][1] - p["01"]) ** 2)  # fmt: skip
    high = 0.2 + math.sqrt((w["11"][1] - p["11"]) ** 2 + (w["00"][1] - p["00"]) ** 2
                           + (p["10"] - w["10"][0]) ** 2 + (p["01"] - w["01"][0]) ** 2)  # fmt: skip
    row = _row(result, "risk_difference_interaction", "mover")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-8)
    assert np.isnan(row["p_value"]) and np.isnan(row["se"])
    cells = result.cells
    assert cells["cell"].tolist() == ["00", "10", "01", "11"]
    assert cells["n"].tolist() == [40] * 4 and cells["events"].tolist() == [10, 16, 14, 28]
    assert cells.loc[3, "ci_low"] == pytest.approx(w["11"][0], rel=1e-12)


@pytest.mark.parametrize("trial", ["main", "small"])
def test_base_r_reference(trial):
    reference = json.loads((REFERENCE / "interaction_reference.json").read_text())[trial]
    data = pd.read_csv(REFERENCE / "factorial_trials.csv")
    data = data[data["trial"] == trial]
    result = additive_interaction(
        data, outcome="response", factor_a="ketamine", factor_b="exercise",
        reference_a="no", reference_b="no",
    )  # fmt: skip
    assert result.n_missing_outcome == reference["n_missing_outcome"]
    cells = result.cells.set_index("cell")
    for cell in ("00", "10", "01", "11"):
        assert cells.loc[cell, "n"] == reference["cells"]["n"][cell]
        assert cells.loc[cell, "events"] == reference["cells"]["events"][cell]
        assert cells.loc[cell, "ci_low"] == pytest.approx(
            reference["cells"]["wilson_low"][cell], rel=1e-8
        )
        assert cells.loc[cell, "ci_high"] == pytest.approx(
            reference["cells"]["wilson_high"][cell], rel=1e-8
        )
    for method in ("delta", "mover"):
        for measure, expected in reference[method].items():
            row = _row(result, measure, method)
            for column, value in expected.items():
                if measure == "synergy_index" and column == "se" and value is not None:
                    if np.isnan(row["estimate"]):
                        continue  # R's se of an undefined log S is meaningless
                value = float("nan") if value == "NaN" else value
                if np.isnan(value):
                    assert np.isnan(row[column]), (measure, method, column)
                else:
                    assert row[column] == pytest.approx(value, rel=1e-8), (measure, method, column)


def test_committed_data_is_what_the_script_makes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_data", REFERENCE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.make()
    committed = pd.read_csv(REFERENCE / "factorial_trials.csv")
    pd.testing.assert_frame_equal(made.reset_index(drop=True), committed)


def test_no_event_in_reference_cell_gives_missing_ratios_with_reason():
    counts = dict(COUNTS)
    counts[("no", "no")] = (0, 12)
    result = _fit(_trial(counts))
    did = _row(result, "risk_difference_interaction", "delta")
    assert did["estimate"] == pytest.approx(28 / 40 - 16 / 40 - 14 / 40 + 0, rel=1e-12)
    for measure in ("reri", "synergy_index"):
        row = _row(result, measure, "delta")
        assert np.isnan(row["estimate"]) and "reference cell" in row["note"]
    assert np.isnan(_row(result, "reri", "mover")["estimate"])


def test_boolean_nullable_outcome_and_missing_rows():
    frame = _trial(COUNTS)
    frame["resp"] = frame["resp"].astype("boolean")
    frame.loc[[0, 50], "resp"] = pd.NA
    result = _fit(frame)
    assert result.n_missing_outcome == 2
    assert result.cells["n"].sum() == 158
    # rows 0 (cell 00) and 50 (cell 10, its 11th participant) were both events
    assert result.cells["events"].tolist() == [9, 15, 14, 28]


def test_errors_name_the_column():
    frame = _trial(COUNTS)
    with pytest.raises(DataValidationError, match="'resp' must be binary"):
        _fit(frame.assign(resp=frame["resp"] * 2))
    with pytest.raises(DataValidationError, match="'ket' must have exactly 2 levels"):
        _fit(pd.concat([frame, frame.head(3).assign(ket="maybe")]))
    with pytest.raises(DataValidationError, match="not present in column 'ex'"):
        _fit(frame.assign(ex=frame["ex"].replace("no", "none")))
    with pytest.raises(DataValidationError, match="No participant with ket = 'yes' and ex = 'yes'"):
        _fit(frame[~((frame["ket"] == "yes") & (frame["ex"] == "yes"))].assign(
            ket=lambda d: d["ket"]))  # fmt: skip


def test_public():
    assert "additive_interaction" in ketex.__all__ and "AdditiveInteraction" in ketex.__all__
