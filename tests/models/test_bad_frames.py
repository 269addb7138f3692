"""Every model given a bad frame raises DataValidationError naming column, row and value.

The checks live in one place (:mod:`ketex.models._frame_checks`); this file runs each
model on each defect, so a model that bypasses them fails here. Not applicable, on
purpose: a single-level ``group`` for ``kaplan_meier`` (one curve is a valid result),
and covariate or identifier defects for the survival functions without such a column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError

N, VISITS = 40, ["W2", "W4", "W8"]


def _long() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(N):
        arm = "KET" if i % 2 else "PBO"
        base = rng.normal(24, 3)
        for v, visit in enumerate(VISITS):
            change = -2 * v - (2 * v if arm == "KET" else 0) + rng.normal(0, 3)
            rows.append({"USUBJID": f"P{i:03d}", "ARM": arm, "AVISIT": visit, "BASE": base,
                         "CHG": change, "RESP": int(change < -4), "WEEK": float(v)})
    frame = pd.DataFrame(rows)
    frame["AVISIT"] = pd.Categorical(frame["AVISIT"], categories=VISITS)
    return frame


def _survival() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame({
        "USUBJID": [f"P{i:03d}" for i in range(N)],
        "ARM": ["KET" if i % 2 else "PBO" for i in range(N)],
        "DAYS": rng.exponential(50, N).round(1) + 1,
        "EVENT": rng.integers(0, 2, N),
        "AGE": rng.normal(40, 10, N),
    })


def _mediation() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"USUBJID": [f"P{i:03d}" for i in range(N)],
                          "A": rng.integers(0, 2, N).astype(float), "AGE": rng.normal(40, 10, N)})
    frame["M"] = frame["A"] + rng.normal(0, 1, N)
    frame["Y"] = frame["M"] + frame["A"] + rng.normal(0, 1, N)
    return frame


# name: (data, outcome, covariate, factor, id column, fit)
MODELS = {
    "mmrm": (_long, "CHG", "BASE", "ARM", "USUBJID", lambda d: ketex.mmrm(
        d, "CHG ~ ARM * AVISIT + BASE", subject="USUBJID", visit="AVISIT")),
    "lmm": (_long, "CHG", "BASE", "ARM", "USUBJID", lambda d: ketex.lmm(
        d, "CHG ~ ARM * WEEK + BASE", subject="USUBJID", re_formula="1")),
    "glmm": (_long, "RESP", "BASE", "ARM", "USUBJID", lambda d: ketex.glmm(
        d, "RESP ~ ARM + AVISIT + BASE", subject="USUBJID")),
    "gee": (_long, "RESP", "BASE", "ARM", "USUBJID", lambda d: ketex.gee(
        d, "RESP ~ ARM + AVISIT + BASE", subject="USUBJID", time="AVISIT")),
    "cox": (_survival, "DAYS", "AGE", "ARM", "USUBJID", lambda d: ketex.cox(
        d, "ARM + AGE", time="DAYS", event="EVENT", cluster="USUBJID")),
    "kaplan_meier": (_survival, "DAYS", None, None, None, lambda d: ketex.kaplan_meier(
        d, time="DAYS", event="EVENT", group="ARM")),
    "logrank_test": (_survival, "DAYS", None, "ARM", None, lambda d: ketex.logrank_test(
        d, time="DAYS", event="EVENT", group="ARM")),
    "mediation": (_mediation, "Y", "AGE", "A", "USUBJID", lambda d: ketex.mediation(
        d, exposure="A", mediator="M", outcome="Y", covariates=["AGE"], subject="USUBJID")),
}

_DATA: dict = {}


def _data(name: str) -> pd.DataFrame:
    make = MODELS[name][0]
    if make not in _DATA:
        _DATA[make] = make()
    return _DATA[make].copy()


def _text(frame: pd.DataFrame, column: str, row: int, value: str) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def _set(frame: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    frame[column] = frame[column].astype(float if isinstance(value, float) else object)
    frame.loc[row, column] = value
    return frame


# defect: (applies to the model?, damage, expected column role, row, value text, advice)
def _defects(name):
    _, outcome, covariate, factor, subject, _ = MODELS[name]
    found = {
        "missing_outcome_column": (lambda d: d.drop(columns=[outcome]), outcome, None, None,
                                   "not in the data"),
        "text_in_outcome": (lambda d: _text(d, outcome, 5, "n/a"), outcome, 5, "'n/a'",
                            "recode the column as numbers"),
        "all_missing_outcome": (lambda d: d.assign(**{outcome: np.nan}), outcome, None, None,
                                "all"),
        "inf_in_outcome": (lambda d: _set(d, outcome, 4, np.inf), outcome, 4, "inf",
                           "replace it with a finite number"),
        "empty_frame": (lambda d: d.iloc[:0], None, None, None, "check the filter"),
    }
    if covariate is not None:
        found["text_in_covariate"] = (lambda d: _text(d, covariate, 7, "missing"), covariate, 7,
                                      "'missing'", "recode it as numbers" if name != "mediation"
                                      else "recode the column as numbers")
        found["inf_in_covariate"] = (lambda d: _set(d, covariate, 2, -np.inf), covariate, 2,
                                     "-inf", "replace it with a finite number")
        found["missing_covariate_column"] = (lambda d: d.drop(columns=[covariate]), covariate,
                                             None, None, "not")
    if factor is not None:
        def single(d, factor=factor):
            return d.assign(**{factor: d[factor].iloc[0]})
        advice = "at least two groups" if name == "logrank_test" else "cannot be estimated"
        found["single_level_factor"] = (single, factor, None, None, advice)
    if subject is not None:
        found["missing_subject_id"] = (lambda d: _set(d, subject, 3, None), subject, 3, None,
                                       "fill them in or drop those rows")
    return found


CASES = [pytest.param(model, defect, id=f"{model}-{defect}")
         for model in MODELS for defect in _defects(model)]


@pytest.mark.parametrize(("model", "defect"), CASES)
def test_a_bad_frame_is_a_data_validation_error(model, defect):
    damage, column, row, value, advice = _defects(model)[defect]
    bad = damage(_data(model))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would be a raw failure
        with pytest.raises(DataValidationError) as caught:
            MODELS[model][-1](bad)
    message = str(caught.value)
    if column is not None:
        assert repr(column) in message
    if row is not None:
        assert f"at row {row}" in message
    if value is not None:
        assert value in message
    assert advice in message


@pytest.mark.parametrize("model", list(MODELS))
def test_the_clean_frame_fits(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ketex.ConvergenceWarning)
        MODELS[model][-1](_data(model))


def test_the_report_has_a_row_per_problem():
    bad = _text(_data("mmrm"), "CHG", 5, "n/a")
    bad = _set(bad, "BASE", 2, np.inf)
    bad.loc[9, "USUBJID"] = None
    with pytest.raises(DataValidationError) as caught:
        MODELS["mmrm"][-1](bad)
    report = caught.value.report
    assert report[["column", "line", "rule"]].values.tolist() == [
        ["CHG", 5, "non_numeric"], ["USUBJID", 9, "missing_value"], ["BASE", 2, "infinite_value"],
    ]
    assert report["value"].tolist()[:1] == ["'n/a'"]


def test_a_factor_coded_with_digits_is_not_taken_for_broken_numbers():
    data = _data("mmrm")
    data["SITE"] = np.where(data["USUBJID"].str[-1].astype(int) // 2 % 2, "01", "02A")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ketex.ConvergenceWarning)
        fit = ketex.mmrm(data, "CHG ~ ARM * AVISIT + BASE + SITE", subject="USUBJID",
                         visit="AVISIT")
    assert "SITE[T.02A]" in fit.coef["term"].tolist()


def test_a_categorical_with_one_level_used_is_named():
    data = _data("mmrm")
    data["ARM"] = pd.Categorical(["PBO"] * len(data), categories=["PBO", "KET"])
    with pytest.raises(DataValidationError, match=r"column 'ARM' has a single level \('PBO'\)"):
        MODELS["mmrm"][-1](data)


def test_a_single_level_from_c_of_a_number_is_named():
    data = _data("mmrm").assign(SITEN=3)
    with pytest.raises(DataValidationError, match=r"factor 'C\(SITEN\)' has a single level"):
        ketex.mmrm(data, "CHG ~ ARM * AVISIT + C(SITEN)", subject="USUBJID", visit="AVISIT")


def test_a_level_left_alone_by_dropped_rows_is_named():
    data = _data("lmm")
    data.loc[data["ARM"] == "KET", "BASE"] = np.nan  # every KET row is dropped
    with pytest.raises(DataValidationError, match="single level.*rows dropped for missing"):
        MODELS["lmm"][-1](data)


def test_a_transformation_that_is_infinite_is_named():
    data = _data("mmrm")
    data.loc[6, "BASE"] = 0.0
    with pytest.raises(DataValidationError, match=r"design column 'np.log\(BASE\)' is -inf in "
                                                  r"1 row, the first at row 6"), \
            np.errstate(divide="ignore"):
        ketex.mmrm(data, "CHG ~ ARM * AVISIT + np.log(BASE)", subject="USUBJID", visit="AVISIT")


@pytest.mark.parametrize("model", ["mmrm", "lmm", "glmm", "gee", "cox"])
def test_a_misspelled_formula_column_is_a_data_validation_error(model):
    bad = _data(model).rename(columns={"ARM": "TRT01P"})
    with pytest.raises(DataValidationError, match=r"names 'ARM', which is not a column"):
        MODELS[model][-1](bad)


def test_a_close_column_name_is_suggested():
    bad = _data("mmrm").rename(columns={"CHG": "chg"})
    with pytest.raises(DataValidationError, match=r"'CHG' is not in the data \(did you mean "
                                                  r"'chg'\?\)"):
        MODELS["mmrm"][-1](bad)


def test_numbers_stored_as_text_in_the_outcome_are_named():
    data = _data("mmrm")
    data["CHG"] = data["CHG"].map(lambda v: f"{v:.2f}")
    with pytest.raises(DataValidationError, match=r"'CHG' holds numbers stored as .*'2.46' at "
                                                  r"row 0.* convert it with pd.to_numeric"):
        MODELS["mmrm"][-1](data)
