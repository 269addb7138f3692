"""Simulated device recordings: per-second heart rate (and power when cycling) of sessions.

Each stream is made to agree with its session's row of the exercise table
(:func:`ketex.simulate.exercise.simulate_sessions`): it lasts ``duration_min`` (records at
0, 1, ..., 60 x ``duration_min`` s), its time-weighted mean heart rate is ``avg_hr`` and,
for a session with ``watts``, its mean power is ``watts`` (both to within the rounding of
the recorded values to whole beats and watts). The shape: a warm-up ramp, a plateau and a
cool-down ramp, a slow AR(1) wander and per-second noise; the plateau is solved for so
that the mean is the summary's, then the noise's own mean is taken out. ``peak_hr`` and
``rpe`` are not matched.

Every session's stream is drawn from its own generator, ``numpy.random.default_rng([seed,
participant number, day])``, so a stream does not depend on which other sessions are
simulated and the same seed always gives the same streams.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.errors import KetexError

__all__ = ["StreamDesign", "simulate_session_stream", "simulate_streams"]

#: The columns of :func:`simulate_streams`, in order.
SIMULATED_STREAM_COLUMNS = ("participant_id", "session_id", "day", "elapsed_s", "timestamp",
                            "heart_rate_bpm", "power_w")  # fmt: skip


@dataclass(frozen=True)
class StreamDesign:
    """How simulated streams look.

    Parameters
    ----------
    warmup_min, cooldown_min : float
        Length of the warm-up and cool-down ramps, minutes; a session shorter than
        ``4 x (warmup_min + cooldown_min)`` has ramps shortened in proportion.
    start_share, end_share : float
        Heart-rate reserve used (above ``resting_hr``) at the start of the warm-up and the
        end of the cool-down, as a share of the plateau's; power likewise.
    wander_sd_bpm, wander_time_s : float
        Slow wander of heart rate: an AR(1) process with this SD and time constant.
    noise_sd_bpm, power_noise_cv : float
        Per-second noise: SD of heart rate (bpm) and coefficient of variation of power.
    start_hours : (float, float)
        Sessions start at a uniformly drawn time between these hours of the session day
        (written as UTC).

    Examples
    --------
    >>> StreamDesign(warmup_min=-1)
    Traceback (most recent call last):
    ...
    ketex.errors.KetexError: StreamDesign: warmup_min and cooldown_min must be >= 0, ...
    """

    warmup_min: float = 5.0
    cooldown_min: float = 5.0
    start_share: float = 0.35
    end_share: float = 0.6
    wander_sd_bpm: float = 3.0
    wander_time_s: float = 90.0
    noise_sd_bpm: float = 1.5
    power_noise_cv: float = 0.08
    start_hours: tuple[float, float] = (8.0, 18.0)

    def __post_init__(self) -> None:
        if not (self.warmup_min >= 0 and self.cooldown_min >= 0):
            raise KetexError("StreamDesign: warmup_min and cooldown_min must be >= 0, got "
                             f"{self.warmup_min!r} and {self.cooldown_min!r}")  # fmt: skip
        if not (0 <= self.start_share <= 1 and 0 <= self.end_share <= 1):
            raise KetexError("StreamDesign: start_share and end_share must be in [0, 1]")
        if not (self.wander_sd_bpm >= 0 and self.noise_sd_bpm >= 0
                and self.power_noise_cv >= 0 and self.wander_time_s > 0):  # fmt: skip
            raise KetexError("StreamDesign: noise SDs must be >= 0, wander_time_s > 0")
        low, high = self.start_hours
        if not 0 <= low <= high < 24:
            raise KetexError(f"StreamDesign: start_hours must be 0 <= low <= high < 24, got "
                             f"{self.start_hours!r}")  # fmt: skip


def _profile(n: int, design: StreamDesign) -> np.ndarray:
    """Share of the plateau at each of the ``n`` seconds after the start (records 1..n)."""
    t = np.arange(1, n + 1, dtype=float)
    warm, cool = design.warmup_min * 60.0, design.cooldown_min * 60.0
    if warm + cool > 0 and 4 * (warm + cool) > n:
        scale = n / (4 * (warm + cool))
        warm, cool = warm * scale, cool * scale
    shape = np.ones(n)
    if warm > 0:
        up = t < warm
        shape[up] = design.start_share + (1 - design.start_share) * t[up] / warm
    if cool > 0:
        down = t > n - cool
        shape[down] = 1 - (1 - design.end_share) * (t[down] - (n - cool)) / cool
    return shape


def _ar1(n: int, sd: float, time_s: float, rng: np.random.Generator) -> np.ndarray:
    phi = np.exp(-1.0 / time_s)
    shocks = rng.standard_normal(n) * sd * np.sqrt(1 - phi**2)
    from scipy.signal import lfilter

    start = rng.standard_normal() * sd  # the process in its stationary distribution
    out, _ = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * start])
    return out


def simulate_session_stream(
    *,
    duration_min: float,
    avg_hr: float,
    resting_hr: float,
    watts: float | None = None,
    rng: np.random.Generator,
    design: StreamDesign | None = None,
) -> pd.DataFrame:
    """One session's per-second stream, agreeing with its summary.

    Parameters
    ----------
    duration_min : float
        Session length, minutes (> 0); records at 0, 1, ..., ``round(60 x duration_min)`` s.
    avg_hr : float
        The session's mean heart rate, beats/min; the stream's time-weighted mean over
        records 1.. (the first only marks the start, as in :func:`ketex.training_load`).
    resting_hr : float
        The participant's resting heart rate: the ramps start and end between it and the
        plateau.
    watts : float, optional
        The session's mean power; None or NaN: no power (``power_w`` NaN).
    rng : numpy.random.Generator
    design : StreamDesign, optional

    Returns
    -------
    pandas.DataFrame
        ``elapsed_s`` (float), ``heart_rate_bpm`` (whole beats), ``power_w`` (whole watts
        or NaN).

    Examples
    --------
    >>> import numpy as np
    >>> s = simulate_session_stream(duration_min=45, avg_hr=133, resting_hr=72, watts=81,
    ...                             rng=np.random.default_rng(0))
    >>> len(s), float(s["elapsed_s"].iloc[-1])
    (2701, 2700.0)
    >>> round(float(s["heart_rate_bpm"].iloc[1:].mean()), 1), round(float(s["power_w"].iloc[1:].mean()), 1)
    (133.0, 81.0)
    """  # noqa: E501
    design = design or StreamDesign()
    n = int(round(60.0 * float(duration_min)))
    if n < 1 or not np.isfinite(avg_hr) or not np.isfinite(resting_hr):
        raise KetexError(f"simulate_session_stream: duration_min {duration_min!r} must be at "
                         f"least 1 s and avg_hr {avg_hr!r}, resting_hr {resting_hr!r} "
                         "numbers")  # fmt: skip
    shape = _profile(n, design)
    onset = min(float(resting_hr), float(avg_hr))
    # mean(onset + (plateau - onset) x shape) = avg_hr
    plateau = onset + (float(avg_hr) - onset) / shape.mean()
    hr = onset + (plateau - onset) * shape
    hr += _ar1(n, design.wander_sd_bpm, design.wander_time_s, rng)
    hr += design.noise_sd_bpm * rng.standard_normal(n)
    hr = np.round(hr - (hr.mean() - float(avg_hr)))
    hr = np.concatenate(([hr[0]], hr))
    power = np.full(n + 1, np.nan)
    if watts is not None and np.isfinite(watts):
        p = float(watts) * shape / shape.mean()
        p *= 1 + design.power_noise_cv * rng.standard_normal(n)
        p = np.clip(p, 0, None)
        p = np.round(p * float(watts) / p.mean()) if p.mean() > 0 else np.zeros(n)
        power = np.concatenate(([p[0]], p))
    return pd.DataFrame({"elapsed_s": np.arange(n + 1, dtype=float),
                         "heart_rate_bpm": hr, "power_w": power})  # fmt: skip


def simulate_streams(
    trial: object,
    participant_ids: Iterable[str] | None = None,
    *,
    seed: int = 0,
    design: StreamDesign | None = None,
) -> pd.DataFrame:
    """Per-second streams of the exercise sessions of a trial's participants.

    Parameters
    ----------
    trial : Trial
        A trial with an exercise table (``duration_min``, ``avg_hr``, optionally
        ``watts``) and participants with ``resting_hr`` (and ``randomization_date`` for
        clock times).
    participant_ids : iterable of str, optional
        Whose sessions; None: everyone's. Sessions without ``avg_hr`` or of 0 minutes
        have no stream.
    seed : int
        Seed; each session's generator is ``default_rng([seed, number, day])`` with
        ``number`` the participant's position in ``trial.participants``.
    design : StreamDesign, optional

    Returns
    -------
    pandas.DataFrame
        :data:`SIMULATED_STREAM_COLUMNS`: ``participant_id``, ``session_id``
        (``"day003"``), ``day``, ``elapsed_s``, ``timestamp`` (naive UTC; NaT without
        ``randomization_date``), ``heart_rate_bpm``, ``power_w``, sorted by participant and
        day.

    Examples
    --------
    >>> import ketex
    >>> from ketex.simulate.streams import simulate_streams
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> s = simulate_streams(trial, ["P001"], seed=1)
    >>> s.groupby("session_id").size().head(3).tolist()
    [2701, 2701, 2701]
    >>> first = s[s["session_id"] == "day003"].iloc[1:]
    >>> round(float(first["heart_rate_bpm"].mean()), 1), str(first["timestamp"].iloc[0].date())
    (133.0, '2024-01-17')
    """
    design = design or StreamDesign()
    people = trial.participants.reset_index(drop=True)
    number = {pid: i for i, pid in enumerate(people["participant_id"])}
    wanted = list(number) if participant_ids is None else list(participant_ids)
    unknown = [p for p in wanted if p not in number]
    if unknown:
        raise KetexError(f"simulate_streams: participants {unknown} are not in the trial")
    person = people.set_index("participant_id")
    sessions = trial.exercise
    sessions = sessions[sessions["participant_id"].isin(wanted)]
    sessions = sessions.sort_values(["participant_id", "day"], kind="stable")
    parts = []
    for _, row in sessions.iterrows():
        pid, day = str(row["participant_id"]), int(row["day"])
        if pd.isna(row.get("avg_hr")) or not row["duration_min"] > 0:
            continue
        rng = np.random.default_rng([seed, number[pid], day])
        watts = row.get("watts", np.nan)
        stream = simulate_session_stream(
            duration_min=float(row["duration_min"]), avg_hr=float(row["avg_hr"]),
            resting_hr=float(person.at[pid, "resting_hr"]),
            watts=None if pd.isna(watts) else float(watts), rng=rng, design=design)
        low, high = design.start_hours
        start_s = round(3600 * (low + (high - low) * rng.random()))
        randomised = person["randomization_date"].get(pid) if (
            "randomization_date" in person.columns) else None
        if randomised is None or pd.isna(randomised):
            stamps = pd.Series(pd.NaT, index=stream.index, dtype="datetime64[ns]")
        else:
            origin = pd.Timestamp(randomised).normalize() + pd.Timedelta(days=day,
                                                                         seconds=start_s)
            stamps = origin + pd.to_timedelta(stream["elapsed_s"], unit="s")
        stream.insert(1, "timestamp", stamps.astype("datetime64[ns]"))
        stream.insert(0, "day", day)
        stream.insert(0, "session_id", f"day{day:03d}")
        stream.insert(0, "participant_id", pid)
        parts.append(stream)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SIMULATED_STREAM_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"participant_id": "string", "session_id": "string", "day": "int64"})
