"""factorial_contrasts: main, simple and interaction contrasts of an MMRM's cell LS-means."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError
from ketex.factorial_mmrm import FACTORIAL_COLUMNS, factorial_contrasts
from ketex.primary import primary_dataset

FORMULA = "CHG ~ BASE + DRUG * EXERCISE * AVISIT"
VISITS = ["WEEK4", "WEEK8", "WEEK12"]
KET, MID, AEX, STR = "ketamine", "midazolam", "aerobic", "stretching"


@pytest.fixture(scope="module")
def data():
    trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    ds = primary_dataset(trial)
    ds = ds[ds["AVISIT"].isin(VISITS)].copy()
    ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    # treatment coding with the controls (midazolam, stretching) as reference levels, so
    # the DRUG:EXERCISE coefficients are the interaction contrasts
    ds["DRUG"] = ds["DRUG"].cat.reorder_categories([MID, KET])
    ds["EXERCISE"] = ds["EXERCISE"].cat.reorder_categories([STR, AEX])
    return ds


@pytest.fixture(scope="module")
def fit(data):
    return ketex.mmrm(data, FORMULA, subject="USUBJID", visit="AVISIT")


@pytest.fixture(scope="module")
def table(fit):
    return factorial_contrasts(fit, reference_a=MID, reference_b=STR)


def _cells(fit, by="AVISIT"):
    cells = fit.lsmeans(["DRUG", "EXERCISE"], by=by)
    return cells.set_index(["AVISIT", "DRUG", "EXERCISE"])["estimate"]


def test_columns_and_rows_per_visit(table):
    assert list(table.columns) == ["AVISIT", *FACTORIAL_COLUMNS]
    assert table["AVISIT"].tolist() == [v for v in VISITS for _ in range(7)]
    week = table[table["AVISIT"] == "WEEK12"]
    assert week["contrast"].tolist() == [
        "ketamine - midazolam",
        "aerobic - stretching",
        "ketamine - midazolam | EXERCISE = stretching",
        "ketamine - midazolam | EXERCISE = aerobic",
        "aerobic - stretching | DRUG = midazolam",
        "aerobic - stretching | DRUG = ketamine",
        "ketamine:aerobic - ketamine:stretching - midazolam:aerobic + midazolam:stretching",
    ]
    assert week["effect"].tolist() == [
        "DRUG main effect", "EXERCISE main effect", "DRUG simple effect",
        "DRUG simple effect", "EXERCISE simple effect", "EXERCISE simple effect",
        "interaction"]


def test_estimates_are_arithmetic_on_the_cell_lsmeans(fit, table):
    m = _cells(fit)
    for visit in VISITS:
        k1, k0 = m[visit, KET, AEX], m[visit, KET, STR]
        m1, m0 = m[visit, MID, AEX], m[visit, MID, STR]
        expected = [
            (k1 + k0) / 2 - (m1 + m0) / 2,  # drug at the margin
            (k1 + m1) / 2 - (k0 + m0) / 2,  # exercise at the margin
            k0 - m0, k1 - m1,  # drug inside the table, at stretching then aerobic
            m1 - m0, k1 - k0,  # exercise at midazolam then ketamine
            k1 - k0 - m1 + m0,  # interaction
        ]
        got = table.loc[table["AVISIT"] == visit, "estimate"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_interaction_is_the_model_coefficient_with_its_se_and_df(fit, table):
    # with treatment coding on the references, the interaction at the first visit is the
    # DRUG:EXERCISE coefficient, at a later visit that plus the three-way coefficient
    names = fit.coef["term"].tolist()
    two_way = names.index("DRUG[T.ketamine]:EXERCISE[T.aerobic]")
    rows = table[table["effect"] == "interaction"].reset_index(drop=True)
    for k, visit in enumerate(VISITS):
        vector = np.zeros(len(names))
        vector[two_way] = 1.0
        if k:
            vector[names.index(f"DRUG[T.ketamine]:EXERCISE[T.aerobic]:AVISIT[T.{visit}]")] = 1
        expected = fit.test(vector).iloc[0]
        for column in ("estimate", "se", "df", "p_value", "ci_low", "ci_high"):
            assert rows.loc[k, column] == pytest.approx(expected[column], rel=1e-10)
    first = fit.coef.iloc[two_way]
    assert rows.loc[0, "se"] == pytest.approx(first["se"], rel=1e-10)
    assert rows.loc[0, "df"] == pytest.approx(first["df"], rel=1e-10)


def test_main_and_simple_effects_equal_fit_contrast(fit, table):
    main = fit.contrast("DRUG", by="AVISIT", method="trt_vs_ctrl", reference=MID)
    mine = table[table["effect"] == "DRUG main effect"]
    for column in ("estimate", "se", "df", "ci_low", "ci_high"):
        np.testing.assert_allclose(mine[column], main[column], rtol=1e-10)
    simple = fit.contrast("EXERCISE", by=["AVISIT", "DRUG"], method="trt_vs_ctrl",
                          reference=STR)
    mine = table[table["effect"] == "EXERCISE simple effect"]
    for column in ("estimate", "se", "df"):
        np.testing.assert_allclose(mine[column], simple[column], rtol=1e-10)


def test_se_comes_from_the_contrast_vector_not_from_independent_cells(fit):
    # averaged over visits, the cells share participants: treating them as independent
    # gives a wrong SE; the contrast vector through the fixed-effects covariance does not
    overall = factorial_contrasts(fit, by=None, reference_a=MID, reference_b=STR)
    assert "AVISIT" not in overall.columns
    grid = fit._grid()
    _, matrix = grid.lsmean_matrix(["AVISIT", "DRUG", "EXERCISE"])
    cells = fit.lsmeans(["DRUG", "EXERCISE"], by="AVISIT")
    # interaction averaged over the three visits, in the (visit, drug, exercise) order
    weights = np.tile([1.0, -1.0, -1.0, 1.0], 3) / 3  # MID:STR, MID:AEX, KET:STR, KET:AEX
    vector = weights @ matrix
    vcov = fit.vcov.to_numpy()
    row = overall[overall["effect"] == "interaction"].iloc[0]
    assert row["estimate"] == pytest.approx(weights @ cells["estimate"], abs=1e-10)
    assert row["se"] == pytest.approx(np.sqrt(vector @ vcov @ vector), rel=1e-10)
    independent = np.sqrt(np.sum(weights**2 * cells["se"] ** 2))
    assert abs(row["se"] / independent - 1) > 0.05
    # per visit the estimate averages over the visits with equal weights
    by_visit = factorial_contrasts(fit, reference_a=MID, reference_b=STR)
    np.testing.assert_allclose(
        overall["estimate"],
        by_visit.groupby("contrast", sort=False)["estimate"].mean().to_numpy(), atol=1e-10)


def test_swapping_a_reference_flips_the_signs(fit, table):
    other = factorial_contrasts(fit, reference_a=KET, reference_b=STR)
    for effect in ("DRUG main effect", "DRUG simple effect", "interaction"):
        np.testing.assert_allclose(other.loc[other["effect"] == effect, "estimate"],
                                   -table.loc[table["effect"] == effect, "estimate"],
                                   atol=1e-10)
    both = factorial_contrasts(fit, reference_a=KET, reference_b=AEX)
    np.testing.assert_allclose(both.loc[both["effect"] == "interaction", "estimate"],
                               table.loc[table["effect"] == "interaction", "estimate"],
                               atol=1e-10)
    default = factorial_contrasts(fit)  # the first levels: midazolam, stretching here
    pd.testing.assert_frame_equal(default, table)


def test_three_levels_give_one_row_per_level_and_pair():
    rng = np.random.default_rng(10)
    n, visits = 90, ["W4", "W8"]
    dose = np.repeat(["none", "low", "high"], n // 3)
    drug = np.tile(["placebo", "ketamine"], n // 2)
    effect = {"none": 0.0, "low": -1.0, "high": -2.0}
    d = pd.DataFrame({
        "id": np.repeat(np.arange(n), 2),
        "visit": pd.Categorical(np.tile(visits, n), categories=visits),
        "dose": pd.Categorical(np.repeat(dose, 2), categories=["none", "low", "high"]),
        "drug": pd.Categorical(np.repeat(drug, 2), categories=["placebo", "ketamine"]),
    })
    d["y"] = (d["dose"].map(effect).astype(float) - 3.0 * (d["drug"] == "ketamine")
              + rng.normal(size=len(d)))
    fit = ketex.mmrm(d, "y ~ dose * drug * visit", subject="id", visit="visit")
    table = factorial_contrasts(fit, "dose", "drug", by="visit")
    week = table[table["visit"] == "W8"]
    assert week["effect"].value_counts().to_dict() == {
        "dose main effect": 2, "drug main effect": 1, "dose simple effect": 4,
        "drug simple effect": 3, "interaction": 2}
    m = fit.lsmeans(["dose", "drug"], by="visit").set_index(["visit", "dose", "drug"])[
        "estimate"].sort_index()
    high = week[week["contrast"] == "high:ketamine - high:placebo - none:ketamine "
                                    "+ none:placebo"]["estimate"].item()
    assert high == pytest.approx(m["W8", "high", "ketamine"] - m["W8", "high", "placebo"]
                                 - m["W8", "none", "ketamine"] + m["W8", "none", "placebo"],
                                 abs=1e-10)
    low = week[week["contrast"] == "low - none"]["estimate"].item()
    assert low == pytest.approx((m["W8", "low"].mean() - m["W8", "none"].mean()), abs=1e-10)


def test_bad_input_is_named(fit, data):
    with pytest.raises(DataValidationError, match="factor_a='ARM' is not a factor of the model"):
        factorial_contrasts(fit, factor_a="ARM")
    with pytest.raises(DataValidationError, match="three different factors"):
        factorial_contrasts(fit, factor_a="DRUG", factor_b="DRUG")
    with pytest.raises(DataValidationError, match="reference_b='cycling' is not a level of "
                                                  "'EXERCISE' \\(levels: stretching, aerobic"):
        factorial_contrasts(fit, reference_b="cycling")
    with pytest.raises(DataValidationError, match="must be a fitted model of ketex.mmrm"):
        factorial_contrasts(data)
    additive = ketex.mmrm(data, "CHG ~ BASE + (DRUG + EXERCISE) * AVISIT", subject="USUBJID",
                          visit="AVISIT")
    with pytest.raises(DataValidationError, match="no DRUG x EXERCISE interaction"):
        factorial_contrasts(additive)


def test_the_mmrm_guide_example_runs_and_prints_what_the_page_says():
    page = (Path(__file__).resolve().parents[1] / "docs" / "mmrm.md").read_text()
    section = page[page.index("## Factorial trials"):page.index("## Options")]
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    test = doctest.DocTestParser().get_doctest(section, {}, "mmrm.md", "docs/mmrm.md", 0)
    result = doctest.DocTestRunner(optionflags=flags).run(test)
    assert result.attempted >= 8
    assert result.failed == 0, "docs/mmrm.md 'Factorial trials' failed (run with -s to see)"
