"""Inputs, errors and the random methods of reference_based_mi on a small trial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex import DataValidationError, delta_template, reference_based_mi, tipping_point

REFS = {"KET": "PBO", "PBO": "PBO"}


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 40
    d = pd.DataFrame({
        "id": np.repeat([f"P{i:02d}" for i in range(n)], 3),
        "visit": np.tile(["W2", "W4", "W6"], n),
        "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "PBO", "KET"), 3),
        "base": np.repeat(rng.normal(24, 4, n), 3),
    })  # fmt: skip
    slope = np.where(d["arm"] == "KET", -2.5, -1.0)
    d["change"] = (
        slope * np.tile([1.0, 2.0, 3.0], n)
        + np.repeat(rng.normal(0, 2, n), 3)
        + rng.normal(size=3 * n)
    )
    dropped = d["id"].isin([f"P{i:02d}" for i in (1, 3, 4, 8, 13)]) & (d["visit"] == "W6")
    d.loc[dropped, "change"] = np.nan
    d.loc[(d["id"] == "P05") & d["visit"].isin(["W4", "W6"]), "change"] = np.nan
    return d


@pytest.fixture(scope="module")
def ice(small) -> pd.DataFrame:
    first = small[small["change"].isna()].groupby("id", as_index=False)["visit"].first()
    return first.assign(strategy="JR")


def _run(data, ice=None, **kwargs):
    return reference_based_mi(
        data, "change ~ base * visit + arm * visit", subject="id", visit="visit", group="arm",
        references=REFS, ice=ice, analysis_covariates=["base"], **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def jr(small, ice):
    return _run(small, ice)


def test_absent_rows_equal_missing_rows(small, ice, jr):
    absent = small.dropna(subset=["change"])
    np.testing.assert_allclose(_run(absent, ice).data["estimate"], jr.data["estimate"], rtol=1e-12)


def test_imputed_data_flags(jr, small):
    imputed = jr.imputed_data()
    assert int(imputed["imputed"].sum()) == int(small["change"].isna().sum())
    assert imputed["change"].notna().all()
    assert set(imputed.loc[imputed["imputed"], "DTYPE"]) == {"IMPUTED"}


def test_delta_moves_estimate_linearly(jr):
    template = delta_template(jr)
    template["delta"] = 1.0 * template["is_missing"] * (template["arm"] == "KET")
    one = jr.with_delta(template).data
    template["delta"] *= 2
    two = jr.with_delta(template).data
    base = jr.data
    np.testing.assert_allclose(two["estimate"] - base["estimate"],
                               2 * (one["estimate"] - base["estimate"]), atol=1e-12)  # fmt: skip
    assert one.loc[2, "estimate"] > base.loc[2, "estimate"]  # worse outcome for KET at W6


def test_delta_on_observed_value_is_an_error(jr):
    template = delta_template(jr)
    template["delta"] = 1.0
    with pytest.raises(DataValidationError, match="observed outcomes"):
        jr.with_delta(template)


def test_tipping_point_found(jr):
    tp = tipping_point(jr, np.arange(0, 20.5, 0.5), arm="KET")
    row = tp.tipping_points.set_index("visit").loc["W6"]
    grid = tp.data[tp.data["visit"] == "W6"].set_index("delta")
    if np.isnan(row["tipping_delta"]):
        assert not grid["significant"].iloc[0] or grid["significant"].all()
    else:
        assert not grid.loc[row["tipping_delta"], "significant"]
        assert grid.loc[row["last_significant_delta"], "significant"]
        assert row["last_significant_delta"] <= row["tipping_delta_interpolated"]
        assert row["tipping_delta_interpolated"] <= row["tipping_delta"]


def test_with_ice_changes_strategy_when_no_outcome_follows_an_ice(small, ice, jr):
    # every ICE of the small trial is at the first missing visit: no observed outcome
    # after an ICE, so JR -> MAR leaves the imputation model's data as they are (rbmi's
    # update_strategy allows it too: its strategy lock is only set by post-ICE data)
    first = dict(zip(ice["id"], ice["visit"], strict=True))
    after = small[small["id"].isin(first) & (small["visit"] >= small["id"].map(first))]
    assert after["change"].isna().all()
    switched = jr.with_ice(ice.assign(strategy="MAR"))
    fresh = _run(small, ice.assign(strategy="MAR"))
    np.testing.assert_allclose(switched.data["estimate"], fresh.data["estimate"], rtol=1e-10)
    np.testing.assert_allclose(switched.data["se"], fresh.data["se"], rtol=1e-10)
    assert not np.allclose(switched.data["estimate"], jr.data["estimate"], rtol=1e-3)


@pytest.fixture(scope="module")
def ice_post(ice) -> pd.DataFrame:
    """P05's ICE one visit before its first missing one: W2 is observed after the ICE."""
    moved = ice.copy()
    moved.loc[moved["id"] == "P05", "visit"] = "W2"
    return moved


@pytest.mark.parametrize(("fitted", "updated"), [("JR", "MAR"), ("MAR", "JR")])
def test_with_ice_refuses_changes_to_the_model_data(small, ice_post, fitted, updated):
    # an outcome observed after a non-MAR ICE is left out of the imputation model, one
    # after a MAR ICE is in it: switching needs a new fit (rbmi errors for MAR -> non-MAR
    # and warns for non-MAR -> MAR; ketex refuses both, the result would not be the fit
    # to that ICE table)
    fit = _run(small, ice_post.assign(strategy=fitted))
    with pytest.raises(ValueError, match=r"participants \['P05'\]\); run reference_based_mi"):
        fit.with_ice(ice_post.assign(strategy=updated))
    # the other participants may change
    others = ice_post.assign(strategy=np.where(ice_post["id"] == "P05", fitted, updated))
    assert len(fit.with_ice(others).data) == 3


def test_bootstrap_and_approx_bayes_reproducible(small, ice):
    boot = _run(small, ice, method="condmean_bootstrap", n_samples=20, seed=5)
    again = _run(small, ice, method="condmean_bootstrap", n_samples=20, seed=5)
    pd.testing.assert_frame_equal(boot.data, again.data)
    assert boot.data["se"].isna().all() and (boot.data["ci_low"] < boot.data["ci_high"]).all()
    bayes = _run(small, ice, method="approx_bayes", n_samples=10, seed=5)
    assert np.isfinite(bayes.data["df"]).all() and (bayes.data["se"] > 0).all()
    assert bayes.n_samples == 10
    # the point estimate of conditional mean imputation does not depend on the resampling
    jk = _run(small, ice)
    np.testing.assert_allclose(boot.data["estimate"], jk.data["estimate"], rtol=1e-12)


def test_local_processes_give_the_serial_result(small, ice, jr):
    # every resample's seed is fixed before the fits are sent out; imputations, ANCOVA
    # and pooling are the same numbers whichever process fitted the model
    for method, n_samples in [("condmean_jackknife", None), ("approx_bayes", 6)]:
        serial = jr if n_samples is None else _run(small, ice, method=method,
                                                   n_samples=n_samples, seed=3)
        spread = _run(small, ice, method=method, n_samples=n_samples, seed=3,
                      backend="processes", n_jobs=2)
        pd.testing.assert_frame_equal(spread.data, serial.data)
        pd.testing.assert_frame_equal(spread.lsmeans, serial.lsmeans)
        np.testing.assert_array_equal(spread.imputed_data(1)["change"],
                                      serial.imputed_data(1)["change"])
    with pytest.raises(ValueError, match="backend must be"):
        _run(small, ice, backend="threads")


def test_user_defined_strategy(small, ice, jr):
    def copy_jr(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
        return np.where(is_mar, mu_own, mu_ref), sigma_own

    mine = _run(small, ice.assign(strategy="MYJR"), strategies={"MYJR": copy_jr})
    np.testing.assert_allclose(mine.data["estimate"], jr.data["estimate"], rtol=1e-12)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ice_visit": "W9"}, "not a visit"),
        ({"ice_id": "NOPE"}, "not in the data"),
        ({"strategy": "XYZ"}, "is not one of"),
    ],
)
def test_bad_ice_rows_named(small, ice, change, message):
    bad = ice.copy()
    if "ice_visit" in change:
        bad.loc[bad.index[0], "visit"] = change["ice_visit"]
    if "ice_id" in change:
        bad.loc[bad.index[0], "id"] = change["ice_id"]
    if "strategy" in change:
        bad.loc[bad.index[0], "strategy"] = change["strategy"]
    with pytest.raises(DataValidationError, match=message) as info:
        _run(small, bad)
    assert f"row {bad.index[0]}" in str(info.value)


def test_missing_covariate_and_reference_errors(small, ice):
    broken = small.copy()
    broken.loc[4, "base"] = np.nan
    with pytest.raises(
        DataValidationError, match=r"covariate 'base' is missing in 1 rows \(first: \[4\]\)"
    ):
        _run(broken, ice)
    with pytest.raises(DataValidationError, match="missing for"):
        reference_based_mi(small, "change ~ arm * visit", subject="id", visit="visit",
                           group="arm", references={"KET": "PBO"})  # fmt: skip
    with pytest.raises(ValueError, match="needs n_samples"):
        _run(small, ice, method="approx_bayes")


def test_lmcf_at_first_visit_refused(small):
    first = pd.DataFrame({"id": ["P01"], "visit": ["W2"], "strategy": ["LMCF"]})
    with pytest.raises(DataValidationError, match="LMCF needs a visit before"):
        _run(small, first)
