"""estimand_analyses: the [estimands] table's analyses equal the direct calls they stand for."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.estimands.analyses import ANALYSES_COLUMNS, estimand_analyses
from ketex.primary import primary_dataset
from ketex.study.protocol import ProtocolError

VISITS = ["WEEK2", "WEEK4", "WEEK8", "WEEK12"]  # WEEK2: CR is not JR for P066
REFERENCES = {"SERIES": "SINGLE", "SINGLE": "SINGLE"}
STRATEGIES = {"withdrew from the study": "JR", "other": "MAR"}
DELTAS = [-6.0, -4.0, -2.0, 0.0, 2.0]
TABLE = {
    "references": REFERENCES,
    "strategies": STRATEGIES,
    "visits": VISITS,
    "sensitivity": ["CR", "MAR"],
    "tipping_point": {"arm": "SERIES", "deltas": DELTAS, "alpha": 0.05},
}
TOML = """
[estimands]
references = { SERIES = "SINGLE", SINGLE = "SINGLE" }
visits = ["WEEK2", "WEEK4", "WEEK8", "WEEK12"]

[estimands.strategies]
"withdrew from the study" = "JR"
other = "MAR"
"""  # TABLE without the sensitivity analyses and the tipping point


@pytest.fixture(scope="module")
def trial():
    return ketex.load_trial(ketex.sample_study_path())


@pytest.fixture(scope="module")
def analyses(trial):
    spec = ketex.estimand_spec({"estimands": TABLE}, protocol=trial.protocol)
    return estimand_analyses(trial, spec)


def _direct_data(trial):
    data = primary_dataset(trial)
    data = data[data["AVISIT"].astype(str).isin(VISITS)].copy()
    data["AVISIT"] = pd.Categorical(data["AVISIT"].astype(str), VISITS, ordered=True)
    data["USUBJID"] = data["USUBJID"].astype(object)
    return data.reset_index(drop=True)


@pytest.fixture(scope="module")
def direct(trial):
    """The documented steps, called one by one."""
    data = _direct_data(trial)
    ice = ketex.intercurrent_events(trial, STRATEGIES, visits=VISITS)

    def run(table):
        return ketex.reference_based_mi(
            data, "CHG ~ BASE * AVISIT + ARM * AVISIT", subject="USUBJID", visit="AVISIT",
            group="ARM", references=REFERENCES, ice=table, analysis_covariates=["BASE"],
            method="condmean_jackknife", control="SINGLE")  # fmt: skip

    primary = run(ice)
    non_mar = ice["strategy"] != "MAR"
    return {
        "ice": ice,
        "primary": primary,
        "sensitivity: CR": run(ice.assign(strategy=ice["strategy"].where(~non_mar, "CR"))),
        "sensitivity: MAR": run(ice.assign(strategy="MAR")),
        "tipping": ketex.tipping_point(primary, DELTAS, arm="SERIES", alpha=0.05),
    }


def _rows(analyses, label):
    table = analyses.table
    return table[table["analysis"] == label].drop(columns="analysis").reset_index(drop=True)


def _expected(result):
    return result.data[list(ANALYSES_COLUMNS[1:])]


def test_table_shape(analyses):
    table = analyses.table
    assert list(table.columns) == list(ANALYSES_COLUMNS)
    assert table["analysis"].tolist() == [
        a for a in ("primary", "sensitivity: CR", "sensitivity: MAR") for _ in VISITS]
    assert set(table["contrast"]) == {"SERIES - SINGLE"}
    assert analyses.visits == tuple(VISITS) and analyses.primary_visit == "WEEK12"
    assert analyses.control == "SINGLE"


def test_ice_table_is_intercurrent_events(analyses, direct):
    pd.testing.assert_frame_equal(analyses.ice, direct["ice"])
    assert (analyses.ice["strategy"] == "JR").sum() == len(analyses.ice) > 0


def test_primary_equals_the_direct_call(analyses, direct):
    pd.testing.assert_frame_equal(_rows(analyses, "primary"), _expected(direct["primary"]),
                                  check_exact=True)  # fmt: skip
    assert _rows(analyses, "primary")["strategy"].iloc[0] == "JR"


@pytest.mark.parametrize("label", ["sensitivity: CR", "sensitivity: MAR"])
def test_each_sensitivity_equals_its_direct_call(analyses, direct, label):
    got = _rows(analyses, label)
    pd.testing.assert_frame_equal(got, _expected(direct[label]), check_exact=True)
    # the replacement changed the result (JR is not CR is not MAR at week 12)
    primary = _rows(analyses, "primary")
    assert not np.isclose(got["estimate"].iloc[-1], primary["estimate"].iloc[-1], rtol=1e-8)


def test_tipping_equals_tipping_point(analyses, direct):
    tipping = direct["tipping"]
    pd.testing.assert_frame_equal(analyses.tipping_grid, tipping.data, check_exact=True)
    pd.testing.assert_frame_equal(analyses.tipping_points, tipping.tipping_points)
    row = tipping.tipping_points[tipping.tipping_points["visit"] == "WEEK12"].iloc[0]
    assert analyses.tipping_contrast == "SERIES - SINGLE"
    expected = row["tipping_delta_interpolated"]
    if math.isnan(expected):
        assert analyses.tipping_point is None
    else:
        assert analyses.tipping_point == expected
    # the grid at delta 0 is the primary analysis
    zero = analyses.tipping_grid[analyses.tipping_grid["delta"] == 0.0]
    assert np.array_equal(zero["estimate"], _rows(analyses, "primary")["estimate"])


def test_tipping_point_found_where_the_p_value_crosses_alpha(trial):
    """Without WEEK12 the last analysis visit is the tipping point's; at week 4 the effect
    is significant and a delta added to the SERIES arm's one imputed value tips it."""
    deltas = [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    table = TABLE | {"visits": ["WEEK2", "WEEK3", "WEEK4"], "sensitivity": [],
                     "tipping_point": {"arm": "SERIES", "deltas": deltas}}
    spec = ketex.estimand_spec({"estimands": table}, protocol=trial.protocol)
    found = estimand_analyses(trial, spec)
    assert found.primary_visit == "WEEK4"
    assert found.table["analysis"].unique().tolist() == ["primary"]
    direct = ketex.tipping_point(found.primary, deltas, arm="SERIES")
    row = direct.tipping_points.set_index("visit").loc["WEEK4"]
    assert found.tipping_point is not None
    assert found.tipping_point == row["tipping_delta_interpolated"]
    assert row["last_significant_delta"] < found.tipping_point < row["tipping_delta"]


def test_spec_read_from_the_study_folder(tmp_path, trial, analyses):
    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    toml = folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + TOML, encoding="utf-8")
    from_folder = estimand_analyses(trial, folder)
    assert from_folder.spec.strategies == analyses.spec.strategies
    assert from_folder.spec.visits == analyses.spec.visits
    assert from_folder.tipping_grid is None and from_folder.tipping_point is None
    primary = analyses.table[analyses.table["analysis"] == "primary"]
    pd.testing.assert_frame_equal(from_folder.table, primary, check_exact=True)


def test_folder_without_estimands_table(trial):
    with pytest.raises(ProtocolError, match=r"sample: no \[estimands\] table; add one"):
        estimand_analyses(trial, ketex.sample_study_path())
    with pytest.raises(TypeError, match="EstimandSpec"):
        estimand_analyses(trial, None)


def test_an_arm_the_trial_lacks_is_named(trial):
    spec = ketex.estimand_spec({"estimands": TABLE | {
        "references": {"SERIES": "PLACEBO", "PLACEBO": "PLACEBO"},
        "tipping_point": {"arm": "KETAMINE", "deltas": [0, 1]}}})  # no protocol: not checked
    with pytest.raises(ProtocolError) as info:
        estimand_analyses(trial, spec)
    problems = info.value.problems
    assert any("estimands.references.SERIES: reference 'PLACEBO' is not an arm of the trial "
               "(arms: SINGLE, SERIES)" in p for p in problems)  # fmt: skip
    assert any("estimands.references.PLACEBO: 'PLACEBO' is not an arm" in p for p in problems)
    assert any("names no reference for arm 'SINGLE'" in p for p in problems)
    assert any("estimands.tipping_point.arm: 'KETAMINE' is not an arm" in p for p in problems)
    assert str(info.value).startswith("the estimand spec: 5 problems")


def test_a_visit_not_analysed_in_every_arm_is_named(trial):
    spec = ketex.estimand_spec({"estimands": TABLE | {"visits": ["INF2_24H", "WEEK4"]}})
    with pytest.raises(ProtocolError, match="estimands.visits: 'INF2_24H' is not a visit of "
                       "the primary analysis"):  # fmt: skip
        estimand_analyses(trial, spec)


def test_random_method_sensitivity_equals_its_direct_call(trial, direct):
    """approx_bayes: the sensitivity reuses the primary's draws (with_ice), and that is
    what a new call with the same seed gives."""
    spec = ketex.estimand_spec({"estimands": TABLE | {
        "method": "approx_bayes", "n_samples": 4, "seed": 11, "sensitivity": ["CIR"]}},
        protocol=trial.protocol)  # fmt: skip
    found = estimand_analyses(trial, spec)
    ice = direct["ice"]
    data = found.primary._long  # the same participants and visits as the direct data
    assert data.n_subjects == 80 and list(data.visits) == VISITS
    for label, table in (("primary", ice),
                         ("sensitivity: CIR", ice.assign(strategy=ice["strategy"].where(
                             ice["strategy"] == "MAR", "CIR")))):  # fmt: skip
        expected = ketex.reference_based_mi(
            _direct_data(trial), "CHG ~ BASE * AVISIT + ARM * AVISIT", subject="USUBJID",
            visit="AVISIT", group="ARM", references=REFERENCES, ice=table,
            analysis_covariates=["BASE"], method="approx_bayes", n_samples=4, seed=11,
            control="SINGLE")  # fmt: skip
        pd.testing.assert_frame_equal(_rows(found, label), _expected(expected), check_exact=True)
    assert np.isfinite(found.table["df"]).all()  # Rubin's rules: Barnard-Rubin df
