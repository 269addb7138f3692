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
    subgroups: Sequence[str] | None = None,
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
    subgroups : sequence of str, optional
        ``"baseline"`` (the baseline score) or participants columns (``"sex"``,
        ``"age"``, ``"site"``, ``"beta_blocker"``, ...). A numeric column is split at
        the cut points of ``[analysis.subgroups]`` in ``study.toml`` (``age = [40,
        60]``: ``< 40``, ``40 to < 60``, ``>= 60``), else at its median. Default: the
        plan's ``columns`` (without them: sex, age, baseline and site, those the data
        lack left out).
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
    from ketex.report.applicability import subgroup_reason
    from ketex.study.plan import check_plan_data

    wanted = trial.protocol.analysis.subgroups
    if subgroups is None and wanted.explicit:
        check_plan_data(trial)  # every column the plan names, or a collected error
    if subgroups is None:
        subgroups = [name for name in wanted.names
                     if wanted.explicit or subgroup_reason(trial, name) is None]
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
        levels, order = _subgroup_levels(name, wanted.cut(name), data, participants)
        frame = data.assign(SUB=data["USUBJID"].astype(str).map(levels))
        frame = frame[frame["SUB"].notna()].copy()
        seen = set(frame["SUB"].astype(str))
        frame["SUB"] = pd.Categorical(frame["SUB"].astype(str),
                                      [level for level in order if level in seen])
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


def _subgroup_levels(name: str, cut, data: pd.DataFrame,
                     participants: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    from ketex.study.subgroup_plan import BASELINE, subgroup_levels

    if name == BASELINE:
        first = data.drop_duplicates("USUBJID")
        return subgroup_levels(name, cut, first.set_index(first["USUBJID"].astype(str))["BASE"])
    if name not in participants.columns:
        raise ValueError(f"subgroup {name!r} is neither 'baseline' nor a participants "
                         f"column; columns: {', '.join(participants.columns)}.")
    return subgroup_levels(name, cut, participants[name])


def dose_outcome_data(trial: Trial, visit: str | None = None) -> pd.DataFrame:
    """Exercise dose and outcome per participant, for dose-response questions.

    Parameters
    ----------
    trial : Trial
    visit : str, optional
        Visit of the outcome (default: the analysis plan's primary visit,
        ``[analysis.primary] primary_visit``).

    Returns
    -------
    pandas.DataFrame
        ``participant_id, arm`` (Categorical, protocol order), ``kkw``, ``attendance``,
        ``dose_adherence`` (:func:`ketex.exercise_dose`, by participant), ``BASE``,
        ``AVAL``, ``CHG`` (the plan's scale at ``visit``; NaN when missed) and
        ``sustained_response`` (True/False/NA, the plan's sustained endpoint,
        ``[analysis.secondary] sustained``; all NA when the plan has none: no
        ``sustained_through_visit``).

    Examples
    --------
    >>> import ketex
    >>> d = dose_outcome_data(ketex.load_trial(ketex.sample_study_path()))
    >>> len(d), int(d["CHG"].notna().sum())
    (80, 75)
    """
    from ketex.derive.analysis import arm_order
    from ketex.derive.evaluate import evaluate_endpoint
    from ketex.derive.exercise import exercise_dose
    from ketex.study.derivation_plan import derivation_options
    from ketex.study.secondary_plan import secondary_endpoints

    primary = trial.protocol.analysis.primary.resolve(trial.protocol)
    visit = visit or primary.primary_visit
    dose = exercise_dose(trial, by="participant")
    frame = dose[["participant_id", "arm", "kkw", "attendance", "dose_adherence"]].copy()
    frame["participant_id"] = frame["participant_id"].astype(str)
    frame["arm"] = pd.Categorical(frame["arm"].astype(str), arm_order(trial.protocol))
    ds = primary_dataset(trial, dataclasses.replace(primary, visits=(visit,),
                                                    primary_visit=visit))
    outcome = ds.set_index(ds["USUBJID"].astype(str))[["BASE", "AVAL", "CHG"]]
    frame = frame.join(outcome, on="participant_id")
    plan = {e.key: e for e in secondary_endpoints(trial.protocol)}
    if "sustained" in plan:
        sustained = evaluate_endpoint(trial, plan["sustained"].rule,
                                      **derivation_options(trial.protocol))
        met = sustained.set_index(sustained["participant_id"].astype(str))["met"]
        frame["sustained_response"] = frame["participant_id"].map(met).astype("boolean")
    else:  # the protocol names no sustained-response window
        frame["sustained_response"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    return frame.reset_index(drop=True)
