"""The built-in analyses of a power analysis: the MMRM difference at the primary visit
and the relapse tests, against the public API and R."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.simulate import MMRMAnalysis, RelapseAnalysis, TrialDesign, simulate_trial
from ketex.simulate.analyses import cox_log_hazard_ratio, logrank_test
from ketex.simulate.fast import simulate_changes

DESIGN = dataclasses.replace(TrialDesign(), n_per_arm=20)


def test_difference_at_the_primary_visit_is_the_lsmeans_contrast():
    analysis = MMRMAnalysis().prepare(DESIGN)
    data = simulate_changes(DESIGN, 3, analysis.visits)
    ours = analysis._fit(data)
    data = data.assign(ARM=pd.Categorical(data["ARM"].astype(object), ["SINGLE", "SERIES"]),
                       AVISIT=pd.Categorical(data["AVISIT"].astype(object),
                                             list(analysis.visits)))
    fit = ketex.mmrm(data, "CHG ~ BASE + ARM * AVISIT", subject="USUBJID", visit="AVISIT")
    table = fit.contrast("ARM", by="AVISIT", method="trt_vs_ctrl", reference="SINGLE")
    row = table[table["AVISIT"] == "WEEK12"].iloc[0]
    assert row["contrast"] == "SERIES - SINGLE"
    for key in ("estimate", "se", "df", "p_value", "ci_low", "ci_high"):
        assert ours[key] == pytest.approx(row[key], rel=1e-10), key


def test_other_formulas_go_through_the_full_trial_and_the_contrast():
    formula = "CHG ~ BASE + SITEID + ARM * AVISIT"
    with pytest.raises(ValueError, match="give fast=False"):
        MMRMAnalysis(formula=formula)
    analysis = MMRMAnalysis(formula=formula, fast=False, primary_visit="WEEK8").prepare(DESIGN)
    assert analysis.visits == ("INF1_24H", "WEEK2", "WEEK3", "WEEK4", "WEEK6", "WEEK8",
                               "WEEK10", "WEEK12", "WEEK16", "WEEK24")
    ours = analysis.simulate_and_analyse(DESIGN, 4)
    data = ketex.analysis_dataset(simulate_trial(DESIGN, 4))
    data = data[(data["ANL01FL"] == "Y").fillna(False).to_numpy(bool)
                & data["AVISIT"].isin(analysis.visits).to_numpy(bool)]
    data = data.assign(ARM=pd.Categorical(data["ARM"].astype(object), ["SINGLE", "SERIES"]))
    data["AVISIT"] = data["AVISIT"].cat.remove_unused_categories()
    fit = ketex.mmrm(data, formula, subject="USUBJID", visit="AVISIT")
    row = fit.contrast("ARM", by="AVISIT").set_index("AVISIT").loc["WEEK8"]
    assert ours["estimate"] == pytest.approx(row["estimate"], rel=1e-9)
    assert ours["se"] == pytest.approx(row["se"], rel=1e-9)


def test_an_unprepared_analysis_of_a_trial_uses_the_protocols_plan():
    trial = simulate_trial(DESIGN, 1)
    ready = MMRMAnalysis()._ready(trial.protocol)
    assert (ready.treatment, ready.control, ready.primary_visit) == ("SERIES", "SINGLE",
                                                                     "WEEK12")
    assert ready.visits == ("INF1_24H", "WEEK2", "WEEK3", "WEEK4", "WEEK6", "WEEK8",
                            "WEEK10", "WEEK12", "WEEK16", "WEEK24")
    assert ready.plan(trial.protocol) == trial.protocol.analysis.primary.resolve(trial.protocol)
    result = MMRMAnalysis()(trial)
    assert set(result) == {"estimate", "se", "p_value", "ci_low", "ci_high", "df"}


def test_analysis_arguments_are_checked():
    with pytest.raises(ValueError, match="treatment 'PLACEBO' is not an arm"):
        MMRMAnalysis(treatment="PLACEBO").prepare(DESIGN)
    with pytest.raises(ValueError, match="MMRMAnalysis: analysis.primary.primary_visit: "
                       "visit 'WEEK24' is not among "):
        MMRMAnalysis(visits=("WEEK2", "WEEK12"), primary_visit="WEEK24").prepare(DESIGN)
    with pytest.raises(ValueError, match="test must be 'logrank' or 'cox'"):
        RelapseAnalysis(test="wilcoxon")
    with pytest.raises(ValueError, match="must be a relapse rule"):
        RelapseAnalysis(endpoint="MADRS<=10")


def test_logrank_and_cox_match_r_with_tied_times():
    """R 4.2.2, survival::

        t <- c(5,5,8,8,12,20,3,4,5,6,8,9,9,14); e <- c(1,1,1,0,0,1,1,1,1,1,1,0,1,1)
        g <- c(1,1,1,1,1,1,0,0,0,0,0,0,0,0)
        s <- survdiff(Surv(t, e) ~ g); pchisq(s$chisq, 1, lower.tail = FALSE)
        f <- coxph(Surv(t, e) ~ g, ties = "efron"); coef(f); sqrt(diag(vcov(f)))
    """
    time = np.array([5, 5, 8, 8, 12, 20, 3, 4, 5, 6, 8, 9, 9, 14], float)
    event = np.array([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1], bool)
    group = np.array([1] * 6 + [0] * 8, bool)
    assert logrank_test(time, event, group) == pytest.approx(0.249888363757, rel=1e-8)
    log_hr, se = cox_log_hazard_ratio(time, event, group)
    assert log_hr == pytest.approx(-0.724555237981, rel=1e-6)
    assert se == pytest.approx(0.691329648161, rel=1e-6)
    with pytest.raises(ValueError, match="no relapse in the treatment arm"):
        cox_log_hazard_ratio(time, event & ~group, group)
