"""Simulated exercise sessions: attendance, duration, heart rate, effort, power and dose.

Heart rate follows the Karvonen formula around each participant's achieved share of
heart-rate reserve, with HRmax from Tanaka (208 - 0.7 x age; 164 - 0.7 x age on
beta-blockers). In cycling, power (watts) comes from the participant's working MET level
through the ACSM leg-cycling equation, VO2 (mL/kg/min) = 10.8 x watts / kg + 7,
MET = VO2 / 3.5; the ``met`` column is that equation applied to the recorded watts (other
modalities record the working MET level itself, without power), and the dose in KKW is
0.0175 x sum(MET x minutes) per prescribed week (``../shared/domain.md`` section 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.simulate.design import KCAL_PER_KG_PER_MET_MIN, ExerciseDesign

__all__ = ["acsm_cycling_met", "exercise_kkw", "max_heart_rate", "simulate_sessions"]

_MIN_PARTIAL_MIN = 10


def max_heart_rate(age_years: np.ndarray, beta_blocker: np.ndarray) -> np.ndarray:
    """Predicted HRmax: Tanaka 208 - 0.7 x age, or 164 - 0.7 x age on beta-blockers.

    Examples
    --------
    >>> import numpy as np
    >>> max_heart_rate(np.array([40.0, 40.0]), np.array([False, True]))
    array([180., 136.])
    """
    age = np.asarray(age_years, dtype=float)
    return np.where(np.asarray(beta_blocker, dtype=bool), 164.0, 208.0) - 0.7 * age


def acsm_cycling_met(watts: np.ndarray, weight_kg: np.ndarray) -> np.ndarray:
    """METs of leg cycling by the ACSM equation: (10.8 x watts / kg + 7) / 3.5.

    Examples
    --------
    >>> round(float(acsm_cycling_met(100.0, 80.0)), 3)
    5.857
    """
    return (10.8 * np.asarray(watts, dtype=float) / np.asarray(weight_kg, dtype=float) + 7.0) / 3.5


def exercise_kkw(sessions: pd.DataFrame, n: int, weeks: int | np.ndarray) -> np.ndarray:
    """Weekly energy expenditure per kg, 0.0175 x sum(met x duration_min) / weeks.

    Parameters
    ----------
    sessions : pandas.DataFrame
        With integer ``participant`` (0..n-1), ``met`` and ``duration_min``.
    n : int
        Number of participants.
    weeks : int or numpy.ndarray
        Prescribed weeks of the programme, or of each participant's programme, ``(n,)``.

    Examples
    --------
    >>> import pandas as pd
    >>> sessions = pd.DataFrame({"participant": [0, 0, 0], "met": [6.8] * 3,
    ...                          "duration_min": [45.0] * 3})
    >>> exercise_kkw(sessions, 2, 1).round(2)
    array([16.07,  0.  ])
    """
    met_min = np.bincount(
        sessions["participant"].to_numpy(dtype=int),
        weights=(sessions["met"] * sessions["duration_min"]).to_numpy(dtype=float),
        minlength=n,
    )
    return KCAL_PER_KG_PER_MET_MIN * met_min / weeks


def simulate_sessions(
    design: ExerciseDesign,
    *,
    age_years: np.ndarray,
    weight_kg: np.ndarray,
    resting_hr: np.ndarray,
    beta_blocker: np.ndarray,
    adherence: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every session each participant would attend over the whole programme.

    Parameters
    ----------
    design : ExerciseDesign
    age_years, weight_kg, resting_hr, beta_blocker, adherence : numpy.ndarray
        Per participant, ``(n,)``; ``adherence`` is the probability of attending a session.
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per attended session: ``participant`` (position 0..n-1), ``day``,
        ``duration_min``, ``completed``, ``avg_hr``, ``peak_hr``, ``rpe``, ``watts``,
        ``met``, sorted by participant and day. Dropout is applied by the caller. A
        modality other than ``"cycling"`` (stretching, resistance, ...) has no power:
        ``watts`` is NaN and ``met`` is the participant's working MET level.

    Examples
    --------
    >>> import numpy as np
    >>> from ketex.simulate import ExerciseDesign
    >>> sessions = simulate_sessions(
    ...     ExerciseDesign(), age_years=np.array([40.0]), weight_kg=np.array([80.0]),
    ...     resting_hr=np.array([70.0]), beta_blocker=np.array([False]),
    ...     adherence=np.array([1.0]), rng=np.random.default_rng(0))
    >>> len(sessions), sessions["day"].tolist()[:6]
    (36, [1, 3, 5, 8, 10, 12])
    >>> bool(sessions["avg_hr"].between(70 + 0.3 * 110, 70 + 0.7 * 110).all())
    True
    """
    n = len(age_years)
    session_days = np.asarray(design.session_days)
    week = (session_days - design.start_day) // 7
    shape = (n, len(session_days))
    attended = rng.random(shape) < np.asarray(adherence)[:, None]
    completed = rng.random(shape) < design.completion_probability
    full = design.duration_min
    partial = rng.integers(_MIN_PARTIAL_MIN, max(_MIN_PARTIAL_MIN + 1, int(full) - 4), shape)
    duration = np.where(completed, full, np.minimum(partial, full))

    hr_max = max_heart_rate(age_years, beta_blocker)[:, None]
    rest = np.asarray(resting_hr, dtype=float)[:, None]
    share = (design.hrr_fraction_mean
             + design.hrr_fraction_sd_between * rng.standard_normal((n, 1))
             + design.hrr_fraction_sd_within * rng.standard_normal(shape))
    share = np.clip(share, 0.2, 0.9)
    avg_hr = np.round(rest + share * (hr_max - rest))
    peak_hr = np.minimum(np.round(avg_hr + rng.gamma(4.0, 2.5, shape)), hr_max + 5)
    peak_hr = np.maximum(peak_hr, avg_hr)
    rpe = np.clip(np.round(12.5 + 25.0 * (share - 0.5) + rng.standard_normal(shape)), 6, 20)

    weight = np.asarray(weight_kg, dtype=float)[:, None]
    progress = week / max(design.weeks - 1, 1)
    working_met = (design.initial_met_mean
                   + design.initial_met_sd * rng.standard_normal((n, 1))
                   + design.training_met_gain * progress[None, :]
                   + 0.25 * rng.standard_normal(shape))
    if design.modality == "cycling":
        working_met = np.clip(working_met, 3.0, 12.0)
        watts = np.maximum(np.round((working_met * 3.5 - 7.0) * weight / 10.8), 10.0)
        met = np.round(acsm_cycling_met(watts, weight), 2)
    else:  # no power: the working MET level is recorded as the session's MET
        watts = np.full(shape, np.nan)
        met = np.round(np.clip(working_met, 1.0, 12.0), 2)

    participant, column = np.nonzero(attended)
    pick = (participant, column)
    return pd.DataFrame({
        "participant": participant,
        "day": session_days[column],
        "duration_min": duration[pick].astype(float),
        "completed": completed[pick],
        "avg_hr": avg_hr[pick],
        "peak_hr": peak_hr[pick],
        "rpe": rpe[pick],
        "watts": watts[pick],
        "met": met[pick],
    })
