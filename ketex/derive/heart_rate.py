"""Maximal heart rate and the prescribed heart-rate zone (Karvonen).

The zone is a share of heart-rate reserve (Karvonen): target = HRrest + p x (HRmax -
HRrest), for p in the prescription's ``hrr_fraction`` (ACSM moderate intensity: 40-59 %).
HRmax is the measured value when the participants table gives ``max_hr``; otherwise it is
predicted from age:

- ``tanaka`` (default): 208 - 0.7 x age (Tanaka, Monahan, Seals, J Am Coll Cardiol
  2001;37:153-6);
- ``fox``: 220 - age (Fox, Naughton, Haskell 1971), on request;
- ``beta_blocker``: 164 - 0.7 x age for participants taking beta-blockers (Brawner et al.,
  Am Heart J 2004;148:910-4), whichever of the two formulas is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.study.trial import Trial

__all__ = [
    "HRMAX_FORMULAS",
    "HeartRateOptions",
    "heart_rate_zones",
    "karvonen_zone",
    "max_heart_rate",
    "participant_max_hr",
]

#: Predicted-HRmax formulas: name -> (intercept, slope per year of age).
HRMAX_FORMULAS = {
    "tanaka": (208.0, 0.7),
    "fox": (220.0, 1.0),
    "beta_blocker": (164.0, 0.7),
}

_ZONE_COLUMNS = (
    "participant_id",
    "age",
    "resting_hr",
    "max_hr_bpm",
    "max_hr_source",
    "hrr_fraction_low",
    "hrr_fraction_high",
    "zone_low_bpm",
    "zone_high_bpm",
    "note",
)


def max_heart_rate(
    age: float | np.ndarray,
    *,
    beta_blocker: bool | np.ndarray = False,
    formula: str = "tanaka",
) -> np.ndarray:
    """Predicted maximal heart rate, beats/min.

    Parameters
    ----------
    age : float or array
        Years.
    beta_blocker : bool or array
        Taking beta-blockers: 164 - 0.7 x age (Brawner 2004) whatever ``formula`` is.
    formula : {"tanaka", "fox"}
        208 - 0.7 x age (Tanaka 2001) or 220 - age (Fox 1971).

    Returns
    -------
    numpy.ndarray
        NaN where age is missing.

    Examples
    --------
    >>> max_heart_rate(40), max_heart_rate(40, formula="fox")
    (array(180.), array(180.))
    >>> max_heart_rate([30, 60], beta_blocker=[False, True])
    array([187., 122.])
    """
    if formula not in ("tanaka", "fox"):
        raise ValueError(f"formula must be 'tanaka' or 'fox', got {formula!r}")
    age = np.asarray(age, dtype=float)
    on_blocker = np.asarray(beta_blocker, dtype=bool)
    intercept, slope = HRMAX_FORMULAS[formula]
    b_intercept, b_slope = HRMAX_FORMULAS["beta_blocker"]
    return np.where(on_blocker, b_intercept - b_slope * age, intercept - slope * age)


def karvonen_zone(
    resting_hr: float | np.ndarray,
    max_hr: float | np.ndarray,
    hrr_fraction: tuple[float, float] = (0.40, 0.59),
) -> tuple[np.ndarray, np.ndarray]:
    """Heart-rate zone from a range of heart-rate reserve (Karvonen), beats/min.

    Parameters
    ----------
    resting_hr, max_hr : float or array
    hrr_fraction : (float, float)
        Lower and upper share of heart-rate reserve (ACSM moderate: 0.40, 0.59).

    Returns
    -------
    (low, high) : tuple of numpy.ndarray
        HRrest + p x (HRmax - HRrest) for each bound; not rounded.

    Examples
    --------
    Resting 60, age 40 (Tanaka HRmax 180, reserve 120): 60 + 0.40 x 120 = 108 and
    60 + 0.59 x 120 = 130.8.

    >>> low, high = karvonen_zone(60, max_heart_rate(40))
    >>> float(low), round(float(high), 6)
    (108.0, 130.8)
    """
    low_p, high_p = _check_fraction(hrr_fraction)
    rest = np.asarray(resting_hr, dtype=float)
    reserve = np.asarray(max_hr, dtype=float) - rest
    return rest + low_p * reserve, rest + high_p * reserve


def _check_fraction(hrr_fraction: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in hrr_fraction)
    except (TypeError, ValueError):
        raise ValueError(
            f"hrr_fraction must be (low, high) shares of heart-rate reserve, got {hrr_fraction!r}"
        ) from None
    if not 0 <= low <= high <= 1:
        raise ValueError(f"hrr_fraction must satisfy 0 <= low <= high <= 1, got {hrr_fraction!r}")
    return low, high


@dataclass(frozen=True)
class HeartRateOptions:
    """How the prescribed heart-rate zone is set.

    Parameters
    ----------
    max_hr_formula : {"tanaka", "fox"}
        Predicted HRmax when ``max_hr`` is not given (participants on beta-blockers get
        164 - 0.7 x age either way).
    use_measured_max_hr : bool
        Use ``participants.max_hr`` when given (default); False predicts it for everyone.
    hrr_fraction : (float, float) or None
        The zone as shares of heart-rate reserve, for every participant; None takes each
        participant's arm's prescription's ``hrr_fraction``.

    Examples
    --------
    >>> HeartRateOptions(max_hr_formula="astrand")
    Traceback (most recent call last):
    ...
    ValueError: HeartRateOptions.max_hr_formula must be 'tanaka' or 'fox', got 'astrand'
    """

    max_hr_formula: str = "tanaka"
    use_measured_max_hr: bool = True
    hrr_fraction: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.max_hr_formula not in ("tanaka", "fox"):
            raise ValueError(
                "HeartRateOptions.max_hr_formula must be 'tanaka' or 'fox', "
                f"got {self.max_hr_formula!r}"
            )
        if self.hrr_fraction is not None:
            object.__setattr__(self, "hrr_fraction", _check_fraction(self.hrr_fraction))


def heart_rate_zones(trial: Trial, options: HeartRateOptions | None = None) -> pd.DataFrame:
    """Each participant's HRmax and prescribed heart-rate zone.

    Parameters
    ----------
    trial : Trial
    options : HeartRateOptions, optional

    Returns
    -------
    pandas.DataFrame
        One row per participant, in the participants table's order:

        - ``participant_id``, ``age``, ``resting_hr``;
        - ``max_hr_bpm`` and ``max_hr_source`` (``given``, ``tanaka``, ``fox``,
          ``beta_blocker``, or ``none`` when neither ``max_hr`` nor age is known);
        - ``hrr_fraction_low``, ``hrr_fraction_high``: the zone as shares of reserve;
        - ``zone_low_bpm``, ``zone_high_bpm``: the zone (NaN when resting HR or HRmax is
          unknown);
        - ``note``: why the zone is unknown, or how an unknown beta-blocker status was read.

    Raises
    ------
    ValueError
        When neither the options nor any arm's prescription give the zone
        (``hrr_fraction``).

    Notes
    -----
    Each participant's zone is their arm's prescription's ``hrr_fraction``
    (:meth:`Protocol.exercise_for`) unless ``options.hrr_fraction`` sets one for all; a
    participant whose arm prescribes no exercise has no zone (NaN, and ``note`` says so).

    Examples
    --------
    >>> import ketex
    >>> from ketex.derive.heart_rate import heart_rate_zones
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> zones = heart_rate_zones(trial)
    >>> columns = ["participant_id", "age", "resting_hr", "max_hr_bpm", "max_hr_source",
    ...            "zone_low_bpm", "zone_high_bpm"]
    >>> print(zones.loc[[0, 3], columns].round(1).to_string(index=False))
    participant_id  age  resting_hr  max_hr_bpm max_hr_source  zone_low_bpm  zone_high_bpm
              P001 27.0        78.0       189.1        tanaka         122.4          143.5
              P004 39.0        69.0       136.7  beta_blocker          96.1          108.9

    P001: HRmax = 208 - 0.7 x 27 = 189.1, reserve 111.1, zone 78 + 0.40 x 111.1 to
    78 + 0.59 x 111.1. P004 takes beta-blockers: HRmax = 164 - 0.7 x 39 = 136.7.
    """
    options = options or HeartRateOptions()
    people = trial.participants
    fraction = _fractions(trial, options)
    n = len(people)
    age = _numbers(people, "age")
    resting = _numbers(people, "resting_hr")
    blocker_known, _ = _beta_blocker(people)
    max_hr, source = participant_max_hr(people, options)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    for pair in {tuple(row) for row in fraction if np.isfinite(row).all()}:
        rows = (fraction == pair).all(axis=1)
        low[rows], high[rows] = karvonen_zone(resting[rows], max_hr[rows], pair)

    arms = people["arm"].astype("string").to_numpy()
    notes = []
    for k in range(n):
        why = []
        if not np.isfinite(fraction[k, 0]):
            why.append(f"arm {arms[k]} prescribes no exercise: no zone")
        if not np.isfinite(resting[k]):
            why.append("no resting_hr: zone unknown")
        if source[k] == "none":
            why.append("no max_hr and no age: HRmax unknown")
        if source[k] != "given" and not blocker_known[k]:
            why.append("beta_blocker unknown: taken as not on beta-blockers")
        notes.append("; ".join(why))
    return pd.DataFrame(
        {
            "participant_id": people["participant_id"].to_numpy(),
            "age": age,
            "resting_hr": resting,
            "max_hr_bpm": max_hr,
            "max_hr_source": pd.array(source, dtype="string"),
            "hrr_fraction_low": fraction[:, 0],
            "hrr_fraction_high": fraction[:, 1],
            "zone_low_bpm": low,
            "zone_high_bpm": high,
            "note": pd.array(notes, dtype="string"),
        },
        columns=list(_ZONE_COLUMNS),
    ).astype({"participant_id": "string"})


def participant_max_hr(
    participants: pd.DataFrame, options: HeartRateOptions | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """HRmax of each row of a participants table and where it came from.

    The measured ``max_hr`` when given (and ``options.use_measured_max_hr``), else
    predicted from age (``options.max_hr_formula``; beta-blockers: 164 - 0.7 x age).

    Returns
    -------
    (max_hr_bpm, source) : tuple of numpy.ndarray
        NaN and ``"none"`` where neither ``max_hr`` nor age is known; sources are
        ``given``, ``tanaka``, ``fox``, ``beta_blocker``.

    Examples
    --------
    >>> people = pd.DataFrame({"age": [40.0, 40.0, None], "max_hr": [None, 170.0, None]})
    >>> hr, source = participant_max_hr(people)
    >>> hr.tolist(), source.tolist()
    ([180.0, 170.0, nan], ['tanaka', 'given', 'none'])
    """
    options = options or HeartRateOptions()
    n = len(participants)
    age = _numbers(participants, "age")
    measured = (_numbers(participants, "max_hr") if options.use_measured_max_hr
                else np.full(n, np.nan))  # fmt: skip
    _, on_blocker = _beta_blocker(participants)
    predicted = max_heart_rate(age, beta_blocker=on_blocker, formula=options.max_hr_formula)
    max_hr = np.where(np.isfinite(measured), measured, predicted)
    source = np.where(
        np.isfinite(measured),
        "given",
        np.where(
            ~np.isfinite(age), "none", np.where(on_blocker, "beta_blocker", options.max_hr_formula)
        ),
    )
    return max_hr, source


def _fractions(trial: Trial, options: HeartRateOptions) -> np.ndarray:
    """(low, high) share of heart-rate reserve per participant; NaN for an arm without
    exercise. The options' zone, else each participant's arm's prescription."""
    arms = trial.participants["arm"].astype("string")
    if options.hrr_fraction is not None:
        return np.tile(np.asarray(options.hrr_fraction, dtype=float), (len(arms), 1))
    protocol = trial.protocol
    by_arm = {}
    for code in protocol.arm_codes:
        plan = protocol.exercise_for(code)
        by_arm[code] = _check_fraction(plan.hrr_fraction) if plan is not None else None
    if all(v is None for v in by_arm.values()):
        raise ValueError(
            "the heart-rate zone is not known: no arm of study.toml prescribes exercise; add "
            "hrr_fraction to its [exercise] or [arms.exercise] table, or pass "
            "HeartRateOptions(hrr_fraction=(low, high))"
        )
    return np.array(
        [by_arm.get(arm) or (np.nan, np.nan) for arm in arms], dtype=float
    ).reshape(len(arms), 2)


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _beta_blocker(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(known, on beta-blockers) per participant; an absent column means none take them."""
    if "beta_blocker" not in frame.columns:
        return np.ones(len(frame), bool), np.zeros(len(frame), bool)
    values = frame["beta_blocker"].astype("boolean")
    return values.notna().to_numpy(), values.fillna(False).to_numpy(dtype=bool)
