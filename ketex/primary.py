"""The primary analysis of a trial, as its protocol pre-specifies it (``[analysis.primary]``).

One code path: :func:`primary_analysis` (the public call; ``ketex report`` and the
notebooks use it) and the power analysis's :class:`~ketex.simulate.MMRMAnalysis` (on a
simulated trial, or on the change scores of its fast path) all fit the model with
:func:`fit_plan`, so the same plan on the same data gives the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.study.plan import PrimaryAnalysis
from ketex.study.trial import Trial

__all__ = ["CONTRAST_COLUMNS", "PrimaryResult", "fit_plan", "model_in_words", "plan_in_words",
           "primary_analysis", "primary_dataset"]

#: Columns of :attr:`PrimaryResult.contrast`.
CONTRAST_COLUMNS = ("arm", "reference_arm", "visit", "contrast", "estimate", "se", "df",
                    "statistic", "p_value", "ci_low", "ci_high")


@dataclass(frozen=True)
class PrimaryResult:
    """The primary analysis: the plan it ran, the fitted MMRM and the primary contrast.

    Attributes
    ----------
    plan : PrimaryAnalysis
        The plan with every default filled in from the protocol.
    fit : ketex.MMRMResult
        The fitted model (``ARM`` with ``reference_arm`` first, ``AVISIT`` in plan order).
    contrast : pandas.DataFrame
        One row per arm other than the reference: arm - ``reference_arm`` at
        ``primary_visit`` (:data:`CONTRAST_COLUMNS`).
    data : pandas.DataFrame
        The rows analysed (:func:`primary_dataset`).
    """

    plan: PrimaryAnalysis
    fit: object
    contrast: pd.DataFrame
    data: pd.DataFrame

    @property
    def estimate(self) -> float:
        """The one arm - reference difference at the primary visit (two-arm trials)."""
        if len(self.contrast) != 1:
            raise ValueError(f"{len(self.contrast)} contrasts (arms "
                             f"{', '.join(self.contrast['arm'])}); read .contrast")
        return float(self.contrast["estimate"].iloc[0])


def primary_dataset(trial: Trial, plan: PrimaryAnalysis | None = None) -> pd.DataFrame:
    """The rows the primary MMRM analyses.

    Parameters
    ----------
    trial : Trial
    plan : PrimaryAnalysis, optional
        Default: the protocol's (``[analysis.primary]``).

    Returns
    -------
    pandas.DataFrame
        The analysed records (``ANL01FL == "Y"``, phantom rows included, so missing visits
        stay visible) of the plan's visits, from :func:`ketex.analysis_dataset` of the
        plan's scale with the options of ``[analysis.derivation]``, with ``ARM`` a
        Categorical with the reference arm first and ``AVISIT`` an ordered Categorical of
        the plan's visits.

    Examples
    --------
    >>> import ketex
    >>> ds = primary_dataset(ketex.load_trial(ketex.sample_study_path()))
    >>> list(ds["AVISIT"].cat.categories)[:3], list(ds["ARM"].cat.categories)
    (['INF1_24H', 'WEEK2', 'WEEK3'], ['SINGLE', 'SERIES'])
    """
    from ketex.derive.analysis import analysis_dataset
    from ketex.study.derivation_plan import derivation_options

    plan = _resolved(trial, plan)
    ds = analysis_dataset(trial, plan.scale, **derivation_options(trial.protocol))
    keep = ((ds["ANL01FL"] == "Y").to_numpy(bool)
            & ds["AVISIT"].astype(object).isin(plan.visits).to_numpy(bool))
    ds = ds[keep].copy()
    ds["AVISIT"] = pd.Categorical(ds["AVISIT"].astype(object), categories=list(plan.visits),
                                  ordered=True)
    ds["ARM"] = pd.Categorical(ds["ARM"].astype(object),
                               categories=_arm_order(trial.protocol.arm_codes, plan))
    return ds.reset_index(drop=True)


def primary_analysis(trial: Trial, plan: PrimaryAnalysis | None = None, *,
                     control=None) -> PrimaryResult:
    """Run the trial's pre-specified primary analysis (``[analysis.primary]``).

    Parameters
    ----------
    trial : Trial
    plan : PrimaryAnalysis, optional
        Another plan; default: the protocol's. Keys left at None take the protocol's
        defaults (:meth:`PrimaryAnalysis.resolve`).
    control : ketex.MMRMControl, optional
        Optimiser settings and the confidence level of the intervals.

    Returns
    -------
    PrimaryResult
        The filled-in plan, the MMRM fit, the contrast arm - reference arm at the primary
        visit, and the rows analysed.

    Raises
    ------
    ketex.study.protocol.ProtocolError
        When the plan names a visit, scale or arm the protocol lacks.
    ketex.errors.DataValidationError
        When a formula column is not in the analysis dataset, or no row is left to fit.

    Examples
    --------
    >>> import ketex
    >>> result = ketex.primary_analysis(ketex.load_trial(ketex.sample_study_path()))
    >>> result.plan.formula, result.plan.primary_visit, result.fit.converged
    ('CHG ~ BASE + ARM * AVISIT', 'WEEK12', True)
    >>> result.contrast[["contrast", "visit", "estimate", "se"]].round(3)
              contrast   visit  estimate     se
    0  SERIES - SINGLE  WEEK12    -1.276  1.595
    """
    from ketex.derive._cache import cached

    plan = _resolved(trial, plan)
    return cached(trial, "primary_analysis", (plan, control),
                  lambda: _primary_analysis(trial, plan, control), _copy_result)


def _copy_result(result: PrimaryResult) -> PrimaryResult:
    """The same fit (read-only), copies of the tables."""
    return dataclasses.replace(result, contrast=result.contrast.copy(),
                               data=result.data.copy())


def _primary_analysis(trial: Trial, plan: PrimaryAnalysis, control) -> PrimaryResult:
    """:func:`primary_analysis` of a resolved plan, computed."""
    data = primary_dataset(trial, plan)
    fit, contrast = fit_plan(data, plan, trial.protocol.arm_codes, control=control,
                             source=f"the analysis dataset of {trial.protocol.study_id}")
    return PrimaryResult(plan, fit, contrast, data)


def fit_plan(data: pd.DataFrame, plan: PrimaryAnalysis, arms: Sequence[str], *,
             control=None, source: str = "the data") -> tuple[object, pd.DataFrame]:
    """Fit a resolved plan's MMRM to ``data`` and estimate its primary contrast.

    Parameters
    ----------
    data : pandas.DataFrame
        ``USUBJID``, ``ARM``, ``AVISIT``, the outcome and the formula's columns.
    plan : PrimaryAnalysis
        Every key filled in (:meth:`PrimaryAnalysis.resolve`).
    arms : sequence of str
        Every arm code, in protocol order.
    control : ketex.MMRMControl, optional
    source : str
        What ``data`` is, for error messages.

    Returns
    -------
    (ketex.MMRMResult, pandas.DataFrame)
        The fit and :attr:`PrimaryResult.contrast`.
    """
    from ketex.models import mmrm
    from ketex.study.plan import formula_names

    missing = [c for c in dict.fromkeys(["USUBJID", *formula_names(_formula(plan))])
               if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"study.toml: analysis.primary.formula: column(s) {', '.join(missing)} of "
            f"{plan.formula!r} are not in {source}; use its columns "
            f"({', '.join(map(str, data.columns))})")
    data = data.assign(
        # plain Python strings: factorising Arrow-backed strings costs more than the
        # simulation of a trial
        USUBJID=data["USUBJID"].to_numpy(dtype=object),
        ARM=pd.Categorical(data["ARM"].astype(object), categories=_arm_order(arms, plan)),
        AVISIT=pd.Categorical(data["AVISIT"].astype(object), categories=list(plan.visits),
                              ordered=True),
    )
    covariance = plan.covariance[0] if len(plan.covariance) == 1 else plan.covariance
    fit = mmrm(data, _formula(plan), subject="USUBJID", visit="AVISIT", covariance=covariance,
               method=plan.method, df=plan.df, control=control)
    return fit, _contrast(fit, plan, [a for a in _arm_order(arms, plan)[1:]])


def _contrast(fit, plan: PrimaryAnalysis, others: list[str]) -> pd.DataFrame:
    """arm - reference at the primary visit, one row per other arm."""
    terms = fit.coef["term"].tolist()
    simple = " ".join(_formula(plan).split()) == f"{plan.outcome} ~ BASE + ARM * AVISIT"
    rows = []
    table = None
    for arm in others:
        name = f"ARM[T.{arm}]"
        interaction = f"{name}:AVISIT[T.{plan.primary_visit}]"
        label = f"{arm} - {plan.reference_arm}"
        if simple and name in terms and (interaction in terms
                                         or plan.primary_visit == plan.visits[0]):
            # <outcome> ~ BASE + ARM * AVISIT: the difference at visit v is b_arm + b_arm:v,
            # what fit.contrast("ARM", by="AVISIT") gives (a test checks it); one t test
            # instead of the whole table
            weights = np.zeros(len(terms))
            weights[terms.index(name)] = 1.0
            if interaction in terms:
                weights[terms.index(interaction)] = 1.0
            row = fit.test(weights).iloc[0]
        else:
            if table is None:
                table = fit.contrast("ARM", by="AVISIT", method="trt_vs_ctrl",
                                     reference=plan.reference_arm)
            found = table[(table["AVISIT"].astype(str) == plan.primary_visit)
                          & (table["contrast"] == label)]
            if len(found) != 1:
                raise DataValidationError(f"no difference {label} estimated at "
                                          f"{plan.primary_visit}: no outcome observed there")
            row = found.iloc[0]
        rows.append({"arm": arm, "reference_arm": plan.reference_arm,
                     "visit": plan.primary_visit, "contrast": label}
                    | {k: float(row[k]) for k in CONTRAST_COLUMNS[4:]})
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))


_DF_WORDS = {
    "satterthwaite": "Satterthwaite degrees of freedom",
    "kenward_roger": "Kenward-Roger degrees of freedom",
    "kenward_roger_linear": "Kenward-Roger degrees of freedom (SAS DDFM=KR)",
    "residual": "residual degrees of freedom",
    "between_within": "between-within degrees of freedom",
}


def plan_in_words(plan: PrimaryAnalysis, used: str | None = None) -> str:
    """The model settings of a plan as a methods section or footnote prints them.

    ``used``: the covariance structure a fallback sequence ended with.

    Examples
    --------
    >>> plan_in_words(PrimaryAnalysis())
    'unstructured covariance, REML, Satterthwaite degrees of freedom'
    >>> plan_in_words(PrimaryAnalysis(covariance=("us", "toeph"), method="ml",
    ...                               df="kenward_roger_linear"), used="toeph")
    'heterogeneous Toeplitz covariance (pre-specified sequence: unstructured,
    heterogeneous Toeplitz), ML, Kenward-Roger degrees of freedom (SAS DDFM=KR)'
    """
    return model_in_words(plan.covariance, plan.method, plan.df, used)


def model_in_words(covariance: Sequence[str], method: str, df: str,
                   used: str | None = None) -> str:
    """Covariance structure(s), method and df in words (see :func:`plan_in_words`).

    Examples
    --------
    >>> model_in_words(["us"], "reml", "kenward_roger")
    'unstructured covariance, REML, Kenward-Roger degrees of freedom'
    """
    from ketex.models.covariance import COVARIANCE_STRUCTURES

    names = [COVARIANCE_STRUCTURES.get(c, c) for c in covariance]
    words = f"{COVARIANCE_STRUCTURES.get(used, used) if used else names[0]} covariance"
    if len(names) > 1:
        words += f" (pre-specified sequence: {', '.join(names)})"
    return f"{words}, {method.upper()}, {_DF_WORDS.get(df, df)}"


def _arm_order(arms: Sequence[str], plan: PrimaryAnalysis) -> list[str]:
    reference = _filled(plan, "reference_arm", plan.reference_arm)
    return [reference, *(a for a in arms if a != reference)]


def _formula(plan: PrimaryAnalysis) -> str:
    return _filled(plan, "formula", plan.formula)


def _filled(plan: PrimaryAnalysis, key: str, value: str | None) -> str:
    """A field that :meth:`PrimaryAnalysis.resolve` fills in (the plan given here is resolved)."""
    if value is None:
        raise ValueError(f"analysis.primary.{key} is not set: resolve the plan first "
                         "(PrimaryAnalysis.resolve(protocol))")
    return value


def _resolved(trial: Trial, plan: PrimaryAnalysis | None) -> PrimaryAnalysis:
    return (plan or trial.protocol.analysis.primary).resolve(trial.protocol)
