"""The contract every model result honours (after scikit-survival's ``test_common.py``).

MMRM, LMM, GLMM and GEE are fitted once each on one small simulated trial (two arms,
three visits, a continuous and a binary outcome). Every result must have the shared
API; its ``lsmeans``/``contrast`` must be the hand-built ``test(L)`` of the same rows;
its Type III ``anova`` rows must agree with ``test(L)`` on the term's rows; its ``repr``
must be short; and the same bad input must be refused with the same error type and
the same message shape. Each check is exact up to floating point (rtol 1e-10): the
numbers come from one inference layer, so there is nothing to tolerate.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ketex.errors import DataValidationError
from ketex.models import gee, glmm, lmm, mmrm

ARMS = ("PBO", "KET")
VISITS = ("W1", "W2", "W4")
RTOL = 1e-10
SHARED = ("coef", "vcov", "lsmeans", "contrast", "anova", "test", "predict", "summary",
          "n_obs", "n_subjects", "converged", "formula", "conf_level", "df_method")
TEST_COLUMNS = ["estimate", "se", "df", "statistic", "p_value", "ci_low", "ci_high"]
MODELS = ("mmrm", "lmm", "glmm", "gee")


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    rng = np.random.default_rng(20261204)
    n = 60
    d = pd.DataFrame({
        "id": np.repeat(np.arange(n), len(VISITS)),
        "arm": np.repeat(np.tile(ARMS, n // 2), len(VISITS)),
        "visit": np.tile(VISITS, n),
    })
    ket = (d["arm"] == "KET").to_numpy()
    week = d["visit"].str[1:].astype(float).to_numpy()
    person = np.repeat(rng.normal(0, 1.0, n), len(VISITS))
    d["y"] = -0.5 * week - 1.5 * ket + person + rng.normal(0, 1.0, len(d))
    eta = -0.4 + 0.9 * ket + 0.1 * week + 0.8 * person
    d["remission"] = (rng.random(len(d)) < 1 / (1 + np.exp(-eta))).astype(int)
    return d


def _subject(function) -> str:
    # the subject keyword is being renamed from groups= to subject= (issue #13)
    return "subject" if "subject" in inspect.signature(function).parameters else "groups"


@pytest.fixture(scope="module")
def fits(trial) -> dict:
    return {
        "mmrm": mmrm(trial, "y ~ arm * visit", subject="id", visit="visit"),
        "lmm": lmm(trial, "y ~ arm * visit", re_formula="1", **{_subject(lmm): "id"}),
        "glmm": glmm(trial, "remission ~ arm * visit", **{_subject(glmm): "id"}),
        "gee": gee(trial, "remission ~ arm * visit", time="visit", **{_subject(gee): "id"}),
    }


@pytest.fixture(params=MODELS)
def fit(request, fits):
    return fits[request.param]


def _row(fit, arm: str, visit: str) -> np.ndarray:
    """The fixed-effects row of one cell, built by hand from coef's treatment-coded names."""
    on = {"Intercept", f"arm[T.{arm}]", f"visit[T.{visit}]", f"arm[T.{arm}]:visit[T.{visit}]"}
    return np.array([1.0 if term in on else 0.0 for term in fit.coef["term"]])


def _same(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in TEST_COLUMNS:
        np.testing.assert_allclose(table[column].to_numpy(dtype=float),
                                   expected[column].to_numpy(dtype=float), rtol=RTOL,
                                   err_msg=column)


# ----------------------------------------------------------------- the shape
def test_every_result_has_the_shared_api(fit):
    for name in SHARED:
        assert hasattr(fit, name), f"{type(fit).__name__} has no {name}"
    assert fit.coef.columns[:8].tolist() == ["term", *TEST_COLUMNS]
    assert fit.vcov.shape == (len(fit.coef), len(fit.coef))
    assert fit.vcov.index.tolist() == fit.coef["term"].tolist()
    assert (fit.n_obs, fit.n_subjects, fit.converged) == (180, 60, True)
    assert fit.formula.split("~")[1].strip() == "arm * visit"
    assert fit.conf_level == 0.95
    assert isinstance(fit.summary(), str)
    assert len(fit.predict()) == fit.n_obs
    assert fit.anova().columns.tolist() == ["term", "num_df", "den_df", "statistic", "p_value"]


def test_predict_keeps_the_index_of_newdata_and_marks_missing_covariates(fit, trial):
    rows = trial.iloc[[3, 4, 5]].copy()
    rows.index = [10, 11, 12]
    rows.loc[11, "arm"] = None
    predicted = fit.predict(rows)
    assert predicted.name == "predicted" and predicted.index.tolist() == [10, 11, 12]
    assert np.isnan(predicted.loc[11]) and np.isfinite(predicted.loc[[10, 12]]).all()


def test_repr_is_short(fit):
    text = repr(fit)
    assert len(text) < 300 and len(text.splitlines()) <= 4
    assert text.startswith(f"<{type(fit).__name__}: ")
    assert "n_obs=180, n_subjects=60, converged=True" in text
    assert fit.formula in text


@pytest.mark.parametrize(("model", "old"), [("lmm", "n_groups"), ("glmm", "n_groups"),
                                            ("gee", "n_clusters")])
def test_old_count_names_are_deprecated_aliases(fits, model, old):
    with pytest.warns(FutureWarning, match=f"{old} is deprecated.*use .n_subjects"):
        assert getattr(fits[model], old) == fits[model].n_subjects


# ------------------------------------------------- one inference layer
def test_lsmeans_are_the_hand_built_test(fit):
    table = fit.lsmeans("arm", by="visit")
    assert table[["visit", "arm"]].values.tolist() == [[v, a] for v in VISITS
                                                       for a in sorted(ARMS)]
    rows = np.vstack([_row(fit, a, v) for v, a in table[["visit", "arm"]].values])
    _same(table, fit.test(rows))


def test_lsmeans_average_over_the_factors_not_named(fit):
    table = fit.lsmeans("arm")
    rows = np.vstack([np.mean([_row(fit, a, v) for v in VISITS], axis=0) for a in table["arm"]])
    _same(table, fit.test(rows))


def test_contrasts_are_the_hand_built_test(fit):
    table = fit.contrast("arm", by="visit", method="trt_vs_ctrl", reference="PBO")
    assert table[["visit", "contrast"]].values.tolist() == [[v, "KET - PBO"] for v in VISITS]
    rows = np.vstack([_row(fit, "KET", v) - _row(fit, "PBO", v) for v in VISITS])
    _same(table, fit.test(rows))
    reverse = fit.contrast("arm", by="visit", method="revpairwise")  # PBO - KET
    np.testing.assert_allclose(reverse["estimate"], -table["estimate"], rtol=RTOL)


def test_ratio_columns_exponentiate_the_contrast(fit):
    table = fit.contrast("arm", by="visit")
    if type(fit).__name__ in ("GLMMResult", "GEEResult"):
        np.testing.assert_allclose(table["odds_ratio"], np.exp(table["estimate"]), rtol=RTOL)
        np.testing.assert_allclose(table["or_ci_low"], np.exp(table["ci_low"]), rtol=RTOL)
    else:
        assert "odds_ratio" not in table


def test_adjusted_contrasts_keep_the_unadjusted_columns(fit):
    plain = fit.contrast("arm", by="visit")
    adjusted = fit.contrast("arm", by="visit", adjust="holm")
    _same(adjusted, plain)
    assert (adjusted["p_value_adjusted"] >= adjusted["p_value"] - 1e-15).all()


def test_anova_one_df_term_is_the_t_test_squared(fit):
    # the Type III hypothesis of arm: the arm difference averaged over the visits
    row = np.mean([_row(fit, "KET", v) - _row(fit, "PBO", v) for v in VISITS], axis=0)
    tested = fit.test(row).iloc[0]
    arm = fit.anova().set_index("term").loc["arm"]
    assert arm["num_df"] == 1
    np.testing.assert_allclose(arm["statistic"], tested["statistic"] ** 2, rtol=RTOL)
    np.testing.assert_allclose(arm["den_df"], tested["df"], rtol=RTOL)
    np.testing.assert_allclose(arm["p_value"], tested["p_value"], rtol=1e-8)


def test_anova_interaction_is_the_wald_test_of_its_rows(fit):
    # arm x visit: does the arm difference change from W1 to each later visit?
    first = _row(fit, "KET", "W1") - _row(fit, "PBO", "W1")
    rows = np.vstack([_row(fit, "KET", v) - _row(fit, "PBO", v) - first for v in VISITS[1:]])
    estimate = fit.test(rows)["estimate"].to_numpy()
    covariance = rows @ fit.vcov.to_numpy() @ rows.T
    wald_f = float(estimate @ np.linalg.solve(covariance, estimate)) / 2
    term = fit.anova().set_index("term").loc["arm:visit"]
    assert term["num_df"] == 2
    np.testing.assert_allclose(term["statistic"], wald_f, rtol=1e-8)
    if np.isinf(term["den_df"]):
        np.testing.assert_allclose(term["p_value"], stats.chi2.sf(2 * wald_f, 2), rtol=1e-8)


def test_conf_level_keyword_on_every_interval(fit):
    rows = np.vstack([_row(fit, "KET", v) for v in VISITS])
    wide, narrow = fit.test(rows), fit.test(rows, conf_level=0.8)
    assert ((narrow["ci_high"] - narrow["ci_low"]) < (wide["ci_high"] - wide["ci_low"])).all()
    _same(fit.lsmeans("arm", by="visit", conf_level=0.8),
          fit.test(np.vstack([_row(fit, a, v) for v in VISITS for a in sorted(ARMS)]),
                   conf_level=0.8))
    contrast = fit.contrast("arm", by="visit", conf_level=0.8)
    expected = fit.test(np.vstack([_row(fit, "PBO", v) - _row(fit, "KET", v) for v in VISITS]),
                        conf_level=0.8)
    _same(contrast, expected)


# ---------------------------------------------------------- bad inputs
BAD_INPUTS = [
    ("test", lambda f: f.test([1.0, 0.0]), r"\.test: contrast needs \d+ columns"),
    ("test", lambda f: f.test(np.full(len(f.coef), np.nan)),
     r"\.test: contrast needs \d+ columns of finite numbers"),
    ("test", lambda f: f.test(np.eye(len(f.coef))[:2], labels=["one"]),
     r"\.test: 1 labels for 2 contrast rows"),
    ("test", lambda f: f.test(np.eye(len(f.coef)), conf_level=95),
     r"\.test: conf_level must be a number in \(0, 1\)"),
    ("lsmeans", lambda f: f.lsmeans("dose"),
     r"\.lsmeans: LS-means need factors of the model; \['dose'\]"),
    ("lsmeans", lambda f: f.lsmeans("arm", weights="observed"),
     r"\.lsmeans: weights must be 'equal' or 'proportional'"),
    ("contrast", lambda f: f.contrast("arm", method="all"),
     r"\.contrast: method must be one of \['revpairwise', 'pairwise', 'trt_vs_ctrl'\]"),
    ("contrast", lambda f: f.contrast("arm", method="trt_vs_ctrl", reference="placebo"),
     r"\.contrast: reference='placebo' is not a level of the specs; use one of"),
    ("contrast", lambda f: f.contrast("arm", by=["visit", "arm"]),
     r"\.contrast: \['arm'\] named twice \(in specs and by\)"),
]


@pytest.mark.parametrize(("method", "call", "message"), BAD_INPUTS,
                         ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD_INPUTS)])
def test_the_same_bad_input_is_refused_the_same_way(fits, method, call, message):
    for name in MODELS:
        fit = fits[name]
        with pytest.raises(DataValidationError) as caught:
            call(fit)
        text = str(caught.value)
        assert text.startswith(f"{type(fit).__name__}.{method}: "), text
        assert re.search(message, text), text
