"""Reading the safety tables from SDTM: AE into adverse events, VS into vitals, CM into medications.

The CDISC terms are read back into ketex's codes (:mod:`ketex.io.sdtm.safety_terms`);
a coded variable holding a term ketex does not know is an error naming the file, line,
variable and value, and the record is not loaded. Study days follow the module notes of
:mod:`ketex.io.sdtm.subjects`; onset and end days of events and medications may be
missing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ketex.io.sdtm import safety_terms as st
from ketex.io.sdtm.datasets import Dataset, numbers
from ketex.io.sdtm.provenance import RawTable
from ketex.io.sdtm.subjects import (
    _FULL_DATE,
    _PARTIAL_DATE,
    Subjects,
    location,
    report_unusable,
    study_days,
    timed_vitals,
)
from ketex.io.sdtm.terms import ae_event
from ketex.study.problems import LINE, ProblemLog
from ketex.study.safety_rules import AE_ACTIONS, AE_RELATIONS

__all__ = ["finish_adverse_events", "read_ae", "read_cm", "read_vitals"]

Placement = dict[int, tuple[RawTable, int]]

_PRIMARY_ACTIONS = {code: term for code, term in st.AE_ACTIONS.items()
                    if code not in st.AE_OTHER_ACTIONS}
_SERIOUS = {"Y": "Y", "N": "N", "U": None, "NA": None, "YES": "Y", "NO": "N",
            "TRUE": "Y", "FALSE": "N"}


def _none(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _terms(vocabulary) -> str:
    return ", ".join(dict.fromkeys(vocabulary.values()))


def _codes(ds: Dataset, table: str, variable: str, written, log: ProblemLog, expected: str,
           *, extra=None, ketex_codes=(), report: bool = True) -> tuple[pd.Series, pd.Series]:
    """A coded variable read into ketex codes, and the mask of unknown terms (reported)."""
    text = ds.text(variable)
    read = {t: st.read_code(t, written, extra, ketex_codes) for t in text.dropna().unique()}
    known = text.map(lambda t: True if pd.isna(t) else read[t][0]).astype(bool)
    values = text.map(lambda t: None if pd.isna(t) else read[t][1]).astype(object)
    if not report:
        return values.where(known, None), pd.Series(False, index=text.index)
    bad = log.flag(
        table, ds.frame, text.notna() & ~known, variable, "unknown_code",
        lambda row: f"{location(row)}: {variable} {row['_value']!r} is not {expected}; "
        "correct it or leave it empty. The record was not loaded", values=text)
    return values, bad


def _optional_days(ds: Dataset, table: str, dy: str, dtc: str, subjects: Subjects,
                   log: ProblemLog) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Like :func:`study_days`, but a record may have no day: then day and date stay empty."""
    dy_text, dtc_text = ds.text(dy), ds.text(dtc)
    partial = dy_text.isna() & dtc_text.notna() & dtc_text.map(
        lambda t: False if pd.isna(t) else bool(_PARTIAL_DATE.match(t))
        and not _FULL_DATE.match(t)).astype(bool)
    log.flag(table, ds.frame, partial, dtc, "partial_date",
             lambda row: f"{location(row)}: {dtc} {row['_value']!r} is not a complete date; "
             f"the study day stays empty (give {dy})", severity="warning", values=dtc_text)
    day = pd.Series(float("nan"), index=ds.frame.index)
    date = pd.Series(pd.NA, index=ds.frame.index, dtype="string")
    good = pd.Series(True, index=ds.frame.index)
    given = (dy_text.notna() | dtc_text.notna()) & ~partial
    if given.any():
        part = ds.subset(given)
        found, dated, ok = study_days(part, table, (dy,), (dtc,), subjects, log)
        day[part.frame.index], date[part.frame.index] = found, dated
        good[part.frame.index] = ok
    return day, date, good


def _keep(ds: Dataset, table: str, subjects: Subjects, log: ProblemLog) -> Dataset:
    return ds.subset(subjects.keep(ds, table, log, strict=True))


def _add_rows(ds: Dataset, table: RawTable, columns: dict, use: pd.Series) -> Placement:
    values = pd.DataFrame(columns, index=ds.frame.index)[use].astype(object)
    values = values.where(values.notna(), None)
    placement: Placement = {}
    for index, record, line in zip(values.index, values.to_dict("records"),
                                   ds.frame.loc[use, LINE], strict=True):
        placement[index] = (table, table.add(record, (ds.file, int(line))))
    return placement


# -- AE -----------------------------------------------------------------------------


def read_ae(ds: Dataset, subjects: Subjects, adverse_events: RawTable, events: RawTable,
            log: ProblemLog) -> Placement:
    """AE records into adverse events; those coded as a suicide attempt or completed
    suicide also become events, unless HO or CE already has that event on that day."""
    table = "adverse_events"
    missing = ds.missing("USUBJID", "AETERM")
    if missing:
        report_unusable(ds, table, missing, log)
        return {}
    ds = _keep(ds, table, subjects, log)
    start, start_date, good = _optional_days(ds, table, "AESTDY", "AESTDTC", subjects, log)
    end, end_date, good_end = _optional_days(ds, table, "AEENDY", "AEENDTC", subjects, log)
    severity, bad = _codes(ds, table, "AESEV", st.AE_SEVERITIES, log,
                           f"one of {_terms(st.AE_SEVERITIES)} (CDISC AESEV)")
    outcome, bad_outcome = _codes(ds, table, "AEOUT", st.AE_OUTCOMES, log,
                                  f"one of {_terms(st.AE_OUTCOMES)} (CDISC OUT)")
    action, bad_action = _codes(
        ds, table, "AEACN", _PRIMARY_ACTIONS, log,
        f"one of {_terms(_PRIMARY_ACTIONS)}, NOT APPLICABLE, UNKNOWN (CDISC ACN)",
        extra=st.ACTIONS_READ, ketex_codes=AE_ACTIONS)
    other, _ = _codes(ds, table, "AEACNOTH", st.AE_OTHER_ACTIONS, log, "", report=False)
    related, bad_related = _codes(
        ds, table, "AEREL", {}, log, "RELATED or NOT RELATED (or POSSIBLE, PROBABLE, "
        "DEFINITE, UNLIKELY)", extra=st.RELATED_READ, ketex_codes=AE_RELATIONS)
    serious, bad_serious = _codes(ds, table, "AESER", {}, log, "Y or N (CDISC NY)",
                                  extra=_SERIOUS)
    columns = {
        "participant_id": ds.text("USUBJID"), "term": ds.text("AETERM"),
        "pt": ds.text("AEDECOD"), "soc": ds.text("AEBODSYS"),
        "start_day": start, "start_date": start_date, "end_day": end, "end_date": end_date,
        "severity": severity, "grade": ds.column("AETOXGR"), "serious": serious,
        "related": related, "action": other.where(other.notna(), action),
        "outcome": outcome,
    }
    use = good & good_end & ~(bad | bad_outcome | bad_action | bad_related | bad_serious)
    placement = _add_rows(ds, adverse_events, columns, use)
    _suicidal_events(ds, columns, use, events)
    return placement


def _suicidal_events(ds: Dataset, columns: dict, use: pd.Series, events: RawTable) -> None:
    known = {(r.get("participant_id"), r.get("day"), r.get("event")) for r in events.rows}
    records = zip(ds.frame.index[use], columns["participant_id"][use],
                  columns["start_day"][use], columns["start_date"][use],
                  columns["pt"][use], columns["term"][use], ds.frame.loc[use, LINE],
                  strict=True)
    for _, participant, day, date, pt, term, line in records:
        kind = ae_event(_none(pt), _none(term))
        if kind == "adverse_event" or pd.isna(day) or (participant, day, kind) in known:
            continue
        repeats = _none(term) is not None and term.strip().upper() == kind.upper().replace(
            "_", " ")
        events.add({"participant_id": participant, "day": day, "date": _none(date),
                    "event": kind, "description": None if repeats else _none(term)},
                   (ds.file, int(line)))


def finish_adverse_events(table: RawTable) -> None:
    """Join AEREL and SUPPAE ``AERELTRT`` into ``related`` (after SUPPAE is attached).

    AEREL RELATED (or POSSIBLE, ...) with no AERELTRT means the study drug: AEREL is the
    relationship to the study treatment in SDTMIG.
    """
    for number, row in enumerate(table.rows):
        treatment = row.pop("related_to", None)
        where = table.cells.pop((number, "related_to"), None)
        if row.get("related") != "related":
            continue
        if treatment is None:
            row["related"] = "drug"
            continue
        known, code = st.read_code(str(treatment), st.AE_RELATED_TO, ketex_codes=AE_RELATIONS)
        row["related"] = code if known else str(treatment)  # unknown: validation names it
        if where is not None:
            table.cells[(number, "related")] = where
            if where not in table.sources[number]:
                table.sources[number].append(where)


# -- VS: vital signs on study days ---------------------------------------------------


def read_vitals(ds: Dataset, subjects: Subjects, vitals: RawTable,
                log: ProblemLog) -> Placement:
    """Timed VS records of SYSBP, DIASBP, HR (PULSE), OXYSAT, TEMP, WEIGHT into vitals.

    Participants were checked when DM's baseline vital signs were read
    (:func:`~ketex.io.sdtm.subjects.read_vs`), so they are not reported again here.
    """
    table = "vitals"
    if ds.missing("USUBJID", "VSTESTCD", ("VSSTRESN", "VSORRES")):
        return {}  # reported by read_vs
    ids = ds.text("USUBJID")
    ds = ds.subset(timed_vitals(ds) & ids.isin(list(subjects.rows)))
    if ds.frame.empty:
        return {}
    day, date, good = study_days(ds, table, ("VSDY",), ("VSDTC",), subjects, log)
    elapsed = ds.text("VSELTM")
    minutes = elapsed.map(lambda t: None if pd.isna(t) else st.parse_elapsed(t))
    minutes = pd.to_numeric(minutes, errors="coerce").astype("float64")
    bad = log.flag(table, ds.frame, elapsed.notna() & minutes.isna(), "VSELTM",
                   "bad_duration",
                   lambda row: f"{location(row)}: VSELTM {row['_value']!r} is not an ISO 8601 "
                   "duration; write the time from the infusion or session start as PT40M, "
                   "or -PT15M before it", values=elapsed)
    original, not_number = numbers(ds.column("VSORRES"))
    by_original = original.notna() & ~not_number & ds.text("VSORRESU").notna()
    value = ds.column("VSSTRESN").where(~by_original, original)
    value = value.where(value.notna(), ds.column("VSORRES"))  # text: validation names it
    unit = ds.text("VSSTRESU").where(~by_original, ds.text("VSORRESU"))
    columns = {
        "participant_id": ds.text("USUBJID"), "day": day, "date": date, "time_min": minutes,
        "test": ds.text("VSTESTCD").map(lambda c: None if pd.isna(c) else st.vital_test(c)),
        "value": value, "unit": unit,
    }
    return _add_rows(ds, vitals, columns, good & ~bad)


# -- CM -----------------------------------------------------------------------------


def read_cm(ds: Dataset, subjects: Subjects, medications: RawTable,
            log: ProblemLog) -> Placement:
    """CM records into medications; ``CMCAT`` RESCUE MEDICATION marks rescue medication."""
    table = "medications"
    missing = ds.missing("USUBJID", "CMTRT")
    if missing:
        report_unusable(ds, table, missing, log)
        return {}
    ds = _keep(ds, table, subjects, log)
    start, start_date, good = _optional_days(ds, table, "CMSTDY", "CMSTDTC", subjects, log)
    end, end_date, good_end = _optional_days(ds, table, "CMENDY", "CMENDTC", subjects, log)
    category = ds.text("CMCAT").str.upper()
    rescue = category.str.contains("RESCUE", regex=False).astype(object)
    columns = {
        "participant_id": ds.text("USUBJID"), "name": ds.text("CMTRT"),
        "class": ds.text("CMCLAS"), "start_day": start, "start_date": start_date,
        "end_day": end, "end_date": end_date, "indication": ds.text("CMINDC"),
        "rescue": rescue.where(category.notna(), None),
    }
    return _add_rows(ds, medications, columns, good & good_end)
