"""Participants from DM, DS (randomisation), VS (baseline vitals); study days of records.

DM gives one participant per record. The randomisation date is the ``DSSTDTC`` of the
DS record with ``DSDECOD = RANDOMIZED``, else ``RFSTDTC``. SDTM study days (``--DY``)
count from ``RFSTDTC`` with no day 0; ketex days count from randomisation with day 0 =
randomisation, so a record's day is ``--DY - 1`` (``--DY`` > 0) or ``--DY`` (< 0), plus
the days from randomisation to ``RFSTDTC`` when both dates are known.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

import pandas as pd

from ketex.errors import DataValidationError
from ketex.io.sdtm.datasets import Dataset, numbers
from ketex.io.sdtm.provenance import RawTable
from ketex.io.sdtm.safety_terms import vital_test
from ketex.io.sdtm.terms import DS_RANDOMIZED, day_from_sdtm
from ketex.study.problems import LINE, ProblemLog

__all__ = ["Subjects", "read_dm", "read_randomisation", "read_vs", "study_days", "timed_vitals"]

SCREEN_FAILURE_ARMS = ("SCRNFAIL", "NOTASSGN")
_FULL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T.*)?$")
_PARTIAL_DATE = re.compile(r"^\d{4}(?:-(?:\d{2}|-))?(?:-(?:\d{2}|-))?(?:T.*)?$")
_AGE_UNITS = {"YEARS": 1.0, "MONTHS": 1 / 12, "WEEKS": 7 / 365.25, "DAYS": 1 / 365.25}


@dataclass
class Subjects:
    """The participants table being built, and each participant's time reference."""

    table: RawTable
    rows: dict[str, int] = field(default_factory=dict)
    not_randomised: dict[str, str] = field(default_factory=dict)
    randomised_on: dict[str, pd.Timestamp] = field(default_factory=dict)
    reference: dict[str, pd.Timestamp] = field(default_factory=dict)

    def offset(self, participant: str) -> int:
        """Days from randomisation to ``RFSTDTC`` (0 when either is unknown)."""
        start, ref = self.randomised_on.get(participant), self.reference.get(participant)
        return 0 if start is None or ref is None else (ref - start).days

    def keep(self, ds: Dataset, table: str, log: ProblemLog, *, strict: bool) -> pd.Series:
        """Mask of the records to load: records of participants not randomised are reported
        (warning); with ``strict``, so are records of participants missing from DM (error)."""
        ids = ds.text("USUBJID")
        screen = ids.isin(list(self.not_randomised))
        log.flag(table, ds.frame, screen, "USUBJID", "not_randomised",
                 lambda row: f"{location(row)}: participant {row['_value']} was not randomised "
                 f"(DM ARMCD {self.not_randomised[row['_value']]}); the record was not loaded",
                 severity="warning", values=ids)
        unknown = pd.Series(False, index=ds.frame.index)
        if strict:
            unknown = log.flag(
                table, ds.frame, ~screen & ~ids.isin(list(self.rows)), "USUBJID",
                "unknown_participant",
                lambda row: f"{location(row)}: participant {row['_value']} is not in DM; add "
                "the participant to DM or correct USUBJID", values=ids)
        return ~screen & ~unknown


def location(row: pd.Series | dict) -> str:
    return f"{row['_source_file']} line {row[LINE]}"


def full_date(text: str) -> str | None:
    """The date part of a complete ISO 8601 date or date-time; None otherwise.

    Examples
    --------
    >>> full_date("2024-01-08T10:30"), full_date("2024-01"), full_date("2024-13-45")
    ('2024-01-08', None, None)
    """
    match = _FULL_DATE.match(text)
    if not match:
        return None
    try:  # the pattern admits impossible dates such as 2024-13-45
        datetime.date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return match.group(1)


def read_dm(ds: Dataset, log: ProblemLog) -> Subjects:
    """Participants from DM: USUBJID, ARMCD, SITEID, AGE, SEX, RFSTDTC.

    Raises
    ------
    DataValidationError
        When DM lacks USUBJID or ARMCD: without them no record can be placed.
    """
    missing = ds.missing("USUBJID", "ARMCD")
    if missing:
        log.add("participants", "missing_column",
                f"{ds.file} has no variable {', '.join(missing)} (required); DM lists the "
                "participants and their arms, so nothing can be loaded. Add the variable",
                source_file=ds.file, column=", ".join(missing))
        raise DataValidationError(
            f"{ds.file} has no variable {', '.join(missing)}; nothing was loaded",
            log.report())
    subjects = Subjects(RawTable("participants"))
    ids, arms = ds.text("USUBJID"), ds.text("ARMCD")
    ages = _ages(ds, log)
    columns = zip(ds.frame.index, ids, arms, ds.text("SITEID"), ds.text("SEX"),
                  ds.text("RFSTDTC"), ds.frame[LINE], strict=True)
    for index, participant, arm, site, sex, reference, line in columns:
        where = (ds.file, int(line))
        if not pd.isna(arm) and arm.upper() in SCREEN_FAILURE_ARMS and not pd.isna(participant):
            subjects.not_randomised[participant] = arm
            log.add("participants", "not_randomised",
                    f"{ds.file} line {line}: participant {participant} was not randomised "
                    f"(ARMCD {arm}); ketex loads randomised participants only",
                    source_file=ds.file, line=int(line), participant_id=participant,
                    column="ARMCD", value=arm, severity="warning")
            continue
        row = subjects.table.add({"participant_id": participant, "arm": arm, "site": site,
                                  "age": ages[index], "sex": sex}, where)
        if not pd.isna(participant):
            subjects.rows.setdefault(participant, row)
            _reference_date(subjects, row, participant, reference, where, log)
    return subjects


def _ages(ds: Dataset, log: ProblemLog) -> pd.Series:
    """AGE in years (AGEU YEARS, MONTHS, WEEKS or DAYS); other units reported."""
    ages = ds.column("AGE")
    units = ds.text("AGEU").str.upper()
    factor = units.map(_AGE_UNITS).astype("float64").where(units.notna(), 1.0)
    unknown = log.flag("participants", ds.frame, ages.notna() & factor.isna(), "AGEU",
                       "unknown_age_unit",
                       lambda row: f"{location(row)}: AGEU {row['_value']!r} is not a known age "
                       f"unit ({', '.join(_AGE_UNITS)}); the age was not loaded",
                       severity="warning", values=units)
    parsed, bad = numbers(ages)
    converted = (parsed * factor).astype(object).where(~bad, ages)  # text left to validation
    return converted.where(~unknown & ages.notna(), None)


def _reference_date(subjects: Subjects, row: int, participant: str, text, where,
                    log: ProblemLog) -> None:
    """RFSTDTC: the --DY reference date, and the randomisation date unless DS gives one."""
    if pd.isna(text):
        return
    date = full_date(text)
    if date is None:
        # a date with every part given but impossible (2024-13-45) is not a partial one
        if _PARTIAL_DATE.match(text) and not _FULL_DATE.match(text):
            log.add("participants", "partial_date",
                    f"{where[0]} line {where[1]}: RFSTDTC {text!r} is not a complete date; "
                    "study days are taken from --DY only and the randomisation date stays "
                    "empty unless DS has a RANDOMIZED record",
                    source_file=where[0], line=where[1], participant_id=participant,
                    column="RFSTDTC", value=text, severity="warning")
        else:  # not a date at all: validation reports it
            subjects.table.set(row, "randomization_date", text, where)
        return
    subjects.reference[participant] = pd.Timestamp(date)
    subjects.randomised_on.setdefault(participant, pd.Timestamp(date))
    subjects.table.set(row, "randomization_date", date, where)


def read_randomisation(ds: Dataset, subjects: Subjects, log: ProblemLog) -> pd.Series:
    """Randomisation dates from DS ``RANDOMIZED`` records; returns the mask of those records."""
    decod = ds.text("DSDECOD").str.upper()
    randomised = (decod == DS_RANDOMIZED).fillna(False).astype(bool)
    milestones = ds.subset(randomised)
    keep = subjects.keep(milestones, "participants", log, strict=True)
    ids = ds.text("USUBJID")
    dates = ds.text("DSSTDTC" if "DSSTDTC" in ds.frame.columns else "DSDTC")
    seen: dict[str, int] = {}
    for index in milestones.frame.index[keep]:
        # pandas-stubs: DataFrame.at gives any scalar type
        participant, line = ids[index], int(ds.frame.at[index, LINE])  # type: ignore[arg-type]
        text = dates[index]
        date = None if pd.isna(text) else full_date(text)
        if date is None:
            log.add("participants", "bad_date",
                    f"{ds.file} line {line}: the RANDOMIZED record has no complete DSSTDTC "
                    f"({'empty' if pd.isna(text) else repr(text)}); give the date as "
                    "YYYY-MM-DD", source_file=ds.file, line=line, participant_id=participant,
                    column="DSSTDTC", value=None if pd.isna(text) else text)
            continue
        if participant in seen:
            log.add("participants", "duplicate_record",
                    f"{ds.file} line {line}: participant {participant} already has a "
                    f"RANDOMIZED record (line {seen[participant]}); keep one",
                    source_file=ds.file, line=line, participant_id=participant,
                    column="DSDECOD", value=DS_RANDOMIZED)
            continue
        seen[participant] = line
        subjects.randomised_on[participant] = pd.Timestamp(date)
        row = subjects.rows[participant]
        current = subjects.table.rows[row].get("randomization_date")
        if isinstance(current, str) and full_date(current) is None:
            # an RFSTDTC that is no date stays, so that validation rejects the row; this
            # record goes with it (and is named when it is rejected)
            subjects.table.gather(row, (ds.file, line))
            continue
        subjects.table.rows[row].pop("randomization_date", None)
        subjects.table.set(row, "randomization_date", date, (ds.file, line))
    return randomised


# -- VS: baseline weight, height, resting heart rate --------------------------------
# (timed records of the vital-sign tests also go to the vitals table: safety_read)

_VITALS = {
    "WEIGHT": ("weight_kg", {"KG": 1.0, "LB": 0.45359237, "G": 0.001}),
    "HEIGHT": ("height_cm", {"CM": 1.0, "IN": 2.54, "M": 100.0, "MM": 0.1}),
    "HR": ("resting_hr", {"BEATS/MIN": 1.0, "BPM": 1.0, "/MIN": 1.0}),
    "PULSE": ("resting_hr", {"BEATS/MIN": 1.0, "BPM": 1.0, "/MIN": 1.0}),
}


def read_vs(ds: Dataset, subjects: Subjects, log: ProblemLog) -> None:
    """Baseline (``VSBLFL`` or ``VSLOBXFL`` = Y) WEIGHT, HEIGHT and HR into participants."""
    table = "participants"
    missing = ds.missing("USUBJID", "VSTESTCD", ("VSSTRESN", "VSORRES"))
    if missing:
        report_unusable(ds, table, missing, log)
        return
    keep = subjects.keep(ds, table, log, strict=True)
    codes = ds.text("VSTESTCD").str.upper()
    timed = timed_vitals(ds)
    characteristic = codes.isin(list(_VITALS)).fillna(False).astype(bool)
    log.flag(
        table, ds.frame, keep & ~characteristic & ~timed, "VSTESTCD", "unread_vital_sign",
        lambda row: f"{location(row)}: VSTESTCD {row['_value']!r} is not read (ketex reads "
        f"baseline {', '.join(_VITALS)}, and {', '.join(_TIMED_TESTS)} with a study day in "
        "VSDY or VSDTC); the record was not loaded", severity="warning", values=codes)
    flag = ds.text("VSBLFL").str.upper().fillna(ds.text("VSLOBXFL").str.upper())
    baseline = (flag == "Y").fillna(False).astype(bool)
    log.flag(
        table, ds.frame, keep & characteristic & ~baseline & ~timed, "VSBLFL", "not_baseline",
        lambda row: f"{location(row)}: {row['VSTESTCD']} is not flagged as baseline (VSBLFL or "
        "VSLOBXFL = Y) and has no study day (VSDY or VSDTC) to place it among the vital "
        "signs; the record was not loaded", severity="warning")
    use = keep & characteristic & baseline
    value, unit = _vital_values(ds)
    number, bad = numbers(value)
    records = zip(ds.text("USUBJID")[use], codes[use], value[use], number[use], bad[use],
                  unit[use], ds.frame.loc[use, LINE], strict=True)
    for participant, code, given, parsed, not_number, unit_text, line in records:
        where = (ds.file, int(line))
        result = None if not_number or pd.isna(parsed) else float(parsed)
        _set_vital(where, participant, code, given, result, unit_text, subjects, log)


_TIMED_TESTS = ("SYSBP", "DIASBP", "HR", "PULSE", "OXYSAT", "TEMP", "WEIGHT")


def timed_vitals(ds: Dataset) -> pd.Series:
    """Mask of the VS records that go to the vitals table: a vital-sign test with a day.

    The tests are those of :data:`ketex.io.sdtm.safety_terms.VS_TESTS` (also spelled as
    ketex spells them); the day is ``VSDY`` or ``VSDTC``.
    """
    codes = ds.text("VSTESTCD")
    tests = codes.map(lambda c: False if pd.isna(c) else vital_test(c) is not None)
    timed = ds.text("VSDY").notna() | ds.text("VSDTC").notna()
    return (tests.astype(bool) & timed).fillna(False).astype(bool)


def _vital_values(ds: Dataset) -> tuple[pd.Series, pd.Series]:
    standard = ds.column("VSSTRESN").notna()
    value = ds.column("VSSTRESN").where(standard, ds.column("VSORRES"))
    unit = ds.text("VSSTRESU").where(standard, ds.text("VSORRESU"))
    return value, unit.str.upper()


def _set_vital(where, participant, code, given, result, unit, subjects: Subjects,
               log: ProblemLog) -> None:
    table, (file, line) = "participants", where
    column, units = _VITALS[code]
    common = dict(source_file=file, line=line, participant_id=participant)
    factor = 1.0 if pd.isna(unit) else units.get(unit.replace(" ", ""))
    if factor is None:
        log.add(table, "unknown_unit",
                f"{file} line {line}: {code} unit {unit!r} is not known; use one of "
                f"{', '.join(units)}", column="VSSTRESU", value=unit, **common)
        return
    if result is None:
        empty = given is None or pd.isna(given)
        log.add(table, "missing_value" if empty else "non_numeric",
                f"{file} line {line}: {code} has " + ("no result" if empty else
                                                     f"result {given!r}, not a number")
                + "; enter the measurement in VSSTRESN", column="VSSTRESN",
                value=None if empty else given, **common)
        return
    row = subjects.rows[participant]
    if not subjects.table.set(row, column, result * factor, where):
        first = subjects.table.cell_source(row, column)
        log.add(table, "duplicate_record",
                f"{file} line {line}: participant {participant} already has a baseline "
                f"{code} ({first[0]} line {first[1]}); flag only one record as baseline",
                column="VSTESTCD", value=code, **common)


def report_unusable(ds: Dataset, table: str, missing: list[str], log: ProblemLog) -> None:
    log.add(table, "missing_column",
            f"{ds.file} has no variable {', '.join(missing)} (required); none of its "
            f"{len(ds.frame)} records were loaded. Add the variable",
            source_file=ds.file, column=", ".join(missing))


# -- study days of records ------------------------------------------------------------


def study_days(ds: Dataset, table: str, dy: tuple[str, ...], dtc: tuple[str, ...],
               subjects: Subjects, log: ProblemLog) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The ketex day and date of each record, and the mask of records without a problem.

    The day comes from the first of ``dy`` the dataset has (``--DY`` converted, see the
    module notes) or, when that is empty, from the first of ``dtc`` and the randomisation
    date. When both are given they must agree. Problems are reported as errors.
    """
    dy_name, dtc_name = ds.first_column(*dy), ds.first_column(*dtc)
    ids = ds.text("USUBJID")
    offsets = ids.map(lambda p: 0 if pd.isna(p) else subjects.offset(p)).astype("float64")
    sdtm_day, bad = numbers(ds.column(dy_name) if dy_name else ds.column(dy[0]))
    problem = log.flag(table, ds.frame, bad, dy_name, "non_numeric",
                       lambda row: f"{location(row)}: {dy_name} {row['_value']!r} is not a number")
    problem |= log.flag(
        table, ds.frame, sdtm_day.notna() & ((sdtm_day == 0) | (sdtm_day != sdtm_day.round())),
        dy_name, "impossible_day",
        lambda row: f"{location(row)}: {dy_name} {row['_value']!r} is not an SDTM study day "
        "(whole numbers with no day 0: day 1 is the reference day, day -1 the day before)")
    from_dy = day_from_sdtm(sdtm_day) + offsets
    dates, from_dtc, bad_date = _record_dates(ds, dtc_name, ids, subjects, table, log)
    problem |= bad_date
    problem |= log.flag(
        table, ds.frame, ~problem & from_dy.notna() & from_dtc.notna() & (from_dy != from_dtc),
        dy_name, "day_date_mismatch",
        # only rows with a date get here, so dtc_name is set; pandas-stubs refuses a row's
        # name (Hashable) as a Series key
        lambda row: f"{location(row)}: {dy_name} {row['_value']} disagrees with {dtc_name} "
        f"{row[dtc_name]}, which is {dy_name} "  # type: ignore[index]
        f"{_sdtm_text(from_dtc[row.name], offsets[row.name])}"  # type: ignore[call-overload]
        "; correct one of them")
    day = from_dy.fillna(from_dtc)
    problem |= log.flag(
        table, ds.frame, ~problem & day.isna(), dy_name or dy[0], "no_day",
        lambda row: f"{location(row)}: no study day: {dy[0]} is empty and {dtc[0]} is empty, "
        "incomplete, or cannot be placed because the participant has no randomisation date; "
        f"give {dy[0]} or a complete {dtc[0]}")
    return day, dates, ~problem


def _sdtm_text(day: float, offset: float) -> str:
    since_reference = day - offset
    return f"{since_reference + 1:g}" if since_reference >= 0 else f"{since_reference:g}"


def _record_dates(ds, dtc_name, ids, subjects, table, log):
    """Dates (YYYY-MM-DD text) of records and their ketex days; partial dates reported."""
    text = ds.text(dtc_name or "")
    dates = text.map(lambda t: pd.NA if pd.isna(t) else full_date(t)).astype("string")
    partial = text.notna() & dates.isna() & text.map(
        lambda t: False if pd.isna(t) else bool(_PARTIAL_DATE.match(t))).astype(bool)
    log.flag(table, ds.frame, partial, dtc_name, "partial_date",
             lambda row: f"{location(row)}: {dtc_name} {row['_value']!r} is not a complete date; "
             "the study day is taken from --DY", severity="warning", values=text)
    bad = log.flag(table, ds.frame, text.notna() & dates.isna() & ~partial, dtc_name,
                   "bad_date",
                   lambda row: f"{location(row)}: {dtc_name} {row['_value']!r} is not an ISO 8601 "
                   "date; write dates as YYYY-MM-DD", values=text)
    origin = ids.map(lambda p: subjects.randomised_on.get(p) if not pd.isna(p) else None)
    parsed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce")
    origin = pd.to_datetime(origin.astype(object), errors="coerce")
    days = (parsed - origin).dt.days.astype("float64")
    return dates.where(~bad), days, bad
