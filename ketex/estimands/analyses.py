"""``estimand_analyses``: run the estimand analyses ``study.toml`` pre-specifies.

The ``[estimands]`` table (:mod:`ketex.estimands.spec`) names a strategy per reason of
an intercurrent event, the reference arms, the method, the sensitivity strategies and a
tipping-point grid.  This module turns it into calls of the existing pieces:
:func:`~ketex.estimands.ice.intercurrent_events` for the ICE table,
:func:`~ketex.estimands.reference_based.reference_based_mi` for the primary and the
sensitivity analyses and :func:`~ketex.estimands.tipping.tipping_point` for the grid,
and gathers their results into one tidy table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from ketex.estimands.ice import intercurrent_events
from ketex.estimands.reference_based import ReferenceBasedResult, reference_based_mi
from ketex.estimands.spec import EstimandSpec, read_estimand_spec
from ketex.estimands.tipping import tipping_point
from ketex.study.protocol import ProtocolError
from ketex.study.trial import Trial

__all__ = ["ANALYSES_COLUMNS", "EstimandAnalyses", "estimand_analyses"]

#: Columns of :attr:`EstimandAnalyses.table`.
ANALYSES_COLUMNS = ("analysis", "strategy", "visit", "contrast", "estimate", "se", "df",
                    "ci_low", "ci_high", "p_value")  # fmt: skip
PRIMARY = "primary"


@dataclass(frozen=True, eq=False)
class EstimandAnalyses:
    """The estimand analyses of a trial, as its ``[estimands]`` table names them.

    Attributes
    ----------
    table : pandas.DataFrame
        :data:`ANALYSES_COLUMNS`: one row per analysis, visit and arm-versus-control
        contrast.  ``analysis`` is ``"primary"`` (the spec's strategies) or
        ``"sensitivity: <S>"`` (every non-MAR strategy replaced by ``S``); ``strategy``
        lists the strategies the analysis imputed under (``"JR, MAR"``); ``df`` is
        ``inf`` for the conditional mean methods (normal-based inference).
    ice : pandas.DataFrame
        The intercurrent-event table of the primary analysis
        (:func:`ketex.intercurrent_events`: ``USUBJID, AVISIT, strategy, ice_type,
        reason, ice_day, arm``).
    spec : EstimandSpec
        The settings the analyses ran with.
    visits : tuple of str
        The analysis visits.
    primary_visit : str
        The protocol's primary visit when it is an analysis visit, else the last one:
        the visit of :attr:`tipping_point`.
    control : str
        The arm the others are compared with (the primary analysis's reference arm).
    tipping_grid : pandas.DataFrame or None
        The delta grid of the primary analysis (:attr:`ketex.TippingPointResult.data`:
        ``delta, visit, contrast, estimate, se, df, ci_low, ci_high, p_value,
        significant``); None when the spec names no tipping point.
    tipping_points : pandas.DataFrame or None
        :attr:`ketex.TippingPointResult.tipping_points`, every visit and contrast.
    tipping_point : float or None
        At :attr:`primary_visit`, for :attr:`tipping_contrast`: the delta at which the
        p-value, interpolated linearly between grid points, reaches ``alpha``.  None
        when the conclusion never tips on the grid (significant throughout, or not
        significant at the first delta) or without a tipping-point grid.
    tipping_contrast : str or None
        The contrast of the tipping arm with the control (the first contrast when the
        tipping arm is the control).
    results : mapping of str to ReferenceBasedResult
        The result of each analysis, by its ``analysis`` label (LS-means, imputed data).
    """

    table: pd.DataFrame
    ice: pd.DataFrame
    spec: EstimandSpec
    visits: tuple[str, ...]
    primary_visit: str
    control: str
    tipping_grid: pd.DataFrame | None = None
    tipping_points: pd.DataFrame | None = None
    tipping_point: float | None = None
    tipping_contrast: str | None = None
    results: Mapping[str, ReferenceBasedResult] = field(default_factory=dict, repr=False)

    @property
    def primary(self) -> ReferenceBasedResult:
        """The result of the primary analysis."""
        return self.results[PRIMARY]


def estimand_analyses(trial: Trial, spec: EstimandSpec | str | Path) -> EstimandAnalyses:
    """Run the pre-specified estimand analyses: primary, sensitivity, tipping point.

    Parameters
    ----------
    trial : Trial
    spec : EstimandSpec, str or Path
        The settings (:func:`ketex.estimand_spec`), or the study folder (or its
        ``study.toml``) whose ``[estimands]`` table to read.  Required: a
        :class:`~ketex.Trial` does not know the folder it was read from.

    Returns
    -------
    EstimandAnalyses

    Raises
    ------
    ketex.study.protocol.ProtocolError
        When the spec names an arm or visit the trial's protocol lacks, or the study
        folder has no ``[estimands]`` table; every problem at once.

    Notes
    -----
    The data are :func:`ketex.primary_dataset`'s (the analysed records of the primary
    scale, the primary analysis's arm order), restricted to ``spec.visits`` (default:
    the primary analysis's visits).  Then:

    1. **ICEs**: :func:`ketex.intercurrent_events` with ``spec.strategies`` on those
       visits.
    2. **Primary**: :func:`ketex.reference_based_mi` with ``spec.formula`` (an
       unstructured covariance, REML), ``spec.references``, ``spec.method``,
       ``n_samples``, ``seed`` and ``analysis_covariates``, the primary analysis's
       reference arm as the control.
    3. **Sensitivity**: for each strategy in ``spec.sensitivity``, every non-MAR
       strategy of the ICE table replaced by it.  A non-MAR replacement reuses the
       primary analysis's fitted imputation models
       (:meth:`~ketex.ReferenceBasedResult.with_ice`, the same numbers as a new call);
       ``"MAR"`` is a new :func:`ketex.reference_based_mi` call, since the outcomes
       observed after the ICEs then enter the imputation model.
    4. **Tipping point**: :func:`ketex.tipping_point` of the primary analysis over
       ``spec.tipping_deltas`` added to the imputed values of ``spec.tipping_arm``.

    Runtime: the jackknife refits the imputation model once per participant (about a
    second on the 80-participant sample with three visits); the bootstrap and
    approximate Bayesian methods once per sample.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> spec = ketex.estimand_spec({"estimands": {
    ...     "references": {"SERIES": "SINGLE", "SINGLE": "SINGLE"},
    ...     "strategies": {"withdrew from the study": "JR", "other": "MAR"},
    ...     "visits": ["WEEK2", "WEEK4", "WEEK12"], "sensitivity": ["CR"],
    ...     "tipping_point": {"arm": "SERIES", "deltas": [0, 2, 4]}}},
    ...     protocol=trial.protocol)
    >>> result = estimand_analyses(trial, spec)
    >>> result.table[["analysis", "strategy", "visit", "estimate", "se", "p_value"]].round(3)
              analysis strategy   visit  estimate     se  p_value
    0          primary       JR   WEEK2   -14.475  1.782    0.000
    1          primary       JR   WEEK4    -7.923  1.910    0.000
    2          primary       JR  WEEK12    -1.429  1.580    0.366
    3  sensitivity: CR       CR   WEEK2   -14.475  1.782    0.000
    4  sensitivity: CR       CR   WEEK4    -8.229  1.910    0.000
    5  sensitivity: CR       CR  WEEK12    -1.619  1.582    0.306
    >>> result.primary_visit, result.tipping_point  # not significant at delta 0: no tip
    ('WEEK12', None)
    """
    from ketex.primary import primary_dataset

    protocol = trial.protocol
    spec, source = _spec(trial, spec)
    plan = protocol.analysis.primary.resolve(protocol)
    visits = _check(spec, protocol, plan, source)
    data = primary_dataset(trial, plan)
    data = data[data["AVISIT"].astype(object).isin(visits).to_numpy(bool)].copy()
    data["AVISIT"] = pd.Categorical(data["AVISIT"].astype(object), categories=list(visits),
                                    ordered=True)  # fmt: skip
    data["USUBJID"] = data["USUBJID"].to_numpy(dtype=object)
    data = data.reset_index(drop=True)
    ice = intercurrent_events(trial, dict(spec.strategies), scale=plan.scale, visits=visits)
    arguments: dict[str, Any] = dict(
        subject="USUBJID", visit="AVISIT", group="ARM", references=dict(spec.references),
        method=spec.method, analysis_covariates=list(spec.analysis_covariates),
        control=plan.reference_arm, n_samples=spec.n_samples, seed=spec.seed,
    )  # fmt: skip
    primary = reference_based_mi(data, spec.formula, ice=ice, **arguments)
    results = {PRIMARY: primary}
    for strategy in spec.sensitivity:
        replaced = ice.assign(strategy=ice["strategy"].where(ice["strategy"] == "MAR", strategy))
        if strategy == "MAR":
            results[f"sensitivity: {strategy}"] = reference_based_mi(
                data, spec.formula, ice=replaced, **arguments
            )
        else:
            results[f"sensitivity: {strategy}"] = primary.with_ice(replaced)
    table = pd.concat(
        [result.data.assign(analysis=label) for label, result in results.items()],
        ignore_index=True,
    )[list(ANALYSES_COLUMNS)]
    primary_visit = plan.primary_visit if plan.primary_visit in visits else visits[-1]
    found: dict[str, Any] = dict(
        table=table, ice=ice, spec=spec, visits=visits, primary_visit=primary_visit,
        control=plan.reference_arm, results=MappingProxyType(results),
    )  # fmt: skip
    if spec.tipping_arm is None:
        return EstimandAnalyses(**found)
    tipping = tipping_point(primary, spec.tipping_deltas, arm=spec.tipping_arm, alpha=spec.alpha)
    contrasts = list(dict.fromkeys(primary.data["contrast"]))
    own = f"{spec.tipping_arm} - {plan.reference_arm}"
    contrast = own if own in contrasts else contrasts[0]
    row = tipping.tipping_points[(tipping.tipping_points["visit"] == primary_visit)
                                 & (tipping.tipping_points["contrast"] == contrast)]  # fmt: skip
    value = float(row["tipping_delta_interpolated"].iloc[0])
    return EstimandAnalyses(
        **found,
        tipping_grid=tipping.data,
        tipping_points=tipping.tipping_points,
        tipping_point=None if math.isnan(value) else value,
        tipping_contrast=contrast,
    )


def _spec(trial: Trial, spec) -> tuple[EstimandSpec, str]:
    if isinstance(spec, EstimandSpec):
        return spec, "the estimand spec"
    if isinstance(spec, str | Path):
        found = read_estimand_spec(spec, protocol=trial.protocol)
        if found is None:
            raise ProtocolError(
                f"{spec}: no [estimands] table; add one (docs/estimands.md, 'Running the "
                "pre-specified analyses') or pass an EstimandSpec."
            )
        return found, str(spec)
    raise TypeError(
        "spec must be an EstimandSpec (ketex.estimand_spec) or the study folder whose "
        f"study.toml has an [estimands] table, got {type(spec).__name__}."
    )


def _check(spec: EstimandSpec, protocol, plan, source: str) -> tuple[str, ...]:
    """The analysis visits; every mismatch of the spec with the protocol at once."""
    arms = protocol.arm_codes
    problems = []

    def add(key: str, what: str) -> None:
        problems.append(f"{source}: estimands.{key}: {what}")

    for arm, reference in spec.references.items():
        if arm not in arms:
            add(f"references.{arm}", f"{arm!r} is not an arm of the trial (arms: "
                f"{', '.join(arms)}); name the trial's arms")  # fmt: skip
        if reference not in arms:
            add(f"references.{arm}", f"reference {reference!r} is not an arm of the trial "
                f"(arms: {', '.join(arms)})")  # fmt: skip
    for arm in arms:
        if arm not in spec.references:
            add("references", f"names no reference for arm {arm!r}")
    if spec.tipping_arm is not None and spec.tipping_arm not in arms:
        add("tipping_point.arm", f"{spec.tipping_arm!r} is not an arm of the trial (arms: "
            f"{', '.join(arms)})")  # fmt: skip
    visits = tuple(spec.visits) or tuple(plan.visits)
    for name in spec.visits:
        if name not in plan.visits:
            add("visits", f"{name!r} is not a visit of the primary analysis (every arm "
                f"assessed there on {plan.scale}: {', '.join(plan.visits)})")  # fmt: skip
    if len(problems) == 1:
        raise ProtocolError(problems[0], tuple(problems))
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise ProtocolError(f"{source}: {len(problems)} problems in the estimand spec for "
                            f"trial {protocol.study_id}; fix each of them:\n{lines}",
                            tuple(problems))  # fmt: skip
    order = list(plan.visits)
    return tuple(sorted(visits, key=order.index))
