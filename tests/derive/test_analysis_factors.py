"""The factor columns of the analysis dataset (``[[arms]] factors``, e.g. DRUG, EXERCISE)."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.derive.analysis import (
    ANALYSIS_COLUMNS,
    COVARIATE_NAMES,
    analysis_dataset,
    factor_columns,
)
from ketex.study.protocol import Arm, Protocol, Visit
from ketex.study.validation import build_trial

VISITS = (Visit("BASELINE", 0, (-7, 0)), Visit("WEEK4", 28, (21, 35)))


@pytest.fixture(scope="module")
def factorial():
    return ketex.load_trial(ketex.sample_study_path(study="factorial"))


@pytest.fixture(scope="module")
def factorial_ds(factorial):
    return analysis_dataset(factorial)


def _hand_trial(factors_by_arm: dict[str, dict[str, str]]):
    arms = tuple(Arm(code, factors=f) for code, f in factors_by_arm.items())
    people = [(f"P{k}", code) for k, code in enumerate(factors_by_arm)]
    raw = {
        "participants": pd.DataFrame(people, columns=["participant_id", "arm"]),
        "assessments": pd.DataFrame({"participant_id": [p for p, _ in people], "day": 0,
                                     "visit": "BASELINE", "instrument": "MADRS",
                                     "total": 30}),
    }
    return build_trial(Protocol("HAND", arms, VISITS), raw)


def test_one_ordered_categorical_per_factor_between_the_bds_columns_and_covariates(
        factorial_ds):
    columns = list(factorial_ds.columns)
    n = len(ANALYSIS_COLUMNS)
    assert columns[:n] == list(ANALYSIS_COLUMNS)
    assert columns[n:n + 2] == ["DRUG", "EXERCISE"]
    assert columns[n + 2] == "SITEID"  # the covariates follow
    drug, exercise = factorial_ds["DRUG"], factorial_ds["EXERCISE"]
    assert drug.cat.ordered and exercise.cat.ordered
    assert list(drug.cat.categories) == ["ketamine", "midazolam"]  # first declared first
    assert list(exercise.cat.categories) == ["aerobic", "stretching"]


def test_factor_columns_hold_the_level_of_the_participants_arm(factorial, factorial_ds):
    declared = {arm.code: dict(arm.factors) for arm in factorial.protocol.arms}
    expected_drug = factorial_ds["ARM"].astype(str).map(lambda a: declared[a]["drug"])
    expected_exercise = factorial_ds["ARM"].astype(str).map(lambda a: declared[a]["exercise"])
    assert (factorial_ds["DRUG"].astype(str) == expected_drug).all()
    assert (factorial_ds["EXERCISE"].astype(str) == expected_exercise).all()
    assert factorial_ds["DRUG"].notna().all() and factorial_ds["EXERCISE"].notna().all()
    cells = factorial_ds.drop_duplicates("USUBJID").groupby(
        ["DRUG", "EXERCISE"], observed=True).size()
    assert cells.tolist() == [40, 40, 40, 40]


def test_trial_without_factors_keeps_its_columns():
    trial = ketex.load_trial(ketex.sample_study_path())
    ds = analysis_dataset(trial)
    people = trial.participants.drop(columns="arm").rename(
        columns=dict(COVARIATE_NAMES))
    assert list(ds.columns) == [*ANALYSIS_COLUMNS, *people.columns.drop("participant_id")]
    assert factor_columns(trial.protocol) == {}


def test_levels_follow_the_order_the_arms_first_declare_them():
    trial = _hand_trial({
        "B1": {"dose": "high", "mode": "walk"},
        "B2": {"dose": "low", "mode": "walk"},
        "B3": {"dose": "high", "mode": "run"},
        "B4": {"dose": "low", "mode": "run"},
    })
    ds = analysis_dataset(trial)
    assert list(ds["DOSE"].cat.categories) == ["high", "low"]
    assert list(ds["MODE"].cat.categories) == ["walk", "run"]
    assert ds.set_index("USUBJID")["DOSE"].astype(str).to_dict() == {
        "P0": "high", "P1": "low", "P2": "high", "P3": "low"}


@pytest.mark.parametrize(("factor", "column"), [("avisit", "AVISIT"), ("Sex", "SEX")])
def test_a_factor_named_as_a_dataset_column_is_an_error(factor, column):
    trial = _hand_trial({"A": {factor: "x"}, "B": {factor: "y"}})
    if column == "SEX":
        people = trial.participants.assign(sex="F")
        trial = build_trial(trial.protocol, {"participants": people,
                                             "assessments": trial.assessments})
    with pytest.raises(ValueError, match=f"factor '{factor}' of \\[\\[arms\\]\\] factors gives "
                                         f"the analysis dataset column {column}"):
        analysis_dataset(trial)


def test_two_factors_with_the_same_column_name_are_an_error():
    trial = _hand_trial({"A": {"drug": "k", "Drug": "x"}, "B": {"drug": "m", "Drug": "y"}})
    with pytest.raises(ValueError, match="factors 'drug' and 'Drug' .* both give the column "
                                         "DRUG"):
        analysis_dataset(trial)
