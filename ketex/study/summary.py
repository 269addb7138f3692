"""A first look at a trial: who is in it, what was measured, how much was done."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ketex.study.protocol import ExercisePrescription
from ketex.study.trial import Trial

__all__ = ["TrialSummary", "summarize"]


@dataclass(frozen=True)
class TrialSummary:
    """Counts describing a trial, as tidy tables.

    Attributes
    ----------
    by_arm : pandas.DataFrame
        One row per arm and a final ``"all"`` row: ``arm, participants, sites,
        infusions, infusions_per_participant, sessions_attended, sessions_completed,
        sessions_prescribed, attendance_pct, exercise_min_per_week, exercise``.
        ``sessions_prescribed`` is the arm's own prescription's sessions per week x weeks
        (:meth:`Protocol.exercise_for`) for every participant (dropout not deducted), so
        ``attendance_pct`` is a first look, not the adherence endpoint. An arm that
        prescribes no exercise has 0 sessions prescribed and no attendance or minutes per
        week (NaN), and ``exercise`` says ``"none prescribed"``; the ``"all"`` row's
        attendance and minutes per week are over the participants of arms with exercise.
    assessments : pandas.DataFrame
        Number of assessments with a total score, by instrument (rows) and visit
        (columns, protocol order).
    problems : pandas.DataFrame
        Number of reported problems by severity and rule.
    study_id : str
    """

    study_id: str
    by_arm: pd.DataFrame
    assessments: pd.DataFrame
    problems: pd.DataFrame

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            parts = [
                f"Study {self.study_id}",
                "",
                "Participants, infusions and exercise by arm",
                self.by_arm.to_string(index=False),
                "",
                "Assessments with a total score, by instrument and visit",
                self.assessments.to_string(),
                "",
                "Problems found while loading",
                self.problems.to_string(index=False) if len(self.problems) else "none",
            ]
        return "\n".join(parts)


def summarize(trial: Trial) -> TrialSummary:
    """Summarise a trial: participants, infusions, exercise and assessments by arm.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> summary = ketex.summarize(trial)
    >>> list(summary.by_arm["arm"])
    ['SINGLE', 'SERIES', 'all']
    """
    protocol = trial.protocol
    arm_of = trial.arms
    exercise = trial.exercise
    completed = (
        exercise["completed"].fillna(True).astype(bool)
        if "completed" in exercise.columns
        else pd.Series(True, index=exercise.index)
    )
    rows = []
    groups = [(code, [code]) for code in protocol.arm_codes] + [("all", protocol.arm_codes)]
    for label, codes in groups:
        ids = arm_of.index[arm_of.isin(codes)]
        n = len(ids)
        infusions = int(trial.infusions["participant_id"].isin(ids).sum())
        attended = exercise["participant_id"].isin(ids)
        plans = {code: protocol.exercise_for(code) for code in codes}
        sizes = {code: int((arm_of == code).sum()) for code in codes}
        prescribed = sum(p.sessions_per_week * p.weeks * sizes[c]
                         for c, p in plans.items() if p is not None)
        person_weeks = sum(p.weeks * sizes[c] for c, p in plans.items() if p is not None)
        exercising = arm_of.index[arm_of.isin([c for c, p in plans.items() if p is not None])]
        mine = exercise[exercise["participant_id"].isin(exercising)]
        rows.append(
            {
                "arm": label,
                "participants": n,
                "sites": _count_sites(trial.participants, ids),
                "infusions": infusions,
                "infusions_per_participant": round(infusions / n, 2) if n else float("nan"),
                "sessions_attended": int(attended.sum()),
                "sessions_completed": int((attended & completed).sum()),
                "sessions_prescribed": prescribed,
                "attendance_pct": (
                    round(100 * len(mine) / prescribed, 1) if prescribed else float("nan")
                ),
                "exercise_min_per_week": (
                    round(mine["duration_min"].sum() / person_weeks, 1)
                    if person_weeks
                    else float("nan")
                ),
                "exercise": _describe(plans[label]) if label in plans else "",
            }
        )
    scored = trial.assessments[trial.assessments["total"].notna()]
    counts = pd.crosstab(scored["instrument"], scored["visit"])
    visits = [v for v in protocol.visit_names if v in counts.columns]
    counts = counts.reindex(columns=visits + [v for v in counts.columns if v not in visits])
    counts.columns.name, counts.index.name = "visit", "instrument"
    problems = (
        trial.report.groupby(["severity", "rule"]).size().rename("n").reset_index()
        if len(trial.report)
        else pd.DataFrame({"severity": [], "rule": [], "n": []})
    )
    return TrialSummary(protocol.study_id, pd.DataFrame(rows), counts, problems)


def _describe(plan: ExercisePrescription | None) -> str:
    """``"cycling 3 x 45 min/week, 12 weeks"``, or ``"none prescribed"``."""
    if plan is None:
        return "none prescribed"
    return (f"{plan.modality} {plan.sessions_per_week} x {plan.duration_min:g} min/week, "
            f"{plan.weeks} weeks")


def _count_sites(participants: pd.DataFrame, ids: pd.Index) -> int:
    if "site" not in participants.columns:
        return 1 if len(ids) else 0
    return int(participants.loc[participants["participant_id"].isin(ids), "site"].nunique())
