"""The analyses the protocol pre-specifies, as plain functions the report and notebooks call.

The primary analysis (``docs/mmrm.md``): an MMRM of the change from baseline in the
protocol's primary scale, fixed effects baseline + arm x visit, unstructured covariance,
REML, Satterthwaite degrees of freedom, at every post-baseline visit scheduled for
every arm; the LS-means difference at ``[endpoints] primary_visit``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ketex.study.trial import Trial

__all__ = ["PRIMARY_FORMULA", "mmrm_dataset", "primary_mmrm"]

PRIMARY_FORMULA = "CHG ~ BASE + ARM * AVISIT"


def _common_visits(trial: Trial, scale: str) -> list[str]:
    """Post-baseline visits scheduled for every arm at which ``scale`` is rated."""
    protocol = trial.protocol
    baseline = next(v for v in protocol.visits if v.name == protocol.endpoints.baseline_visit)
    out = []
    for visit in protocol.visits:
        rated = scale in visit.instruments or (not visit.instruments and
                                               scale == protocol.primary_scale)
        if visit.day > baseline.day and not visit.arms and rated:
            out.append(visit.name)
    return out


def mmrm_dataset(
    trial: Trial, scale: str | None = None, visits: Sequence[str] | None = None
) -> pd.DataFrame:
    """The rows the primary MMRM analyses.

    Parameters
    ----------
    trial : Trial
    scale : str, optional
        Default: the protocol's primary scale.
    visits : sequence of str, optional
        Default: every visit after baseline that every arm has and that rates the scale.

    Returns
    -------
    pandas.DataFrame
        The analysed records (``ANL01FL == "Y"``, phantom rows included, so missing
        visits stay visible) of those visits, from :func:`ketex.analysis_dataset`, with
        ``ARM`` a Categorical in the protocol's arm order (the first arm is the
        reference) and ``AVISIT`` restricted to the visits analysed.

    Examples
    --------
    >>> import ketex
    >>> ds = mmrm_dataset(ketex.load_trial(ketex.sample_study_path()))
    >>> list(ds["AVISIT"].cat.categories)[:3], list(ds["ARM"].cat.categories)
    (['INF1_24H', 'WEEK2', 'WEEK3'], ['SINGLE', 'SERIES'])
    """
    from ketex.derive.analysis import analysis_dataset

    scale = scale or trial.protocol.primary_scale
    visits = list(visits) if visits is not None else _common_visits(trial, scale)
    ds = analysis_dataset(trial, scale)
    ds = ds[(ds["ANL01FL"] == "Y") & ds["AVISIT"].astype(str).isin(visits)].copy()
    ds["AVISIT"] = pd.Categorical(ds["AVISIT"].astype(str), categories=visits, ordered=True)
    ds["ARM"] = pd.Categorical(ds["ARM"].astype(str), categories=list(trial.protocol.arm_codes))
    return ds.reset_index(drop=True)


def primary_mmrm(trial: Trial, scale: str | None = None,
                 visits: Sequence[str] | None = None):
    """Fit the protocol's primary MMRM (see the module notes).

    Returns
    -------
    ketex.MMRMResult

    Examples
    --------
    >>> import ketex
    >>> fit = primary_mmrm(ketex.load_trial(ketex.sample_study_path()))
    >>> fit.converged, fit.n_subjects
    (True, 80)
    """
    from ketex.models import mmrm

    data = mmrm_dataset(trial, scale, visits)
    return mmrm(data, PRIMARY_FORMULA, subject="USUBJID", visit="AVISIT",
                covariance="us", method="reml", df="satterthwaite")  # fmt: skip
