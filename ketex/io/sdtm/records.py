"""Infusions and exercise sessions from EX, scale items from QS and RS, events from HO, DS,
CE and AE.

Each ``read_*`` function adds rows to :class:`~ketex.io.sdtm.provenance.RawTable` s and
returns the *placement* of its records: for each record that was loaded, the
``(table, row)`` it went into (the others were reported). SUPP-- records follow their
parent record through that placement.
"""

from __future__ import annotations

import pandas as pd

from ketex.io.sdtm import terms
from ketex.io.sdtm.datasets import Dataset, numbers
from ketex.io.sdtm.provenance import RawTable
from ketex.io.sdtm.subjects import Subjects, location, report_unusable, study_days
from ketex.study.problems import LINE, ProblemLog
from ketex.study.protocol import Protocol

__all__ = ["read_events", "read_ex", "read_scales"]


Placement = dict[int, tuple[RawTable, int]]  # record index -> (table, row)


def _timed(ds: Dataset, table: str, prefix: str, subjects: Subjects, log: ProblemLog,
           start: bool):
    """Day, date and the mask of records whose timing is usable."""
    dy: tuple[str, ...]
    dtc: tuple[str, ...]
    if start:
        dy, dtc = (f"{prefix}STDY", f"{prefix}DY"), (f"{prefix}STDTC", f"{prefix}DTC")
    else:
        dy, dtc = (f"{prefix}DY",), (f"{prefix}DTC",)
    return study_days(ds, table, dy, dtc, subjects, log)


# -- EX -----------------------------------------------------------------------------


def read_ex(ds: Dataset, subjects: Subjects, infusions: RawTable, exercise: RawTable,
            log: ProblemLog) -> Placement:
    """EX records: study drug administrations into infusions, exercise sessions into exercise.

    A record is an exercise session when ``EXCAT`` contains "EXERCISE" or ``EXTRT`` names
    an exercise (cycling, walking, treadmill, ...); every other record is a drug
    administration.
    """
    placement: Placement = {}
    missing = ds.missing("USUBJID", "EXTRT", ("EXSTDY", "EXSTDTC"))
    if missing:
        report_unusable(ds, "infusions, exercise", missing, log)
        return placement
    treatment, category = ds.text("EXTRT"), ds.text("EXCAT")
    sessions = pd.Series(
        [terms.is_exercise(None if pd.isna(t) else t, None if pd.isna(c) else c)
         for t, c in zip(treatment, category, strict=True)], index=ds.frame.index, dtype=bool)
    for table, mask in ((infusions, ~sessions), (exercise, sessions)):
        part = ds.subset(mask)
        part = part.subset(subjects.keep(part, table.name, log, strict=False))
        day, date, timed = _timed(part, table.name, "EX", subjects, log, start=True)
        duration, good = _durations(part, table.name, log, exercise=table is exercise)
        columns = _session(part) if table is exercise else _infusion(part)
        columns.update({"participant_id": part.text("USUBJID"), "day": day, "date": date,
                        "duration_min": duration})
        use = timed & good
        values = pd.DataFrame(columns)[use].astype(object)
        values = values.where(values.notna(), None)
        for index, record, line in zip(values.index, values.to_dict("records"),
                                       part.frame.loc[use, LINE], strict=True):
            placement[index] = (table, table.add(record, (ds.file, int(line))))
    return placement


def _infusion(ds: Dataset) -> dict[str, pd.Series]:
    route = ds.text("EXROUTE").map(lambda r: r if pd.isna(r) else terms.route_from_sdtm(r))
    return {"drug": ds.text("EXTRT"), "dose": ds.column("EXDOSE"),
            "dose_unit": ds.text("EXDOSU"), "route": route}


def _session(ds: Dataset) -> dict[str, pd.Series]:
    return {"modality": ds.text("EXTRT").map(
        lambda t: None if pd.isna(t) else terms.modality_from_extrt(t))}


def _durations(ds: Dataset, table: str, log: ProblemLog, *, exercise: bool):
    """Minutes from EXDUR, else from EXSTDTC-EXENDTC times, else (exercise) EXDOSE in min."""
    text = ds.text("EXDUR")
    parsed = text.map(lambda t: None if pd.isna(t) else terms.parse_duration(t))
    minutes = pd.to_numeric(parsed, errors="coerce").astype("float64")
    bad = log.flag(table, ds.frame, text.notna() & minutes.isna(), "EXDUR", "bad_duration",
                   lambda row: f"{location(row)}: EXDUR {row['_value']!r} is not an ISO 8601 "
                   "duration; write it as PT40M (40 minutes) or PT1H30M", values=text)
    minutes = minutes.fillna(_minutes_between(ds))
    if exercise:
        dose, _ = numbers(ds.column("EXDOSE"))
        unit = ds.text("EXDOSU").str.upper()
        in_minutes = dose.where(unit.isin(terms.MINUTE_UNITS).fillna(False).astype(bool))
        bad |= log.flag(
            table, ds.frame, minutes.notna() & in_minutes.notna() & (minutes != in_minutes),
            "EXDOSE", "duration_mismatch",
            lambda row: f"{location(row)}: EXDOSE {row['_value']} min disagrees with the "
            f"duration {minutes.at[row.name]:g} min from EXDUR or the start and end times; "
            "correct one of them")
        minutes = minutes.fillna(in_minutes)
    return minutes, ~bad


def _minutes_between(ds: Dataset) -> pd.Series:
    start, end = ds.text("EXSTDTC"), ds.text("EXENDTC")
    timed = start.str.contains("T", regex=False) & end.str.contains("T", regex=False)
    timed = timed.fillna(False).astype(bool)
    first = pd.to_datetime(start.where(timed), errors="coerce", format="ISO8601")
    last = pd.to_datetime(end.where(timed), errors="coerce", format="ISO8601")
    return ((last - first).dt.total_seconds() / 60).astype("float64")


# -- QS and RS ----------------------------------------------------------------------


def read_scales(ds: Dataset, subjects: Subjects, protocol: Protocol, assessments: RawTable,
                log: ProblemLog) -> Placement:
    """QS or RS records of the scales ketex scores, one assessment row per visit and day
    (and minute from the infusion start, ``--ELTM`` or ``--TPTNUM``, for timed ratings).

    ``--CAT`` names the instrument, ``--TESTCD`` the item or total
    (:func:`~ketex.io.sdtm.terms.parse_test_code`); the value is ``--STRESN``, else
    ``--STRESC``, else ``--ORRES``; ``--STAT = NOT DONE`` records leave the value empty.
    """
    p, table = ds.domain, "assessments"
    placement: Placement = {}
    missing = ds.missing("USUBJID", f"{p}TESTCD", (f"{p}STRESN", f"{p}STRESC", f"{p}ORRES"),
                         "VISIT", (f"{p}DY", f"{p}DTC"))
    if missing:
        report_unusable(ds, table, missing, log)
        return placement
    ds = ds.subset(subjects.keep(ds, table, log, strict=False))
    targets = _scale_targets(ds, log)
    ds, targets = ds.subset(targets.notna()), targets.dropna()
    day, date, timed = _timed(ds, table, p, subjects, log, start=False)
    values, visits = _scale_values(ds), _visits(ds.text("VISIT"), protocol)
    minutes, bad = _minutes(ds, log)
    groups: dict[tuple, int] = {}
    use = timed & ~bad
    records = zip(ds.frame.index[use], ds.text("USUBJID")[use], targets[use], visits[use],
                  day[use], date[use], values[use], minutes[use], ds.frame.loc[use, LINE],
                  strict=True)
    for index, participant, (instrument, item), visit, on, dated, value, at, line in records:
        where = (ds.file, int(line))
        key = (participant, instrument, visit, on, None if pd.isna(at) else at)
        if key not in groups:
            timing = {} if pd.isna(at) else {"time_min": at}
            groups[key] = assessments.add(
                {"participant_id": participant, "day": on, "visit": visit,
                 "instrument": instrument, "date": None if pd.isna(dated) else dated,
                 **timing}, where)
        row = groups[key]
        column = "total" if item is None else f"item_{item}"
        if not assessments.set(row, column, value, where):
            _duplicate(ds, index, column, assessments.cell_source(row, column), log)
            continue
        placement[index] = (assessments, row)
    return placement


def _minutes(ds: Dataset, log: ProblemLog) -> tuple[pd.Series, pd.Series]:
    """Minutes from the infusion start (``--ELTM``, else ``--TPTNUM``) and the bad ones.

    A rating without either is the visit's rating (``time_min`` empty).
    """
    from ketex.io.sdtm.safety_terms import parse_elapsed

    p = ds.domain
    elapsed = ds.text(f"{p}ELTM")
    minutes = elapsed.map(lambda t: None if pd.isna(t) else parse_elapsed(t))
    minutes = pd.to_numeric(minutes, errors="coerce").astype("float64")
    bad = log.flag("assessments", ds.frame, elapsed.notna() & minutes.isna(), f"{p}ELTM",
                   "bad_duration",
                   lambda row: f"{location(row)}: {p}ELTM {row['_value']!r} is not an ISO "
                   "8601 duration; write the time from the infusion start as PT40M, or "
                   "-PT15M before it", values=elapsed)
    numbered, not_number = numbers(ds.column(f"{p}TPTNUM"))
    bad_number = log.flag("assessments", ds.frame, not_number & minutes.isna(),
                          f"{p}TPTNUM", "not_a_number",
                          lambda row: f"{location(row)}: {p}TPTNUM {row['_value']!r} is not "
                          "a number of minutes; correct it", values=ds.text(f"{p}TPTNUM"))
    minutes = minutes.where(minutes.notna() | bad, numbered.astype("float64"))
    return minutes, (bad | bad_number)


def _scale_targets(ds: Dataset, log: ProblemLog) -> pd.Series:
    """(instrument, item or None) of each record; unknown instruments and codes reported."""
    p = ds.domain
    codes = ds.text(f"{p}TESTCD").str.upper()
    categories = ds.text(f"{p}CAT")
    # the --CAT of each record that names scales ketex maps (one, or several: CGI), else
    # None; object dtype with None: a dataset without --CAT maps to Arrow's null type,
    # which no fillna takes
    instruments = categories.map(
        lambda c: c if not pd.isna(c) and terms.scales_of_category(c) else None
    ).astype(object)
    instruments = instruments.where(instruments.notna(), None)
    unsupported = log.flag(
        "assessments", ds.frame, categories.notna() & instruments.isna(), f"{p}CAT",
        "unsupported_instrument",
        lambda row: f"{location(row)}: {p}CAT {row['_value']!r} is not a scale ketex scores "
        f"in SDTM ({', '.join(terms.SCALES)}); the record was not loaded",
        severity="warning", values=categories)
    parsed: dict[tuple, object] = {}
    for code, inst in set(zip(codes.fillna(""), instruments.fillna(""), strict=True)):
        parsed[(code, inst)] = terms.parse_test_code(code, inst or None) if code else None
    targets = pd.Series(
        [None if skip else parsed[(code, inst)] for code, inst, skip in
         zip(codes.fillna(""), instruments.fillna(""), unsupported, strict=True)],
        index=ds.frame.index, dtype=object)
    log.flag("assessments", ds.frame, ~unsupported & targets.isna(), f"{p}TESTCD",
             "unknown_test_code",
             lambda row: f"{location(row)}: {p}TESTCD {row['_value']!r} is not "
             # pandas-stubs: a row's name (Hashable) is not accepted as a Series key
             f"{_expected_codes(instruments[row.name])}; correct the code",  # type: ignore[call-overload]
             values=codes)
    return targets


def _expected_codes(category: str | None) -> str:
    if category is None or pd.isna(category):
        return ("a test code of a scale ketex scores (e.g. MADRS01-MADRS10, MADRSTOT); give "
                "--CAT as well")
    from ketex.scales import INSTRUMENTS

    described = []
    for instrument in terms.scales_of_category(category):
        first = terms.scale_test_code(instrument, 1)
        n_items = INSTRUMENTS[instrument].n_items
        items = (f"item {first}" if n_items == 1
                 else f"items {first}-{terms.scale_test_code(instrument, n_items)}")
        total = terms.scale_test_code(instrument, None)
        described.append(f"an item or the total of {instrument} ({items}, total {total})")
    return " or ".join(described)


def _scale_values(ds: Dataset) -> pd.Series:
    p = ds.domain
    value = ds.column(f"{p}STRESN")
    for fallback in (f"{p}STRESC", f"{p}ORRES"):
        value = value.where(value.notna(), ds.column(fallback))
    not_done = ds.text(f"{p}STAT").str.upper() == "NOT DONE"
    return value.where(~not_done.fillna(False).astype(bool), None)


def _visits(visits: pd.Series, protocol: Protocol) -> pd.Series:
    """VISIT as the protocol's visit name (matched ignoring case, spaces and punctuation)."""
    def key(name: str) -> str:
        return "".join(ch for ch in name.upper() if ch.isalnum())

    names = {key(name): name for name in protocol.visit_names}
    given = visits.dropna().unique()
    mapping = {v: v if v in protocol.visit_names else names.get(key(v), v) for v in given}
    return visits.map(mapping).astype(object)


def _duplicate(ds: Dataset, index, column: str, first, log: ProblemLog) -> None:
    p = ds.domain
    # pandas-stubs: DataFrame.at gives any scalar type
    line = int(ds.frame.at[index, LINE])  # type: ignore[arg-type]
    code: object = ds.frame.at[index, f"{p}TESTCD"]
    participant = ds.frame.at[index, "participant_id"]
    log.add("assessments", "duplicate_record",
            f"{ds.file} line {line}: {p}TESTCD {code} is given twice for this participant, "
            f"visit and day (first at {first[0]} line {first[1]}); remove one of the records",
            source_file=ds.file, line=line, participant_id=participant,  # type: ignore[arg-type]
            column=f"{p}TESTCD", value=code)


# -- events -------------------------------------------------------------------------


def read_events(ds: Dataset, subjects: Subjects, events: RawTable, log: ProblemLog,
                skip: pd.Series | None = None) -> Placement:
    """HO, CE, AE and DS records as events (see the module notes of ``terms``).

    ``skip`` masks records already used elsewhere (the DS RANDOMIZED records).
    """
    p, table = ds.domain, "events"
    placement: Placement = {}
    missing = ds.missing("USUBJID", (f"{p}STDY", f"{p}DY", f"{p}STDTC", f"{p}DTC"))
    if missing:
        report_unusable(ds, table, missing, log)
        return placement
    used = pd.Series(False, index=ds.frame.index) if skip is None else skip
    kinds, descriptions = _EVENT_READERS[p](ds)
    part = ds.subset(~used)
    part = part.subset(subjects.keep(part, table, log, strict=False))
    if p == "DS":
        part = part.subset(~_not_events(part, log))
    day, date, timed = _timed(part, table, p, subjects, log, start=True)
    chosen = part.frame.index[timed]
    records = zip(chosen, part.text("USUBJID")[chosen], day[chosen], date[chosen],
                  kinds[chosen], descriptions[chosen], part.frame.loc[chosen, LINE], strict=True)
    for index, participant, on, dated, kind, description, line in records:
        row = events.add({"participant_id": participant, "day": on,
                          "date": None if pd.isna(dated) else dated, "event": kind,
                          "description": None if pd.isna(description) else description},
                         (ds.file, int(line)))
        placement[index] = (events, row)
    return placement


def _unless(terms_: pd.Series, defaults: pd.Series | tuple) -> pd.Series:
    """Descriptions: the verbatim term unless it only repeats the coded or default term."""
    upper = terms_.str.upper()
    if isinstance(defaults, tuple):
        same = upper.isin(defaults)
    else:
        same = upper == defaults.str.upper()
    return terms_.where(~same.fillna(False).astype(bool)).astype(object)


def _ho(ds: Dataset) -> tuple[pd.Series, pd.Series]:
    category = ds.text("HOCAT").str.upper()
    suicide = category.str.contains("SUICIDE", regex=False).fillna(False).astype(bool)
    kinds = pd.Series("hospitalisation", index=ds.frame.index, dtype=object)
    kinds[suicide] = "suicide_prevention_hospitalisation"
    term = ds.text("HOTERM")
    return kinds, _unless(term, (terms.HO_TERM, "HOSPITALISATION", terms.HO_DECOD))


def _ce(ds: Dataset) -> tuple[pd.Series, pd.Series]:
    decod, term = ds.text("CEDECOD"), ds.text("CETERM")
    coded = decod.fillna(term)
    kinds = coded.map(lambda t: None if pd.isna(t) else terms.event_from_decod(t))
    description = _unless(term, coded)
    return kinds.astype(object), description


def _ae(ds: Dataset) -> tuple[pd.Series, pd.Series]:
    decod, term = ds.text("AEDECOD"), ds.text("AETERM")
    kinds = pd.Series([terms.ae_event(None if pd.isna(d) else d, None if pd.isna(t) else t)
                       for d, t in zip(decod, term, strict=True)], index=ds.frame.index,
                      dtype=object)
    return kinds, term.astype(object)


def _ds(ds: Dataset) -> tuple[pd.Series, pd.Series]:
    term, decod = ds.text("DSTERM"), ds.text("DSDECOD")
    description = _unless(term, (terms.DS_TERM,))
    fallback = decod.where(decod.str.upper() != terms.DS_DECOD)
    kinds = pd.Series("discontinuation", index=ds.frame.index, dtype=object)
    return kinds, description.where(term.notna(), fallback.astype(object))


_EVENT_READERS = {"HO": _ho, "CE": _ce, "AE": _ae, "DS": _ds}


def _not_events(ds: Dataset, log: ProblemLog) -> pd.Series:
    """DS records that are no discontinuation: completions and protocol milestones."""
    category = ds.text("DSCAT").str.upper()
    decod = ds.text("DSDECOD").str.upper()
    disposition = (category.isna() | (category == terms.DS_DISPOSITION)).fillna(True)
    completed = (decod == terms.DS_COMPLETED).fillna(False).astype(bool)
    other = ~disposition.astype(bool) | completed
    return log.flag(
        "events", ds.frame, other, "DSDECOD", "not_an_event",
        lambda row: f"{location(row)}: DS record {row.get('DSDECOD')!r} (DSCAT "
        f"{row.get('DSCAT')!r}) is not a discontinuation; ketex keeps "
        "discontinuations (DSCAT DISPOSITION EVENT other than COMPLETED) as events and "
        "RANDOMIZED records as randomisation dates; the record was not loaded",
        severity="warning", values=decod)
