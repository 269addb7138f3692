"""factorial_outputs: the report's factorial part is the plan's model with the two factors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError
from ketex.primary import primary_dataset
from ketex.report.factorial_section import (
    factorial_outputs,
    factorial_reason,
    reference_levels,
)
from ketex.report.factorial_table import consort_factorial_table
from ketex.study.protocol import Arm, Protocol, Visit

VISITS = ("WEEK2", "WEEK4", "WEEK12")


def _with_plan(trial, **changes):
    protocol = trial.protocol
    primary = dataclasses.replace(protocol.analysis.primary, **changes)
    analysis = dataclasses.replace(protocol.analysis, primary=primary)
    return dataclasses.replace(trial, protocol=dataclasses.replace(protocol, analysis=analysis))


@pytest.fixture(scope="module")
def trial():
    # three visits keep the fit quick; the report fits the plan's fifteen
    return _with_plan(ketex.load_trial(ketex.sample_study_path(study="factorial")),
                      visits=VISITS)


@pytest.fixture(scope="module")
def out(trial):
    return factorial_outputs(trial)


def test_which_trials_have_a_factorial_part(sample_trial, trial):
    assert "declare no factors" in factorial_reason(sample_trial)
    assert factorial_reason(trial) is None
    with pytest.raises(DataValidationError, match="declare no factors"):
        factorial_outputs(sample_trial)
    one = Protocol("F", (Arm("A", factors={"drug": "ketamine"}),
                         Arm("B", factors={"drug": "midazolam"})),
                   (Visit("BASELINE", 0, (-7, 0)),))  # fmt: skip
    assert "1 factor(s) (drug)" in factorial_reason(type("T", (), {"protocol": one})())


def test_reference_levels_are_the_controls(trial):
    assert reference_levels(trial.protocol) == {"drug": "midazolam", "exercise": "stretching"}
    chosen = _with_plan(trial, reference_arm="KET_STR").protocol
    assert reference_levels(chosen) == {"drug": "ketamine", "exercise": "stretching"}
    # arms that do the same: the first level of each factor
    arms = tuple(Arm(f"{d}{e}", factors={"d": d, "e": e}) for d in "xy" for e in "uv")
    tie = Protocol("F", arms, (Visit("BASELINE", 0, (-7, 0)),))
    assert reference_levels(tie) == {"d": "x", "e": "u"}


def test_the_model_is_the_plan_with_the_factors(trial, out):
    assert out.formula == "CHG ~ BASE + (DRUG * EXERCISE) * AVISIT"
    assert (out.factor_a, out.factor_b, out.reference_a, out.reference_b, out.visit) == (
        "DRUG", "EXERCISE", "midazolam", "stretching", "WEEK12")
    plan = trial.protocol.analysis.primary.resolve(trial.protocol)
    assert (out.fit.covariance, out.fit.method, out.fit.df_method) == (
        plan.covariance[0], plan.method, plan.df)
    # the same numbers as a fit of the same model by hand
    data = primary_dataset(trial)
    fit = ketex.mmrm(data.assign(USUBJID=data["USUBJID"].astype(object)),
                     "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
                     visit="AVISIT", covariance=plan.covariance[0], method=plan.method,
                     df=plan.df)  # fmt: skip
    expected = ketex.factorial_contrasts(fit, reference_a="midazolam", reference_b="stretching")
    np.testing.assert_allclose(out.contrasts["estimate"], expected["estimate"], rtol=1e-8)
    np.testing.assert_allclose(out.contrasts["se"], expected["se"], rtol=1e-6)
    table = consort_factorial_table(fit, visit="WEEK12", reference_a="midazolam",
                                    reference_b="stretching", outcome="MADRS change from "
                                    "baseline")  # fmt: skip
    pd.testing.assert_frame_equal(out.table.display, table.display)
    assert out.table.title.startswith("MADRS change from baseline at WEEK12")


def test_figures_and_captions(out):
    panels = [ax.get_title(loc="left") for ax in out.interaction.axes]
    assert panels == ["Drug: midazolam", "Drug: ketamine"]
    forest = out.forest.axes[0]
    drawn = [ln.get_gid() for ln in forest.lines if str(ln.get_gid()).startswith("effect:")]
    week12 = out.contrasts[out.contrasts["AVISIT"] == "WEEK12"]
    assert drawn == [f"effect:{c}" for c in week12["contrast"]]
    assert "one panel per drug, one line per exercise" in out.captions["interaction"]
    assert out.captions["forest"].startswith("Factorial effects at WEEK12")


def test_a_formula_without_arm_is_refused(trial):
    odd = _with_plan(trial, formula="CHG ~ BASE + C(ARM, Treatment('MID_STR')) * AVISIT")
    with pytest.raises(DataValidationError, match="no plain ARM term"):
        factorial_outputs(odd)
