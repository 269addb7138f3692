"""The analyses a power analysis repeats on every simulated trial.

An analysis is any callable taking a :class:`~ketex.study.trial.Trial` and returning a
mapping with ``estimate``, ``se`` and ``p_value`` (optionally ``ci_low`` and ``ci_high``).
Two are built in:

- :class:`MMRMAnalysis`: the primary analysis of a depression trial, the MMRM on change
  from baseline in MADRS (unstructured covariance, REML, Satterthwaite df) and the
  treatment - control LS-means difference at the primary visit.
- :class:`RelapseAnalysis`: time to relapse among responders (SUSTAIN-1 rule by default),
  log-rank test, with the Cox log hazard ratio as the estimate.

Besides ``__call__``, an analysis may have ``prepare(design)`` (return a copy with
defaults taken from the design), ``simulate_and_analyse(design, seed)`` (a faster path
giving the same numbers as ``analysis(simulate_trial(design, seed))``),
``true_value(design, seed)`` (the value the estimate targets, for bias and coverage) and
``null_value`` (that value when arms do not differ). :func:`ketex.power` uses them when
present.
"""

from __future__ import annotations

import dataclasses
import io
import keyword
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ketex.derive.analysis import analysis_dataset
from ketex.derive.endpoints import RelapseRule, endpoint_preset
from ketex.derive.time_to_event import time_to_event
from ketex.models import MMRMControl, mmrm
from ketex.simulate.design import TrialDesign
from ketex.simulate.fast import simulate_changes, true_difference
from ketex.study.trial import Trial

__all__ = [
    "ANALYSIS_KEYS",
    "MMRMAnalysis",
    "RelapseAnalysis",
    "cox_log_hazard_ratio",
    "logrank_test",
]

#: The primary MMRM of the field (``docs/mmrm.md``).
DEFAULT_FORMULA = "CHG ~ BASE + ARM * AVISIT"

#: What an analysis returns (``ci_low`` and ``ci_high`` may be left out).
ANALYSIS_KEYS = ("estimate", "se", "p_value", "ci_low", "ci_high")


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
    """MMRM on change from baseline; the treatment - control difference at one visit.

    The analysis of ``docs/mmrm.md``: ``CHG ~ BASE + ARM * AVISIT`` with an unstructured
    covariance over visits, REML and Satterthwaite degrees of freedom; the estimate is
    the LS-means difference (treatment - control) at the primary visit, so a negative
    estimate means lower MADRS (benefit) on treatment.

    Parameters
    ----------
    treatment, control : str, optional
        Arm codes; by default the second and the first arm of a two-arm design.
    visits : tuple of str, optional
        Visits in the model. By default, after :meth:`prepare`, the design's scheduled
        MADRS visits after baseline through the primary visit (not the 24-hour visits
        after infusions); on a trial analysed without :meth:`prepare`, every MADRS visit
        after baseline through the primary visit that all arms attend.
    primary_visit : str, optional
        By default the design's (``EndpointDesign.primary_visit``).
    formula : str
        Model formula over the analysis dataset's columns (``CHG``, ``BASE``, ``ARM``,
        ``AVISIT`` and, on the slower path through :func:`ketex.analysis_dataset`, the
        covariates such as ``SITEID``).
    covariance, df : str
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
    >>> analysis.treatment, analysis.control, analysis.visits[-1]
    ('SERIES', 'SINGLE', 'WEEK12')
    >>> result = analysis(simulate_trial(design, seed=4))
    >>> {k: round(v, 3) for k, v in result.items()}
    {'estimate': 0.396, 'se': 1.666, 'p_value': 0.813, 'ci_low': -2.991, 'ci_high': 3.784,
     'df': 33.413}
    >>> analysis.simulate_and_analyse(design, seed=4) == result
    True
    """

    treatment: str | None = None
    control: str | None = None
    visits: tuple[str, ...] | None = None
    primary_visit: str | None = None
    formula: str = DEFAULT_FORMULA
    covariance: str = "us"
    df: str = "satterthwaite"
    confidence_level: float = 0.95
    fast: bool = True

    #: the estimate when arms do not differ; outputs kept besides the standard ones
    null_value = 0.0
    extra_keys = ("df",)

    def __post_init__(self) -> None:
        if self.visits is not None:
            object.__setattr__(self, "visits", tuple(self.visits))
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"MMRMAnalysis.confidence_level must lie in (0, 1), got "
                             f"{self.confidence_level!r}")
        if self.fast and not set(_formula_names(self.formula)) <= {"CHG", "BASE", "ARM",
                                                                   "AVISIT", "AVAL"}:
            raise ValueError(
                f"MMRMAnalysis: the formula {self.formula!r} uses columns the fast path does "
                "not simulate (it has CHG, BASE, ARM, AVISIT, AVAL); give fast=False")

    def prepare(self, design: TrialDesign) -> MMRMAnalysis:
        """A copy with the arms, visits and primary visit taken from ``design``."""
        treatment, control = _arms(design.arm_codes, self.treatment, self.control,
                                   "MMRMAnalysis")
        primary = self.primary_visit or design.endpoints.primary_visit
        visits = self.visits
        if visits is None:
            names = [v.name for v in design.measurement.visits]
            if primary not in names:
                raise ValueError(f"MMRMAnalysis: the primary visit {primary!r} is not a "
                                 "scheduled visit; give visits=...")
            visits = tuple(
                v.name for v in design.measurement.visits[1:names.index(primary) + 1]
                if not v.arms and (not v.instruments or "MADRS" in v.instruments)
            )
        if primary not in visits:
            raise ValueError(f"MMRMAnalysis: the primary visit {primary!r} is not among "
                             f"the visits {visits}")
        return dataclasses.replace(self, treatment=treatment, control=control,
                                   visits=tuple(visits), primary_visit=primary)

    def __call__(self, trial: Trial) -> dict[str, float]:
        """Analyse a trial: analysis dataset, MMRM, difference at the primary visit."""
        analysis = self._ready(trial.protocol)
        data = analysis_dataset(trial)
        data = data[(data["ANL01FL"] == "Y").fillna(False).to_numpy(bool)
                    & data["AVISIT"].isin(analysis.visits).to_numpy(bool)]
        return analysis._fit(data)

    def simulate_and_analyse(self, design: TrialDesign, seed: int) -> dict[str, float]:
        """Simulate with ``seed`` and analyse; equal to ``self(simulate_trial(design, seed))``."""
        analysis = self if self._prepared else self.prepare(design)
        if not analysis.fast:
            from ketex.simulate.trial import simulate_trial

            return analysis(simulate_trial(design, seed))
        return analysis._fit(simulate_changes(design, seed, analysis.visits))

    def true_value(self, design: TrialDesign, seed: int = 0) -> tuple[float, float]:
        """The true difference at the primary visit and its Monte Carlo SE
        (:func:`ketex.simulate.fast.true_difference`)."""
        analysis = self.prepare(design)
        truth = true_difference(design, analysis.treatment, analysis.control,
                                analysis.primary_visit, seed=seed)
        return truth.estimate, truth.mcse

    @property
    def _prepared(self) -> bool:
        return None not in (self.visits, self.treatment, self.control, self.primary_visit)

    def _ready(self, protocol) -> MMRMAnalysis:
        if self._prepared:
            return self
        arms = [arm.code for arm in protocol.arms]
        treatment, control = _arms(arms, self.treatment, self.control, "MMRMAnalysis")
        primary = self.primary_visit or protocol.endpoints.primary_visit
        visits = self.visits
        if visits is None:
            names = list(protocol.visit_names)
            visits = tuple(v.name for v in protocol.visits[1:names.index(primary) + 1]
                           if not v.arms and (not v.instruments or "MADRS" in v.instruments))
        return dataclasses.replace(self, treatment=treatment, control=control,
                                   visits=tuple(visits), primary_visit=primary)

    def _fit(self, data: pd.DataFrame) -> dict[str, float]:
        visits = list(self.visits)
        data = data.assign(
            # plain Python strings: factorising Arrow-backed strings costs more than the
            # simulation of the trial
            USUBJID=data["USUBJID"].to_numpy(dtype=object),
            ARM=pd.Categorical(data["ARM"].astype(object), categories=[self.control,
                                                                      self.treatment]),
            AVISIT=pd.Categorical(data["AVISIT"].astype(object), categories=visits,
                                  ordered=True),
        )
        fit = mmrm(data, self.formula, subject="USUBJID", visit="AVISIT",
                   covariance=self.covariance, df=self.df,
                   control=MMRMControl(confidence_level=self.confidence_level))
        row = self._difference(fit)
        return {key: float(row[key]) for key in (*ANALYSIS_KEYS, "df")}

    def _difference(self, fit) -> pd.Series:
        """The LS-means difference at the primary visit (one t test, not a whole table)."""
        terms = fit.coef["term"].tolist()
        arm = f"ARM[T.{self.treatment}]"
        interaction = f"{arm}:AVISIT[T.{self.primary_visit}]"
        if " ".join(self.formula.split()) == DEFAULT_FORMULA and arm in terms and (
                interaction in terms or self.primary_visit == self.visits[0]):
            # CHG ~ BASE + ARM * AVISIT: the difference at visit v is b_arm + b_arm:v,
            # what fit.contrast("ARM", by="AVISIT") gives (a test checks it)
            weights = np.zeros(len(terms))
            weights[terms.index(arm)] = 1.0
            if interaction in terms:
                weights[terms.index(interaction)] = 1.0
            return fit.test(weights).iloc[0]
        table = fit.contrast("ARM", by="AVISIT", method="trt_vs_ctrl", reference=self.control)
        row = table[table["AVISIT"].astype(str) == self.primary_visit]
        if len(row) != 1:
            raise ValueError(f"no difference estimated at {self.primary_visit}: no outcome "
                             "observed there")
        return row.iloc[0]


def _formula_names(formula: str) -> list[str]:
    """Names in a formula that are not function calls (C, Treatment, np.log, ...)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    names = []
    for k, token in enumerate(tokens):
        following = tokens[k + 1].string if k + 1 < len(tokens) else ""
        previous = tokens[k - 1].string if k > 0 else ""
        if (token.type == tokenize.NAME and following not in ("(", ".")
                and previous != "." and not keyword.iskeyword(token.string)):
            names.append(token.string)
    return names


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
    """

    endpoint: str | RelapseRule = "SUSTAIN-1"
    test: str = "logrank"
    treatment: str | None = None
    control: str | None = None
    confidence_level: float = 0.95

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
        """A copy with the arms taken from ``design``."""
        treatment, control = _arms(design.arm_codes, self.treatment, self.control,
                                   "RelapseAnalysis")
        return dataclasses.replace(self, treatment=treatment, control=control)

    def __call__(self, trial: Trial) -> dict[str, float]:
        """Analyse a trial: time to relapse, log-rank test, Cox model."""
        treatment, control = _arms([a.code for a in trial.protocol.arms], self.treatment,
                                   self.control, "RelapseAnalysis")
        rule = endpoint_preset(self.endpoint) if isinstance(self.endpoint, str) else self.endpoint
        table = time_to_event(trial, rule).table
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
