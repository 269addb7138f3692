"""The report computes each thing once (one AnalysisContext per report), and the context
changes nothing in what it writes: report.html is byte-identical to the one written with
every derivation recomputed where it is used (as before the context), on both samples."""

from __future__ import annotations

import importlib
import re
import warnings
from collections import Counter

import pandas as pd
import pytest

import ketex
import ketex.models
import ketex.primary
from ketex.derive import _cache
from ketex.report.context import AnalysisContext
from ketex.report.run import ReportOptions, write_report

# what is computed (the function behind each public derivation, after its cache)
COMPUTED = {
    "analysis_dataset": "ketex.derive.analysis",
    "evaluate_endpoint": "ketex.derive.evaluate",
    "time_to_event": "ketex.derive.time_to_event",
    "exercise_dose": "ketex.derive.exercise",
    "stream_dose": "ketex.streams.dose",
    "primary_analysis": "ketex.primary",
}
FAST = dict(table_formats=("csv",), figure_formats=("png",), png_dpi=40, html_dpi=40)
SAMPLES = {
    # the factorial sample's 15-visit unstructured MMRMs take seconds each: no subgroups
    "yale": ReportOptions(**FAST, subgroups=("sex",)),
    "factorial": ReportOptions(**FAST, subgroups=()),
}


def _count(monkeypatch, calls: list, fits: dict | None = None) -> None:
    """Record every computation (name, its distinct arguments) and every MMRM fit."""
    for name, where in COMPUTED.items():
        module, function = importlib.import_module(where), f"_{name}"
        original = getattr(module, function)

        def counted(trial, *args, _name=name, _original=original, **kwargs):
            calls.append((_name, repr((args, sorted(kwargs.items())))))
            return _original(trial, *args, **kwargs)

        monkeypatch.setattr(module, function, counted)
    fit = ketex.models.mmrm

    def counted_fit(data, formula, **kwargs):
        key = (formula, int(pd.util.hash_pandas_object(data, index=False).sum()),
               repr(sorted(kwargs.items())))
        calls.append(("mmrm", key))
        if fits is None:
            return fit(data, formula, **kwargs)
        if key not in fits:
            fits[key] = fit(data, formula, **kwargs)
        return fits[key]

    monkeypatch.setattr(ketex.models, "mmrm", counted_fit)


def _html(result) -> str:
    page = result.html.read_text(encoding="utf-8")
    return re.sub(r"Written \d{4}-\d\d-\d\d \d\d:\d\d", "Written <time>", page)


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def runs(request, tmp_path_factory):
    """The report written twice: with its context, and with nothing cached (as before)."""
    name = request.param
    trial = ketex.load_trial(ketex.sample_study_path(study=name))
    out = tmp_path_factory.mktemp(name)
    # the factorial fits are shared between the two runs (they take seconds); the yale
    # sample's are refitted, as before the context
    fits = {} if name == "factorial" else None
    cached: list = []
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as monkeypatch:
        # the factorial's Cox model of time to relapse: no relapse in the midazolam arms
        warnings.filterwarnings("ignore", "The log-likelihood converged before",
                                ketex.errors.ConvergenceWarning)
        _count(monkeypatch, cached, fits)
        context = AnalysisContext(trial)
        with_context = write_report(trial, out / "context", options=SAMPLES[name],
                                    context=context)
    uncached: list = []
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as monkeypatch:
        warnings.filterwarnings("ignore", "The log-likelihood converged before",
                                ketex.errors.ConvergenceWarning)
        _count(monkeypatch, uncached, fits)
        monkeypatch.setattr(_cache.DerivationCache, "get",
                            lambda self, name, key, compute, copy: compute())
        without = write_report(trial, out / "uncached", options=SAMPLES[name])
    return name, trial, context, cached, uncached, _html(with_context), _html(without)


def test_each_derivation_and_model_is_computed_once_per_report(runs):
    name, trial, context, cached, uncached, _, _ = runs
    repeated = {call: n for call, n in Counter(cached).items() if n > 1}
    assert not repeated
    names = Counter(call[0] for call in cached)
    # stream-based loads only where the trial has device recordings (the Yale sample)
    streams = set() if trial.streams is None else {"stream_dose"}
    assert set(names) == set(COMPUTED) - {"stream_dose"} | streams | {"mmrm"}
    assert names["primary_analysis"] == 1
    n_subgroups = len(SAMPLES[name].subgroups)
    n_factorial = int(name == "factorial")  # the factorial model (the factors for ARM)
    # the primary model, one per subgroup and the factorial model
    assert names["mmrm"] == 1 + n_subgroups + n_factorial
    primary = context.primary.plan.formula
    assert [key[0] for kind, key in cached if kind == "mmrm"].count(primary) == 1
    # one analysis dataset per scale Table 1 summarises at baseline
    assert names["analysis_dataset"] == len(ketex.report.tables._baseline_scales(trial))
    assert context.computed == names - Counter({"mmrm": names["mmrm"]})
    # without the context the same things are computed again and again: the test can fail
    before = Counter(uncached)
    assert max(before.values()) > 1
    assert sum(1 for kind, key in uncached if kind == "mmrm" and key[0] == primary) == 2


def test_the_context_changes_nothing_in_the_report(runs):
    name, *_, with_context, without = runs
    assert "Written <time>" in with_context
    assert with_context == without, name


def test_context_is_read_only_and_serves_copies(sample_trial, tmp_path):
    context = AnalysisContext(sample_trial)
    with pytest.raises(AttributeError, match="read-only"):
        context.trial = None
    first = context.analysis_dataset()
    first.loc[0, "AVAL"] = -99.0
    again = context.analysis_dataset()
    assert again.loc[0, "AVAL"] != -99.0
    assert context.computed["analysis_dataset"] == 1
    assert context.endpoint(ketex.derive.Response()).equals(
        context.endpoint(ketex.derive.Response()))
    assert context.computed["evaluate_endpoint"] == 1
    # outside the context nothing is cached
    ketex.analysis_dataset(sample_trial)
    assert context.computed["analysis_dataset"] == 1
    other = ketex.load_trial(ketex.sample_study_path())
    with context:  # another trial object is never served from this context
        ketex.analysis_dataset(other)
    assert context.computed["analysis_dataset"] == 1
    with pytest.raises(ValueError, match="another trial"):
        write_report(other, tmp_path, context=context)


def test_only_the_factorial_sample_has_a_factorial_part(runs):
    name, trial, context, *_, page, _ = runs
    if name == "factorial":
        # the whole plan (fifteen visits): the table and both figures
        assert '<section id="factorial"><h2>Factorial analysis</h2>' in page
        for stem in ("figure_factorial_interaction", "figure_factorial_forest"):
            assert f'<figure id="{stem}">' in page
        assert context.factorial.table.title in page
    else:
        assert context.factorial is None
        assert "actorial" not in page
