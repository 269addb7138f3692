"""The reference arm of the primary analysis ([analysis.primary] reference_arm) comes first
in every result table and is the reference of the forest plot, on both samples, when
study.toml names an arm other than the first as the reference."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

import ketex
from ketex.derive.analysis import arm_order
from ketex.report import analysis, tables
from ketex.report.context import AnalysisContext
from ketex.report.figures.consort import consort_counts

# the sample, and a reference arm other than the first: the Yale sample's second arm, the
# factorial's control cell (midazolam + stretching, which its study.toml names)
REFERENCE = {"yale": "SERIES", "factorial": "MID_STR"}


def _with_reference(trial, control: str):
    protocol = trial.protocol
    primary = dataclasses.replace(protocol.analysis.primary, reference_arm=control)
    analysis_plan = dataclasses.replace(protocol.analysis, primary=primary)
    return dataclasses.replace(trial, protocol=dataclasses.replace(protocol,
                                                                   analysis=analysis_plan))


@pytest.fixture(scope="module", params=sorted(REFERENCE))
def context(request):
    trial = ketex.load_trial(ketex.sample_study_path(study=request.param))
    return AnalysisContext(_with_reference(trial, REFERENCE[request.param]))


def _label(trial, code: str) -> str:
    return next(a.label or a.code for a in trial.protocol.arms if a.code == code)


def test_the_reference_arm_is_first_in_every_result_table(context):
    trial = context.trial
    reference = trial.protocol.analysis.primary.reference_arm
    arms = arm_order(trial.protocol)
    assert arms[0] == reference != trial.protocol.arm_codes[0]
    assert list(context.arms) == arms
    labels = [_label(trial, a) for a in arms]
    with context, warnings.catch_warnings():
        # the factorial's Cox model of time to relapse: no relapse in the midazolam arms
        warnings.filterwarnings("ignore", "The log-likelihood converged before",
                                ketex.errors.ConvergenceWarning)
        one = tables.table_one(trial)
        mmrm = tables.mmrm_table(context.primary.fit, primary_visit="WEEK12",
                                 reference=reference)
        ends = tables.endpoint_table(trial)
        survival = tables.survival_table(context.relapse.table, order=context.arms,
                                         group_labels=context.labels)
        adherence = tables.adherence_table(trial)
    for table in (one, adherence):
        assert [c.split(" (N = ")[0] for c in table.display.columns[1:len(arms) + 1]] == labels
    if len(arms) == 2:  # a column per arm
        assert list(ends.display.columns[1:len(arms) + 1]) == labels
        assert [c.split(", LS mean")[0] for c in mmrm.display.columns[1:len(arms) + 1]] == arms
    else:  # long: a row per arm within each endpoint (visit)
        assert ends.display["Arm"].tolist()[:len(arms)] == labels
        assert mmrm.display["Arm"].tolist()[:len(arms)] == arms
    differences = mmrm.data[mmrm.data["kind"] == "difference"]["arm"].unique().tolist()
    assert differences == [f"{a} - {reference}" for a in arms[1:]]
    risk = ends.data[ends.data["kind"] == "risk difference"]["group"].unique().tolist()
    assert risk == [f"{a} - {reference}" for a in arms[1:]]
    assert survival.display["Arm"].iloc[0] == labels[0]
    assert survival.display["Hazard ratio (95% CI)"].iloc[0] == "1 (reference)"
    assert list(dict.fromkeys(consort_counts(trial)["arm"])) == arms


def test_the_forest_plot_compares_with_the_reference_arm(context):
    trial = context.trial
    reference = trial.protocol.analysis.primary.reference_arm
    with context:
        effects = analysis.subgroup_effects(trial, [])
        primary = context.primary.contrast.iloc[0]
    assert primary["contrast"] == f"{arm_order(trial.protocol)[1]} - {reference}"
    assert effects["estimate"].iloc[0] == primary["estimate"]


def test_subgroup_effects_change_sign_with_the_reference_arm():
    trial = ketex.load_trial(ketex.sample_study_path())
    default = analysis.subgroup_effects(trial, ["sex"])
    reversed_ = analysis.subgroup_effects(_with_reference(trial, "SERIES"), ["sex"])
    assert reversed_["label"].tolist() == default["label"].tolist()
    assert reversed_["estimate"].to_numpy() == pytest.approx(-default["estimate"].to_numpy(),
                                                             abs=1e-4)
    with pytest.raises(ValueError, match="not compared with the reference arm"):
        analysis.subgroup_effects(trial, [], arm="SINGLE")
