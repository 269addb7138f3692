"""One trial's analysis, each derived table and fitted model computed once.

``ketex report`` builds one :class:`AnalysisContext` and every table and figure reads it;
a notebook can build one too and hand it to :func:`ketex.write_report`.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import pandas as pd

from ketex.derive._cache import DerivationCache
from ketex.study.trial import Trial

__all__ = ["AnalysisContext"]


class AnalysisContext:
    """A trial with its derived tables and fitted models, each computed once, on first use.

    The properties (:attr:`primary`, :attr:`dataset`, :attr:`relapse`, ...) are computed
    when first read and kept. While the context is entered (``with context:``), every
    derivation of its trial - :func:`ketex.analysis_dataset`, :func:`ketex.evaluate_endpoint`,
    :func:`ketex.time_to_event`, :func:`ketex.exercise_dose`, :func:`ketex.primary_analysis`
    - whoever calls it (a table, a figure, your own code) is computed once per set of
    arguments too, and each caller gets its own copy (the fitted model itself is shared:
    treat it as read-only). :func:`ketex.write_report` enters it for you.

    Parameters
    ----------
    trial : Trial

    Attributes
    ----------
    trial : Trial

    Examples
    --------
    >>> import ketex
    >>> context = ketex.AnalysisContext(ketex.load_trial(ketex.sample_study_path()))
    >>> context.primary.fit.converged, context.arms
    (True, ('SINGLE', 'SERIES'))
    >>> with context:
    ...     table = ketex.tables.endpoint_table(context.trial)
    ...     again = ketex.tables.endpoint_table(context.trial)
    >>> context.computed["analysis_dataset"], context.computed["evaluate_endpoint"]
    (1, 4)
    """

    def __init__(self, trial: Trial) -> None:
        object.__setattr__(self, "trial", trial)
        object.__setattr__(self, "_cache", DerivationCache(trial))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"AnalysisContext is read-only (cannot set {name!r}); build "
                             "a new one for another trial")

    def __repr__(self) -> str:
        return (f"AnalysisContext({self.trial.protocol.study_id}: "
                f"{len(self.trial.participants)} participants; computed "
                f"{dict(self.computed) or 'nothing yet'})")

    def __enter__(self) -> AnalysisContext:
        self._cache.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cache.__exit__(*exc)

    @property
    def computed(self) -> Counter:
        """How many times each derivation was computed (not served from the context)."""
        return self._cache.computed

    # -- the protocol ---------------------------------------------------------------------

    @cached_property
    def arms(self) -> tuple[str, ...]:
        """Arm codes, the reference arm of the primary analysis first, then protocol order."""
        from ketex.derive.analysis import arm_order

        return tuple(arm_order(self.trial.protocol))

    @cached_property
    def labels(self) -> dict[str, str]:
        """Arm code -> label (the code when the protocol gives none)."""
        return {a.code: a.label or a.code for a in self.trial.protocol.arms}

    # -- derived tables and models ----------------------------------------------------------

    @cached_property
    def primary(self):
        """The protocol's primary analysis (:func:`ketex.primary_analysis`).

        Returns
        -------
        ketex.PrimaryResult
        """
        from ketex.primary import primary_analysis

        with self:
            return primary_analysis(self.trial)

    @cached_property
    def dataset(self) -> pd.DataFrame:
        """The analysis dataset of the primary scale (:func:`ketex.analysis_dataset` with
        the options of ``[analysis.derivation]``), ``ARM`` a Categorical in the order of
        :attr:`arms`. Shared: do not change it."""
        ds = self.analysis_dataset(**self.derivation)
        ds["ARM"] = pd.Categorical(ds["ARM"].astype(str), list(self.arms))
        return ds

    @cached_property
    def derivation(self) -> dict:
        """The analysis-dataset options of the plan (``[analysis.derivation]``), for
        :func:`ketex.analysis_dataset`, :func:`ketex.evaluate_endpoint` and
        :func:`ketex.time_to_event`."""
        from ketex.study.derivation_plan import derivation_options

        return derivation_options(self.trial.protocol)

    @cached_property
    def secondary(self) -> dict:
        """The plan's secondary endpoints by key (``"response"``, ``"remission"``,
        ``"sustained"``, ``"relapse"``; those it leaves out absent):
        :func:`ketex.study.secondary_plan.secondary_endpoints`."""
        from ketex.study.secondary_plan import secondary_endpoints

        return {e.key: e for e in secondary_endpoints(self.trial.protocol)}

    @cached_property
    def relapse_reason(self) -> str | None:
        """Why the protocol's relapse endpoint cannot be analysed (None when it can)."""
        from ketex.report.applicability import endpoint_reason

        relapse = self.secondary.get("relapse")
        if relapse is None:
            return ("no relapse rule ([endpoints] relapse_preset or [analysis.secondary] "
                    "relapse)")
        return endpoint_reason(self.trial, relapse.rule, f"relapse rule {relapse.name}")

    @cached_property
    def relapse(self):
        """Time to relapse by the plan's relapse rule (``[analysis.secondary] relapse``,
        default ``[endpoints] relapse_preset``; :func:`ketex.time_to_event`); None when
        :attr:`relapse_reason` says why not.

        Returns
        -------
        ketex.TimeToEvent or None
        """
        if self.relapse_reason is not None:
            return None
        relapse = self.secondary["relapse"]
        return self.time_to_event(relapse.preset or relapse.rule, **self.derivation)

    @cached_property
    def factorial(self):
        """The factorial analysis of a trial whose arms declare two factors
        (:func:`ketex.report.factorial_section.factorial_outputs`); None when
        :func:`~ketex.report.factorial_section.factorial_reason` says why not.

        Returns
        -------
        FactorialOutputs or None
        """
        from ketex.report.factorial_section import factorial_outputs, factorial_reason

        if factorial_reason(self.trial) is not None:
            return None
        with self:
            return factorial_outputs(self.trial)

    def analysis_dataset(self, scale: str | None = None, **options) -> pd.DataFrame:
        """:func:`ketex.analysis_dataset` of the trial, computed once per arguments (a copy)."""
        from ketex.derive.analysis import analysis_dataset

        with self:
            return analysis_dataset(self.trial, scale, **options)

    def endpoint(self, rule, **options) -> pd.DataFrame:
        """:func:`ketex.evaluate_endpoint` of the trial, computed once per arguments (a copy)."""
        from ketex.derive.evaluate import evaluate_endpoint

        with self:
            return evaluate_endpoint(self.trial, rule, **options)

    def time_to_event(self, rule, **options):
        """:func:`ketex.time_to_event` of the trial, computed once per arguments (a copy)."""
        from ketex.derive.time_to_event import time_to_event

        with self:
            return time_to_event(self.trial, rule, **options)

    def exercise_dose(self, by: str = "week", options=None) -> pd.DataFrame:
        """:func:`ketex.exercise_dose` of the trial, computed once per arguments (a copy)."""
        from ketex.derive.exercise import exercise_dose

        with self:
            return exercise_dose(self.trial, by, options)
