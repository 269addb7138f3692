"""The validation rules of the safety tables: adverse events, vital signs, medications.

Called once from :func:`ketex.study.rules.check_all` after the shared rules (days from
dates, day ranges, known participants). Codes are read ignoring case, with spaces and
hyphens as ``_``; the vocabularies below are the only spellings accepted. ketex does not
code events: ``pt`` and ``soc`` are kept as given, and a system organ class that is not
one of MedDRA's 27 is reported as a warning.
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

from ketex.study.problems import LINE, SOURCE_FILE, ProblemLog

__all__ = [
    "AE_ACTIONS",
    "AE_OUTCOMES",
    "AE_RELATIONS",
    "AE_SEVERITIES",
    "DISCONTINUING_ACTIONS",
    "MEDDRA_SOCS",
    "VITAL_LIMITS",
    "check_safety",
]

AE_SEVERITIES = ("mild", "moderate", "severe")
AE_RELATIONS = ("drug", "exercise", "both", "none")
AE_ACTIONS = (
    "none",
    "dose_reduced",
    "drug_interrupted",
    "drug_withdrawn",
    "exercise_paused",
    "exercise_stopped",
    "withdrawn_from_study",
)
#: Actions that end a treatment or the participation: "leading to discontinuation".
DISCONTINUING_ACTIONS = ("drug_withdrawn", "exercise_stopped", "withdrawn_from_study")
AE_OUTCOMES = (
    "recovered",
    "recovering",
    "not_recovered",
    "recovered_with_sequelae",
    "fatal",
    "unknown",
)
# SDTM AEOUT and AEACN spellings, read as the codes above
_ALIASES = {
    "recovered/resolved": "recovered",
    "recovering/resolving": "recovering",
    "not_recovered/not_resolved": "not_recovered",
    "recovered/resolved_with_sequelae": "recovered_with_sequelae",
    "dose_not_changed": "none",
    "not_applicable": "none",
    "not_related": "none",
    "unrelated": "none",
}

#: The 27 MedDRA system organ classes (MedDRA 27.0), spelled as MedDRA spells them.
MEDDRA_SOCS = (
    "Blood and lymphatic system disorders",
    "Cardiac disorders",
    "Congenital, familial and genetic disorders",
    "Ear and labyrinth disorders",
    "Endocrine disorders",
    "Eye disorders",
    "Gastrointestinal disorders",
    "General disorders and administration site conditions",
    "Hepatobiliary disorders",
    "Immune system disorders",
    "Infections and infestations",
    "Injury, poisoning and procedural complications",
    "Investigations",
    "Metabolism and nutrition disorders",
    "Musculoskeletal and connective tissue disorders",
    "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
    "Nervous system disorders",
    "Pregnancy, puerperium and perinatal conditions",
    "Psychiatric disorders",
    "Renal and urinary disorders",
    "Reproductive system and breast disorders",
    "Respiratory, thoracic and mediastinal disorders",
    "Skin and subcutaneous tissue disorders",
    "Social circumstances",
    "Surgical and medical procedures",
    "Vascular disorders",
    "Product issues",
)

#: Plausible ranges (inclusive) of each vital-sign test by unit; values outside are errors.
VITAL_LIMITS = MappingProxyType(
    {
        "SBP": {"mmHg": (50.0, 300.0)},
        "DBP": {"mmHg": (20.0, 200.0)},
        "HR": {"beats/min": (30.0, 230.0)},
        "SPO2": {"%": (50.0, 100.0)},
        "TEMP": {"C": (32.0, 43.0), "F": (89.6, 109.4)},
        "WEIGHT": {"kg": (25.0, 350.0), "lb": (55.0, 772.0)},
    }
)
_UNIT_SPELLINGS = {
    "mmhg": "mmHg",
    "mm hg": "mmHg",
    "beats/min": "beats/min",
    "bpm": "beats/min",
    "/min": "beats/min",
    "beats per minute": "beats/min",
    "%": "%",
    "percent": "%",
    "c": "C",
    "°c": "C",
    "degc": "C",
    "f": "F",
    "°f": "F",
    "degf": "F",
    "kg": "kg",
    "lb": "lb",
    "lbs": "lb",
}
_TIME_MIN = (-1440.0, 1440.0)  # a day either side of the infusion or session start


def check_safety(tables: dict[str, pd.DataFrame], log: ProblemLog) -> None:
    """Check the three safety tables; codes are normalised in place."""
    _check_adverse_events(tables["adverse_events"], log)
    _check_vitals(tables["vitals"], log)
    _check_end_after_start("medications", tables["medications"], log)


def _where(row: pd.Series) -> str:
    return f"{row.get(SOURCE_FILE)} line {row.get(LINE)}"


def _code(values: pd.Series) -> pd.Series:
    text = values.str.lower().str.strip().str.replace(r"[\s-]+", "_", regex=True)
    return text.replace(_ALIASES)


def _check_codes(table, frame, column, allowed, log: ProblemLog) -> None:
    if column not in frame.columns:
        return
    frame[column] = _code(frame[column])
    log.flag(
        table,
        frame,
        frame[column].notna() & ~frame[column].isin(allowed),
        column,
        "unknown_code",
        lambda row: f"{_where(row)}: {column} {row['_value']!r} is not one of "
        f"{', '.join(allowed)}; correct the value or leave it empty",
    )


def _check_end_after_start(table: str, frame: pd.DataFrame, log: ProblemLog) -> None:
    if "end_day" not in frame.columns or "start_day" not in frame.columns:
        return
    log.flag(
        table,
        frame,
        frame["end_day"] < frame["start_day"],
        "end_day",
        "end_before_start",
        lambda row: f"{_where(row)}: end_day {row['_value']:g} is before start_day "
        f"{row['start_day']:g}; correct one of them",
    )


# -- adverse events -----------------------------------------------------------------


def _check_adverse_events(frame: pd.DataFrame, log: ProblemLog) -> None:
    table = "adverse_events"
    if frame.empty:
        return
    for column, allowed in (("severity", AE_SEVERITIES), ("baseline_severity", AE_SEVERITIES),
                            ("related", AE_RELATIONS), ("action", AE_ACTIONS),
                            ("outcome", AE_OUTCOMES)):
        _check_codes(table, frame, column, allowed, log)
    if "grade" in frame.columns:
        log.flag(
            table, frame, (frame["grade"] < 1) | (frame["grade"] > 5), "grade", "out_of_range",
            lambda row: f"{_where(row)}: grade {row['_value']:g} is not a CTCAE grade "
            "(1-5); correct it or leave it empty",
        )
    _check_end_after_start(table, frame, log)
    _check_coding(frame, log)


def _check_coding(frame: pd.DataFrame, log: ProblemLog) -> None:
    """Warnings only: ketex does not code, it reports what looks miscoded."""
    table = "adverse_events"
    for column in ("pt", "soc"):
        if column not in frame.columns:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="string")
    log.flag(
        table, frame, frame["pt"].isna() | frame["soc"].isna(), "pt", "uncoded_event",
        lambda row: f"{_where(row)}: {row['term']!r} has no MedDRA "
        f"{'preferred term' if pd.isna(row['pt']) else 'system organ class'}; it is "
        "counted under 'Uncoded' in the safety tables. Code it (pt and soc)",
        severity="warning",
    )
    socs = {soc.casefold(): soc for soc in MEDDRA_SOCS}
    log.flag(
        table, frame, frame["soc"].notna() & ~frame["soc"].isin(MEDDRA_SOCS), "soc",
        "unknown_soc",
        lambda row: f"{_where(row)}: system organ class {row['_value']!r} is not spelled "
        "as one of MedDRA's 27"
        + (f"; MedDRA writes {socs[row['_value'].casefold()]!r}"
           if row["_value"].casefold() in socs else "")
        + "; the safety tables count it as written",
        severity="warning",
    )
    coded = frame[frame["pt"].notna()]
    if coded.empty:
        return
    folded = coded["pt"].str.casefold().str.split().str.join(" ")
    first = coded.assign(_fold=folded).drop_duplicates("_fold").set_index("_fold")["pt"]
    log.flag(
        table, coded, coded["pt"] != folded.map(first), "pt", "pt_spelling",
        lambda row: f"{_where(row)}: preferred term {row['_value']!r} differs only in case "
        f"or spaces from {first.at[folded.at[row.name]]!r}; the safety tables count them apart "
        "until the spelling is made the same",
        severity="warning",
    )
    socs_of_pt = coded.dropna(subset=["soc"]).groupby("pt")["soc"].unique()
    split = socs_of_pt[socs_of_pt.map(len) > 1]
    log.flag(
        table, coded, coded["pt"].isin(split.index) & coded["soc"].notna(), "soc",
        "pt_in_two_socs",
        lambda row: f"{_where(row)}: preferred term {row['pt']!r} is under "
        f"{', '.join(sorted(split[row['pt']]))}; a preferred term has one primary system "
        "organ class. Correct the coding",
        severity="warning",
    )


# -- vital signs --------------------------------------------------------------------


def _check_vitals(frame: pd.DataFrame, log: ProblemLog) -> None:
    table = "vitals"
    if frame.empty:
        return
    frame["test"] = frame["test"].str.upper().str.strip().replace({"PULSE": "HR"})
    tests = tuple(VITAL_LIMITS)
    log.flag(
        table, frame, frame["test"].notna() & ~frame["test"].isin(tests), "test",
        "unknown_vital_test",
        lambda row: f"{_where(row)}: test {row['_value']!r} is not one of "
        f"{', '.join(tests)}; correct it",
    )
    unit = frame["unit"].str.strip()
    frame["unit"] = unit.str.lower().map(_UNIT_SPELLINGS).astype("string").fillna(unit)
    bad_unit = pd.Series(
        [not pd.isna(t) and t in VITAL_LIMITS and not pd.isna(u) and u not in VITAL_LIMITS[t]
         for t, u in zip(frame["test"], frame["unit"], strict=True)],
        index=frame.index,
    )
    log.flag(
        table, frame, bad_unit, "unit", "unknown_unit",
        lambda row: f"{_where(row)}: unit {row['_value']!r} is not a unit of "
        f"{row['test']}; use {' or '.join(VITAL_LIMITS[row['test']])}",
    )
    limits = [VITAL_LIMITS.get(t, {}).get(u, (float("nan"),) * 2) if not pd.isna(t) else
              (float("nan"),) * 2 for t, u in zip(frame["test"], frame["unit"], strict=True)]
    low = pd.Series([lo for lo, _ in limits], index=frame.index, dtype="float64")
    high = pd.Series([hi for _, hi in limits], index=frame.index, dtype="float64")
    log.flag(
        table, frame, (frame["value"] < low) | (frame["value"] > high), "value",
        "vital_out_of_range",
        lambda row: f"{_where(row)}: {row['test']} {row['_value']:g} {row['unit']} is outside "
        f"the plausible range {low.at[row.name]:g}-{high.at[row.name]:g} {row['unit']}; correct it",
    )
    if "time_min" in frame.columns:
        lo, hi = _TIME_MIN
        log.flag(
            table, frame, (frame["time_min"] < lo) | (frame["time_min"] > hi), "time_min",
            "out_of_range",
            lambda row: f"{_where(row)}: time_min {row['_value']:g} is more than a day from "
            f"the infusion or session start (allowed {lo:g} to {hi:g}); correct it",
        )
    keys = [c for c in ("participant_id", "day", "time_min", "test") if c in frame.columns]
    key_frame = frame[keys].astype("string").fillna("")
    first = frame.assign(_key=key_frame.agg("|".join, axis=1))
    first_line = first.drop_duplicates("_key").set_index("_key")[LINE]
    log.flag(
        table, frame, key_frame.duplicated(keep="first") & frame["participant_id"].notna(),
        "test", "duplicate_vital",
        lambda row: f"{_where(row)}: participant {row['participant_id']} already has "
        f"{row['test']} on day {row['day']:g}"
        + (f" at {row['time_min']:g} min" if not pd.isna(row.get("time_min")) else "")
        + f" (line {first_line.at[first.at[row.name, '_key']]}); remove the duplicate row",
    )
