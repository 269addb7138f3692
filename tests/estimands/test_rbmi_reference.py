"""ketex.reference_based_mi against R rbmi: conditional mean imputation + jackknife.

Reference: tests/reference/estimands/rbmi_antidepressant.R (rbmi 1.5.2 on mmrm 0.3.18,
R 4.2.2) on rbmi's antidepressant trial; MAR, JR, CR, CIR, LMCF, MAR with a delta of +2
on the DRUG arm's imputed values and a tipping-point grid.  The method is
deterministic, so estimate, SE and interval limits must agree to relative 1e-6 (the
treatment effect's p-value too), against rbmi run with its imputation MMRM converged
tightly (BFGS, reltol 1e-14; see the script).  rbmi with mmrm's default optimiser stops
about 1e-5 short of the REML maximum; that run is checked at the 1e-4 its optimiser
reaches, to show the difference is convergence and nothing else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex import tipping_point
from tests.estimands.conftest import REFERENCE

VISITS = ("4", "5", "6", "7")


def _reference(name: str = "rbmi_condmean_jackknife.csv") -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


def _ketex_rows(result) -> pd.DataFrame:
    """ketex's pooled rows under rbmi's parameter names (trt_, lsm_ref_, lsm_alt_)."""
    effects = result.data.assign(parameter="trt_" + result.data["visit"].astype(str))
    lsm = result.lsmeans.assign(
        parameter=np.where(result.lsmeans["arm"] == "PLACEBO", "lsm_ref_", "lsm_alt_")
        + result.lsmeans["visit"].astype(str)
    )
    columns = ["parameter", "estimate", "se", "ci_low", "ci_high", "p_value"]
    return pd.concat([effects[columns], lsm[columns]]).set_index("parameter")


def _compare(result, analysis: str, rtol: float = 1e-6, reference=None) -> None:
    reference = _reference() if reference is None else reference
    expected = reference[reference["analysis"] == analysis].set_index("parameter")
    assert len(expected) == 12
    got = _ketex_rows(result).loc[expected.index]
    for ours, theirs in [("estimate", "est"), ("se", "se")]:
        np.testing.assert_allclose(got[ours], expected[theirs], rtol=rtol, err_msg=ours)
    # the limits as distances from the estimate: a limit near 0 (est - q se) has no
    # relative precision of its own, its two parts have
    for limit in ("ci_low", "ci_high"):
        np.testing.assert_allclose(got[limit] - got["estimate"],
                                   expected[limit] - expected["est"], rtol=rtol, err_msg=limit)
    trt = expected.index.str.startswith("trt_")
    np.testing.assert_allclose(
        got.loc[trt, "p_value"], expected.loc[trt, "p_value"], rtol=rtol, err_msg="p"
    )


def test_mar_same_as_rbmi(fit_mar):
    _compare(fit_mar, "MAR")


def test_jump_to_reference_same_as_rbmi(fit_jr):
    _compare(fit_jr, "JR")


@pytest.mark.parametrize("strategy", ["CR", "CIR", "LMCF"])
def test_other_strategies_same_as_rbmi(fit_jr, antidepressant_ice, strategy):
    _compare(fit_jr.with_ice(antidepressant_ice.assign(strategy=strategy)), strategy)


def test_delta_adjustment_same_as_rbmi(fit_mar):
    from ketex import delta_template

    template = delta_template(fit_mar)
    template["delta"] = 2.0 * template["is_missing"] * (template["THERAPY"] == "DRUG")
    _compare(fit_mar.with_delta(template), "MAR_delta2")


def test_tipping_grid_same_as_rbmi(fit_mar):
    grid = tipping_point(fit_mar, [0, 1, 2, 3, 4, 5, 6], arm="DRUG")
    reference = _reference()
    for delta in range(7):
        expected = reference[reference["analysis"] == f"MAR_tipping_{delta}"]
        expected = expected[expected["parameter"].str.startswith("trt_")]
        got = grid.data[grid.data["delta"] == delta]
        np.testing.assert_allclose(got["estimate"], expected["est"], rtol=1e-6)
        np.testing.assert_allclose(got["se"], expected["se"], rtol=1e-6)
        np.testing.assert_allclose(got["p_value"], expected["p_value"], rtol=1e-6)
    # the tipping point follows from the grid: the last significant delta, then the next
    week6 = grid.tipping_points.set_index("visit").loc["7"]
    p = grid.data[grid.data["visit"] == "7"].set_index("delta")["p_value"]
    first_lost = p.index[p >= 0.05][0]
    assert week6["tipping_delta"] == first_lost
    assert (p.loc[: week6["last_significant_delta"]] < 0.05).all()


@pytest.mark.xfail(
    strict=True,
    reason=(
        "open: rbmi on mmrm's default optimiser differs by up to 1.2e-4 "
        "relative, more than the 1e-4 this check assumed; to be explained"
    ),
)
def test_rbmi_with_default_optimiser_differs_by_its_convergence_only(fit_mar):
    _compare(fit_mar, "MAR", rtol=1e-4,
             reference=_reference("rbmi_condmean_jackknife_default_control.csv"))  # fmt: skip
