"""The relapse fast path: simulate_relapse equals time_to_event on the simulated trial,
RelapseAnalysis gives the same numbers on both paths, and power() takes the fast path
when it applies and the full path, with a warning saying why, when it does not."""

import dataclasses
import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_equal

import ketex.simulate.trial as trial_module
from ketex.derive import (
    Achieved,
    RelapseRule,
    Remission,
    Response,
    StableRemission,
    endpoint_preset,
    time_to_event,
)
from ketex.simulate import (
    MeasurementDesign,
    RelapseAnalysis,
    TrialDesign,
    null_design,
    power,
    simulate_trial,
)
from ketex.simulate.fast_relapse import (
    RELAPSE_COLUMNS,
    fast_relapse_problem,
    simulate_relapse,
)
from ketex.study.protocol import Visit

SAMPLE = dataclasses.replace(TrialDesign(), n_per_arm=20)
SEEDS = range(3)

#: Rules that exercise every branch of the fast path: entry by a visit, at a visit, by a
#: day, on remission; one to three ratings, both relapse days, origins, follow-up, events.
RULES = {
    "SUSTAIN-1": endpoint_preset("SUSTAIN-1"),
    "single rating, first day, dropout counts": RelapseRule(
        consecutive=1, threshold=20, event_day="first",
        events=("hospitalisation", "discontinuation")),
    "three ratings, wide gaps, from randomisation, 60 days": RelapseRule(
        consecutive=3, threshold=18, gap_days=(0, 30), origin="randomisation",
        follow_up_days=60),
    "remission by WEEK4, no events": RelapseRule(
        entry=Achieved(Remission("MADRS", max_score=12), "WEEK4", by=True), events=()),
    "response at WEEK2": RelapseRule(entry=Achieved(Response(0.4), "WEEK2")),
    "response by day 30": RelapseRule(entry=Achieved(Response(), by_day=30),
                                      gap_days=(0, 40)),
    "remission at an infusion visit (SERIES only in the sample)": RelapseRule(
        entry=Achieved(Remission("MADRS", below=20), "INF3_24H"), threshold=15),
}


def _factorial_design() -> TrialDesign:
    """The 2 x 2 factorial sample's design (four arms, two exercise programmes)."""
    path = Path(__file__).resolve().parents[2] / "data" / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dataclasses.replace(module.FACTORIAL_DESIGN, n_per_arm=10)


DESIGNS = {
    "sample": SAMPLE,
    "null": null_design(SAMPLE),
    "no blank items": dataclasses.replace(
        SAMPLE, measurement=dataclasses.replace(SAMPLE.measurement,
                                                missing_item_probability=0.0)),
    "factorial": _factorial_design(),
}


def _rules(design: TrialDesign) -> dict[str, RelapseRule]:
    names = design.protocol().visit_names  # the null design has one infusion
    return {name: rule for name, rule in RULES.items()
            if rule.entry.visit is None or rule.entry.visit in names}


@pytest.fixture(scope="module", params=list(DESIGNS))
def trials(request):
    """A design, its simulated trials and their time-to-event tables (full path)."""
    design = DESIGNS[request.param]
    simulated = {seed: simulate_trial(design, seed) for seed in SEEDS}
    tables = {(name, seed): time_to_event(trial, rule)
              for name, rule in _rules(design).items() for seed, trial in simulated.items()}
    return design, simulated, tables


def test_simulate_relapse_equals_time_to_event_of_the_simulated_trial(trials):
    design, _, tables = trials
    rules = _rules(design)
    for (name, seed), tte in tables.items():
        assert fast_relapse_problem(design, rules[name]) is None, name
        fast = simulate_relapse(design, seed, rules[name])
        pd.testing.assert_frame_equal(fast, tte.table[list(RELAPSE_COLUMNS)],
                                      obj=f"{name}, seed {seed}")


def test_the_rules_are_not_trivial_on_these_seeds(trials):
    """Each rule leaves some participants out, and has relapses and censored times."""
    design, _, tables = trials
    for name in _rules(design):
        mine = [tte for (rule, _), tte in tables.items() if rule == name]
        assert sum(len(tte.excluded) for tte in mine) > 0, name
        events = pd.concat([tte.table["event"] for tte in mine])
        assert events.any() and not events.all(), name


def test_relapse_analysis_gives_the_same_numbers_on_both_paths(trials):
    """Exactly: the fast table equals the full one, and both go through compare()."""
    design, simulated, _ = trials
    arms = design.arm_codes
    for test in ("logrank", "cox"):
        analysis = RelapseAnalysis(test=test, treatment=arms[-1], control=arms[0])
        analysis = analysis.prepare(design)
        assert analysis.fast
        for seed, trial in simulated.items():
            try:
                expected = analysis(trial)
            except ValueError as error:  # e.g. no relapse in one arm for the Cox test
                with pytest.raises(ValueError, match=str(error)):
                    analysis.simulate_and_analyse(design, seed)
                continue
            # the same floats (NaN where one arm has no relapse)
            assert_equal(analysis.simulate_and_analyse(design, seed), expected)


def _counting(monkeypatch) -> list[int]:
    calls = []
    original = trial_module.simulate_trial

    def counted(design, seed=0):
        calls.append(seed)
        return original(design, seed)

    monkeypatch.setattr(trial_module, "simulate_trial", counted)
    return calls


def test_power_takes_the_fast_path(monkeypatch):
    calls = _counting(monkeypatch)
    kwargs = {"n_per_arm": 20, "n_sims": 4, "seed": 5, "backend": "serial",
              "progress": False}
    fast = power(SAMPLE, analysis=RelapseAnalysis(), **kwargs)
    assert calls == []
    full = power(SAMPLE, analysis=RelapseAnalysis(fast=False), **kwargs)
    assert len(calls) == 8  # 4 trials x (design, null)
    assert "fast=True" in fast.analysis and "fast=False" in full.analysis
    pd.testing.assert_frame_equal(fast.simulations, full.simulations)
    pd.testing.assert_frame_equal(fast.summary, full.summary)


def test_power_falls_back_to_the_full_path_and_says_why(monkeypatch):
    calls = _counting(monkeypatch)
    rule = RelapseRule(entry=StableRemission())
    with pytest.warns(UserWarning, match="RelapseAnalysis: no fast path, the entry rule "
                                         "StableRemission is evaluated on the full trial"):
        result = power(SAMPLE, 20, n_sims=2, analysis=RelapseAnalysis(endpoint=rule),
                       seed=1, null=False, backend="serial", progress=False)
    assert len(calls) == 2 and "fast=False" in result.analysis
    # asked for the full path: no warning
    analysis = RelapseAnalysis(endpoint=rule, fast=False).prepare(SAMPLE)
    assert not analysis.fast


def test_what_the_fast_path_does_not_cover():
    assert fast_relapse_problem(SAMPLE, endpoint_preset("HAM-D17>=18")) == (
        "the relapse scale is HAM-D17 (the fast path has MADRS ratings only)")
    qids = RelapseRule(entry=Achieved(Response(scale="QIDS-SR16"), by=True))
    assert fast_relapse_problem(SAMPLE, qids) == (
        "the entry condition is read on QIDS-SR16 (the fast path has MADRS)")
    visits = (Visit("BASELINE", 0, (-7, 0), ("MADRS",)),
              Visit("DAY0", 0, (0, 1), ("MADRS",)),
              *SAMPLE.measurement.visits[1:])
    early = dataclasses.replace(SAMPLE, measurement=MeasurementDesign(visits=visits))
    problem = fast_relapse_problem(early, RelapseRule())
    assert problem.startswith("visit DAY0's window (0, 1) reaches day 0")
    with pytest.raises(ValueError, match="simulate_relapse: visit DAY0's window"):
        simulate_relapse(early, 0, RelapseRule())


def test_a_criterion_given_as_its_class_is_the_protocols():
    """As ``ketex.derive.endpoints.protocol_criterion`` reads it (the class Response or
    Remission: the protocol's reduction or remission preset)."""
    from types import SimpleNamespace

    from ketex.simulate.fast_relapse import _criterion

    protocol = SAMPLE.protocol()
    response = _criterion(SimpleNamespace(criterion=Response), protocol)
    assert response == Response(protocol.endpoints.response_reduction)
    remission = _criterion(SimpleNamespace(criterion=Remission), protocol)
    assert remission == endpoint_preset(protocol.endpoints.remission_preset)
    assert _criterion(SimpleNamespace(criterion="MADRS<=10"), protocol) is None
