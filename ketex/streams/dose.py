"""The exercise dose with the recorded sessions' own minutes: where a session has a stream,
its minutes in the prescribed zone, monitored minutes, duration and training load come
from the stream, not from the summary row, and the difference is reported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.derive._cache import cached, copy_frame
from ketex.derive.exercise import KCAL_PER_KG_PER_MET_MIN, ExerciseDoseOptions, exercise_dose
from ketex.derive.mets import acsm_cycling_met, normalise_modality
from ketex.errors import DataValidationError, KetexError
from ketex.streams.load import training_load
from ketex.streams.records import MAX_GAP_S, SPIKE_MARGIN_BPM, classify_records
from ketex.study.trial import Trial

__all__ = ["STREAM_DOSE_COLUMNS", "stream_dose"]

_RECORDED = ("stream_session_id", "duration_min_stream", "minutes_monitored_stream",
             "minutes_in_zone_stream", "mean_hr_bpm_stream", "trimp_banister",
             "trimp_edwards", "work_kj", "mean_power_w", "met_stream")  # fmt: skip

#: The columns of :func:`stream_dose`, by ``by``.
STREAM_DOSE_COLUMNS = {
    "session": (
        "participant_id", "arm", "day", "week", "counted", "source", "stream_session_id",
        "duration_min", "duration_min_summary", "duration_min_stream",
        "duration_difference_min", "avg_hr", "mean_hr_bpm_stream", "zone_low_bpm",
        "zone_high_bpm", "minutes_monitored", "minutes_in_zone", "minutes_in_zone_summary",
        "minutes_in_zone_stream", "minutes_in_zone_difference", "trimp_banister",
        "trimp_edwards", "work_kj", "mean_power_w", "met", "met_stream", "met_minutes",
        "met_minutes_summary", "note",
    ),
    "week": (
        "participant_id", "arm", "week", "first_day", "last_day", "sessions_prescribed",
        "sessions_attended", "sessions_streamed", "duration_min", "duration_min_streamed",
        "minutes_in_zone", "minutes_monitored", "intensity_fidelity",
        "minutes_in_zone_summary", "minutes_monitored_summary",
        "intensity_fidelity_summary", "minutes_in_zone_difference", "trimp_banister",
        "trimp_edwards", "work_kj", "met_minutes", "kkw", "met_minutes_summary",
        "kkw_summary", "note",
    ),
}  # fmt: skip


def stream_dose(
    trial: Trial,
    by: str = "week",
    options: ExerciseDoseOptions | None = None,
    *,
    max_gap_s: float = MAX_GAP_S,
    spike_margin_bpm: float = SPIKE_MARGIN_BPM,
) -> pd.DataFrame:
    """Weekly (or per-session) exercise dose where recorded sessions count as recorded.

    Parameters
    ----------
    trial : Trial
        With an exercise table and a ``streams/`` folder (``trial.streams``).
    by : {"week", "session"}
        One row per participant and programme week (the rows of
        ``exercise_dose(trial, "week")``), or one per exercise-table row (plus one per
        recording that has no row).
    options : ExerciseDoseOptions, optional
        As for :func:`ketex.derive.exercise.exercise_dose`: prescription, HRmax formula
        and zone.
    max_gap_s, spike_margin_bpm : float
        Gaps and spikes, as in :func:`ketex.training_load`.

    Returns
    -------
    pandas.DataFrame
        ``by="session"`` (:data:`STREAM_DOSE_COLUMNS`): the session's keys from
        ``exercise_dose(trial, "session")``, ``source`` (``"stream"`` or ``"summary"``),
        ``stream_session_id``; ``duration_min`` (the stream's where there is one),
        ``duration_min_summary``, ``duration_min_stream`` and ``duration_difference_min``
        (stream - summary); ``avg_hr`` (summary) and ``mean_hr_bpm_stream``; the zone;
        ``minutes_monitored`` and ``minutes_in_zone`` (stream wins),
        ``minutes_in_zone_summary`` (the whole session or nothing, by ``avg_hr``),
        ``minutes_in_zone_stream``, ``minutes_in_zone_difference`` (stream - summary);
        ``trimp_banister``, ``trimp_edwards``, ``work_kj``, ``mean_power_w`` (NaN without a
        stream); ``met`` (summary) and ``met_stream`` (ACSM leg cycling from the
        recorded mean power, for cycling arms); ``met_minutes`` (``met_stream`` where
        known, else ``met``, times ``duration_min``) and ``met_minutes_summary``
        (``exercise_dose``'s); ``note``.

        ``by="week"``: ``participant_id, arm, week, first_day, last_day,
        sessions_prescribed, sessions_attended`` and ``duration_min`` (summary),
        ``sessions_streamed``, ``duration_min_streamed`` (recorded minutes of those);
        ``minutes_in_zone``, ``minutes_monitored``, ``intensity_fidelity`` with the stream
        winning for each recorded session, the same from the summaries alone
        (``*_summary``: ``exercise_dose``'s values) and ``minutes_in_zone_difference``;
        ``trimp_banister``, ``trimp_edwards``, ``work_kj`` summed over the week's recorded
        sessions (NaN in a week without one); ``met_minutes`` and ``kkw`` (0.0175 x
        MET-minutes) with the recorded sessions' own minutes and measured-power MET, and
        ``met_minutes_summary``, ``kkw_summary`` (``exercise_dose``'s); ``note`` from
        ``exercise_dose``.

    Raises
    ------
    ketex.KetexError
        The trial has no streams, or ``by`` is unknown.

    Notes
    -----
    A recording is matched to the exercise-table row of its participant and manifest
    ``day`` (two recordings of one day are summed into that day's first row). Only
    counted sessions (``exercise_dose``'s ``counted``) enter a week. For a recorded
    session ``minutes_monitored`` are its seconds with a usable heart rate (no gap,
    dropout or spike) and ``minutes_in_zone`` those inside the zone, bounds included, as
    in :func:`ketex.stream_adherence`; for the rest they are the summary's (the whole
    session when ``avg_hr`` is known). A week's ``minutes_in_zone`` is NaN when a
    counted session's verdict is unknown, as in ``exercise_dose``, and its fidelity is
    minutes in zone over minutes monitored. TRIMPs take HRrest from ``resting_hr``, HRmax
    from ``exercise_dose`` (measured or predicted) and ``sex``; without one they are NaN.

    Examples
    --------
    >>> import ketex
    >>> weeks = ketex.stream_dose(ketex.load_trial(ketex.sample_study_path()))
    >>> p001 = weeks[weeks["participant_id"] == "P001"].head(3)
    >>> print(p001[["week", "sessions_attended", "sessions_streamed",
    ...             "intensity_fidelity_summary", "intensity_fidelity",
    ...             "trimp_banister"]].round(2).to_string(index=False))
     week  sessions_attended  sessions_streamed  intensity_fidelity_summary  intensity_fidelity  trimp_banister
        1                  2                  2                         1.0                0.87           84.13
        2                  3                  3                         1.0                0.86           91.68
        3                  3                  3                         1.0                0.83          136.81

    P001's mean heart rate put every session inside the zone (fidelity 1.0 from the
    summaries); second by second, the warm-up and cool-down are below it.
    """  # noqa: E501
    if by not in STREAM_DOSE_COLUMNS:
        raise KetexError(f"by must be 'week' or 'session', got {by!r}")
    if trial.streams is None:
        raise KetexError("the trial has no device streams: put the recordings in a streams/ "
                         "folder of the study folder with its manifest.csv (see "
                         "docs/study-folder.md)")  # fmt: skip
    options = options or ExerciseDoseOptions()
    key = (by, options, max_gap_s, spike_margin_bpm)
    return cached(trial, "stream_dose", key,
                  lambda: _stream_dose(trial, by, options, max_gap_s, spike_margin_bpm),
                  copy_frame)  # fmt: skip


def _stream_dose(trial: Trial, by: str, options: ExerciseDoseOptions, max_gap_s: float,
                 spike_margin_bpm: float) -> pd.DataFrame:  # fmt: skip
    people = exercise_dose(trial, "participant", options).set_index("participant_id")
    info = trial.participants.set_index("participant_id")
    recorded = _recordings(trial, people, info, options, max_gap_s, spike_margin_bpm)
    sessions = _sessions(exercise_dose(trial, "session", options), recorded, people)
    if by == "session":
        return sessions.loc[:, list(STREAM_DOSE_COLUMNS["session"])].reset_index(drop=True)
    return _weeks(exercise_dose(trial, "week", options), sessions)


def _recordings(trial: Trial, people: pd.DataFrame, info: pd.DataFrame,
                options: ExerciseDoseOptions, max_gap_s: float,
                spike_margin_bpm: float) -> pd.DataFrame:  # fmt: skip
    """One row per recording: its minutes, zone minutes and load (one participant's
    recordings in memory at a time)."""
    rows = []
    streams = trial.streams
    if streams is None:  # stream_dose checks first; nothing recorded, nothing to add
        return pd.DataFrame(columns=["participant_id", "day", *_RECORDED, "_hr_minutes"])
    index = streams.sessions
    for pid in pd.unique(index["participant_id"]):
        stream = streams.read(participant_id=pid)
        person, who = people.loc[pid], info.loc[pid]
        loads = _load(stream, who, person, max_gap_s, spike_margin_bpm).set_index("session_id")
        prescription = options.prescription or trial.protocol.exercise_for(str(person["arm"]))
        cycling = (prescription is not None
                   and normalise_modality(prescription.modality) == "cycling")  # fmt: skip
        weight = pd.to_numeric(pd.Series([who.get("weight_kg", np.nan)])).iloc[0]
        low, high = person["zone_low_bpm"], person["zone_high_bpm"]
        for sid, session in stream.groupby("session_id", sort=False):
            ordered = session.sort_values("elapsed_s", kind="stable")
            t = ordered["elapsed_s"].to_numpy(dtype=float)
            hr = ordered["heart_rate_bpm"].to_numpy(dtype=float)
            c = classify_records(t, hr, person["max_hr_bpm"], max_gap_s=max_gap_s,
                                 spike_margin_bpm=spike_margin_bpm)  # fmt: skip
            minutes = np.where(c.valid, c.dt, 0.0) / 60.0
            inside = (float(minutes[(hr >= low) & (hr <= high)].sum())
                      if np.isfinite(low) and np.isfinite(high) else np.nan)  # fmt: skip
            load = loads.loc[sid].to_dict()  # the recording's one row
            power = float(load["mean_power_w"])
            met = (float(acsm_cycling_met(power, weight)) if cycling and np.isfinite(power)
                   and np.isfinite(weight) else np.nan)  # fmt: skip
            rows.append({
                "participant_id": pid, "day": int(ordered["day"].iloc[0]),
                "stream_session_id": str(sid),
                "duration_min_stream": float(t[-1] - t[0]) / 60.0,
                "minutes_monitored_stream": float(minutes.sum()),
                "minutes_in_zone_stream": inside,
                "_hr_minutes": float((np.where(c.valid, hr, 0.0) * minutes).sum()),
                "trimp_banister": float(load["trimp_banister"]),
                "trimp_edwards": float(load["trimp_edwards"]),
                "work_kj": float(load["work_kj"]), "mean_power_w": power, "met_stream": met,
            })  # fmt: skip
    frame = pd.DataFrame(rows, columns=["participant_id", "day", *_RECORDED, "_hr_minutes"])
    sums = ["duration_min_stream", "minutes_monitored_stream", "minutes_in_zone_stream",
            "_hr_minutes", "trimp_banister", "trimp_edwards", "work_kj"]  # fmt: skip
    grouped = frame.groupby(["participant_id", "day"], sort=False)
    out = grouped[sums].sum(min_count=1)
    out["stream_session_id"] = grouped["stream_session_id"].agg("+".join)
    # power and its MET are means over the day's recordings, weighted by recorded minutes
    for name in ("mean_power_w", "met_stream"):
        weighted = frame[name] * frame["duration_min_stream"]
        out[name] = (weighted.groupby([frame["participant_id"], frame["day"]], sort=False)
                     .sum(min_count=1) / out["duration_min_stream"])  # fmt: skip
    out["mean_hr_bpm_stream"] = out["_hr_minutes"] / out["minutes_monitored_stream"].replace(
        0, np.nan)
    return out.reset_index()


def _load(stream: pd.DataFrame, who: pd.Series, person: pd.Series, max_gap_s: float,
          spike_margin_bpm: float) -> pd.DataFrame:  # fmt: skip
    """:func:`training_load` of one participant's recordings; NaN TRIMPs when HRrest,
    HRmax or sex is unknown (power is still summarised)."""
    columns = ["participant_id", "session_id", "elapsed_s", "heart_rate_bpm", "power_w"]
    try:
        # a missing HRrest or sex (None) is refused and falls to the except below
        return training_load(stream[columns], hr_rest=who.get("resting_hr"),  # type: ignore[arg-type]
                             hr_max=person["max_hr_bpm"], sex=who.get("sex"),  # type: ignore[arg-type]
                             max_gap_s=max_gap_s, spike_margin_bpm=spike_margin_bpm)
    except (DataValidationError, KeyError, TypeError, ValueError):
        load = training_load(stream[columns], hr_rest=0.0, hr_max=1.0, sex="male",
                             max_gap_s=max_gap_s, spike_margin_bpm=np.inf)
        return load.assign(trimp_banister=np.nan, trimp_edwards=np.nan)


def _sessions(base: pd.DataFrame, recorded: pd.DataFrame, people: pd.DataFrame
              ) -> pd.DataFrame:  # fmt: skip
    base = base.copy()
    base["day"] = base["day"].astype("int64")
    first = ~base.duplicated(["participant_id", "day"])
    keyed = base.assign(_first=first)
    merged = keyed.merge(recorded, on=["participant_id", "day"], how="outer", indicator=True)
    orphan = merged["_merge"] == "right_only"
    # a recording without an exercise row: listed, not counted
    for name in ("arm", "zone_low_bpm", "zone_high_bpm"):
        merged.loc[orphan, name] = people.loc[merged.loc[orphan, "participant_id"],
                                              name].to_numpy()  # fmt: skip
    merged.loc[orphan, "counted"] = False
    merged.loc[orphan, "note"] = "no row in the exercise table for this recording: not counted"
    has = (merged["_merge"] != "left_only") & (merged["_first"].fillna(True).astype(bool))
    for name in _RECORDED:
        merged.loc[~has, name] = np.nan if name != "stream_session_id" else pd.NA
    summary_in = merged["minutes_in_zone"].astype(float)
    # exercise_dose monitors a session whose verdict is known (its minutes_in_zone)
    summary_monitored = np.where(summary_in.notna(), merged["duration_min"], 0.0)
    merged["source"] = np.where(has, "stream", "summary")
    merged["duration_min_summary"] = merged["duration_min"]
    merged["duration_min"] = np.where(has, merged["duration_min_stream"], merged["duration_min"])
    merged["duration_difference_min"] = merged["duration_min_stream"] - merged[
        "duration_min_summary"]
    merged["minutes_in_zone_summary"] = summary_in
    merged["minutes_in_zone"] = np.where(has, merged["minutes_in_zone_stream"], summary_in)
    merged["minutes_monitored"] = np.where(has, merged["minutes_monitored_stream"],
                                           summary_monitored)  # fmt: skip
    merged["_monitored_summary"] = summary_monitored
    merged["minutes_in_zone_difference"] = merged["minutes_in_zone_stream"] - summary_in
    # MET from the recorded power (cycling) where there is one, times the recorded minutes
    met = np.where(has & np.isfinite(merged["met_stream"]), merged["met_stream"],
                   merged["met"])  # fmt: skip
    merged["met_minutes_summary"] = merged["met_minutes"]
    merged["met_minutes"] = np.where(merged["duration_min"] == 0, 0.0,
                                     met * merged["duration_min"])  # fmt: skip
    merged["counted"] = merged["counted"].astype(bool)
    merged["note"] = merged["note"].fillna("").astype("string")
    merged = merged.sort_values(["participant_id", "day"], kind="stable")
    return merged.astype({"participant_id": "string", "arm": "string", "source": "string",
                          "stream_session_id": "string", "day": "Int64"})  # fmt: skip


def _weeks(weeks: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    s = sessions[sessions["counted"]]
    streamed = s["source"] == "stream"
    parts = pd.DataFrame({
        "participant_id": s["participant_id"], "week": s["week"].astype("int64"),
        "sessions_streamed": streamed.astype(int),
        "duration_min_streamed": np.where(streamed, s["duration_min"], 0.0),
        "minutes_in_zone": s["minutes_in_zone"], "_unknown": s["minutes_in_zone"].isna(),
        "_in_zone_known": s["minutes_in_zone"].fillna(0.0),
        "minutes_monitored": s["minutes_monitored"],
        "_difference": s["minutes_in_zone_difference"],
        "_met_minutes": s["met_minutes"].fillna(0.0),
        "_met_unknown": s["met_minutes"].isna(),
        **{name: s[name] for name in ("trimp_banister", "trimp_edwards", "work_kj")},
    })  # fmt: skip
    grouped = parts.groupby(["participant_id", "week"], sort=False)
    counts = ["sessions_streamed", "duration_min_streamed", "_in_zone_known",
              "minutes_monitored", "_unknown", "_met_minutes", "_met_unknown"]
    sums = grouped[counts].sum()
    for name in ("_difference", "trimp_banister", "trimp_edwards", "work_kj"):
        sums[name] = grouped[name].sum(min_count=1)
    sums = sums.reset_index()
    out = weeks.rename(columns={"met_minutes": "met_minutes_summary", "kkw": "kkw_summary",
                                "minutes_in_zone": "minutes_in_zone_summary",
                                "minutes_monitored": "minutes_monitored_summary",
                                "intensity_fidelity": "intensity_fidelity_summary"})
    out = out.merge(sums, on=["participant_id", "week"], how="left")
    out[counts] = out[counts].fillna(0.0)
    out["sessions_streamed"] = out["sessions_streamed"].astype("int64")
    out["minutes_in_zone"] = out["_in_zone_known"].where(out["_unknown"] == 0, np.nan)
    fidelity = out["_in_zone_known"] / out["minutes_monitored"].replace(0, np.nan)
    out["intensity_fidelity"] = fidelity.where(out["intensity_fidelity_summary"].notna()
                                               | (out["minutes_monitored"] > 0))  # fmt: skip
    out["minutes_in_zone_difference"] = out["_difference"]
    out["met_minutes"] = out["_met_minutes"].where(out["_met_unknown"] == 0, np.nan)
    out["kkw"] = KCAL_PER_KG_PER_MET_MIN * out["met_minutes"]
    return out.loc[:, list(STREAM_DOSE_COLUMNS["week"])].reset_index(drop=True)
