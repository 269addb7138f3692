"""The one model-frame builder, seen through every model.

Each model reads pandas nullable dtypes (``Float64``, ``Int64``, ``boolean``,
``string``, ``string[pyarrow]``) as their NumPy counterparts, so its fit on them is its
fit on NumPy dtypes; and each model's errors name the model called.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError

N_SUBJECTS, VISITS = 40, ["W1", "W2", "W3"]


def _trial() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n = N_SUBJECTS * len(VISITS)
    subject = np.repeat(np.arange(N_SUBJECTS), len(VISITS))
    arm = np.where(subject % 2 == 1, "KET", "PBO")
    week = np.tile([1, 2, 4], N_SUBJECTS)
    base = np.repeat(rng.normal(25, 3, N_SUBJECTS), len(VISITS))
    female = np.repeat(rng.random(N_SUBJECTS) < 0.5, len(VISITS))
    shared = np.repeat(rng.normal(0, 2, N_SUBJECTS), len(VISITS))
    y = -week - 1.5 * (arm == "KET") * week + 0.3 * (base - 25) + shared + rng.normal(0, 2, n)
    frame = pd.DataFrame({
        "id": [f"P{s:02d}" for s in subject], "visit": np.tile(VISITS, N_SUBJECTS),
        "arm": arm, "week": week, "base": base, "female": female, "y": y,
        "resp": (y < -4).astype(float),
    })
    frame.loc[5, "y"] = np.nan  # missing values, to be read as NaN in every dtype
    frame.loc[7, "base"] = np.nan
    frame.loc[9, "resp"] = np.nan
    return frame


def _fit_mmrm(d):
    return ketex.mmrm(d, "y ~ arm * visit + base + female", subject="id", visit="visit")


def _fit_lmm(d):
    return ketex.lmm(d, "y ~ arm * week + base + female", subject="id", re_formula="1")


def _fit_glmm(d):
    return ketex.glmm(d, "resp ~ arm + week + female", subject="id")


def _fit_gee(d):
    return ketex.gee(d, "resp ~ arm + visit + base + female", subject="id", time="visit")


FITS = {"MMRM": _fit_mmrm, "LMM": _fit_lmm, "GLMM": _fit_glmm, "GEE": _fit_gee}

# the nullable dtype of each column changed (the rest keep their NumPy dtype)
DTYPES = {
    "Float64": {"y": "Float64", "base": "Float64", "resp": "Float64"},
    "Int64": {"week": "Int64"},
    "Int64-subject": {"id": lambda v: v.str[1:].astype(int).astype("Int64")},
    "boolean": {"female": "boolean",
                "resp": lambda v: v.astype("Float64").astype("boolean")},
    "string": {"arm": "string", "visit": "string", "id": "string"},
    "string[pyarrow]": {"arm": "string[pyarrow]", "visit": "string[pyarrow]",
                        "id": "string[pyarrow]"},
}


def _convert(frame: pd.DataFrame, changes: dict) -> pd.DataFrame:
    out = frame.copy()
    for column, dtype in changes.items():
        out[column] = dtype(out[column]) if callable(dtype) else out[column].astype(dtype)
    return out


def _fit(model: str, data: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ketex.ConvergenceWarning)
        return FITS[model](data)


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return _trial()


@pytest.fixture(scope="module")
def numpy_fits(trial) -> dict:
    return {model: _fit(model, trial) for model in FITS}


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("model", list(FITS))
def test_the_fit_on_nullable_dtypes_is_the_fit_on_numpy_dtypes(model, dtype, trial, numpy_fits):
    nullable = _convert(trial, DTYPES[dtype])
    assert any(isinstance(nullable[c].dtype, pd.api.extensions.ExtensionDtype)
               for c in DTYPES[dtype])
    fit, expected = _fit(model, nullable), numpy_fits[model]
    assert fit.n_obs == expected.n_obs
    assert fit.coef["term"].tolist() == expected.coef["term"].tolist()
    for column in ("estimate", "se", "p_value"):
        np.testing.assert_allclose(fit.coef[column].to_numpy(dtype=float),
                                   expected.coef[column].to_numpy(dtype=float),
                                   rtol=1e-9, atol=1e-12, err_msg=f"{model} {dtype} {column}")


def _duplicate_column(d):
    return d.assign(base2=2 * d["base"])


# defect: (damage, formula change, the message's distinctive part)
DEFECTS = {
    "missing_outcome_column": (lambda d: d.drop(columns=["y", "resp"]), "not in the data"),
    "text_in_outcome": (lambda d: d.assign(y=d["y"].astype(object).where(d.index != 3, "n/a"),
                                           resp=d["resp"].astype(object).where(d.index != 3,
                                                                               "n/a")),
                        "'n/a'"),
    "missing_subject": (lambda d: d.assign(id=d["id"].where(d.index != 4, None)),
                        "subject column 'id' has 1 missing value"),
    "empty": (lambda d: d.iloc[:0], "the data have no rows"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
@pytest.mark.parametrize("model", list(FITS))
def test_each_model_names_itself_in_its_errors(model, defect, trial):
    damage, text = DEFECTS[defect]
    with pytest.raises(DataValidationError) as caught:
        _fit(model, damage(trial.copy()))
    message = str(caught.value)
    assert message.startswith(f"Cannot fit the {model}: "), message
    assert text in message


@pytest.mark.parametrize("model", list(FITS))
def test_a_rank_deficient_design_names_the_model(model, trial):
    def fit(d):
        formula = {"MMRM": "y ~ arm * visit + base + base2", "LMM": "y ~ arm * week + base + base2",
                   "GLMM": "resp ~ arm + base + base2", "GEE": "resp ~ arm + base + base2"}[model]
        calls = {"MMRM": lambda: ketex.mmrm(d, formula, subject="id", visit="visit"),
                 "LMM": lambda: ketex.lmm(d, formula, subject="id", re_formula="1"),
                 "GLMM": lambda: ketex.glmm(d, formula, subject="id"),
                 "GEE": lambda: ketex.gee(d, formula, subject="id", time="visit")}
        return calls[model]()

    with pytest.raises(DataValidationError, match=f"^Cannot fit the {model}: .*rank deficient"):
        fit(_duplicate_column(trial))


@pytest.mark.parametrize("model", ["MMRM", "GEE"])
def test_two_rows_at_one_visit_name_the_model(model, trial):
    doubled = pd.concat([trial, trial.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=f"^Cannot fit the {model}: each subject may"):
        _fit(model, doubled)


def test_every_role_problem_is_in_one_error(trial):
    bad = trial.assign(w=1.0)
    bad.loc[2, "w"] = -1.0
    bad["y"] = bad["y"].astype(object)
    bad.loc[3, "y"] = "n/a"
    bad.loc[4, "visit"] = None
    with pytest.raises(DataValidationError) as caught:
        ketex.mmrm(bad, "y ~ arm * visit", subject="id", visit="visit", weights="w")
    report = caught.value.report
    assert report[["column", "line", "rule"]].values.tolist() == [
        ["y", 3, "non_numeric"], ["w", 2, "not_positive"], ["visit", 4, "missing_value"]]
    assert "weights column 'w' must be positive" in str(caught.value)


@pytest.mark.parametrize("model", ["MMRM", "GEE"])
def test_the_visit_rule_is_reported_with_the_other_problems(model, trial):
    bad = trial.assign(y=trial["y"].astype(object), resp=trial["resp"].astype(object))
    bad.loc[3, ["y", "resp"]] = "n/a"
    if model == "MMRM":  # a numeric visit used as a number
        bad["visit"] = bad["week"]
        call = lambda: ketex.mmrm(bad, "y ~ arm * visit", subject="id", visit="visit")  # noqa: E731
        rule, text = "visit_factor", "is numeric (1, 2, 4)"
    else:  # text visits out of order for an AR(1) working correlation
        bad["visit"] = bad["visit"].map({"W1": "W2", "W2": "W4", "W3": "W12"})
        call = lambda: ketex.gee(bad, "resp ~ arm", subject="id", time="visit",  # noqa: E731
                                 correlation="ar1")
        rule, text = "visit_ordered", "is not the visit order"
    with pytest.raises(DataValidationError) as caught:
        call()
    assert caught.value.report["rule"].tolist() == ["non_numeric", rule]
    assert text in str(caught.value)
