"""The latent (true) MADRS course of each participant, day by day.

Notes
-----
For participant *i* with latent baseline :math:`b_i`, random intercept :math:`u_i`, site
effect :math:`s_i`, exercise dose :math:`D_i` (KKW over the whole programme) and infusions
on days :math:`d_1 < d_2 < \\dots`, the true MADRS on study day *t* is

.. math::

    m_i(t) = b_i                                     \\quad (t \\le 0)

    m_i(t) = \\operatorname{clip}_{[0, 60]}\\big(L_i - N(t) - X_i(t) - K_i(t)\\big)
             \\quad (t \\ge 1)

with the untreated level :math:`L_i = b_i + u_i + s_i`, the nonspecific improvement
:math:`N(t) = c\\,(1 - e^{-t/\\tau_N})`, the direct exercise effect
:math:`X_i(t) = e\\,D_i\\,(1 - e^{-(t - t_0)_+/\\tau_X})` (:math:`t_0` = first session) and
the ketamine effect, capped at :math:`K_{max}`,

.. math::

    K_i(t) = \\min\\Big(K_{max},\\; A \\sum_{j: d_j < t} 2^{-(t - d_j - 1)/h_i}\\Big),
    \\qquad h_i = h_0 + \\gamma D_i,

so one infusion lowers MADRS by *A* 24 hours later and the effect halves every
:math:`h_i` days; exercise lengthens the half-life by :math:`\\gamma` days per KKW.

Relapse: from the first day :math:`f_i` with :math:`m_i(t) \\le (1 - r)\\,b_i` (true
response), the time to relapse is exponential with rate
:math:`\\log 2 / \\text{median} \\times HR^{D_i}`. From the relapse day :math:`R_i` the
ketamine effect is lost linearly over the onset period, so the score returns to the
course without ketamine, :math:`L_i - N(t) - X_i(t)`; the benefit of exercise and the
nonspecific improvement stay. Without relapse the ketamine effect still fades with its
half-life; relapse is the faster loss that exercise makes less likely.

For participants who drop out, the course after dropout is the one they would have had
on protocol (their full-programme exercise dose and every planned infusion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ketex.simulate.design import TrialDesign

__all__ = ["Course", "latent_course"]

MADRS_MAX = 60.0


@dataclass(frozen=True)
class Course:
    """True MADRS of ``n`` participants on a grid of study days, with the relapse history.

    Attributes
    ----------
    days : numpy.ndarray
        Study days of the grid, consecutive integers, shape ``(T,)``.
    madrs : numpy.ndarray
        True MADRS, shape ``(n, T)``.
    untreated_madrs : numpy.ndarray
        :math:`L_i`, the level after randomisation without treatment benefit, ``(n,)``.
    half_life_days : numpy.ndarray
        Each participant's ketamine half-life, ``(n,)``.
    response_day, relapse_day : numpy.ndarray
        First day of true response and start of relapse (NaN: none on the grid), ``(n,)``.
    """

    days: np.ndarray
    madrs: np.ndarray
    untreated_madrs: np.ndarray
    half_life_days: np.ndarray
    response_day: np.ndarray
    relapse_day: np.ndarray

    def at(self, days: np.ndarray) -> np.ndarray:
        """True MADRS on the given days, shape ``(n, V)``; NaN days give NaN.

        Examples
        --------
        >>> import numpy as np
        >>> course = Course(np.arange(0, 3), np.array([[30.0, 20.0, 21.0]]), np.array([30.0]),
        ...                 np.array([4.0]), np.array([1.0]), np.array([np.nan]))
        >>> course.at(np.array([[2.0, np.nan, 0.0]]))
        array([[21., nan, 30.]])
        """
        days = np.asarray(days, dtype=float)
        known = ~np.isnan(days)
        index = np.where(known, days, self.days[0]).astype(int) - int(self.days[0])
        if (index < 0).any() or (index >= len(self.days)).any():
            raise ValueError("days outside the simulated grid")
        rows = np.arange(days.shape[0])[:, None]
        return np.where(known, self.madrs[rows, index], np.nan)


def latent_course(
    design: TrialDesign,
    days: np.ndarray,
    *,
    baseline_madrs: np.ndarray,
    intercept_madrs: np.ndarray,
    site_effect_madrs: np.ndarray,
    infusion_days: list[tuple[int, ...]],
    exercise_kkw: np.ndarray,
    relapse_draw: np.ndarray,
    added_madrs: np.ndarray | None = None,
    arms: np.ndarray | None = None,
) -> Course:
    """Compute every participant's true course on the day grid ``days``.

    Parameters
    ----------
    design : TrialDesign
    days : numpy.ndarray
        Consecutive study days, ``(T,)``.
    baseline_madrs, intercept_madrs, site_effect_madrs, exercise_kkw : numpy.ndarray
        Per participant, ``(n,)``: :math:`b_i`, :math:`u_i`, :math:`s_i`, :math:`D_i`.
    infusion_days : list of tuple of int
        Each participant's planned infusion days.
    relapse_draw : numpy.ndarray
        Standard exponential draws, ``(n,)``, turned into times to relapse.
    added_madrs : numpy.ndarray, optional
        ``(n, T)``: known effects added to the course
        (:class:`~ketex.simulate.AddedEffectDesign`); part of the course without
        ketamine, so relapse does not take them away.
    arms : numpy.ndarray, optional
        Each participant's arm code, ``(n,)``: the exercise effect and the lengthening of
        the half-life follow the arm's own programme (:meth:`TrialDesign.arm_exercise`),
        and an arm whose drug is not active (:attr:`ArmDesign.active`: a placebo or
        active placebo) has no ketamine effect and so no relapse. None: every
        participant follows ``design.exercise`` and gets the ketamine effect.

    Returns
    -------
    Course

    Examples
    --------
    One infusion, no exercise, no noise: 14 points lower 24 hours later, half that after
    one half-life (4 days).

    >>> import dataclasses
    >>> import numpy as np
    >>> from ketex.simulate import CourseDesign, TrialDesign
    >>> design = dataclasses.replace(TrialDesign(), course=CourseDesign(0.0, 21.0, 0.0, 0.0))
    >>> course = latent_course(
    ...     design, np.arange(-7, 30), baseline_madrs=np.array([32.0]),
    ...     intercept_madrs=np.zeros(1), site_effect_madrs=np.zeros(1),
    ...     infusion_days=[(1,)], exercise_kkw=np.zeros(1), relapse_draw=np.array([50.0]))
    >>> course.at(np.array([[0.0, 1.0, 2.0, 6.0]]))
    array([[32., 32., 18., 25.]])
    """
    days = np.asarray(days, dtype=float)
    t = days[None, :]
    n = len(baseline_madrs)
    after = t >= 1
    untreated = baseline_madrs + intercept_madrs + site_effect_madrs
    course = design.course
    nonspecific = course.nonspecific_improvement_madrs * (
        1 - np.exp(-np.clip(t, 0, None) / course.nonspecific_time_constant_days)
    )
    start, per_kkw, tau, half_life_per_kkw, active = _arm_parts(design, arms, n)
    since_start = np.clip(t - start, 0, None)
    exercise_effect = (per_kkw * exercise_kkw[:, None]) * (1 - np.exp(-since_start / tau))
    half_life = design.ketamine.half_life_days + half_life_per_kkw * exercise_kkw
    ketamine = _ketamine_effect(design, days, infusion_days, half_life)
    if active is not None:
        ketamine = ketamine * active[:, None]
    without_ketamine = untreated[:, None] - nonspecific - exercise_effect
    if added_madrs is not None:
        without_ketamine = without_ketamine + added_madrs

    def course_with(ketamine_effect: np.ndarray) -> np.ndarray:
        treated = np.clip(without_ketamine - ketamine_effect, 0, MADRS_MAX)
        return np.where(after, treated, baseline_madrs[:, None])

    pre_relapse = course_with(ketamine)
    threshold = (1 - design.endpoints.response_reduction) * baseline_madrs
    responding = after & (pre_relapse <= threshold[:, None])
    response_day = np.where(responding.any(axis=1), days[np.argmax(responding, axis=1)],
                            np.nan)

    relapse = design.relapse
    rate = np.log(2) / relapse.median_days * relapse.hazard_ratio_per_kkw**exercise_kkw
    relapse_day = response_day + np.maximum(1.0, np.ceil(relapse_draw / rate))
    relapse_day = np.where(relapse_day <= days[-1], relapse_day, np.nan)
    if active is not None:
        relapse_day = np.where(active, relapse_day, np.nan)
    lost = np.nan_to_num(np.clip((t - relapse_day[:, None]) / relapse.onset_days, 0, 1))
    madrs = course_with(ketamine * (1 - lost)).reshape(n, len(days))
    return Course(days.astype(int), madrs, untreated, half_life, response_day, relapse_day)


def _arm_parts(design: TrialDesign, arms: np.ndarray | None, n: int) -> tuple:
    """(start_day, effect per KKW, time constant, half-life days per KKW, active) as
    scalars when every participant follows the trial's programme and an active drug
    (``active`` None), else per participant, ``(n, 1)`` (``active``: ``(n,)``)."""
    ex = design.exercise
    if arms is None or all(a.active and a.exercise is None for a in design.arms):
        return (ex.start_day, ex.effect_madrs_per_kkw, ex.effect_time_constant_days,
                ex.half_life_days_per_kkw, None)
    programmes = [design.arm_exercise(a) for a in arms]
    active = {a.code: a.active for a in design.arms}

    def column(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in programmes], dtype=float).reshape(n, 1)

    return (column("start_day"), column("effect_madrs_per_kkw"),
            column("effect_time_constant_days"), column("half_life_days_per_kkw")[:, 0],
            np.array([active[a] for a in arms], dtype=float))


def _ketamine_effect(
    design: TrialDesign, days: np.ndarray, infusion_days: list[tuple[int, ...]],
    half_life: np.ndarray,
) -> np.ndarray:
    """Summed, capped ketamine effect, ``(n, T)``; participants share few distinct schedules."""
    ketamine = design.ketamine
    effect = np.zeros((len(infusion_days), len(days)))
    schedules: dict[tuple[int, ...], list[int]] = {}
    for i, schedule in enumerate(infusion_days):
        schedules.setdefault(tuple(schedule), []).append(i)
    for schedule, members in schedules.items():
        rows = np.asarray(members)
        for day in schedule:
            elapsed = days[None, :] - day - 1
            decay = np.where(elapsed >= 0, 2.0 ** (-np.clip(elapsed, 0, None)
                                                     / half_life[rows, None]), 0.0)
            effect[rows] += ketamine.acute_effect_madrs * decay
    return np.minimum(effect, ketamine.max_total_effect_madrs)
