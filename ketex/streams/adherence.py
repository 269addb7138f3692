"""Intensity fidelity from what was recorded: minutes of each stream inside the heart-rate
zone that the participant's arm prescribes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.derive.heart_rate import HeartRateOptions, karvonen_zone, participant_max_hr
from ketex.errors import KetexError
from ketex.streams.records import MAX_GAP_S, SPIKE_MARGIN_BPM, classify_records
from ketex.study.trial import Trial

__all__ = ["ADHERENCE_COLUMNS", "stream_adherence"]

#: The columns of :func:`stream_adherence`, by ``by``.
ADHERENCE_COLUMNS = {
    "session": (
        "participant_id", "arm", "session_id", "day", "zone_low_bpm", "zone_high_bpm",
        "duration_min", "monitored_min", "minutes_below_zone", "minutes_in_zone",
        "minutes_above_zone", "intensity_fidelity", "prescribed_duration_min",
        "meets_duration", "note",
    ),
    "participant": (
        "participant_id", "arm", "zone_low_bpm", "zone_high_bpm", "sessions_recorded",
        "duration_min", "monitored_min", "minutes_below_zone", "minutes_in_zone",
        "minutes_above_zone", "intensity_fidelity", "sessions_meeting_duration", "note",
    ),
}  # fmt: skip
_MINUTES = ("duration_min", "monitored_min", "minutes_below_zone", "minutes_in_zone",
            "minutes_above_zone")  # fmt: skip


def stream_adherence(
    trial: Trial,
    by: str = "session",
    *,
    heart_rate: HeartRateOptions | None = None,
    max_gap_s: float = MAX_GAP_S,
    spike_margin_bpm: float = SPIKE_MARGIN_BPM,
) -> pd.DataFrame:
    """Share of recorded minutes inside each participant's prescribed heart-rate zone.

    Parameters
    ----------
    trial : Trial
        Loaded from a study folder with a ``streams/`` folder (``trial.streams``).
    by : {"session", "participant"}
        One row per recording, or one per participant of the trial (those without a
        recording too, with 0 sessions).
    heart_rate : HeartRateOptions, optional
        HRmax formula, and a zone (``hrr_fraction``) to use for every arm instead of
        each arm's own.
    max_gap_s, spike_margin_bpm : float
        Gaps and spikes, as in :func:`ketex.training_load` (defaults 5 s and 20 bpm).

    Returns
    -------
    pandas.DataFrame
        ``by="session"`` (:data:`ADHERENCE_COLUMNS`): ``participant_id, arm,
        session_id, day``, the zone ``zone_low_bpm, zone_high_bpm``, ``duration_min``
        (last minus first record), ``monitored_min`` (minutes with a usable heart rate:
        no gap, dropout or spike), ``minutes_below_zone, minutes_in_zone,
        minutes_above_zone`` (summing to ``monitored_min``), ``intensity_fidelity`` =
        ``minutes_in_zone / monitored_min``, the arm's ``prescribed_duration_min``,
        ``meets_duration`` (``duration_min`` at least the prescribed minutes) and
        ``note``. ``by="participant"``: the minutes summed over the participant's
        sessions, ``sessions_recorded``, ``intensity_fidelity`` of the sums (minutes
        weighted, not a mean of session shares) and ``sessions_meeting_duration``.

        Where the zone is unknown (no ``resting_hr``, no HRmax, or an arm without
        exercise) the zone minutes and fidelity are NaN, and ``note`` says why;
        fidelity is NaN when nothing was monitored.

    Raises
    ------
    ketex.KetexError
        The trial has no streams, or ``by`` is unknown.

    Notes
    -----
    The zone is Karvonen's: ``HRrest + p x (HRmax - HRrest)`` for p in the
    ``hrr_fraction`` of ``trial.protocol.exercise_for(arm)``, HRmax measured
    (``max_hr``) or predicted from age as in :func:`ketex.derive.heart_rate.heart_rate_zones`.
    Every record holds for the seconds since the previous one
    (:mod:`ketex.streams.records`); a heart rate inside the zone, bounds included,
    counts as in the zone. Unlike :func:`ketex.derive.exercise.exercise_dose`, which can
    only place a whole session in or out of the zone by its mean heart rate, each
    second is placed.

    Examples
    --------
    >>> import ketex, pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "study"
    >>> _ = shutil.copytree(ketex.sample_study_path(), folder,
    ...                     ignore=shutil.ignore_patterns("streams"))
    >>> (folder / "streams").mkdir()
    >>> rows = "".join(f"{s},{120 if s <= 300 else 130}\\n" for s in range(601))
    >>> _ = (folder / "streams" / "p1.csv").write_text("elapsed_s,heart_rate_bpm\\n" + rows)
    >>> _ = (folder / "streams" / "manifest.csv").write_text(
    ...     "file,participant_id,day\\np1.csv,P001,3\\n")
    >>> out = ketex.stream_adherence(ketex.load_trial(folder))
    >>> out[["zone_low_bpm", "minutes_below_zone", "minutes_in_zone",
    ...      "intensity_fidelity"]].round(2)
       zone_low_bpm  minutes_below_zone  minutes_in_zone  intensity_fidelity
    0        122.44                 5.0              5.0                 0.5

    P001's zone is 78 + 0.40 x (189.1 - 78) = 122.44 to 143.55 bpm: seconds 1-300 at
    120 bpm are below it, seconds 301-600 at 130 bpm inside.
    """
    if by not in ADHERENCE_COLUMNS:
        raise KetexError(f"by must be 'session' or 'participant', got {by!r}")
    if trial.streams is None:
        raise KetexError("the trial has no device streams: put the recordings in a streams/ "
                         "folder of the study folder with its manifest.csv (see "
                         "docs/study-folder.md)")  # fmt: skip
    people = _zones(trial, heart_rate or HeartRateOptions())
    rows = []
    for row, stream in trial.streams.iter_sessions():
        person = people.loc[row["participant_id"]]
        rows.append(_session(row, stream, person, max_gap_s, spike_margin_bpm))
    sessions = pd.DataFrame(rows, columns=list(ADHERENCE_COLUMNS["session"]))
    sessions = sessions.astype({"day": "Int64", "meets_duration": "boolean",
                                "participant_id": "string", "session_id": "string",
                                "arm": "string", "note": "string"})  # fmt: skip
    if by == "session":
        return sessions
    return _by_participant(sessions, people)


def _zones(trial: Trial, options: HeartRateOptions) -> pd.DataFrame:
    """Per participant: arm, zone, prescribed minutes, HRmax and what is unknown."""
    table = trial.participants
    max_hr, _ = participant_max_hr(table, options)
    resting = pd.to_numeric(table.get("resting_hr", pd.Series(np.nan, index=table.index)))
    rows = []
    for k, (pid, arm) in enumerate(zip(table["participant_id"], table["arm"], strict=True)):
        prescription = trial.protocol.exercise_for(str(arm))
        why = []
        if prescription is None:
            why.append(f"arm {arm} prescribes no exercise: no zone")
            low = high = minutes = np.nan
        else:
            fraction = options.hrr_fraction or prescription.hrr_fraction
            low, high = (float(v) for v in karvonen_zone(resting.iloc[k], max_hr[k], fraction))
            minutes = float(prescription.duration_min)
            if not np.isfinite(resting.iloc[k]):
                why.append("no resting_hr: zone unknown")
            if not np.isfinite(max_hr[k]):
                why.append("no max_hr and no age: zone unknown")
        rows.append({"participant_id": pid, "arm": arm, "zone_low_bpm": low,
                     "zone_high_bpm": high, "prescribed_duration_min": minutes,
                     "hr_max": max_hr[k], "note": "; ".join(why)})  # fmt: skip
    return pd.DataFrame(rows).set_index("participant_id", drop=False)


def _session(row: pd.Series, stream: pd.DataFrame, person: pd.Series, max_gap_s: float,
             spike_margin_bpm: float) -> dict[str, object]:  # fmt: skip
    ordered = stream.sort_values("elapsed_s", kind="stable")
    t = ordered["elapsed_s"].to_numpy(dtype=float)
    hr = ordered["heart_rate_bpm"].to_numpy(dtype=float)
    c = classify_records(t, hr, person["hr_max"], max_gap_s=max_gap_s,
                         spike_margin_bpm=spike_margin_bpm)  # fmt: skip
    minutes = np.where(c.valid, c.dt, 0.0) / 60.0
    low, high = person["zone_low_bpm"], person["zone_high_bpm"]
    monitored = float(minutes.sum())
    known = np.isfinite(low) and np.isfinite(high)
    if known:
        below = float(minutes[hr < low].sum())
        above = float(minutes[hr > high].sum())
        inside = monitored - below - above
    else:
        below = inside = above = np.nan
    duration = float(t[-1] - t[0]) / 60.0
    note = person["note"] or ("no heart rate recorded" if monitored == 0 else "")
    prescribed = person["prescribed_duration_min"]
    return {"participant_id": row["participant_id"], "arm": person["arm"],
            "session_id": row["session_id"], "day": row["day"], "zone_low_bpm": low,
            "zone_high_bpm": high, "duration_min": duration, "monitored_min": monitored,
            "minutes_below_zone": below, "minutes_in_zone": inside,
            "minutes_above_zone": above,
            "intensity_fidelity": inside / monitored if monitored > 0 else np.nan,
            "prescribed_duration_min": prescribed,
            "meets_duration": (pd.NA if not np.isfinite(prescribed)
                               else bool(duration >= prescribed)),
            "note": note}  # fmt: skip


def _by_participant(sessions: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    grouped = sessions.groupby("participant_id", sort=False)
    sums = grouped[list(_MINUTES)].sum(min_count=1)
    counts = grouped.size()
    meeting = grouped["meets_duration"].sum()
    rows = []
    for pid, person in people.iterrows():
        n = int(counts.get(pid, 0))
        # pandas-stubs: DataFrame.at gives any scalar, here a float sum
        values = {m: (float(sums.at[pid, m]) if n else 0.0) for m in _MINUTES}  # type: ignore[arg-type]
        if not np.isfinite(person["zone_low_bpm"]) or not np.isfinite(person["zone_high_bpm"]):
            for m in _MINUTES[2:]:
                values[m] = np.nan
        monitored = values["monitored_min"]
        fidelity = (values["minutes_in_zone"] / monitored if monitored > 0 else np.nan)
        rows.append({"participant_id": pid, "arm": person["arm"],
                     "zone_low_bpm": person["zone_low_bpm"],
                     "zone_high_bpm": person["zone_high_bpm"], "sessions_recorded": n,
                     **values, "intensity_fidelity": fidelity,
                     "sessions_meeting_duration": (int(meeting.get(pid, 0))
                                                   if np.isfinite(person["prescribed_duration_min"])
                                                   else pd.NA),
                     "note": person["note"] or ("" if n else "no recorded session")})  # fmt: skip
    out = pd.DataFrame(rows, columns=list(ADHERENCE_COLUMNS["participant"]))
    return out.astype({"participant_id": "string", "arm": "string", "note": "string",
                       "sessions_recorded": "int64",
                       "sessions_meeting_duration": "Int64"}).reset_index(drop=True)  # fmt: skip
