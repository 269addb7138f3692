"""ketex.models.multiplicity: Holm/Bonferroni by hand, the multivariate t by quadrature and
Dunnett's tables, and ``adjust=`` shared by the MMRM, LMM, GEE and GLMM results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

import ketex
from ketex.errors import KetexError
from ketex.models.multiplicity import (
    adjust_contrasts,
    emmeans_df,
    max_abs_t_cdf,
    max_abs_t_quantile,
    p_adjust,
)


def test_holm_and_bonferroni_by_hand():
    p = np.array([0.04, 0.01, 0.05, 0.03, 0.02])
    # sorted .01 .02 .03 .04 .05 -> 5 x .01, 4 x .02, 3 x .03, then the running maximum
    # (R: p.adjust(c(.04, .01, .05, .03, .02), "holm") = .09 .05 .09 .09 .08)
    np.testing.assert_allclose(p_adjust(p, "holm"), [0.09, 0.05, 0.09, 0.09, 0.08],
                               rtol=1e-12)
    np.testing.assert_allclose(p_adjust(p, "bonferroni"), [0.2, 0.05, 0.25, 0.15, 0.1],
                               rtol=1e-12)
    np.testing.assert_array_equal(p_adjust(p, "none"), p)
    out = p_adjust([0.3, np.nan, 0.6], "holm")     # NaN is not part of the family
    np.testing.assert_allclose(out[[0, 2]], [0.6, 0.6])
    assert np.isnan(out[1])


def _box_by_quadrature(c, nu, rho):
    """Adaptive quadrature (QUADPACK) of the same integral, an independent route."""
    r = np.sqrt(1 - rho**2)

    def box(a):
        inner = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) * (  # noqa: E731
            special.ndtr((a - rho * z) / r) - special.ndtr((-a - rho * z) / r))
        return integrate.quad(inner, -a, a, epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    if nu == 0:
        return box(c)
    lo, hi = stats.chi.ppf([1e-14, 1 - 1e-14], nu)
    log_norm = (1 - nu / 2) * np.log(2) - special.gammaln(nu / 2)
    density = lambda x: np.exp(log_norm + (nu - 1) * np.log(x) - 0.5 * x * x)  # noqa: E731
    return integrate.quad(lambda x: box(c * x / np.sqrt(nu)) * density(x), lo, hi,
                          epsabs=1e-13, limit=400)[0]


@pytest.mark.parametrize(("rho", "nu", "c"), [(-0.6, 4, 2.2), (0.5, 85, 2.4), (0.9, 0, 3.5),
                                              (0.0, 12, 0.5)])
def test_two_contrasts_match_adaptive_quadrature(rho, nu, c):
    corr = np.array([[1.0, rho], [rho, 1.0]])
    if True:
        assert max_abs_t_cdf(c, nu, corr) == pytest.approx(_box_by_quadrature(c, nu, rho),
                                                           abs=1e-9)


def test_three_contrasts_by_lattice_rule_within_1e_6():
    # a bivariate block and an independent normal: the probability factorises
    rho = 0.5
    corr = np.array([[1, rho, 0], [rho, 1, 0], [0, 0, 1.0]])
    for c in (1.5, 2.4):
        exact = _box_by_quadrature(c, 0, rho) * (1 - 2 * stats.norm.sf(c))
        assert max_abs_t_cdf(c, 0, corr) == pytest.approx(exact, abs=1e-6)
    # deterministic: the same number twice
    assert max_abs_t_cdf(2.0, 30, corr) == max_abs_t_cdf(2.0, 30, corr)


@pytest.mark.parametrize(("k", "nu", "table"), [
    (2, 0, 2.21), (2, 20, 2.38), (3, 20, 2.54), (3, 0, 2.35), (2, 10, 2.57)])
def test_dunnett_table_critical_values(k, nu, table):
    # Dunnett (1955) two-sided 95% critical values, equal n: correlation 1/2
    corr = np.full((k, k), 0.5) + 0.5 * np.eye(k)
    assert max_abs_t_quantile(0.95, nu, corr) == pytest.approx(table, abs=0.006)


def test_emmeans_integer_df():
    assert emmeans_df([0.2, 1.74, 1.76, 85.591726, 9999.5, np.inf]).tolist() == [
        1, 1, 2, 85, 0, 0]


def _table(estimate, se, df):
    t = pd.DataFrame({"estimate": estimate, "se": se, "df": df})
    t["statistic"] = t["estimate"] / t["se"]
    t["p_value"] = 2 * stats.t.sf(t["statistic"].abs(), t["df"])
    q = stats.t.ppf(0.975, t["df"])
    t["ci_low"], t["ci_high"] = t["estimate"] - q * t["se"], t["estimate"] + q * t["se"]
    return t


def test_families_are_adjusted_separately_and_raw_columns_kept():
    t = _table([2.0, 1.0, 2.5, 0.1], [1.0, 1.0, 1.0, 1.0], [40.0, 40.0, 30.0, 30.0])
    cov = np.eye(4) + 0.5 * np.kron(np.eye(2), [[0, 1], [1, 0]])
    out = adjust_contrasts(t, cov, ["W1", "W1", "W2", "W2"], "holm", 0.95)
    np.testing.assert_array_equal(out["p_value"], t["p_value"])
    np.testing.assert_allclose(out["p_value_adjusted"][:2], p_adjust(t["p_value"][:2], "holm"))
    np.testing.assert_allclose(out["p_value_adjusted"][2:], p_adjust(t["p_value"][2:], "holm"))
    bonferroni = stats.t.ppf(1 - 0.05 / 4, t["df"])
    np.testing.assert_allclose(out["ci_high_adjusted"], t["estimate"] + bonferroni, rtol=1e-12)
    dunnett = adjust_contrasts(t, cov, ["W1", "W1", "W2", "W2"], "dunnett", 0.95)
    assert (dunnett["p_value"] < dunnett["p_value_adjusted"]).all()
    bonf = adjust_contrasts(t, cov, ["W1", "W1", "W2", "W2"], "bonferroni", 0.95)
    assert (dunnett["p_value_adjusted"] < bonf["p_value_adjusted"]).all()
    assert (dunnett["ci_high_adjusted"] < bonf["ci_high_adjusted"]).all()
    # the simultaneous interval: coverage probability 0.95 of max |T| over the family
    c = (dunnett["ci_high_adjusted"] - dunnett["estimate"]).to_numpy()
    corr = np.array([[1, 0.5], [0.5, 1]])
    assert max_abs_t_cdf(c[0], 40, corr) == pytest.approx(0.95, abs=1e-7)
    assert max_abs_t_cdf(c[2], 30, corr) == pytest.approx(0.95, abs=1e-7)
    single = adjust_contrasts(t.iloc[:1], cov[:1, :1], ["W1"], "dunnett", 0.95)
    assert single["p_value_adjusted"].item() == t["p_value"].iloc[0]   # a family of one


def test_bad_adjust_names_the_choices():
    t = _table([1.0], [1.0], [10.0])
    with pytest.raises(KetexError, match="'dunnett', 'holm', 'bonferroni', 'none'"):
        adjust_contrasts(t, np.eye(1), [0], "tukey", 0.95)


@pytest.fixture(scope="module")
def three_arms():
    rng = np.random.default_rng(11)
    n = 90
    d = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "visit": np.tile(["W1", "W2"], n),
                      "arm": np.repeat(np.tile(["CTRL", "A", "B"], n // 3), 2)})
    shared = np.repeat(rng.normal(size=n), 2)
    d["y"] = shared + rng.normal(size=2 * n) - 0.8 * (d["arm"] == "A")
    d["event"] = (d["y"] < -0.5).astype(int)
    return d


def _check(out, by):
    assert {"adjust", "p_value_adjusted", "ci_low_adjusted", "ci_high_adjusted"} <= set(out)
    for _, family in out.groupby(by):
        np.testing.assert_allclose(family["p_value_adjusted"],
                                   p_adjust(family["p_value"], "holm"), rtol=1e-12)


def test_every_model_result_takes_adjust(three_arms):
    d = three_arms
    args = dict(by="visit", method="trt_vs_ctrl", reference="CTRL", adjust="holm")
    fits = [
        ketex.mmrm(d, "y ~ arm * visit", subject="id", visit="visit"),
        ketex.lmm(d, "y ~ arm * visit", subject="id", re_formula="1"),
        ketex.gee(d, "event ~ arm * visit", subject="id", time="visit"),
        ketex.glmm(d, "event ~ arm * visit", subject="id"),
    ]
    for fit in fits:
        out = fit.contrast("arm", **args)
        assert out["contrast"].tolist() == ["A - CTRL", "B - CTRL"] * 2
        _check(out, "visit")
        assert "p_value_adjusted" not in fit.contrast("arm", by="visit", method="trt_vs_ctrl",
                                                      reference="CTRL")


def test_the_mmrm_guide_multi_arm_example_runs_and_prints_what_the_page_says():
    import doctest
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "mmrm.md").read_text()
    section = page[page.index("## Multi-arm trials"):page.index("## Factorial trials")]
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    test = doctest.DocTestParser().get_doctest(section, {}, "mmrm.md", "docs/mmrm.md", 0)
    result = doctest.DocTestRunner(optionflags=flags).run(test)
    assert result.attempted >= 8
    assert result.failed == 0, "docs/mmrm.md 'Multi-arm trials' failed (run with -s to see)"
