"""Pooling rules against rbmi's own functions on fixed numbers (deterministic).

Reference: tests/reference/estimands/rbmi_pooling.json, written by
rbmi_antidepressant.R from ``rbmi:::rubin_rules``, ``pool_bootstrap_percentile`` and
``pool_bootstrap_normal``; relative 1e-10, except the percentile p-value, which rbmi
finds with ``uniroot`` (tolerance 1.2e-4 in the probability) and ketex exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ketex import rubin_rules
from ketex.estimands.pooling import pool_bootstrap, pool_jackknife
from tests.estimands.conftest import REFERENCE


@pytest.fixture(scope="module")
def reference():
    return json.loads((REFERENCE / "rbmi_pooling.json").read_text())


def test_rubin_rules_as_rbmi(reference):
    r = reference["rubin"]
    pooled = rubin_rules(r["ests"], r["ses"], r["v_com"])
    assert pooled.estimate == pytest.approx(r["est"], rel=1e-10)
    assert pooled.se**2 == pytest.approx(r["var_t"], rel=1e-10)
    assert pooled.df == pytest.approx(r["df"], rel=1e-10)
    infinite = rubin_rules(r["ests"], r["ses"], np.inf)
    assert infinite.df == pytest.approx(reference["rubin_inf"]["df"], rel=1e-10)


def test_rubin_rules_by_hand():
    # W = mean(se^2), B = var(est), T = W + (1 + 1/M) B; v_old = (M - 1) / lambda^2
    ests, ses = np.array([2.0, 2.5, 1.5]), np.array([1.0, 1.2, 0.8])
    within, between = np.mean(ses**2), np.var(ests, ddof=1)
    total = within + (1 + 1 / 3) * between
    lam = (1 + 1 / 3) * between / total
    pooled = rubin_rules(ests, ses)
    assert pooled.se == pytest.approx(np.sqrt(total), rel=1e-12)
    assert pooled.df == pytest.approx(2 / lam**2, rel=1e-12)


def test_bootstrap_pooling_as_rbmi(reference):
    b = reference["bootstrap"]
    full, replicates = b["est"][0], b["est"][1:]
    percentile = pool_bootstrap(full, replicates, "percentile")
    np.testing.assert_allclose([percentile.ci_low, percentile.ci_high], b["percentile_ci"],
                               rtol=1e-10)  # fmt: skip
    assert percentile.p_value == pytest.approx(b["percentile_p"], abs=2.5e-4)
    normal = pool_bootstrap(full, replicates, "normal")
    assert normal.se == pytest.approx(b["normal_se"], rel=1e-10)
    np.testing.assert_allclose([normal.ci_low, normal.ci_high], b["normal_ci"], rtol=1e-10)
    assert normal.p_value == pytest.approx(b["normal_p"], rel=1e-10)


def test_percentile_p_value_exact():
    # 10 replicates, sorted: one negative; type-6 quantile crosses 0 between the 1st and
    # 2nd order statistics: q = (1 + (0 - (-0.2)) / (0.4 - (-0.2))) / 11
    replicates = [1.3, 0.7, 1.1, 0.4, 1.6, 0.9, 1.2, -0.2, 0.8, 1.4]
    q = (1 + 0.2 / 0.6) / 11
    assert pool_bootstrap(1.0, replicates).p_value == pytest.approx(2 * q, rel=1e-12)


def test_jackknife_by_hand():
    leave_one_out = np.array([0.9, 1.1, 1.0, 1.2, 0.8])
    se = np.sqrt(4 / 5 * np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    pooled = pool_jackknife(1.0, leave_one_out)
    assert pooled.se == pytest.approx(se, rel=1e-12)
    assert pooled.ci_low == pytest.approx(1.0 - 1.959963984540054 * se, rel=1e-12)
