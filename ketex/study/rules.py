"""The validation rules of trial data: ranges, references between tables, duplicates.

Each rule adds its findings to a :class:`~ketex.study.problems.ProblemLog`; rule names
(the ``rule`` column of the report) are documented in ``docs/loading-data.md``.
Limits a trial may want to change live in :data:`LIMITS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ketex import scales
from ketex.study import plausibility, safety_rules
from ketex.study.problems import LINE, SOURCE_FILE, ProblemLog, number_hint
from ketex.study.protocol import DOSE_UNITS, Protocol
from ketex.study.tables import EVENT_TYPES, MAX_ITEMS, SAFETY_TABLES

__all__ = ["LIMITS", "check_all"]

#: Plausible ranges (inclusive); values outside are errors.
# range limits are (low, high) pairs, dose ceilings single numbers
LIMITS: Mapping[str, Any] = MappingProxyType(
    {
        "heart_rate": (30.0, 230.0),  # beats/min, any heart-rate column
        "age": (12.0, 110.0),  # years
        "weight_kg": (25.0, 350.0),
        "height_cm": (100.0, 250.0),
        "rpe": (6.0, 20.0),  # Borg 6-20
        "watts": (0.0, 1000.0),
        "met": (1.0, 25.0),
        "exercise_duration_min": (0.0, 300.0),
        "infusion_duration_min": (1.0, 480.0),
        "day": (-365, 3650),  # study days: a year of screening, ten years of follow-up
        "ketamine_iv_mg_per_kg": 1.0,  # above this an IV ketamine dose is implausible
        "esketamine_mg": 84.0,  # highest licensed intranasal esketamine dose
    }
)

_HR_COLUMNS = {"participants": ("resting_hr", "max_hr"), "exercise": ("avg_hr", "peak_hr")}
# the (day, date, required) column pairs of the safety tables
_DAY_COLUMNS = {
    "adverse_events": (("start_day", "start_date", False), ("end_day", "end_date", False)),
    "vitals": (("day", "date", True),),
    "medications": (("start_day", "start_date", False), ("end_day", "end_date", False)),
}
# spellings only; "suicide" is not an alias: it may mean an attempt or a completed suicide
_EVENT_ALIASES = {"hospitalization": "hospitalisation"}


def check_all(protocol: Protocol, tables: dict[str, pd.DataFrame], log: ProblemLog) -> None:
    """Run every rule; tables are modified in place (days from dates, scores from items)."""
    everyone = tables["participants"]
    _check_participants(protocol, everyone, log)
    valid = everyone[~log.rejected_mask("participants", everyone)]
    for name in ("infusions", "exercise", "assessments", "events"):
        frame = tables[name]
        _derive_days(name, frame, everyone, log)
        _check_known_participant(name, frame, valid, everyone, log)
        _check_days(name, frame, log)
    _check_infusions(protocol, tables["infusions"], valid, log)
    _check_exercise(tables["exercise"], log)
    _check_exercise_of_arm(protocol, tables["exercise"], valid, log)
    infusions = tables["infusions"]
    _check_assessments(protocol, tables["assessments"], valid, log,
                       infusions[~log.rejected_mask("infusions", infusions)])
    _check_events(tables["events"], log)
    for name in SAFETY_TABLES:
        frame = tables[name]
        for day, date, required in _DAY_COLUMNS[name]:
            _derive_days(name, frame, everyone, log, day, date, required)
            _check_days(name, frame, log, day)
        _check_known_participant(name, frame, valid, everyone, log)
    safety_rules.check_safety(tables, log)
    plausibility.check_plausibility(protocol, tables, log)


def _where(row: pd.Series) -> str:
    return f"{row.get(SOURCE_FILE)} line {row.get(LINE)}"


def _limits(name: str) -> tuple[float, float]:
    """The (low, high) range of ``LIMITS[name]``."""
    low, high = LIMITS[name]
    return low, high


def _range_rule(table, frame, column, low, high, rule, unit, log, what=""):
    if column not in frame.columns:
        return
    values = frame[column]
    log.flag(
        table,
        frame,
        (values < low) | (values > high),
        column,
        rule,
        lambda row: f"{_where(row)}: {column} {row['_value']:g}{unit} is outside the "
        f"plausible range {low:g}-{high:g}{unit}{what}; correct it or leave it empty",
    )


# -- participants -------------------------------------------------------------------


def _check_participants(protocol: Protocol, frame: pd.DataFrame, log: ProblemLog) -> None:
    table = "participants"
    ids = frame["participant_id"]
    duplicated = ids.notna() & ids.duplicated(keep="first")
    first_line = frame.drop_duplicates("participant_id").set_index("participant_id")[LINE]
    log.flag(
        table,
        frame,
        duplicated,
        "participant_id",
        "duplicate_participant",
        lambda row: f"{_where(row)}: participant {row['_value']} already appears on line "
        f"{first_line.get(row['_value'])}; each participant needs exactly one row",
    )
    folded = ids.str.casefold()
    first_spelling = frame[ids.notna()].assign(_fold=folded).drop_duplicates("_fold")
    first_spelling = first_spelling.set_index("_fold")
    log.flag(
        table,
        frame,
        ids.notna() & ~duplicated & folded.duplicated(keep="first") & ~ids.duplicated(),
        "participant_id",
        "participant_id_case_collision",
        lambda row: f"{_where(row)}: participant {row['_value']} differs only in letter "
        f"case from {first_spelling.loc[row['_value'].casefold(), 'participant_id']} on "
        f"line {first_spelling.loc[row['_value'].casefold(), LINE]}; ids that differ only in "
        "case are almost always one participant. Correct the id",
    )
    arms = protocol.arm_codes
    log.flag(
        table,
        frame,
        frame["arm"].notna() & ~frame["arm"].isin(arms),
        "arm",
        "unknown_arm",
        lambda row: f"{_where(row)}: arm {row['_value']!r} is not in the protocol; use "
        f"one of {', '.join(arms)} or add it to [[arms]] in study.toml",
    )
    for column in _HR_COLUMNS[table]:
        _range_rule(table, frame, column, *_limits("heart_rate"), "heart_rate_out_of_range",
                    " beats/min", log)
    for column, unit in (("age", " years"), ("weight_kg", " kg"), ("height_cm", " cm")):
        _range_rule(table, frame, column, *_limits(column), "out_of_range", unit, log)


# -- rules shared by the tables of participant records ----------------------------


def _derive_days(table: str, frame: pd.DataFrame, participants: pd.DataFrame, log,
                 day: str = "day", date: str = "date", required: bool = True) -> None:
    """Fill ``day`` from ``date`` and the randomisation date; check both when both given.

    ``day`` and ``date`` name the pair of columns (``start_day`` and ``start_date`` in
    the adverse events); with ``required`` false a row may have neither.
    """
    if date not in frame.columns:
        return
    if day not in frame.columns:
        frame[day] = np.nan
    if "randomization_date" in participants.columns:
        origin = participants.set_index("participant_id")["randomization_date"]
        # reindex, not map: map fails on an empty datetime series (pandas 3)
        origin = origin[~origin.index.duplicated()].reindex(frame["participant_id"].array)
        origin = pd.Series(origin.to_numpy(), index=frame.index, dtype="datetime64[ns]")
    else:
        origin = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    days = (frame[date] - origin).dt.days.astype("float64")
    given = frame[day].notna()
    log.flag(
        table,
        frame,
        given & days.notna() & (days != frame[day]),
        day,
        "day_date_mismatch",
        lambda row: f"{_where(row)}: {day} {row['_value']:g} disagrees with {date} "
        f"{row[date]:%Y-%m-%d}, which is day {days[row.name]:g} after randomisation; "
        "correct one of them",
    )
    log.flag(
        table,
        frame,
        ~given & frame[date].notna() & days.isna(),
        date,
        "no_day",
        lambda row: f"{_where(row)}: no {day}, and the {date} cannot be turned into one "
        f"because participant {row['participant_id']} has no randomization_date in "
        f"participants; add it there, or give {day}",
    )
    if required:
        log.flag(
            table,
            frame,
            ~given & frame[date].isna() & ~log.rejected_mask(table, frame),
            date,
            "no_day",
            lambda row: f"{_where(row)}: neither a {day} nor a complete {date}; give the "
            f"study day in {day} or the full date (YYYY-MM-DD) in {date}",
        )
    frame.loc[~given, day] = days[~given]


def _check_known_participant(table, frame, participants, everyone, log) -> None:
    known = set(participants["participant_id"].dropna())
    listed = set(everyone["participant_id"].dropna())
    ids = frame["participant_id"]
    if not known and len(frame):
        # one cause, one problem: not a row per record of every other table
        file = frame[SOURCE_FILE].dropna()
        file = str(file.iloc[0]) if len(file) else table
        cause = ("every participant was rejected (see the participants problems)" if listed
                 else "the participants table has no readable row (see its problem)")
        log.add(table, "unknown_participant",
                f"{file}: none of the {len(frame)} rows were loaded because {cause}; fix "
                "participants and these rows load too",
                source_file=file, column="participant_id")
        log.rejected.setdefault(table, set()).update(frame.index)
        return

    def message(row: pd.Series) -> str:
        if row["_value"] in listed:
            return (f"{_where(row)}: participant {row['_value']} was rejected in participants "
                    "(see that row's problem); fix it there and this row loads too")
        return (f"{_where(row)}: participant {row['_value']} is not in participants; add the "
                "participant or correct the id")

    log.flag(table, frame, ids.notna() & ~ids.isin(known), "participant_id",
             "unknown_participant", message)


def _check_days(table: str, frame: pd.DataFrame, log: ProblemLog, day: str = "day") -> None:
    if day not in frame.columns:
        return
    low, high = LIMITS["day"]
    if table in ("infusions", "exercise"):
        low = 0  # treatment starts at randomisation
    log.flag(
        table,
        frame,
        (frame[day] < low) | (frame[day] > high),
        day,
        "impossible_day",
        lambda row: f"{_where(row)}: {day} {row['_value']:g} is impossible for {table} "
        f"(allowed {low} to {high}; day 0 = randomisation); correct the day or the date",
    )


# -- infusions ----------------------------------------------------------------------


def _of_participant(frame: pd.DataFrame, participants: pd.DataFrame, column: str) -> pd.Series:
    """Each row's participant's ``column`` (e.g. ``arm``), NA for an unknown participant."""
    first = participants.drop_duplicates("participant_id").set_index("participant_id")
    return frame["participant_id"].map(first[column])


def _check_infusions(protocol: Protocol, frame: pd.DataFrame, participants: pd.DataFrame,
                     log) -> None:
    table = "infusions"
    if frame.empty:
        return
    unit = frame["dose_unit"].str.lower().str.replace(" ", "", regex=False)
    unit = unit.replace({"mg/kgbw": "mg/kg", "mgperkg": "mg/kg", "mg/kgbodyweight": "mg/kg"})
    frame["dose_unit"] = unit
    log.flag(
        table,
        frame,
        unit.notna() & ~unit.isin(DOSE_UNITS),
        "dose_unit",
        "unknown_dose_unit",
        lambda row: f"{_where(row)}: dose unit {row['_value']!r} is not known; use "
        f"{' or '.join(DOSE_UNITS)}",
    )
    frame["drug"] = frame["drug"].str.lower()
    route = (
        frame["route"].str.upper() if "route" in frame.columns else pd.Series(pd.NA, frame.index)
    )
    weight = (_of_participant(frame, participants, "weight_kg")
              if "weight_kg" in participants.columns else pd.Series(np.nan, frame.index))
    dose = frame["dose"]
    mg_per_kg = dose.where(unit == "mg/kg", dose / weight.astype("float64"))
    ketamine_iv = (frame["drug"] == "ketamine") & (route.isna() | (route == "IV"))
    limit = LIMITS["ketamine_iv_mg_per_kg"]
    log.flag(
        table,
        frame,
        ketamine_iv & (mg_per_kg > limit),
        "dose",
        "implausible_dose",
        lambda row: f"{_where(row)}: IV ketamine dose {row['_value']:g} {row['dose_unit']} "
        f"is {mg_per_kg[row.name]:.2f} mg/kg, above the plausible {limit:g} mg/kg; check "
        "the dose and its unit (the standard dose is 0.5 mg/kg)",
    )
    esketamine = frame["drug"] == "esketamine"
    log.flag(
        table,
        frame,
        esketamine & (unit == "mg") & (dose > LIMITS["esketamine_mg"]),
        "dose",
        "implausible_dose",
        lambda row: f"{_where(row)}: esketamine dose {row['_value']:g} mg is above the "
        f"highest licensed {LIMITS['esketamine_mg']:g} mg; check the dose",
    )
    arm = _of_participant(frame, participants, "arm")
    placebo = {a.code: {t.drug.lower() for t in a.treatments if t.role == "placebo"}
               for a in protocol.arms}
    is_placebo = pd.Series(
        [not pd.isna(a) and not pd.isna(d) and d in placebo.get(a, ())
         for a, d in zip(arm, frame["drug"], strict=True)],
        index=frame.index,
    )
    log.flag(
        table,
        frame,
        (dose < 0) | ((dose == 0) & ~is_placebo),
        "dose",
        "implausible_dose",
        lambda row: f"{_where(row)}: dose {row['_value']:g} must be positive" if row["_value"] < 0
        else f"{_where(row)}: dose 0 is a dose only of a placebo, and arm {arm[row.name]} "
        f"does not give {row['drug']} as one (role = \"placebo\" in its [[arms.treatments]] "
        "in study.toml); correct the dose, or declare the arm's treatment a placebo",
    )
    _check_drug_of_arm(protocol, frame, arm, log)
    _range_rule(table, frame, "duration_min", *_limits("infusion_duration_min"),
                "impossible_duration", " min", log)
    duplicated = frame.duplicated(["participant_id", "day", "drug"], keep="first")
    log.flag(
        table,
        frame,
        duplicated & frame["participant_id"].notna(),
        "day",
        "duplicate_infusion",
        lambda row: f"{_where(row)}: participant {row['participant_id']} already has a "
        f"{row['drug']} infusion on day {row['_value']:g}; remove the duplicate row",
    )


def _check_drug_of_arm(protocol: Protocol, frame: pd.DataFrame, arm: pd.Series, log) -> None:
    """An infusion of a drug the participant's arm does not give: a warning, the row kept.

    Checked only when the protocol declares treatments for some arm: a protocol that names
    no drug at all says nothing to check against.
    """
    gives = {a.code: a.drugs for a in protocol.arms}
    if not any(gives.values()):
        return
    wrong = pd.Series(
        [not pd.isna(a) and not pd.isna(d) and a in gives and d not in gives[a]
         for a, d in zip(arm, frame["drug"], strict=True)],
        index=frame.index,
    )

    def message(row: pd.Series) -> str:
        code = str(arm.at[row.name])
        given = ", ".join(gives[code]) or "no drug"
        return (f"{_where(row)}: participant {row['participant_id']} of arm {code} received "
                f"{row['_value']}, which arm {code} does not give (its treatments: {given}); "
                "correct the drug or the participant's arm, or add the treatment to the arm "
                "in study.toml. The row is kept: if it happened, it is a protocol deviation")

    log.flag("infusions", frame, wrong, "drug", "drug_not_in_arm", message, severity="warning")


# -- exercise -----------------------------------------------------------------------


def _check_exercise(frame: pd.DataFrame, log: ProblemLog) -> None:
    table = "exercise"
    _range_rule(table, frame, "duration_min", *_limits("exercise_duration_min"),
                "impossible_duration", " min", log)
    for column in _HR_COLUMNS[table]:
        _range_rule(table, frame, column, *_limits("heart_rate"), "heart_rate_out_of_range",
                    " beats/min", log)
    _range_rule(table, frame, "rpe", *_limits("rpe"), "out_of_range", "", log, " (Borg 6-20)")
    _range_rule(table, frame, "watts", *_limits("watts"), "out_of_range", " W", log)
    _range_rule(table, frame, "met", *_limits("met"), "out_of_range", " MET", log)
    values = [c for c in frame.columns if not c.startswith("_")]
    if frame.empty or not values:
        return
    first = frame.drop_duplicates(values).set_index(values)[LINE]
    log.flag(
        table,
        frame,
        frame.duplicated(values, keep="first") & frame["participant_id"].notna(),
        "day",
        "duplicate_session",
        lambda row: f"{_where(row)}: participant {row['participant_id']} already has this "
        f"exact session on day {row['_value']:g} (line "
        f"{first.get(tuple(row[c] for c in values))}); a copy would count twice in the "
        "exercise dose. Remove the duplicate row",
    )


def _check_exercise_of_arm(protocol: Protocol, frame: pd.DataFrame, participants: pd.DataFrame,
                           log) -> None:
    """A session of a participant whose arm prescribes no exercise: a warning, row kept.

    Checked only when the protocol prescribes exercise to some arm: a protocol that
    prescribes none at all says nothing to check against.
    """
    if frame.empty:
        return
    none = {a.code for a in protocol.arms if protocol.exercise_for(a.code) is None}
    if not none or len(none) == len(protocol.arms):
        return
    arm = _of_participant(frame, participants, "arm")
    log.flag(
        "exercise",
        frame,
        arm.isin(none).fillna(False).astype(bool),
        "participant_id",
        "exercise_not_in_arm",
        lambda row: f"{_where(row)}: participant {row['_value']} of arm {arm[row.name]} has an "
        f"exercise session on day {row['day']:g}, but arm {arm[row.name]} prescribes no exercise "
        "(exercise = false in study.toml); correct the participant's arm, "
        "or give the arm its [arms.exercise]. The row is kept (exercise_dose lists it by "
        "session, not counted towards a programme the arm does not have): if it happened, "
        "it is a protocol deviation",
        severity="warning",
    )


# -- assessments --------------------------------------------------------------------


_LETTERED = re.compile(r"^([0-3])[ab]$")


def _check_assessments(protocol, frame: pd.DataFrame, participants, log,
                       infusions: pd.DataFrame | None = None) -> None:
    table = "assessments"
    if frame.empty:
        return
    codes = {}
    for name in frame["instrument"].dropna().unique():
        try:
            codes[name] = scales.get_instrument(name).code
        except ValueError:
            pass
    known = sorted(scales.INSTRUMENTS)
    log.flag(
        table,
        frame,
        frame["instrument"].notna() & ~frame["instrument"].isin(list(codes)),
        "instrument",
        "unknown_instrument",
        lambda row: f"{_where(row)}: instrument {row['_value']!r} is not known; use one "
        f"of {', '.join(known)}",
    )
    frame["instrument"] = frame["instrument"].map(codes).astype("string")
    _check_items_and_totals(protocol, frame, log)
    timed = "time_min" in frame.columns  # ratings repeated on a day (CADSS at 40 min, ...)
    peri = _peri_infusion(frame) if timed else pd.Series(False, index=frame.index)
    _check_visits(protocol, frame[~peri], participants, log)
    _check_infusion_day(frame[peri], infusions, log)
    keys = ["participant_id", "instrument", "visit", "day"]
    if timed:
        _range_rule(table, frame, "time_min", -1440.0, 1440.0, "out_of_range", " min", log,
                    " (a day either side of the infusion start)")
    # a rating without time_min is the visit's: one per visit and day, as without the column
    keyed = frame.assign(_minute=frame["time_min"].astype("float64").fillna(np.inf)
                         if timed else 0.0)
    columns = [*keys, "_minute"]
    first = keyed.drop_duplicates(columns).set_index(columns)[LINE]
    log.flag(
        table,
        frame,
        keyed.duplicated(columns, keep="first") & frame[keys].notna().all(axis=1),
        "visit",
        "duplicate_assessment",
        lambda row: f"{_where(row)}: participant {row['participant_id']} already has a "
        f"{row['instrument']} at visit {row['_value']} on day {row['day']:g}"
        + (f" at {row['time_min']:g} min" if timed and not pd.isna(row["time_min"]) else "")
        + f" (line {first.get((*(row[k] for k in keys), keyed.at[row.name, '_minute']))}); "
        "remove or correct one of the two",
    )


def _check_items_and_totals(protocol: Protocol, frame: pd.DataFrame, log: ProblemLog) -> None:
    """Parse item columns per instrument, check them and the totals, fill totals from items."""
    item_names = [f"item_{k}" for k in range(1, MAX_ITEMS + 1)]
    present = [c for c in item_names if c in frame.columns]
    extra = [c for c in frame.columns if c.startswith("item_") and c not in item_names]
    for column in extra:

        def not_an_item(row: pd.Series, c: str = column) -> str:
            return (f"{_where(row)}: {c} is not an item of any supported instrument; remove "
                    "the column or rename it")

        log.flag("assessments", frame, frame[column].notna(), column, "extra_item", not_an_item)
    if "total" not in frame.columns:
        frame["total"] = np.nan
    parsed = {c: pd.Series(np.nan, index=frame.index, dtype="float64") for c in present}
    for code, index in frame.groupby("instrument", dropna=True).groups.items():
        _check_instrument(protocol, frame, scales.INSTRUMENTS[str(code)], index, parsed, log)
    for column in present:
        frame[column] = parsed[column]


def _check_instrument(protocol, frame, instrument, index, parsed, log: ProblemLog) -> None:
    """The rows of one instrument: items in range, total in range, totals from items."""
    table, code = "assessments", instrument.code
    rows = frame.loc[index]
    bad_row = pd.Series(False, index=index)
    for column in parsed:
        k = int(column.split("_")[1])
        raw = rows[column]
        if k > instrument.n_items:

            def extra_item(row: pd.Series, c: str = column) -> str:
                return (f"{_where(row)}: {c} is given but {code} has only "
                        f"{instrument.n_items} items; remove the value")

            bad_row |= log.flag(table, rows, raw.notna(), column, "extra_item", extra_item)
            continue
        numbers = _item_numbers(raw, k in instrument.lettered_items)

        def non_numeric(row: pd.Series, c: str = column) -> str:
            return (f"{_where(row)}: {c} {row['_value']!r} is not a valid {code} item "
                    f"score{number_hint(row['_value'])}; enter a whole number or leave it "
                    "empty")

        bad_row |= log.flag(
            table, rows, raw.notna() & numbers.isna(), column, "non_numeric", non_numeric)
        top = instrument.item_max[k - 1]

        def out_of_range(row: pd.Series, c: str = column, t: int = top) -> str:
            return (f"{_where(row)}: {c} {row['_value']} is outside the {code} item range "
                    f"{instrument.item_min}-{t}; correct it or leave it empty")

        bad_row |= log.flag(
            table, rows,
            numbers.notna() & ((numbers < instrument.item_min) | (numbers > top)
                               | (numbers != numbers.round())),
            column, "item_out_of_range", out_of_range)
        parsed[column].loc[index] = numbers
    given = rows["total"]
    bad_total = log.flag(
        table, rows, (given < instrument.total_min) | (given > instrument.total_max), "total",
        "total_out_of_range",
        lambda row: f"{_where(row)}: total {row['_value']:g} is outside the {code} "
        f"range {instrument.total_min}-{instrument.total_max}; correct it or leave it empty")
    own_items = [c for c in parsed if int(c.split("_")[1]) <= instrument.n_items]
    items = pd.DataFrame({c: parsed[c][index] for c in own_items}, index=index)
    # item columns absent from the source are unanswered items, not a crash in scoring
    items = items.reindex(columns=list(instrument.item_columns))
    has_items = items.notna().any(axis=1) & ~bad_row
    if not has_items.any():
        return
    scored = scales.score(
        items[has_items],
        code,
        min_answered=protocol.scoring.min_answered,
        prorate=protocol.scoring.prorate,
        round_prorated=protocol.scoring.round_prorated,
    )
    scored_rows = frame.loc[scored.index]
    complete = ~scored["prorated"].astype(bool) & scored["total"].notna()
    log.flag(
        table, scored_rows,
        complete & scored_rows["total"].notna() & ~bad_total[scored.index]
        & ((scored_rows["total"] - scored["total"]).abs() > 1e-9),
        "total", "total_mismatch",
        lambda row: f"{_where(row)}: total {row['_value']:g} differs from the sum of "
        f"the {code} items, {scored['total'].get(row.name):g}; correct the items or the "
        "total")
    log.flag(
        table, scored_rows, scored_rows["total"].isna() & scored["total"].isna(), "total",
        "total_not_scorable",
        lambda row: f"{_where(row)}: no {code} total: "
        f"{scored['missing_reason'].get(row.name)}; the assessment is kept with a "
        "missing total", severity="warning")
    fill = scored_rows.index[scored_rows["total"].isna()]
    frame.loc[fill, "total"] = scored.loc[fill, "total"]
    if code == "PHQ-9" and "item_9" in parsed:
        log.flag(
            table, scored_rows, scored["item9_flag"].fillna(False).astype(bool), "item_9",
            "phq9_item9_positive",
            lambda row: f"{_where(row)}: PHQ-9 item 9 (thoughts of self-harm) is "
            f"{row['_value']:g}; follow the study's suicide-risk procedure",
            severity="warning", values=parsed["item_9"])


def _item_numbers(raw: pd.Series, lettered: bool) -> pd.Series:
    text = raw.astype("string").str.strip().str.lower()
    if lettered:
        text = text.str.replace(_LETTERED, r"\1", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _peri_infusion(frame: pd.DataFrame) -> pd.Series:
    """Timed ratings (``time_min`` given) of a scale rated around infusions (CADSS, BPRS+).

    They belong to the infusion of their day, not to a scheduled visit: their ``visit``
    is a label (INF2, ...), checked neither against ``[[visits]]`` nor its window.
    """
    from ketex.derive.peri_infusion import TIMED_SCALES

    return (frame["time_min"].notna() & frame["instrument"].isin(list(TIMED_SCALES))).astype(
        bool)


def _check_infusion_day(frame: pd.DataFrame, infusions: pd.DataFrame | None, log) -> None:
    """A timed peri-infusion rating on a day without an infusion of its participant."""
    if frame.empty or infusions is None:
        return
    given = set(zip(infusions["participant_id"], infusions["day"], strict=True))
    off = pd.Series([(p, d) not in given
                     for p, d in zip(frame["participant_id"], frame["day"], strict=True)],
                    index=frame.index, dtype=bool) & frame["day"].notna()
    log.flag(
        "assessments",
        frame,
        off,
        "day",
        "timed_rating_off_infusion_day",
        lambda row: f"{_where(row)}: {row['instrument']} rated at {row['time_min']:g} min on "
        f"day {row['_value']:g}, but participant {row['participant_id']} has no infusion "
        "that day; a timed rating belongs to the infusion of its day: correct the day or "
        "add the infusion (the row is kept, not counted in the peri-infusion summaries)",
        severity="warning",
    )


def _check_visits(protocol: Protocol, frame: pd.DataFrame, participants, log) -> None:
    table = "assessments"
    visits = {v.name: v for v in protocol.visits}
    log.flag(
        table,
        frame,
        frame["visit"].notna() & ~frame["visit"].isin(list(visits)),
        "visit",
        "unknown_visit",
        lambda row: f"{_where(row)}: visit {row['_value']!r} is not in the protocol; use "
        f"one of {', '.join(visits)} or add it to [[visits]] in study.toml",
    )
    low = frame["visit"].map({n: v.window[0] for n, v in visits.items()}).astype("float64")
    high = frame["visit"].map({n: v.window[1] for n, v in visits.items()}).astype("float64")
    log.flag(
        table,
        frame,
        (frame["day"] < low) | (frame["day"] > high),
        "day",
        "visit_outside_window",
        lambda row: f"{_where(row)}: visit {row['visit']} on day {row['_value']:g} is "
        f"outside its window {low[row.name]:g} to {high[row.name]:g}; check the day or the "
        "visit (the row is kept)",
        severity="warning",
    )
    arm = _of_participant(frame, participants, "arm")
    allowed = pd.Series(
        [visits[v].arms if v in visits else () for v in frame["visit"].fillna("")],
        index=frame.index,
        dtype=object,
    )
    not_for_arm = pd.Series(
        [len(a) > 0 and not pd.isna(m) and m not in a
         for a, m in zip(allowed, arm, strict=True)],
        index=frame.index,
    )
    log.flag(
        table,
        frame,
        not_for_arm,
        "visit",
        "visit_not_for_arm",
        lambda row: f"{_where(row)}: visit {row['_value']} is scheduled only for arm(s) "
        f"{', '.join(allowed[row.name])}, not for arm {arm[row.name]}; check the visit "
        "(the row is kept)",
        severity="warning",
    )


# -- events -------------------------------------------------------------------------


def _check_events(frame: pd.DataFrame, log: ProblemLog) -> None:
    if frame.empty:
        return
    event = frame["event"].str.lower().str.strip().str.replace(r"[\s-]+", "_", regex=True)
    frame["event"] = event.replace(_EVENT_ALIASES)
    log.flag(
        "events",
        frame,
        frame["event"].notna() & ~frame["event"].isin(EVENT_TYPES),
        "event",
        "unknown_event",
        lambda row: f"{_where(row)}: event {row['_value']!r} is not a known type "
        f"({', '.join(EVENT_TYPES)}); endpoint rules will ignore it unless configured"
        + ("; write suicide_attempt or completed_suicide, ketex does not guess which"
           if row["_value"] == "suicide" else ""),
        severity="warning",
    )
