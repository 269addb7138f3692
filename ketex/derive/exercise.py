"""Exercise dose and adherence: sessions, MET-minutes, kcal, KKW, heart-rate zone.

:func:`exercise_dose` turns the exercise table and the protocol's prescription into one
tidy table per session, per participant and week, or per participant. Every rule is
stated in its docstring and in ``docs/exercise-dose.md``; the formulas are those of
``domain.md`` section 4:

- MET-minutes = MET x minutes; kcal = MET x 3.5 x body mass (kg) / 200 x minutes (ACSM);
- KKW (kcal per kg per week) = 0.0175 x sum(MET x minutes) over the week
  (45 min x 3 at 6.8 METs = 918 MET-min = 16.1 KKW);
- attendance = sessions attended / sessions prescribed; dose adherence = achieved KKW /
  target KKW; intensity fidelity = share of monitored minutes inside the prescribed
  heart-rate zone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ketex.derive._cache import cached, copy_frame
from ketex.derive.heart_rate import HeartRateOptions, heart_rate_zones
from ketex.derive.mets import MetOptions, session_mets
from ketex.study.protocol import ExercisePrescription
from ketex.study.trial import Trial

__all__ = [
    "BY_CHOICES",
    "ExerciseDoseOptions",
    "KCAL_PER_KG_PER_MET_MIN",
    "exercise_dose",
]

#: kcal per kg of body mass per MET-minute: 3.5 mL O2/kg/min x 5 kcal/L O2 / 1000 (= 1/200 x 3.5)
KCAL_PER_KG_PER_MET_MIN = 0.0175
BY_CHOICES = ("session", "week", "participant")
END_CHOICES = ("discontinuation", "last_contact")

SESSION_COLUMNS = (
    "participant_id",
    "arm",
    "day",
    "week",
    "counted",
    "duration_min",
    "completed",
    "met",
    "met_source",
    "met_reference",
    "met_minutes",
    "kcal",
    "kkw",
    "avg_hr",
    "zone_low_bpm",
    "zone_high_bpm",
    "in_zone",
    "minutes_in_zone",
    "note",
)
WEEK_COLUMNS = (
    "participant_id",
    "arm",
    "week",
    "first_day",
    "last_day",
    "sessions_prescribed",
    "sessions_attended",
    "sessions_completed",
    "duration_min",
    "met_minutes",
    "mean_met",
    "met_source",
    "sessions_without_met",
    "kcal",
    "kkw",
    "target_kkw",
    "attendance",
    "dose_adherence",
    "minutes_in_zone",
    "minutes_monitored",
    "intensity_fidelity",
    "note",
)
PARTICIPANT_COLUMNS = (
    "participant_id",
    "arm",
    "start_day",
    "end_day",
    "weeks_on_programme",
    "sessions_prescribed",
    "sessions_attended",
    "sessions_completed",
    "sessions_not_counted",
    "duration_min",
    "met_minutes",
    "mean_met",
    "met_source",
    "sessions_without_met",
    "kcal",
    "kkw",
    "kkw_programme",
    "target_kkw",
    "attendance",
    "dose_adherence",
    "minutes_in_zone",
    "minutes_monitored",
    "intensity_fidelity",
    "max_hr_bpm",
    "max_hr_source",
    "zone_low_bpm",
    "zone_high_bpm",
    "note",
)

# per-session quantities summed into weeks and participants; "strict" sums are NaN when a
# session's value is unknown (a dose with an unknown part is unknown)
_STRICT_SUMS = ("met_minutes", "kcal", "minutes_in_zone")
_SUMS = (
    "sessions_attended",
    "sessions_completed",
    "duration_min",
    "minutes_monitored",
    "_monitored_in_zone",
    "sessions_without_met",
)


@dataclass(frozen=True)
class ExerciseDoseOptions:
    """Settings of :func:`exercise_dose`.

    Parameters
    ----------
    prescription : ExercisePrescription, optional
        One prescription to measure every participant against, whatever their arm; None
        (default) takes each participant's arm's own (:meth:`Protocol.exercise_for`:
        ``[arms.exercise]``, else the study-level ``[exercise]``; none for an arm with
        ``exercise = false``).
    target_kkw : float, optional
        Target dose for dose adherence of every arm with exercise; None takes each
        prescription's ``target_kkw``.
    end_of_participation : {"discontinuation", "last_contact"}
        When a participant's programme ends before its planned end: the day before a
        ``discontinuation`` event (default), or also the last day with any record
        (assessment, infusion, session or event) for participants lost without one.
    mets : MetOptions
        Where session MET values come from (given, ACSM cycling equation, Compendium).
    heart_rate : HeartRateOptions
        HRmax formula and zone; a zone left at None takes the prescription's
        ``hrr_fraction``.

    Examples
    --------
    >>> ExerciseDoseOptions(end_of_participation="last visit")
    Traceback (most recent call last):
    ...
    ValueError: ExerciseDoseOptions.end_of_participation must be one of ...; got 'last visit'
    """

    prescription: ExercisePrescription | None = None
    target_kkw: float | None = None
    end_of_participation: str = "discontinuation"
    mets: MetOptions = field(default_factory=MetOptions)
    heart_rate: HeartRateOptions = field(default_factory=HeartRateOptions)

    def __post_init__(self) -> None:
        if self.end_of_participation not in END_CHOICES:
            raise ValueError(
                "ExerciseDoseOptions.end_of_participation must be one of "
                f"{', '.join(END_CHOICES)}; got {self.end_of_participation!r}"
            )
        if self.target_kkw is not None and not (
            np.isfinite(self.target_kkw) and self.target_kkw > 0
        ):
            raise ValueError(
                f"ExerciseDoseOptions.target_kkw must be a positive number, got {self.target_kkw!r}"
            )


def exercise_dose(
    trial: Trial, by: str = "week", options: ExerciseDoseOptions | None = None
) -> pd.DataFrame:
    """Exercise dose and adherence per session, per participant and week, or per participant.

    Parameters
    ----------
    trial : Trial
    by : {"week", "participant", "session"}
        ``"week"``: one row per participant and programme week they were on; ``"participant"``:
        one row per participant (every participant, with or without sessions);
        ``"session"``: one row per row of the exercise table.
    options : ExerciseDoseOptions, optional

    Returns
    -------
    pandas.DataFrame
        Columns by ``by`` (units in the names; rates as fractions, not percentages):

        ``by="session"``: ``participant_id, arm, day, week, counted, duration_min,
        completed, met, met_source, met_reference, met_minutes, kcal, kkw, avg_hr,
        zone_low_bpm, zone_high_bpm, in_zone, minutes_in_zone, note``; ``counted`` says
        whether the session counts towards the dose (``note`` says why not).

        ``by="week"``: ``participant_id, arm, week, first_day, last_day,
        sessions_prescribed, sessions_attended, sessions_completed, duration_min,
        met_minutes, mean_met, met_source, sessions_without_met, kcal, kkw, target_kkw,
        attendance, dose_adherence, minutes_in_zone, minutes_monitored,
        intensity_fidelity, note``.

        ``by="participant"``: ``participant_id, arm, start_day, end_day,
        weeks_on_programme``, the week columns summed over those weeks plus
        ``sessions_not_counted``, ``kkw`` (met_minutes x 0.0175 / weeks_on_programme),
        ``kkw_programme`` (divided by the programme's weeks instead), then ``max_hr_bpm,
        max_hr_source, zone_low_bpm, zone_high_bpm, note``.

    Raises
    ------
    ValueError
        When ``by`` is unknown, or no arm of the protocol nor the options prescribe
        exercise.

    Notes
    -----
    **Prescription.** Each participant is measured against their arm's prescription
    (:meth:`Protocol.exercise_for`): its sessions, duration, weeks, start day, modality,
    zone and ``target_kkw``. An arm that prescribes none (``exercise = false``) has no
    programme: 0 sessions prescribed, no week rows, attendance, dose adherence and
    intensity fidelity NaN (not 0) with the reason in ``note``; its sessions are listed
    but not counted.

    **Weeks.** Week 1 is study days ``start_day`` to ``start_day + 6`` of the prescription,
    week k days ``start_day + 7(k-1)`` to ``start_day + 7k - 1``; the programme lasts
    ``weeks`` weeks. Sessions before ``start_day`` or after the programme are listed
    (``by="session"``) but not counted.

    **Sessions prescribed.** ``sessions_per_week`` for every week from week 1 to the
    participant's last week on the programme: the programme's last week, or the week of
    the day before a ``discontinuation`` event (see ``end_of_participation``). That week
    counts in full. Sessions on or after the discontinuation day are not counted.

    **Attended and completed.** Every row of the exercise table is an attended session
    (``duration_min`` 0 for a session attended but not done). A session is completed
    when ``completed`` is true; where ``completed`` is missing, when its duration
    reached the prescribed ``duration_min``. Attendance is not capped at 1.

    **METs** of each session by the first source of ``options.mets.sources`` that gives one
    (:func:`ketex.derive.mets.session_mets`): ``given`` (the ``met`` column),
    ``acsm_cycling`` ((10.8 x watts / kg + 7) / 3.5), ``compendium_2011`` (stationary
    cycling by watts band, or "general" 7.0 without watts).

    **Dose.** MET-minutes = MET x minutes; kcal = MET x 3.5 x kg / 200 x minutes;
    KKW = 0.0175 x MET-minutes per week. A week's or participant's MET-minutes, kcal and
    minutes in zone are NaN when a counted session's value is unknown (see
    ``sessions_without_met`` and ``note``); a session of 0 minutes adds 0 whatever is
    unknown. ``mean_met`` = MET-minutes / minutes. Dose adherence = KKW / target KKW.

    **Heart-rate zone.** Karvonen with resting HR: HRrest + p x (HRmax - HRrest) for p in
    the prescribed ``hrr_fraction``; HRmax given, else Tanaka 208 - 0.7 x age, or
    164 - 0.7 x age on beta-blockers (:mod:`ketex.derive.heart_rate`). A session's
    minutes are all in the zone when its ``avg_hr`` lies inside the zone (bounds
    included), else none are; without ``avg_hr`` or a zone they are unknown (NaN, not 0).
    ``minutes_monitored`` are the minutes whose verdict is known, and intensity fidelity
    = minutes in zone among them / ``minutes_monitored``.

    References
    ----------
    Dunn AL et al. Exercise treatment for depression: efficacy and dose response.
    Am J Prev Med 2005;28:1-8 (KKW). Ainsworth BE et al. 2011 Compendium of Physical
    Activities. Med Sci Sports Exerc 2011;43:1575-81. ACSM's Guidelines for Exercise Testing
    and Prescription (metabolic equations, intensity).

    Examples
    --------
    >>> import ketex
    >>> from ketex.derive.exercise import exercise_dose
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> weeks = exercise_dose(trial, by="week")
    >>> columns = ["week", "sessions_attended", "met_minutes", "kkw", "dose_adherence"]
    >>> p001 = weeks[weeks["participant_id"] == "P001"]
    >>> print(p001[columns].head(3).round(3).to_string(index=False))
     week  sessions_attended  met_minutes    kkw  dose_adherence
        1                  2       470.70  8.237           0.512
        2                  3       521.40  9.125           0.567
        3                  3       706.05 12.356           0.767

    Week 1: 0.0175 x 470.7 MET-min = 8.237 KKW, 0.512 of the 16.1 KKW target. Over the
    programme (P066 discontinued on day 28, so was prescribed weeks 1-4 only):

    >>> total = exercise_dose(trial, by="participant")
    >>> columns = ["participant_id", "sessions_prescribed", "sessions_attended", "kkw",
    ...            "intensity_fidelity"]
    >>> print(total[columns].iloc[[0, 1, 65]].round(3).to_string(index=False))
    participant_id  sessions_prescribed  sessions_attended    kkw  intensity_fidelity
              P001                   36                 26  8.620               1.000
              P002                   36                 34 12.457               0.939
              P066                   12                  7  7.158               0.908
    """
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}; got {by!r}")
    options = options or ExerciseDoseOptions()
    return cached(trial, "exercise_dose", (by, options),
                  lambda: _exercise_dose(trial, by, options), copy_frame)


def _exercise_dose(trial: Trial, by: str, options: ExerciseDoseOptions) -> pd.DataFrame:
    """:func:`exercise_dose`, computed."""
    prescriptions = _prescriptions(trial, options)
    people = _participants(trial, prescriptions, options)
    sessions = _sessions(trial, people, options)
    if by == "session":
        return sessions.loc[:, list(SESSION_COLUMNS)]
    weeks = _weeks(sessions, people)
    if by == "week":
        return weeks.loc[:, list(WEEK_COLUMNS)]
    return _participant_totals(weeks, sessions, people)


def _prescriptions(
    trial: Trial, options: ExerciseDoseOptions
) -> dict[str, ExercisePrescription | None]:
    """Arm code -> the prescription its participants are measured against (None: none)."""
    protocol = trial.protocol
    if options.prescription is not None:
        return {code: options.prescription for code in protocol.arm_codes}
    found = {code: protocol.exercise_for(code) for code in protocol.arm_codes}
    if all(p is None for p in found.values()):
        raise ValueError(
            "no exercise prescription: no arm of study.toml prescribes exercise; add an "
            "[exercise] table (every arm) or [arms.exercise] tables (one arm each), or pass "
            "ExerciseDoseOptions(prescription=ketex.ExercisePrescription(...))"
        )
    return found


# -- participants: weight, zone, and the programme days each was on --------------------


def _participants(
    trial: Trial,
    prescriptions: dict[str, ExercisePrescription | None],
    options: ExerciseDoseOptions,
) -> pd.DataFrame:
    """One row per participant: weight, zone, and their arm's programme (NaN: none)."""
    hr_options = options.heart_rate
    if hr_options.hrr_fraction is None and options.prescription is not None:
        hr_options = dataclasses.replace(
            hr_options, hrr_fraction=options.prescription.hrr_fraction
        )
    zones = heart_rate_zones(trial, hr_options)
    people = trial.participants
    weight = (
        pd.to_numeric(people["weight_kg"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if "weight_kg" in people.columns
        else np.full(len(people), np.nan)
    )
    arms = people["arm"].astype("string")
    plans = [prescriptions.get(arm) for arm in arms]
    has = np.array([p is not None for p in plans], dtype=bool)

    def each(name: str, absent: object = np.nan) -> list:
        return [getattr(p, name) if p is not None else absent for p in plans]

    start = np.array(each("start_day"), dtype=float)
    programme_weeks = np.array(each("weeks"), dtype=float)
    if options.target_kkw is not None:
        target = np.where(has, float(options.target_kkw), np.nan)
    else:
        target = np.array([np.nan if v is None else v for v in each("target_kkw")], dtype=float)
    programme_end = start + 7 * programme_weeks - 1
    stop = _end_of_participation(trial, options.end_of_participation)
    ids = people["participant_id"].astype("string")
    end_day = np.fmin(programme_end, ids.map(stop).to_numpy(dtype=float, na_value=np.nan))
    end_day[~has] = np.nan
    with np.errstate(invalid="ignore"):
        on = has & (end_day >= start)
    on_weeks = np.where(on, np.floor((end_day - np.where(on, start, 0)) / 7) + 1, 0).astype(int)
    discontinued = ids.map(_discontinuation_days(trial)).to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(
        {
            "participant_id": ids.to_numpy(),
            "arm": arms.to_numpy(),
            "weight_kg": weight,
            "has_programme": has,
            "start_day": start,
            "programme_end": programme_end,
            "programme_weeks": programme_weeks,
            "sessions_per_week": np.array(each("sessions_per_week", 0), dtype=int),
            "prescribed_duration_min": np.array(each("duration_min"), dtype=float),
            "modality": pd.array(each("modality", None), dtype="string"),
            "target_kkw": target,
            "end_day": end_day,
            "weeks_on_programme": on_weeks,
            "discontinuation_day": discontinued,
            "max_hr_bpm": zones["max_hr_bpm"].to_numpy(),
            "max_hr_source": zones["max_hr_source"].to_numpy(),
            "zone_low_bpm": zones["zone_low_bpm"].to_numpy(),
            "zone_high_bpm": zones["zone_high_bpm"].to_numpy(),
            "zone_note": zones["note"].to_numpy(),
        }
    ).astype(
        {
            "participant_id": "string",
            "arm": "string",
            "max_hr_source": "string",
            "zone_note": "string",
        }
    )


def _discontinuation_days(trial: Trial) -> pd.Series:
    """First ``discontinuation`` event day per participant."""
    events = trial.events
    stops = events.loc[events["event"] == "discontinuation", ["participant_id", "day"]]
    return stops.groupby("participant_id")["day"].min().astype(float)


def _end_of_participation(trial: Trial, how: str) -> pd.Series:
    """Last day on the programme per participant (participants absent: to the end)."""
    end = _discontinuation_days(trial) - 1
    if how == "last_contact":
        days = [
            table.loc[:, ["participant_id", "day"]]
            for table in (trial.assessments, trial.infusions, trial.exercise, trial.events)
            if len(table)
        ]
        ids = trial.participants["participant_id"].astype("string")
        last = pd.Series(0.0, index=pd.Index(ids, name="participant_id"))
        if days:
            seen = pd.concat(days).groupby("participant_id")["day"].max().astype(float)
            last = seen.reindex(last.index).fillna(0.0)
        # pandas-stubs: a ufunc of Series returns a Series
        end = np.fmin(last, end.reindex(last.index))  # type: ignore[assignment]
    return end


# -- sessions --------------------------------------------------------------------------


def _sessions(
    trial: Trial,
    people: pd.DataFrame,
    options: ExerciseDoseOptions,
) -> pd.DataFrame:
    table = trial.exercise
    info = people.set_index("participant_id")
    ids = table["participant_id"].astype("string")
    person = info.reindex(ids)
    day = table["day"].to_numpy(dtype=float, na_value=np.nan)
    duration = pd.to_numeric(table["duration_min"]).to_numpy(dtype=float, na_value=np.nan)
    has = person["has_programme"].fillna(False).to_numpy(dtype=bool)
    start = person["start_day"].to_numpy(dtype=float)
    week = pd.array(np.floor((day - start) / 7) + 1, dtype="Int64")
    end_day = person["end_day"].to_numpy(dtype=float)
    programme_end = person["programme_end"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        counted = has & (day >= start) & (day <= end_day)

    weight = person["weight_kg"].to_numpy(dtype=float)
    mets = _session_mets(table, weight, person["modality"], options)
    met = mets["met"].to_numpy()
    met_minutes = np.where(duration == 0, 0.0, met * duration)
    kcal = np.where(met_minutes == 0, 0.0, KCAL_PER_KG_PER_MET_MIN * weight * met_minutes)
    prescribed_min = person["prescribed_duration_min"].to_numpy(dtype=float)

    if "completed" in table.columns:
        # pandas-stubs: na_value=None is valid (the missing marker of an object array)
        completed = table["completed"].astype("boolean").to_numpy(  # type: ignore[call-overload]
            dtype=object, na_value=None)
    else:
        completed = np.full(len(table), None, dtype=object)
    done = np.array(
        [
            bool(c) if c is not None else bool(d >= p)
            for c, d, p in zip(completed, duration, prescribed_min, strict=True)
        ],
        dtype=bool,
    )

    avg_hr = (
        pd.to_numeric(table["avg_hr"]).to_numpy(dtype=float, na_value=np.nan)
        if "avg_hr" in table.columns
        else np.full(len(table), np.nan)
    )
    low = person["zone_low_bpm"].to_numpy(dtype=float)
    high = person["zone_high_bpm"].to_numpy(dtype=float)
    verdict_known = np.isfinite(avg_hr) & np.isfinite(low) & np.isfinite(high)
    inside = verdict_known & (avg_hr >= low) & (avg_hr <= high)
    in_zone = pd.array(np.where(verdict_known, inside, False), dtype="boolean")
    in_zone[~verdict_known] = pd.NA
    minutes_in_zone = np.where(
        duration == 0, 0.0, np.where(verdict_known, np.where(inside, duration, 0.0), np.nan)
    )
    monitored = verdict_known | (duration == 0)

    discontinued = person["discontinuation_day"].to_numpy(dtype=float)
    notes = []
    arm = person["arm"].to_numpy()
    for k in range(len(table)):
        why = []
        if not has[k]:
            why.append(f"arm {arm[k]} prescribes no exercise")
        elif day[k] < start[k]:
            why.append(f"before the programme starts (day {start[k]:.0f})")
        elif day[k] > programme_end[k]:
            why.append(f"after the programme ends (day {programme_end[k]:.0f})")
        elif not counted[k]:
            if np.isfinite(discontinued[k]) and day[k] >= discontinued[k]:
                why.append(f"on or after discontinuation (day {discontinued[k]:.0f})")
            else:
                why.append(f"after the last contact (day {end_day[k]:.0f})")
        if not np.isfinite(met_minutes[k]):
            why.append(f"no MET value ({mets['met_reference'].iloc[k]})")
        if not np.isfinite(kcal[k]) and np.isfinite(met_minutes[k]):
            why.append("no weight_kg: kcal unknown")
        if not np.isfinite(minutes_in_zone[k]):
            why.append(
                "no avg_hr: zone unknown"
                if not np.isfinite(avg_hr[k])
                else "heart-rate zone unknown"
            )
        notes.append("; ".join(why))

    return pd.DataFrame(
        {
            "participant_id": ids.to_numpy(),
            "arm": arm,
            "day": table["day"].to_numpy(),
            "week": week,
            "counted": counted,
            "duration_min": duration,
            "completed": done,
            "met": met,
            "met_source": mets["met_source"].to_numpy(),
            "met_reference": mets["met_reference"].to_numpy(),
            "met_minutes": met_minutes,
            "kcal": kcal,
            "kkw": KCAL_PER_KG_PER_MET_MIN * met_minutes,
            "avg_hr": avg_hr,
            "zone_low_bpm": low,
            "zone_high_bpm": high,
            "in_zone": in_zone,
            "minutes_in_zone": minutes_in_zone,
            "note": notes,
            "_monitored": monitored,
        }
    ).astype(
        {
            "participant_id": "string",
            "arm": "string",
            "day": "Int64",
            "met_source": "string",
            "met_reference": "string",
            "note": "string",
        }
    )


def _session_mets(
    table: pd.DataFrame, weight: np.ndarray, modality: pd.Series, options: ExerciseDoseOptions
) -> pd.DataFrame:
    """:func:`session_mets` of every session, each arm's modality as its default."""
    names = modality.astype(object).where(modality.notna(), None).to_numpy()
    groups: dict[str | None, list[int]] = {}
    for k, name in enumerate(names):
        groups.setdefault(name, []).append(k)
    if len(groups) <= 1:
        return session_mets(table, weight, options=options.mets,
                            default_modality=next(iter(groups), None))
    parts = [
        session_mets(table.iloc[rows], weight[rows], options=options.mets, default_modality=name)
        for name, rows in groups.items()
    ]
    return pd.concat(parts).reindex(table.index)


# -- weeks and participants ------------------------------------------------------------


def _aggregate(sessions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sums of counted sessions by ``keys``; strict sums are NaN when a part is unknown."""
    s = sessions[sessions["counted"]]
    parts = pd.DataFrame(
        {
            **{k: s[k] for k in keys},
            "sessions_attended": 1,
            "sessions_completed": s["completed"].astype(int),
            "duration_min": s["duration_min"],
            "minutes_monitored": np.where(s["_monitored"], s["duration_min"], 0.0),
            "_monitored_in_zone": s["minutes_in_zone"].fillna(0.0),
            "sessions_without_met": s["met_minutes"].isna().astype(int),
            **{name: s[name] for name in _STRICT_SUMS},
            **{f"_unknown_{name}": s[name].isna().astype(int) for name in _STRICT_SUMS},
        }
    )
    grouped = parts.groupby(keys, sort=False)
    out = grouped[list(_SUMS) + list(_STRICT_SUMS) + [f"_unknown_{n}" for n in _STRICT_SUMS]].sum()
    sources = (
        s.loc[s["duration_min"] > 0]
        .groupby(keys, sort=False)["met_source"]
        .agg(lambda v: "+".join(sorted(set(v))))
    )
    out["met_source"] = sources.reindex(out.index).fillna("")
    return out.reset_index()


def _weeks(sessions: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    grid = people.loc[people.index.repeat(people["weeks_on_programme"])].copy()
    grid["week"] = grid.groupby("participant_id", sort=False).cumcount() + 1
    grid["first_day"] = (grid["start_day"] + 7 * (grid["week"] - 1)).astype("int64")
    grid["last_day"] = grid["first_day"] + 6
    grid["sessions_prescribed"] = grid["sessions_per_week"]
    sums = _aggregate(sessions, ["participant_id", "week"])
    weeks = grid.merge(sums, on=["participant_id", "week"], how="left")
    return _rates(weeks, per_week=True).reset_index(drop=True)


def _rates(frame: pd.DataFrame, *, per_week: bool) -> pd.DataFrame:
    """Fill empty sums with 0, blank strict sums with unknown parts, add KKW and rates."""
    frame = frame.copy()
    counts = [*_SUMS, *_STRICT_SUMS, *(f"_unknown_{n}" for n in _STRICT_SUMS)]
    frame[counts] = frame[counts].fillna(0.0)
    for name in _STRICT_SUMS:
        frame[name] = frame[name].where(frame[f"_unknown_{name}"] == 0, np.nan)
    for name in (
        "sessions_attended",
        "sessions_completed",
        "sessions_without_met",
        "sessions_prescribed",
    ):
        frame[name] = frame[name].astype("int64")
    frame["met_source"] = frame["met_source"].fillna("").astype("string")
    weeks = 1 if per_week else frame["weeks_on_programme"].replace(0, np.nan)
    frame["kkw"] = KCAL_PER_KG_PER_MET_MIN * frame["met_minutes"] / weeks
    frame["mean_met"] = frame["met_minutes"] / frame["duration_min"].replace(0, np.nan)
    frame["attendance"] = frame["sessions_attended"] / frame["sessions_prescribed"].replace(
        0, np.nan
    )
    frame["dose_adherence"] = (frame["kkw"] / frame["target_kkw"]).where(frame["has_programme"])
    frame["intensity_fidelity"] = (
        frame["_monitored_in_zone"] / frame["minutes_monitored"].replace(0, np.nan)
    ).where(frame["has_programme"])
    frame["note"] = _notes(frame).astype("string")
    return frame


def _notes(frame: pd.DataFrame) -> pd.Series:
    without_met = frame["sessions_without_met"].to_numpy()
    kcal_unknown = frame["kcal"].isna().to_numpy()
    zone_unknown = frame["_unknown_minutes_in_zone"].astype(int).to_numpy()
    has = frame["has_programme"].to_numpy(dtype=bool)
    no_target = frame["target_kkw"].isna().to_numpy()
    arm = frame["arm"].to_numpy()
    notes = []
    for k in range(len(frame)):
        if not has[k]:
            notes.append(
                f"arm {arm[k]} prescribes no exercise: no sessions prescribed; attendance, "
                "dose adherence and intensity fidelity do not apply"
            )
            continue
        why = []
        if without_met[k]:
            why.append(f"{without_met[k]} session(s) without a MET value")
        if kcal_unknown[k] and not without_met[k]:
            why.append("no weight_kg: kcal unknown")
        if zone_unknown[k]:
            why.append(f"heart-rate zone unknown for {zone_unknown[k]} session(s)")
        if no_target[k]:
            why.append("no target_kkw: dose adherence unknown")
        notes.append("; ".join(why))
    return pd.Series(notes, index=frame.index, dtype="string")


def _participant_totals(
    weeks: pd.DataFrame, sessions: pd.DataFrame, people: pd.DataFrame
) -> pd.DataFrame:
    sums = _aggregate(sessions, ["participant_id"])
    totals = people.merge(sums, on="participant_id", how="left")
    prescribed = weeks.groupby("participant_id", sort=False)["sessions_prescribed"].sum()
    totals["sessions_prescribed"] = (
        totals["participant_id"].map(prescribed).fillna(0).astype("int64")
    )
    not_counted = (~sessions["counted"]).groupby(sessions["participant_id"]).sum()
    totals["sessions_not_counted"] = (
        totals["participant_id"].map(not_counted).fillna(0).astype("int64")
    )
    totals = _rates(totals, per_week=False)
    totals["kkw_programme"] = (
        KCAL_PER_KG_PER_MET_MIN * totals["met_minutes"] / totals["programme_weeks"]
    )
    for name in ("start_day", "end_day"):
        totals[name] = pd.array(
            [pd.NA if np.isnan(v) else int(v) for v in totals[name]], dtype="Int64"
        )
    extra = []
    row: Any  # a namedtuple of the columns (pandas-stubs types each field as any scalar)
    for row in totals.itertuples(index=False):
        why = []
        if np.isfinite(row.discontinuation_day):
            why.append(f"discontinued on day {row.discontinuation_day:.0f}")
        if row.sessions_not_counted:
            why.append(f"{row.sessions_not_counted} session(s) not counted")
        if row.weeks_on_programme == 0 and row.has_programme:
            why.append("no programme week on study")
        extra.append("; ".join(why))
    zone_note = totals["zone_note"].fillna("").where(totals["has_programme"], "")
    totals["note"] = [
        "; ".join(part for part in parts if part)
        for parts in zip(extra, zone_note, totals["note"], strict=True)
    ]
    totals["note"] = totals["note"].astype("string")
    return totals.loc[:, list(PARTICIPANT_COLUMNS)].reset_index(drop=True)
