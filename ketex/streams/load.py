"""Training load of recorded sessions from heart-rate and power streams.

A stream has one row per device record: ``participant_id``, ``session_id``, ``elapsed_s``,
``heart_rate_bpm`` and optionally ``power_w``. Each record's value holds for the interval
since the previous record of its session (``dt`` = the difference of ``elapsed_s``), so a
session recorded at 1 Hz from 0 to 3600 s lasts 3600 s and its first record only marks
the start. Formulas and sources are in docs/exercise-dose.md ("Devices and training
load").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.streams._problems import raise_problems
from ketex.streams.records import classify_records

__all__ = ["LOAD_COLUMNS", "training_load"]

#: The columns of :func:`training_load`, in order.
LOAD_COLUMNS = (
    "participant_id",
    "session_id",
    "duration_min",
    "recorded_min",
    "n_gap_s",
    "n_dropout_s",
    "n_spike_s",
    "mean_hr_bpm",
    "minutes_zone_1",
    "minutes_zone_2",
    "minutes_zone_3",
    "minutes_zone_4",
    "minutes_zone_5",
    "trimp_banister",
    "trimp_edwards",
    "trimp_lucia",
    "session_rpe_load",
    "work_kj",
    "mean_power_w",
    "normalized_power_w",
    "intensity_factor",
    "training_stress_score",
)

#: Banister's weighting y = a * exp(k * HRr) (Morton, Fitz-Clarke, Banister 1990).
BANISTER_WEIGHTS = {"male": (0.64, 1.92), "female": (0.86, 1.67)}
_SEX_NAMES = {
    "m": "male", "male": "male", "man": "male", "men": "male",
    "f": "female", "female": "female", "woman": "female", "women": "female",
}  # fmt: skip
#: Edwards' zones: lower bounds as shares of HRmax (zone 5 also takes HR above HRmax).
EDWARDS_BOUNDS = (0.5, 0.6, 0.7, 0.8, 0.9)
_NP_WINDOW_S = 30



def training_load(
    stream: pd.DataFrame,
    *,
    hr_rest: float | Mapping | pd.Series,
    hr_max: float | Mapping | pd.Series,
    sex: str | Mapping | pd.Series,
    rpe: float | Mapping | pd.Series | None = None,
    thresholds_bpm: tuple[float, float] | Mapping | pd.Series | None = None,
    ftp_w: float | Mapping | pd.Series | None = None,
    max_gap_s: float = 5.0,
    spike_margin_bpm: float = 20.0,
) -> pd.DataFrame:
    """Training load of each recorded session: zone minutes, TRIMPs, sRPE, power.

    Parameters
    ----------
    stream : pandas.DataFrame
        One row per device record with ``participant_id``, ``session_id``, ``elapsed_s``
        (seconds from any origin, unique within a session; rows need not be sorted),
        ``heart_rate_bpm`` and optionally ``power_w``, as :func:`ketex.read_stream`
        returns (with the two identifiers added).
    hr_rest, hr_max : float, mapping or pandas.Series
        Resting and maximal heart rate, beats/min: one number for everyone, or a mapping
        (or Series) from ``participant_id`` to the participant's value.
    sex : str, mapping or pandas.Series
        ``"male"``/``"female"`` (also ``"m"``, ``"f"``, any case), for everyone or per
        ``participant_id``; chooses Banister's weighting.
    rpe : float, mapping or pandas.Series, optional
        Session RPE on Borg's CR-10 scale (0-10), one number or per ``session_id``
        (session identifiers must then be unique across participants).
    thresholds_bpm : (float, float), mapping or pandas.Series, optional
        Ventilatory thresholds (VT1, VT2) in beats/min, for everyone or per
        ``participant_id``; needed for ``trimp_lucia``.
    ftp_w : float, mapping or pandas.Series, optional
        Functional threshold power, watts, for everyone or per ``participant_id``;
        needed for ``intensity_factor`` and ``training_stress_score``.
    max_gap_s : float
        An interval between records longer than this is a gap: missing, no load.
    spike_margin_bpm : float
        A heart rate above ``hr_max + spike_margin_bpm`` is a spike: excluded.

    Returns
    -------
    pandas.DataFrame
        One row per session, sorted by participant and session, with:

        - ``participant_id``, ``session_id``;
        - ``duration_min``: last minus first ``elapsed_s``, minutes;
        - ``recorded_min``: ``duration_min`` less the gaps;
        - ``n_gap_s``: seconds in gaps (intervals longer than ``max_gap_s``);
        - ``n_dropout_s``: seconds whose heart rate is missing or 0 (strap contact lost);
        - ``n_spike_s``: seconds whose heart rate is above ``hr_max + spike_margin_bpm``;
        - ``mean_hr_bpm``: time-weighted mean of the valid heart rate;
        - ``minutes_zone_1`` .. ``minutes_zone_5``: minutes at 50-60, 60-70, 70-80,
          80-90 and 90-100 % of HRmax (Edwards; zone 5 includes HR above HRmax);
        - ``trimp_banister``, ``trimp_edwards``, ``trimp_lucia`` (NaN without
          ``thresholds_bpm``);
        - ``session_rpe_load``: rpe x ``duration_min`` (NaN without ``rpe``);
        - ``work_kj``, ``mean_power_w``, ``normalized_power_w`` (NaN without power);
        - ``intensity_factor``, ``training_stress_score`` (NaN without ``ftp_w``).

    Raises
    ------
    ketex.DataValidationError
        A column is missing or not numeric, an ``elapsed_s`` repeats within a session,
        power is negative, or a participant lacks a value (or has an impossible one:
        ``hr_max <= hr_rest``, VT1 above VT2, rpe outside 0-10); the report lists all.

    Notes
    -----
    Record i covers ``dt_i = elapsed_i - elapsed_(i-1)`` seconds with its own values; an
    interval longer than ``max_gap_s`` is a gap and counts towards nothing but
    ``n_gap_s``. Heart rate missing or <= 0 (dropout) or above ``hr_max +
    spike_margin_bpm`` (spike) is excluded from every heart-rate column; power missing
    is excluded from the power columns. Per valid second:

    - Banister: ``TRIMP = sum(dt/60 * HRr * a * exp(k * HRr))``, ``HRr = (HR - HRrest) /
      (HRmax - HRrest)`` (negative HRr counts as 0), ``a, k = 0.64, 1.92`` for men and
      ``0.86, 1.67`` for women, summed record by record, never from the mean HR;
    - Edwards: ``TRIMP = sum(k * minutes_zone_k)``, ``k = 1..5``; HR below 50 % HRmax adds
      nothing;
    - Lucia: ``minutes(HR < VT1) * 1 + minutes(VT1 <= HR <= VT2) * 2 + minutes(HR > VT2)
      * 3``;
    - Foster: session-RPE load = CR-10 rpe x session minutes (``duration_min``);
    - work = ``sum(P * dt) / 1000`` kJ; mean power = work / seconds with power;
    - normalized power (Coggan): power on a 1-s grid (each whole second takes the record
      that covers it), 30-s rolling mean over windows of 30 recorded seconds, raised to
      the 4th power, averaged, 4th root; NaN when no window is complete;
    - intensity factor = NP / FTP; TSS = seconds with power x NP x IF / (FTP x 3600) x 100.

    References
    ----------
    Banister EW. Modeling elite athletic performance. In: MacDougall JD, Wenger HA, Green
    HJ, eds. Physiological Testing of the High-Performance Athlete. Human Kinetics; 1991.
    Morton RH, Fitz-Clarke JR, Banister EW. J Appl Physiol 1990;69:1171-7.
    Edwards S. The Heart Rate Monitor Book. Polar Electro; 1993.
    Lucia A, Hoyos J, Santalla A, Earnest C, Chicharro JL. Med Sci Sports Exerc
    2003;35:1013-20.
    Foster C, Florhaug JA, Franklin J, et al. J Strength Cond Res 2001;15:109-15.
    Allen H, Coggan AR. Training and Racing with a Power Meter. VeloPress; 2010.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> stream = pd.DataFrame({"participant_id": "P01", "session_id": "S1",
    ...                        "elapsed_s": np.arange(601.0),
    ...                        "heart_rate_bpm": 152.0, "power_w": 150.0})
    >>> load = training_load(stream, hr_rest=60, hr_max=190, sex="male", rpe=5)
    >>> load[["duration_min", "minutes_zone_4", "trimp_edwards", "session_rpe_load"]]
       duration_min  minutes_zone_4  trimp_edwards  session_rpe_load
    0          10.0            10.0           40.0              50.0
    >>> round(float(load.loc[0, "trimp_banister"]), 3), float(load.loc[0, "work_kj"])
    (17.625, 90.0)
    """
    problems: list[dict[str, object]] = []
    frame = _checked_stream(stream, problems)
    raise_problems("the stream cannot be used", problems)
    if not max_gap_s > 0 or not spike_margin_bpm >= 0:
        raise DataValidationError("max_gap_s must be > 0 and spike_margin_bpm >= 0")
    participants = list(pd.unique(frame["participant_id"]))
    sessions = frame[["participant_id", "session_id"]].drop_duplicates()
    values = {
        "hr_rest": _per_participant(hr_rest, "hr_rest", participants, problems),
        "hr_max": _per_participant(hr_max, "hr_max", participants, problems),
        "sex": _per_participant(sex, "sex", participants, problems),
        "thresholds": _per_participant(thresholds_bpm, "thresholds_bpm", participants,
                                       problems),
        "ftp": _per_participant(ftp_w, "ftp_w", participants, problems),
    }  # fmt: skip
    rpes = _per_session(rpe, sessions, problems)
    _check_values(values, rpes, problems)
    raise_problems("training_load cannot use the values given", problems)

    rows = []
    for (pid, sid), session in frame.groupby(["participant_id", "session_id"], sort=True):
        person = {name: value[pid] for name, value in values.items()}
        row = _session_load(session, person, max_gap_s, spike_margin_bpm)
        row["session_rpe_load"] = rpes[(pid, sid)] * row["duration_min"]
        rows.append({"participant_id": pid, "session_id": sid, **row})
    out = pd.DataFrame(rows, columns=list(LOAD_COLUMNS))
    numeric = list(LOAD_COLUMNS[2:])
    out[numeric] = out[numeric].astype("float64")
    return out.reset_index(drop=True)


def _checked_stream(stream: pd.DataFrame, problems: list[dict[str, object]]) -> pd.DataFrame:
    if not isinstance(stream, pd.DataFrame):
        raise DataValidationError(f"stream must be a pandas DataFrame, not {type(stream)}")
    required = ("participant_id", "session_id", "elapsed_s", "heart_rate_bpm")
    for column in required:
        if column not in stream.columns:
            problems.append({"column": column, "rule": "missing_column",
                             "message": f"the stream has no column {column!r}"})  # fmt: skip
    if problems:
        return stream
    frame = stream[[*required, *(["power_w"] if "power_w" in stream.columns else [])]].copy()
    for column in frame.columns[2:]:
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna()
        for index in frame.index[bad][:20]:
            problems.append({"column": column, "value": str(frame.at[index, column]),
                             "line": index, "rule": "non_numeric",
                             "message": f"{column} at row {index} is not a number: "
                                        f"{frame.at[index, column]!r}"})  # fmt: skip
        frame[column] = converted.astype("float64")
    if frame[["participant_id", "session_id"]].isna().any(axis=None):
        problems.append({"column": "participant_id, session_id", "rule": "missing_value",
                         "message": "participant_id and session_id must be given on "
                                    "every row"})  # fmt: skip
    time = frame["elapsed_s"]
    for index in frame.index[~np.isfinite(time) & time.notna() | time.isna()][:20]:
        problems.append({"column": "elapsed_s", "line": index, "rule": "missing_value",
                         "message": f"elapsed_s at row {index} is missing"})  # fmt: skip
    repeated = frame.duplicated(["participant_id", "session_id", "elapsed_s"], keep=False)
    for index in frame.index[repeated & time.notna()][:20]:
        problems.append({"column": "elapsed_s", "line": index, "rule": "duplicate_time",
                         "participant_id": frame.at[index, "participant_id"],
                         "value": str(time[index]),
                         "message": f"elapsed_s {time[index]} repeats in session "
                                    f"{frame.at[index, 'session_id']!r} "
                                    f"(row {index})"})  # fmt: skip
    if "power_w" in frame.columns:
        for index in frame.index[frame["power_w"] < 0][:20]:
            problems.append({"column": "power_w", "line": index, "rule": "out_of_range",
                             "value": str(frame.at[index, "power_w"]),
                             "message": f"power_w at row {index} is negative"})  # fmt: skip
    return frame.sort_values(["participant_id", "session_id", "elapsed_s"], kind="stable")


def _per_participant(
    value: object, name: str, participants: list, problems: list[dict[str, object]]
) -> dict:
    if value is None:
        return dict.fromkeys(participants)
    if not isinstance(value, (Mapping, pd.Series)):
        return dict.fromkeys(participants, value)
    found = {}
    for pid in participants:
        if pid in value.keys() and not _is_missing(value[pid]):
            found[pid] = value[pid]
        else:
            found[pid] = None
            problems.append({"participant_id": pid, "column": name, "rule": "missing_value",
                             "message": f"{name} has no value for participant {pid!r}"})
    return found


def _per_session(value: object, sessions: pd.DataFrame, problems: list[dict[str, object]]
                 ) -> dict:  # fmt: skip
    keys = list(sessions.itertuples(index=False, name=None))
    if value is None:
        return dict.fromkeys(keys, np.nan)
    if not isinstance(value, (Mapping, pd.Series)):
        return dict.fromkeys(keys, value)
    shared = sessions["session_id"][sessions["session_id"].duplicated()].unique()
    for sid in shared:
        problems.append({"column": "rpe", "value": str(sid), "rule": "ambiguous_session",
                         "message": f"session_id {sid!r} belongs to several participants: "
                                    "rpe per session needs unique session identifiers"})
    found = {}
    for pid, sid in keys:
        found[(pid, sid)] = value[sid] if sid in value.keys() else np.nan
    return found


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _check_values(values: dict, rpes: dict, problems: list[dict[str, object]]) -> None:
    for pid in values["hr_max"]:
        rest, top = values["hr_rest"][pid], values["hr_max"][pid]
        sex = values["sex"][pid]
        if rest is not None and top is not None:
            try:
                ok = 0 < float(rest) < float(top)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append({"participant_id": pid, "column": "hr_rest, hr_max",
                                 "value": f"{rest}, {top}", "rule": "out_of_range",
                                 "message": f"participant {pid!r}: need 0 < hr_rest < "
                                            f"hr_max, got {rest} and {top}"})  # fmt: skip
            else:
                values["hr_rest"][pid], values["hr_max"][pid] = float(rest), float(top)
        if sex is not None:
            key = _SEX_NAMES.get(str(sex).strip().lower())
            if key is None:
                problems.append({"participant_id": pid, "column": "sex", "value": str(sex),
                                 "rule": "unknown_sex",
                                 "message": f"participant {pid!r}: sex {sex!r} is not "
                                            "'male' or 'female'"})  # fmt: skip
            values["sex"][pid] = key
        _check_thresholds(pid, values, problems)
        ftp = values["ftp"][pid]
        if ftp is not None and not (isinstance(ftp, (int, float)) and ftp > 0):
            problems.append({"participant_id": pid, "column": "ftp_w", "value": str(ftp),
                             "rule": "out_of_range",
                             "message": f"participant {pid!r}: ftp_w must be > 0"})
    for (pid, sid), value in rpes.items():
        if not (isinstance(value, (int, float)) and (np.isnan(value) or 0 <= value <= 10)):
            problems.append({"participant_id": pid, "column": "rpe", "value": str(value),
                             "rule": "out_of_range",
                             "message": f"session {sid!r}: rpe {value!r} is not on the "
                                        "CR-10 scale (0-10)"})  # fmt: skip


def _check_thresholds(pid: object, values: dict, problems: list[dict[str, object]]) -> None:
    vt = values["thresholds"][pid]
    if vt is None:
        return
    try:
        vt1, vt2 = (float(v) for v in vt)
        ok = 0 < vt1 <= vt2
    except (TypeError, ValueError):
        ok = False
    if not ok:
        problems.append({"participant_id": pid, "column": "thresholds_bpm", "value": str(vt),
                         "rule": "out_of_range",
                         "message": f"participant {pid!r}: thresholds_bpm must be (VT1, "
                                    f"VT2) with 0 < VT1 <= VT2, got {vt!r}"})  # fmt: skip
    else:
        values["thresholds"][pid] = (vt1, vt2)


def _session_load(session: pd.DataFrame, person: dict, max_gap_s: float,
                  spike_margin_bpm: float) -> dict[str, float]:  # fmt: skip
    t = session["elapsed_s"].to_numpy(dtype=float)
    hr = session["heart_rate_bpm"].to_numpy(dtype=float)
    c = classify_records(t, hr, person["hr_max"], max_gap_s=max_gap_s,
                         spike_margin_bpm=spike_margin_bpm)  # fmt: skip
    dt, gap, held, dropout, spike, valid = c.dt, c.gap, c.held, c.dropout, c.spike, c.valid
    minutes = np.where(valid, dt, 0.0) / 60.0
    hr_v = np.where(valid, hr, 0.0)

    # tenths first, so that 70 % of 190 bpm is exactly 133
    bounds = np.round(np.asarray(EDWARDS_BOUNDS) * 10) * person["hr_max"] / 10
    zone = np.searchsorted(bounds, hr_v, side="right")  # 0 below 50 %, 5 from 90 %
    zone_min = [float(minutes[zone == k].sum()) for k in range(1, 6)]
    a, k = BANISTER_WEIGHTS[person["sex"]]
    hrr = np.clip((hr_v - person["hr_rest"]) / (person["hr_max"] - person["hr_rest"]), 0, None)
    valid_min = float(minutes.sum())
    row = {
        "duration_min": (t[-1] - t[0]) / 60.0,
        "recorded_min": float(dt[~gap].sum()) / 60.0,
        "n_gap_s": float(dt[gap].sum()),
        "n_dropout_s": float(dt[dropout].sum()),
        "n_spike_s": float(dt[spike].sum()),
        "mean_hr_bpm": float((hr_v * minutes).sum() / valid_min) if valid_min > 0 else np.nan,
        **{f"minutes_zone_{i + 1}": zone_min[i] for i in range(5)},
        "trimp_banister": float((minutes * hrr * a * np.exp(k * hrr)).sum()),
        "trimp_edwards": float(sum((i + 1) * zone_min[i] for i in range(5))),
        "trimp_lucia": np.nan,
    }
    if person["thresholds"] is not None:
        vt1, vt2 = person["thresholds"]
        weight = np.where(hr_v < vt1, 1.0, np.where(hr_v <= vt2, 2.0, 3.0))
        row["trimp_lucia"] = float((minutes * weight).sum())
    row.update(_power_load(session, t, dt, held, person["ftp"]))
    return row


def _power_load(session: pd.DataFrame, t: np.ndarray, dt: np.ndarray, held: np.ndarray,
                ftp: float | None) -> dict[str, float]:  # fmt: skip
    empty = dict.fromkeys(("work_kj", "mean_power_w", "normalized_power_w",
                           "intensity_factor", "training_stress_score"), np.nan)  # fmt: skip
    if "power_w" not in session.columns:
        return empty
    power = session["power_w"].to_numpy(dtype=float)
    has = held & np.isfinite(power)
    seconds = float(dt[has].sum())
    if seconds == 0:
        return empty
    work_j = float((power[has] * dt[has]).sum())
    grid = t[0] + np.arange(1, int(np.floor(t[-1] - t[0])) + 1)
    covering = np.searchsorted(t, grid, side="left")
    on_grid = np.where(has[covering], power[covering], np.nan)
    rolling = pd.Series(on_grid).rolling(_NP_WINDOW_S, min_periods=_NP_WINDOW_S).mean()
    full = rolling.dropna().to_numpy()
    npw = float(np.mean(full**4) ** 0.25) if full.size else np.nan
    out = {"work_kj": work_j / 1000.0, "mean_power_w": work_j / seconds,
           "normalized_power_w": npw,
           "intensity_factor": np.nan, "training_stress_score": np.nan}  # fmt: skip
    if ftp is not None:
        ftp = float(ftp)
        out["intensity_factor"] = npw / ftp
        out["training_stress_score"] = seconds * npw * (npw / ftp) / (ftp * 3600.0) * 100.0
    return out
