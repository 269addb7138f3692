"""The analyses the protocol pre-specifies, as plain functions the report and notebooks call.

The primary analysis is the protocol's plan (``[analysis.primary]`` of ``study.toml``,
:class:`ketex.PrimaryAnalysis`), run by :func:`ketex.primary_analysis`; by default an
MMRM of the change from baseline in the protocol's primary scale, fixed effects baseline +
arm x visit, unstructured covariance, REML, Satterthwaite degrees of freedom, at every
post-baseline visit scheduled for every arm; the LS-means difference at the primary visit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from ketex.primary import primary_analysis, primary_dataset
from ketex.study.trial import Trial

__all__ = ["dose_outcome_data", "mmrm_dataset", "primary_mmrm", "subgroup_effects"]


def _plan(trial: Trial, scale: str | None, visits: Sequence[str] | None):
    plan = trial.protocol.analysis.primary
    if scale is not None:
        plan = dataclasses.replace(plan, scale=scale)
    if visits is not None:
        plan = dataclasses.replace(plan, visits=tuple(visits))
    return plan


def mmrm_dataset(
    trial: Trial, scale: str | None = None, visits: Sequence[str] | None = None
) -> pd.DataFrame:
    """The rows the primary MMRM analyses (:func:`ketex.primary.primary_dataset`).

    Parameters
    ----------
    trial : Trial
    scale : str, optional
        Default: the plan's scale (the protocol's primary scale).
    visits : sequence of str, optional
        Default: the plan's visits (every visit after baseline that every arm has and
        that rates the scale).

    Returns
    -------
    pandas.DataFrame
        The analysed records (``ANL01FL == "Y"``, phantom rows included, so missing
        visits stay visible) of those visits, from :func:`ketex.analysis_dataset`, with
        ``ARM`` a Categorical with the plan's reference arm first and ``AVISIT``
        restricted to the visits analysed.

    Examples
    --------
    >>> import ketex
    >>> ds = mmrm_dataset(ketex.load_trial(ketex.sample_study_path()))
    >>> list(ds["AVISIT"].cat.categories)[:3], list(ds["ARM"].cat.categories)
    (['INF1_24H', 'WEEK2', 'WEEK3'], ['SINGLE', 'SERIES'])
    """
    return primary_dataset(trial, _plan(trial, scale, visits))


def primary_mmrm(trial: Trial, scale: str | None = None,
                 visits: Sequence[str] | None = None):
    """Fit the protocol's primary MMRM: ``ketex.primary_analysis(trial).fit``.

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
    return primary_analysis(trial, _plan(trial, scale, visits)).fit


def subgroup_effects(
    trial: Trial,
    subgroups: Sequence[str] = ("sex", "age", "baseline", "site"),
    *,
    visit: str | None = None,
    arm: str | None = None,
) -> pd.DataFrame:
    """Treatment effect at the primary visit overall and within subgroups (forest plot).

    Each subgroup variable gets one MMRM of the protocol's primary plan with the subgroup
    and its interactions added (by default ``CHG ~ BASE + ARM * AVISIT * SUB``, with the
    plan's covariance, method and df); the effect within a level is the LS-means
    difference of ``arm`` minus the plan's reference arm at ``visit``.

    Parameters
    ----------
    trial : Trial
    subgroups : sequence of str
        ``"age"`` (below / at or above the median), ``"baseline"`` (baseline score below
        / at or above the median), or a participants column (``"sex"``, ``"site"``,
        ``"beta_blocker"``, ...).
    visit : str, optional
        Default: the protocol's primary visit.
    arm : str, optional
        The arm compared with the reference arm; default: the first other arm (protocol
        order), the first row of ``ketex.primary_analysis(trial).contrast``.

    Returns
    -------
    pandas.DataFrame
        ``subgroup, level, label, n, estimate, se, df, ci_low, ci_high, p_value``; the
        first row is the primary model (``subgroup = "All participants"``).

    Examples
    --------
    >>> import ketex
    >>> effects = subgroup_effects(ketex.load_trial(ketex.sample_study_path()), ["sex"])
    >>> effects["label"].tolist()
    ['All participants', 'Sex: F', 'Sex: M']
    """
    from ketex.models import mmrm

    plan = trial.protocol.analysis.primary
    if visit is not None:
        plan = dataclasses.replace(plan, primary_visit=visit)
    primary = primary_analysis(trial, plan)
    plan, data = primary.plan, primary.data
    visit = plan.primary_visit
    columns = ["subgroup", "level", "label", "n", "estimate", "se", "df", "ci_low",
               "ci_high", "p_value"]  # fmt: skip
    others = primary.contrast.set_index("arm")
    arm = others.index[0] if arm is None else arm
    if arm not in others.index:
        raise ValueError(f"arm {arm!r} is not compared with the reference arm "
                         f"{plan.reference_arm!r}; choose one of {', '.join(others.index)}")
    first = others.loc[arm]
    label = f"{arm} - {plan.reference_arm}"
    if "ARM * AVISIT" in plan.formula:
        formula = plan.formula.replace("ARM * AVISIT", "ARM * AVISIT * SUB")
    else:
        formula = f"{plan.formula} + SUB + ARM:SUB + AVISIT:SUB + ARM:AVISIT:SUB"
    covariance = plan.covariance[0] if len(plan.covariance) == 1 else plan.covariance
    rows = [{"subgroup": "All participants", "level": "", "label": "All participants",
             "n": data["USUBJID"].nunique()} | {c: first[c] for c in columns[4:]}]
    participants = trial.participants.set_index(trial.participants["participant_id"].astype(str))
    for name in subgroups:
        levels = _subgroup_levels(name, data, participants)
        frame = data.assign(SUB=data["USUBJID"].astype(str).map(levels))
        frame = frame[frame["SUB"].notna()].copy()
        frame["SUB"] = pd.Categorical(frame["SUB"].astype(str))
        fit = mmrm(frame, formula, subject="USUBJID", visit="AVISIT", covariance=covariance,
                   method=plan.method, df=plan.df)
        effects = fit.contrast("ARM", by=["AVISIT", "SUB"], method="trt_vs_ctrl",
                               reference=plan.reference_arm)
        effects = effects[(effects["AVISIT"].astype(str) == visit)
                          & (effects["contrast"] == label)]
        sizes = frame.drop_duplicates("USUBJID")["SUB"].value_counts()
        title = {"age": "Age", "baseline": "Baseline score"}.get(name, name.replace("_", " ")
                                                                .capitalize())
        for _, r in effects.iterrows():
            level = str(r["SUB"])
            rows.append({"subgroup": title, "level": level, "label": f"{title}: {level}",
                         "n": int(sizes[level])} | {c: r[c] for c in columns[4:]})
    return pd.DataFrame(rows, columns=columns)


def _subgroup_levels(name: str, data: pd.DataFrame, participants: pd.DataFrame) -> pd.Series:
    if name == "baseline":
        base = data.drop_duplicates("USUBJID").set_index(data.drop_duplicates("USUBJID")[
            "USUBJID"].astype(str))["BASE"]
        cut = float(base.median())
        return base.map(lambda v: pd.NA if pd.isna(v) else
                        (f"< {cut:g}" if v < cut else f"\u2265 {cut:g}"))
    if name not in participants.columns:
        raise ValueError(f"subgroup {name!r} is neither 'age', 'baseline' nor a participants "
                         f"column; columns: {', '.join(participants.columns)}.")
    values = participants[name]
    if name == "age" or (pd.api.types.is_numeric_dtype(values)
                         and not pd.api.types.is_bool_dtype(values)):
        cut = float(values.median())
        return values.map(lambda v: pd.NA if pd.isna(v) else
                          (f"< {cut:g}" if v < cut else f"\u2265 {cut:g}"))
    if pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: pd.NA if pd.isna(v) else ("yes" if v else "no"))
    return values.astype("string")


def dose_outcome_data(trial: Trial, visit: str | None = None) -> pd.DataFrame:
    """Exercise dose and outcome per participant, for dose-response questions.

    Parameters
    ----------
    trial : Trial
    visit : str, optional
        Visit of the outcome (default: the protocol's primary visit).

    Returns
    -------
    pandas.DataFrame
        ``participant_id, arm`` (Categorical, protocol order), ``kkw``, ``attendance``,
        ``dose_adherence`` (:func:`ketex.exercise_dose`, by participant), ``BASE``,
        ``AVAL``, ``CHG`` (primary scale at ``visit``; NaN when missed) and
        ``sustained_response`` (True/False/NA; all NA when the protocol names no
        ``sustained_through_visit``).

    Examples
    --------
    >>> import ketex
    >>> d = dose_outcome_data(ketex.load_trial(ketex.sample_study_path()))
    >>> len(d), int(d["CHG"].notna().sum())
    (80, 75)
    """
    from ketex.derive.analysis import arm_order
    from ketex.derive.endpoints import SustainedResponse
    from ketex.derive.evaluate import evaluate_endpoint
    from ketex.derive.exercise import exercise_dose

    visit = visit or trial.protocol.endpoints.primary_visit
    dose = exercise_dose(trial, by="participant")
    frame = dose[["participant_id", "arm", "kkw", "attendance", "dose_adherence"]].copy()
    frame["participant_id"] = frame["participant_id"].astype(str)
    frame["arm"] = pd.Categorical(frame["arm"].astype(str), arm_order(trial.protocol))
    ds = mmrm_dataset(trial, visits=[visit])
    outcome = ds.set_index(ds["USUBJID"].astype(str))[["BASE", "AVAL", "CHG"]]
    frame = frame.join(outcome, on="participant_id")
    if trial.protocol.endpoints.sustained_through_visit:
        sustained = evaluate_endpoint(trial, SustainedResponse())
        met = sustained.set_index(sustained["participant_id"].astype(str))["met"]
        frame["sustained_response"] = frame["participant_id"].map(met).astype("boolean")
    else:  # the protocol names no sustained-response window
        frame["sustained_response"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    return frame.reset_index(drop=True)
