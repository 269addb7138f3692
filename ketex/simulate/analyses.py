"""The analyses a power analysis repeats on every simulated trial.

An analysis is any callable taking a :class:`~ketex.study.trial.Trial` and returning a
mapping with ``estimate``, ``se`` and ``p_value`` (optionally ``ci_low`` and ``ci_high``).
Two are built in:

- :class:`MMRMAnalysis`: the trial's primary analysis (``[analysis.primary]``, the code of
  :func:`ketex.primary_analysis`; by default the MMRM on change from baseline in MADRS,
  unstructured covariance, REML, Satterthwaite df) and the treatment - control LS-means
  difference at the primary visit.
- :class:`RelapseAnalysis`: time to relapse among responders (SUSTAIN-1 rule by default),
  log-rank test, with the Cox log hazard ratio as the estimate (both from
  :mod:`ketex.survival`, validated against R's ``survival``).

Besides ``__call__``, an analysis may have ``prepare(design)`` (return a copy with
defaults taken from the design), ``simulate_and_analyse(design, seed)`` (a faster path
giving the same numbers as ``analysis(simulate_trial(design, seed))``),
``true_value(design, seed)`` (the value the estimate targets, for bias and coverage) and
``null_value`` (that value when arms do not differ). :func:`ketex.power` uses them when
present.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd
from scipy import stats

from ketex.derive.endpoints import RelapseRule, endpoint_preset
from ketex.derive.time_to_event import time_to_event
from ketex.models import MMRMControl
from ketex.primary import fit_plan, primary_analysis
from ketex.simulate.design import TrialDesign
from ketex.simulate.fast import simulate_changes, true_difference
from ketex.simulate.fast_relapse import fast_relapse_problem, simulate_relapse
from ketex.study.plan import PrimaryAnalysis, formula_names
from ketex.study.protocol import Protocol
from ketex.study.trial import Trial

__all__ = [
    "ANALYSIS_KEYS",
    "MMRMAnalysis",
    "RelapseAnalysis",
    "cox_log_hazard_ratio",
    "logrank_test",
]

#: What an analysis returns (``ci_low`` and ``ci_high`` may be left out).
ANALYSIS_KEYS = ("estimate", "se", "p_value", "ci_low", "ci_high")


_T = TypeVar("_T")


def _setting(value: _T | None, name: str) -> _T:
    """A setting of an analysis that :meth:`MMRMAnalysis.prepare` has filled in."""
    if value is None:
        raise ValueError(f"MMRMAnalysis: {name} is not set; call prepare(design) first")
    return value


def _arms(arms: Sequence[str], treatment: str | None, control: str | None,
          where: str) -> tuple[str, str]:
    """Treatment and control arm codes: by default the second and the first arm."""
    arms = list(arms)
    if (treatment is None or control is None) and len(arms) != 2:
        raise ValueError(f"{where}: the design has {len(arms)} arms ({', '.join(arms)}); "
                         "name the two to compare with treatment=... and control=...")
    control = arms[0] if control is None else control
    treatment = arms[1] if treatment is None else treatment
    for name, code in (("treatment", treatment), ("control", control)):
        if code not in arms:
            raise ValueError(f"{where}: {name} {code!r} is not an arm ({', '.join(arms)})")
    if treatment == control:
        raise ValueError(f"{where}: treatment and control are both {treatment!r}")
    return treatment, control


@dataclass(frozen=True)
class MMRMAnalysis:
    """The protocol's primary analysis; the treatment - control difference at one visit.

    The plan of ``[analysis.primary]`` (:class:`ketex.PrimaryAnalysis`; by default
    ``CHG ~ BASE + ARM * AVISIT``, unstructured covariance, REML, Satterthwaite df, every
    visit after baseline that every arm has) fitted by the code
    :func:`ketex.primary_analysis` runs, so a trial gets the numbers its report prints;
    the estimate is the LS-means difference treatment - control at the primary visit (a
    negative estimate means a lower score, benefit, on treatment). Arguments left at None
    take the plan's value.

    Parameters
    ----------
    treatment, control : str, optional
        Arm codes; by default the plan's ``reference_arm`` (the first arm) is the control
        and, with two arms, the other arm the treatment.
    visits : tuple of str, optional
        Visits in the model (the plan's ``visits``).
    primary_visit : str, optional
        By default the plan's (``[endpoints] primary_visit``).
    formula : str, optional
        Model formula over the analysis dataset's columns (``CHG``, ``BASE``, ``ARM``,
        ``AVISIT`` and, on the slower path through :func:`ketex.analysis_dataset`, the
        covariates such as ``SITEID``).
    covariance : str or tuple of str, optional
    method, df : str, optional
        As in :func:`ketex.mmrm`.
    confidence_level : float
        Of the confidence interval of the difference (used for coverage).
    fast : bool
        Simulate straight to the change scores (:func:`ketex.simulate.fast.simulate_changes`)
        instead of building each trial; same numbers, several times faster. Only for the
        columns above.

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import TrialDesign, simulate_trial
    >>> design = dataclasses.replace(TrialDesign(), n_per_arm=20)
    >>> analysis = MMRMAnalysis().prepare(design)
    >>> analysis.treatment, analysis.control, analysis.visits[-1], analysis.primary_visit
    ('SERIES', 'SINGLE', 'WEEK24', 'WEEK12')
    >>> result = analysis(simulate_trial(design, seed=4))
    >>> {k: round(v, 3) for k, v in result.items()}
    {'estimate': 0.304, 'se': 1.684, 'p_value': 0.858, 'ci_low': -3.127, 'ci_high': 3.734,
     'df': 32.064}
    >>> analysis.simulate_and_analyse(design, seed=4) == result
    True
    """

    treatment: str | None = None
    control: str | None = None
    visits: tuple[str, ...] | None = None
    primary_visit: str | None = None
    formula: str | None = None
    covariance: str | tuple[str, ...] | None = None
    df: str | None = None
    confidence_level: float = 0.95
    fast: bool = True
    method: str | None = None

    #: the estimate when arms do not differ; outputs kept besides the standard ones
    null_value = 0.0
    extra_keys = ("df",)

    def __post_init__(self) -> None:
        if self.visits is not None:
            object.__setattr__(self, "visits", tuple(self.visits))
        if isinstance(self.covariance, list):
            object.__setattr__(self, "covariance", tuple(self.covariance))
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"MMRMAnalysis.confidence_level must lie in (0, 1), got "
                             f"{self.confidence_level!r}")
        if self.fast and self.formula is not None and not set(
                formula_names(self.formula)) <= {"CHG", "BASE", "ARM", "AVISIT", "AVAL"}:
            raise ValueError(
                f"MMRMAnalysis: the formula {self.formula!r} uses columns the fast path does "
                "not simulate (it has CHG, BASE, ARM, AVISIT, AVAL); give fast=False")

    def plan(self, protocol: Protocol) -> PrimaryAnalysis:
        """The protocol's ``[analysis.primary]`` with this analysis's arguments, resolved.

        Raises
        ------
        ketex.study.protocol.ProtocolError
            When an argument names a visit or arm the protocol lacks (a ValueError).
        """
        overrides: dict[str, Any] = {
            "visits": self.visits, "primary_visit": self.primary_visit,
            "formula": self.formula, "df": self.df, "method": self.method,
            "reference_arm": self.control,
            "covariance": ((self.covariance,) if isinstance(self.covariance, str)
                           else self.covariance),
        }
        plan = dataclasses.replace(protocol.analysis.primary,
                                   **{k: v for k, v in overrides.items() if v is not None})
        return plan.resolve(protocol, source="MMRMAnalysis")

    def prepare(self, design: TrialDesign) -> MMRMAnalysis:
        """A copy with every setting taken from the plan of ``design``'s protocol."""
        return self._ready(design.protocol())

    def __call__(self, trial: Trial) -> dict[str, float]:
        """Analyse a trial with :func:`ketex.primary_analysis`; the difference."""
        analysis = self._ready(trial.protocol)
        result = primary_analysis(trial, analysis.plan(trial.protocol),
                                  control=analysis._control())
        return analysis._row(result.contrast)

    def simulate_and_analyse(self, design: TrialDesign, seed: int) -> dict[str, float]:
        """Simulate with ``seed`` and analyse; equal to ``self(simulate_trial(design, seed))``."""
        analysis = self if self._prepared else self.prepare(design)
        if not analysis.fast:
            from ketex.simulate.trial import simulate_trial

            return analysis(simulate_trial(design, seed))
        return analysis._fit(simulate_changes(design, seed, analysis.visits), design.arm_codes)

    def true_value(self, design: TrialDesign, seed: int = 0) -> tuple[float, float]:
        """The true difference at the primary visit and its Monte Carlo SE
        (:func:`ketex.simulate.fast.true_difference`)."""
        analysis = self.prepare(design)
        truth = true_difference(design, _setting(analysis.treatment, "treatment"),
                                _setting(analysis.control, "control"),
                                _setting(analysis.primary_visit, "primary_visit"), seed=seed)
        return truth.estimate, truth.mcse

    @property
    def _prepared(self) -> bool:
        return None not in (self.visits, self.treatment, self.control, self.primary_visit,
                            self.formula, self.covariance, self.df, self.method)

    def _ready(self, protocol: Protocol) -> MMRMAnalysis:
        if self._prepared:
            return self
        plan = self.plan(protocol)
        reference = plan.reference_arm
        if reference is None:  # resolve gives the first arm: a protocol without arms
            raise ValueError("MMRMAnalysis: the protocol has no arms")
        arms = [reference, *(a for a in protocol.arm_codes if a != reference)]
        treatment, control = _arms(arms, self.treatment, reference, "MMRMAnalysis")
        if self.treatment is None and len(arms) != 2:
            raise ValueError(f"MMRMAnalysis: the design has {len(arms)} arms "
                             f"({', '.join(arms)}); name the one to compare with "
                             "treatment=...")
        analysis = dataclasses.replace(
            self, treatment=treatment, control=control, visits=plan.visits,
            primary_visit=plan.primary_visit, formula=plan.formula,
            covariance=plan.covariance, df=plan.df, method=plan.method)
        analysis.__post_init__()
        return analysis

    def _control(self) -> MMRMControl:
        return MMRMControl(conf_level=self.confidence_level)

    def _fit(self, data: pd.DataFrame, arms: Sequence[str] | None = None) -> dict[str, float]:
        """The difference from change scores (the fast path), by :func:`ketex.primary.fit_plan`."""
        formula = _setting(self.formula, "formula")
        covariance = self.covariance
        if covariance is None:
            raise ValueError("MMRMAnalysis: covariance is not set; call prepare(design) first")
        structures: tuple[str, ...] = (
            (covariance,) if isinstance(covariance, str) else covariance)  # as PrimaryAnalysis
        plan = PrimaryAnalysis(
            scale="MADRS", outcome=formula_outcome(formula), formula=formula,
            covariance=structures,
            method=_setting(self.method, "method"), df=_setting(self.df, "df"),
            visits=_setting(self.visits, "visits"), primary_visit=self.primary_visit,
            reference_arm=self.control)
        if arms is None:
            arms = list(dict.fromkeys(data["ARM"].astype(object)))
        _, contrast = fit_plan(data, plan, arms, control=self._control(),
                               source="the simulated change scores")
        return self._row(contrast)

    def _row(self, contrast: pd.DataFrame) -> dict[str, float]:
        row = contrast[contrast["arm"] == self.treatment].iloc[0]
        return {key: float(row[key]) for key in (*ANALYSIS_KEYS, "df")}


def formula_outcome(formula: str) -> str:
    """The left side of a formula (``"CHG"`` of ``"CHG ~ BASE + ARM * AVISIT"``)."""
    return formula.split("~")[0].strip()


@dataclass(frozen=True)
class RelapseAnalysis:
    """Time to relapse among responders: log-rank test, Cox log hazard ratio.

    Parameters
    ----------
    endpoint : str or RelapseRule
        A relapse rule or the name of a preset (:func:`ketex.endpoint_preset`);
        ``"SUSTAIN-1"``: MADRS >= 22 at two consecutive assessments 5-15 days apart, or
        hospitalisation, among participants who responded.
    test : {"logrank", "cox"}
        Where the p-value comes from: the log-rank test, or the Wald test of the Cox
        model.
    treatment, control : str, optional
        Arm codes; by default the second and the first arm.
    confidence_level : float
        Of the Wald interval of the log hazard ratio.
    fast : bool
        Simulate straight to the time-to-relapse table
        (:func:`ketex.simulate.fast_relapse.simulate_relapse`) instead of building each
        trial and evaluating the rule participant by participant; same numbers, about a
        fourteenth of the CPU time (``docs/benchmarks.md``). It covers relapse on MADRS
        after an ``Achieved`` entry (the presets); for other rules
        (:func:`~ketex.simulate.fast_relapse.fast_relapse_problem` says why)
        :meth:`prepare` warns and takes the full path.

    Notes
    -----
    The estimate is the log hazard ratio of relapse, treatment vs control, from a Cox
    model with Efron ties (negative: fewer relapses on treatment), from
    :func:`ketex.survival.cox`; the log-rank p-value from :func:`ketex.survival.logrank_test`.

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import TrialDesign, simulate_trial
    >>> trial = simulate_trial(dataclasses.replace(TrialDesign(), n_per_arm=20), seed=2)
    >>> result = RelapseAnalysis()(trial)
    >>> sorted(result)
    ['ci_high', 'ci_low', 'estimate', 'events', 'p_value', 'participants', 'se']
    >>> design = dataclasses.replace(TrialDesign(), n_per_arm=20)
    >>> RelapseAnalysis().simulate_and_analyse(design, seed=2) == result
    True
    """

    endpoint: str | RelapseRule = "SUSTAIN-1"
    test: str = "logrank"
    treatment: str | None = None
    control: str | None = None
    confidence_level: float = 0.95
    fast: bool = True

    null_value = 0.0
    extra_keys = ("events", "participants")

    def __post_init__(self) -> None:
        if self.test not in ("logrank", "cox"):
            raise ValueError(f"RelapseAnalysis.test must be 'logrank' or 'cox', got "
                             f"{self.test!r}")
        rule = endpoint_preset(self.endpoint) if isinstance(self.endpoint, str) else self.endpoint
        if not isinstance(rule, RelapseRule):
            raise ValueError(f"RelapseAnalysis.endpoint must be a relapse rule or its preset "
                             f"name, got {self.endpoint!r}")
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"RelapseAnalysis.confidence_level must lie in (0, 1), got "
                             f"{self.confidence_level!r}")

    def prepare(self, design: TrialDesign) -> RelapseAnalysis:
        """A copy with the arms taken from ``design``, and ``fast=False`` when the fast
        path cannot simulate the rule on ``design`` (with a warning saying why)."""
        treatment, control = _arms(design.arm_codes, self.treatment, self.control,
                                   "RelapseAnalysis")
        fast = self.fast
        if fast:
            problem = self.fast_path_problem(design)
            if problem is not None:
                warnings.warn(f"RelapseAnalysis: no fast path, {problem}; every simulated "
                              "trial is built and analysed in full (same numbers, more "
                              "than ten times slower); fast=False says so without this warning",
                              UserWarning, stacklevel=2)
                fast = False
        return dataclasses.replace(self, treatment=treatment, control=control, fast=fast)

    def fast_path_problem(self, design: TrialDesign) -> str | None:
        """Why the fast path cannot simulate this analysis's rule on ``design`` (None:
        it can); :func:`ketex.simulate.fast_relapse.fast_relapse_problem`."""
        return fast_relapse_problem(design, self.rule)

    @property
    def rule(self) -> RelapseRule:
        """The relapse rule (the preset of ``endpoint`` when it is a name)."""
        if isinstance(self.endpoint, str):  # __post_init__ checked it is a relapse preset
            return cast(RelapseRule, endpoint_preset(self.endpoint))
        return self.endpoint

    def __call__(self, trial: Trial) -> dict[str, float]:
        """Analyse a trial: time to relapse, log-rank test, Cox model."""
        treatment, control = _arms([a.code for a in trial.protocol.arms], self.treatment,
                                   self.control, "RelapseAnalysis")
        table = time_to_event(trial, self.rule).table
        return self._compare_arms(table, treatment, control)

    def simulate_and_analyse(self, design: TrialDesign, seed: int) -> dict[str, float]:
        """Simulate with ``seed`` and analyse; equal to ``self(simulate_trial(design, seed))``.

        On the fast path (``fast=True`` and a rule it covers) the trial is simulated
        straight to its time-to-relapse table
        (:func:`~ketex.simulate.fast_relapse.simulate_relapse`), else through
        :func:`~ketex.simulate.simulate_trial`.
        """
        treatment, control = _arms(design.arm_codes, self.treatment, self.control,
                                   "RelapseAnalysis")
        if not self.fast or self.fast_path_problem(design) is not None:
            from ketex.simulate.trial import simulate_trial

            return self(simulate_trial(design, seed))
        return self._compare_arms(simulate_relapse(design, seed, self.rule), treatment,
                                  control)

    def _compare_arms(self, table: pd.DataFrame, treatment: str,
                      control: str) -> dict[str, float]:
        table = table[table["ARM"].isin([treatment, control]).to_numpy(bool)]
        return self.compare(table["AVAL"].to_numpy(float), table["event"].to_numpy(bool),
                            (table["ARM"] == treatment).to_numpy(bool))

    def compare(self, time: np.ndarray, event: np.ndarray,
                group: np.ndarray) -> dict[str, float]:
        """Test and estimate from times, events and group (True: treatment).

        When one arm has no relapse the hazard ratio is 0 or infinite: the estimate,
        its SE and CI are NaN, and the log-rank test still gives its p-value (the Cox
        Wald test, ``test="cox"``, has none: ValueError).

        Examples
        --------
        >>> import numpy as np
        >>> time = np.array([5.0, 8, 12, 20, 3, 4, 6, 9])
        >>> group = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
        >>> result = RelapseAnalysis().compare(time, ~group, group)  # no relapse on treatment
        >>> round(result["p_value"], 4), result["estimate"]    # R survdiff: p = 0.01685
        (0.0169, nan)
        """
        event = np.asarray(event, bool)
        group = np.asarray(group, bool)
        if not event.any():
            raise ValueError("no relapse in either arm: nothing to compare")
        counts = {"events": float(event.sum()), "participants": float(len(event))}
        if not (event[group].any() and event[~group].any()):
            if self.test == "cox":
                raise ValueError("a relapse in one arm only: the Cox Wald test is undefined")
            nan = float("nan")
            return {"estimate": nan, "se": nan, "p_value": logrank_test(time, event, group),
                    "ci_low": nan, "ci_high": nan, **counts}
        log_hr, se = cox_log_hazard_ratio(time, event, group)
        z = stats.norm.ppf(0.5 + self.confidence_level / 2)
        if self.test == "logrank":
            p_value = logrank_test(time, event, group)
        else:
            p_value = float(2 * stats.norm.sf(abs(log_hr / se)))
        return {"estimate": log_hr, "se": se, "p_value": p_value,
                "ci_low": log_hr - z * se, "ci_high": log_hr + z * se, **counts}


def logrank_test(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> float:
    """Two-sided p-value of the log-rank test of two groups.

    :func:`ketex.survival.logrank_test` on plain arrays.

    Examples
    --------
    >>> import numpy as np
    >>> time = np.array([5.0, 8, 12, 20, 3, 4, 6, 9])
    >>> event = np.array([1, 1, 0, 1, 1, 1, 1, 1], bool)
    >>> group = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    >>> round(logrank_test(time, event, group), 4)   # R: survdiff(Surv(time, event) ~ group)
    0.1334
    """
    from ketex.survival import logrank_test as _logrank

    frame = _survival_frame(time, event, group)
    return float(_logrank(frame, time="time", event="event", group="group").p_value)


def cox_log_hazard_ratio(time: np.ndarray, event: np.ndarray,
                         group: np.ndarray) -> tuple[float, float]:
    """Log hazard ratio of ``group`` (True vs False) and its SE, Cox model, Efron ties.

    :func:`ketex.survival.cox` on plain arrays.

    Raises
    ------
    ValueError
        When a group is empty or has no event (the hazard ratio is then 0 or infinite).

    Examples
    --------
    >>> import numpy as np
    >>> time = np.array([5.0, 8, 12, 20, 3, 4, 6, 9])
    >>> event = np.array([1, 1, 0, 1, 1, 1, 1, 1], bool)
    >>> group = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    >>> [round(v, 3) for v in cox_log_hazard_ratio(time, event, group)]  # R: coxph, Efron
    [-1.243, 0.878]
    """
    from ketex.survival import cox

    group = np.asarray(group, bool)
    event = np.asarray(event, bool)
    for label, rows in (("treatment", group), ("control", ~group)):
        if not event[rows].any():
            raise ValueError(f"no relapse in the {label} arm: the hazard ratio is not finite")
    fit = cox(_survival_frame(time, event, group), ["group"], time="time", event="event",
              ties="efron", concordance=False)
    row = fit.coef.iloc[0]
    return float(row["estimate"]), float(row["se"])


def _survival_frame(time, event, group) -> pd.DataFrame:
    return pd.DataFrame({"time": np.asarray(time, float),
                         "event": np.asarray(event, bool).astype(int),
                         "group": np.asarray(group, bool).astype(int)})


def as_result(result: Any) -> dict[str, float]:
    """The analysis output as a dict of floats; ValueError naming what is missing."""
    if not isinstance(result, Mapping):
        raise TypeError(f"an analysis must return a mapping with {', '.join(ANALYSIS_KEYS[:3])}"
                        f", got {type(result).__name__}")
    missing = [k for k in ANALYSIS_KEYS[:3] if k not in result]
    if missing:
        raise TypeError(f"the analysis result lacks {', '.join(missing)}; it must have "
                        f"{', '.join(ANALYSIS_KEYS[:3])} (and may have ci_low, ci_high)")
    return {k: float(v) for k, v in result.items()}
