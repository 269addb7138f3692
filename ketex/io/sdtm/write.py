"""Writing a :class:`~ketex.study.trial.Trial` as SDTM datasets (CSV or SAS XPORT v5).

The datasets follow the mapping the reader uses (``docs/loading-data.md``, section
"CDISC SDTM"), so ``load_sdtm(write_sdtm(trial, folder))`` gives an equal trial.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketex.io.escape import csv_safe
from ketex.io.sdtm import terms
from ketex.study.tables import TABLES, item_columns
from ketex.study.trial import Trial

__all__ = ["sdtm_datasets", "write_sdtm"]

FORMATS = ("csv", "xpt")
XPT_MAX_TEXT = 200

_DATASET_LABELS = {
    "DM": "Demographics", "VS": "Vital Signs", "EX": "Exposure", "QS": "Questionnaires",
    "RS": "Disease Response and Clin Classification", "HO": "Healthcare Encounters",
    "DS": "Disposition", "CE": "Clinical Events", "AE": "Adverse Events",
    "CM": "Concomitant/Prior Medications",
}
_LABELS = {
    "STUDYID": "Study Identifier", "DOMAIN": "Domain Abbreviation",
    "USUBJID": "Unique Subject Identifier", "SUBJID": "Subject Identifier for the Study",
    "RFSTDTC": "Subject Reference Start Date/Time", "SITEID": "Study Site Identifier",
    "AGE": "Age", "AGEU": "Age Units", "SEX": "Sex", "ARMCD": "Planned Arm Code",
    "ARM": "Description of Planned Arm", "ACTARMCD": "Actual Arm Code",
    "ACTARM": "Description of Actual Arm", "RDOMAIN": "Related Domain Abbreviation",
    "IDVAR": "Identifying Variable", "IDVARVAL": "Identifying Variable Value",
    "QNAM": "Qualifier Variable Name", "QLABEL": "Qualifier Variable Label",
    "QVAL": "Data Value", "QORIG": "Origin", "VISITNUM": "Visit Number",
    "VISIT": "Visit Name",
}
_SUFFIX_LABELS = {
    "SEQ": "Sequence Number", "TESTCD": "Short Name of Test", "TEST": "Name of Test",
    "CAT": "Category", "ORRES": "Result or Finding in Original Units",
    "ORRESU": "Original Units", "STRESC": "Character Result/Finding in Std Format",
    "STRESN": "Numeric Result/Finding in Standard Units", "STRESU": "Standard Units",
    "STAT": "Completion Status", "DRVFL": "Derived Flag", "EVAL": "Evaluator",
    "BLFL": "Baseline Flag", "DTC": "Date/Time of Collection", "DY": "Study Day",
    "STDTC": "Start Date/Time", "STDY": "Study Day of Start", "TRT": "Name of Treatment",
    "DOSE": "Dose", "DOSU": "Dose Units", "ROUTE": "Route of Administration",
    "DUR": "Duration", "TERM": "Reported Term", "DECOD": "Standardized Term",
    "BODSYS": "Body System or Organ Class", "SEV": "Severity/Intensity",
    "SER": "Serious Event", "ACN": "Action Taken with Study Treatment",
    "ACNOTH": "Other Action Taken", "REL": "Causality", "OUT": "Outcome of Adverse Event",
    "TOXGR": "Standard Toxicity Grade", "ENDTC": "End Date/Time", "ENDY": "Study Day of End",
    "TPT": "Planned Time Point Name", "TPTNUM": "Planned Time Point Number",
    "ELTM": "Planned Elapsed Time from Time Point Ref", "TPTREF": "Time Point Reference",
    "CLAS": "Medication Class", "INDC": "Indication",
}
_NUMERIC = re.compile(
    r"^(AGE|VISITNUM|\w\wSEQ|\w\wSTRESN|\w\wDOSE|\w\wDY|\w\wSTDY|\w\wENDY|\w\wTPTNUM)$")


def write_sdtm(trial: Trial, folder: str | Path, *, format: str = "csv") -> Path:
    """Write a trial as SDTM datasets plus ``study.toml``.

    Parameters
    ----------
    trial : Trial
    folder : str or Path
        Created if absent; existing datasets of the same names are replaced.
    format : {"csv", "xpt"}
        ``"xpt"`` writes SAS XPORT version 5 files (needs ``pyreadstat``); names are at
        most 8 characters, labels 40 and text values 200.

    Returns
    -------
    Path
        The folder. :func:`ketex.io.sdtm.load_sdtm` reads it back into an equal trial.

    Raises
    ------
    ValueError
        Unknown ``format``, or a text value longer than XPORT v5 allows.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ketex.io.folder import load_trial
    >>> trial = load_trial("tests/data/mini")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sorted(p.name for p in write_sdtm(trial, folder).iterdir())
    ['dm.csv', 'ds.csv', 'ex.csv', 'ho.csv', 'qs.csv', 'study.toml', 'suppdm.csv',
     'suppex.csv', 'vs.csv']
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    datasets = sdtm_datasets(trial)
    if format == "xpt":
        _check_xpt(datasets)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in datasets.items():
        target = folder / f"{name.lower()}.{format}"
        if format == "csv":
            csv_safe(frame).to_csv(target, index=False)
        else:
            _write_xpt(frame, target, name)
    trial.protocol.write(folder / "study.toml")
    return folder


def sdtm_datasets(trial: Trial) -> dict[str, pd.DataFrame]:
    """The SDTM datasets of a trial, by domain name (only the non-empty ones).

    Examples
    --------
    >>> from ketex.io.folder import load_trial
    >>> datasets = sdtm_datasets(load_trial("tests/data/mini"))
    >>> datasets["QS"][["USUBJID", "QSTESTCD", "QSSTRESN", "VISIT", "QSDY"]].head(3)
      USUBJID QSTESTCD  QSSTRESN     VISIT  QSDY
    0     M01  MADRS01       4.0  BASELINE    -3
    1     M01  MADRS02       4.0  BASELINE    -3
    2     M01  MADRS03       3.0  BASELINE    -3
    """
    study = trial.protocol.study_id
    from ketex.io.sdtm.safety_write import write_safety  # it builds on this module

    domains = ("DM", "DS", "VS", "EX", "QS", "RS", "HO", "CE", "AE", "CM")
    builders = {d: _Builder(d, study) for d in domains}
    _participants(trial, builders)
    _exposure(trial, builders["EX"])
    _assessments(trial, builders)
    _events(trial, builders)
    write_safety(trial, builders)
    datasets = {}
    for domain, builder in builders.items():
        main, supp = builder.frames()
        if main is not None:
            datasets[domain] = main
        if supp is not None:
            datasets[f"SUPP{domain}"] = supp
    return datasets


class _Builder:
    """Records of one domain; ``--SEQ`` numbers and SUPP-- records are added at the end."""

    def __init__(self, domain: str, study: str) -> None:
        self.domain, self.study = domain, study
        self.records: list[tuple[tuple, dict, list]] = []

    def add(self, order: tuple, record: dict, qualifiers: Iterable = ()) -> None:
        """One record; ``order`` sorts it among its participant's records."""
        self.records.append((order, record, list(qualifiers)))

    def frames(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        if not self.records:
            return None, None
        ordered = sorted(self.records, key=lambda r: (r[1]["USUBJID"], *r[0]))
        rows: list[dict] = []
        supp: list[dict] = []
        seq: dict[str, int] = {}
        for _, record, qualifiers in ordered:
            subject = record["USUBJID"]
            base = {"STUDYID": self.study, "DOMAIN": self.domain, "USUBJID": subject}
            if self.domain != "DM":
                seq[subject] = seq.get(subject, 0) + 1
                base[f"{self.domain}SEQ"] = seq[subject]
            rows.append({**base, **{k: v for k, v in record.items() if k != "USUBJID"}})
            for qnam, qlabel, qval in qualifiers:
                link = ("", "") if self.domain == "DM" else (f"{self.domain}SEQ",
                                                            str(seq[subject]))
                supp.append({"STUDYID": self.study, "RDOMAIN": self.domain, "USUBJID": subject,
                             "IDVAR": link[0], "IDVARVAL": link[1], "QNAM": qnam,
                             "QLABEL": qlabel, "QVAL": qval, "QORIG": "CRF"})
        main = _tidy(pd.DataFrame(rows))
        return main, (_tidy(pd.DataFrame(supp)) if supp else None)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop variables empty throughout; numbers as Int64 when whole, else float; text as str."""
    out: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        if values.isna().all() and column not in ("IDVAR", "IDVARVAL"):
            continue
        if _is_numeric(column):
            values = pd.to_numeric(values, errors="coerce").astype("float64")
            whole = values.dropna()
            out[column] = values.astype("Int64") if (whole == whole.round()).all() else values
        else:
            out[column] = values.astype(object).where(values.notna(), None).astype("str")
    return pd.DataFrame(out).reset_index(drop=True)


def _present(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def _date(value: Any) -> str | None:
    return f"{pd.Timestamp(value):%Y-%m-%d}" if _present(value) else None


def _qval(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "Y" if value else "N"
    if isinstance(value, int | float | np.integer | np.floating):
        return terms.number_text(value)
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _sdtm_day(day: Any) -> int:
    return int(day) + 1 if int(day) >= 0 else int(day)


def _qualifiers(table: str, columns: Iterable[str]) -> dict[str, tuple[str, str]]:
    """column -> (QNAM, QLABEL) for the columns a table writes to its SUPP-- dataset."""
    known = {column: (qnam, label) for qnam, (column, label)
             in terms.SUPP_COLUMNS.get(table, {}).items()}
    schema = {c.name for c in TABLES[table].columns}
    taken = set(terms.SUPP_COLUMNS.get(table, {}))
    out = {}
    for column in columns:
        if column in known:
            out[column] = known[column]
        elif column not in schema and not column.startswith("item_"):
            out[column] = (_new_qnam(column, taken), column)
    return out


def _new_qnam(column: str, taken: set[str]) -> str:
    """An unused QNAM (8 characters, letters and digits, starting with a letter)."""
    stem = re.sub(r"[^A-Z0-9]", "", column.upper()) or "EXTRA"
    if not stem[0].isalpha():
        stem = "X" + stem
    name, number = stem[:8], 1
    while name in taken:
        suffix = str(number)
        name, number = stem[: 8 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _row_qualifiers(row: pd.Series, qnams: dict[str, tuple[str, str]]) -> list:
    return [(qnam, label, _qval(row[column])) for column, (qnam, label) in qnams.items()
            if _present(row[column])]


# -- participants: DM, SUPPDM, VS, DS RANDOMIZED -----------------------------------


def _participants(trial: Trial, builders: dict[str, _Builder]) -> None:
    labels = {arm.code: arm.label or arm.code for arm in trial.protocol.arms}
    frame = trial.participants
    qnams = _qualifiers("participants", frame.columns)
    for _, row in frame.iterrows():
        subject = row["participant_id"]
        randomised = _date(row.get("randomization_date"))
        age = row.get("age")
        arm_label = labels.get(row["arm"], row["arm"])
        builders["DM"].add((), {
            "USUBJID": subject, "SUBJID": subject, "RFSTDTC": randomised,
            "SITEID": row.get("site"), "AGE": age, "AGEU": "YEARS" if _present(age) else None,
            "SEX": row.get("sex"), "ARMCD": row["arm"], "ARM": arm_label,
            "ACTARMCD": row["arm"], "ACTARM": arm_label,
        }, _row_qualifiers(row, qnams))
        if randomised:
            builders["DS"].add((0, 0), {
                "USUBJID": subject, "DSTERM": terms.DS_RANDOMIZED,
                "DSDECOD": terms.DS_RANDOMIZED, "DSCAT": terms.DS_MILESTONE,
                "DSSTDTC": randomised, "DSSTDY": 1})
        _vital_signs(row, builders["VS"])


_VS = (("WEIGHT", "Weight", "weight_kg", "kg"), ("HEIGHT", "Height", "height_cm", "cm"),
       ("HR", "Heart Rate", "resting_hr", "beats/min"))


def _vital_signs(row: pd.Series, builder: _Builder) -> None:
    for order, (code, name, column, unit) in enumerate(_VS):
        value: Any = row.get(column)
        if not _present(value):
            continue
        text = terms.number_text(value)
        builder.add((0, order), {
            "USUBJID": row["participant_id"], "VSTESTCD": code, "VSTEST": name,
            "VSORRES": text, "VSORRESU": unit, "VSSTRESC": text, "VSSTRESN": float(value),
            "VSSTRESU": unit, "VSBLFL": "Y"})


# -- EX, SUPPEX ---------------------------------------------------------------------


def _exposure(trial: Trial, builder: _Builder) -> None:
    infusions, sessions = trial.infusions, trial.exercise
    infusion_qnams = _qualifiers("infusions", infusions.columns)
    session_qnams = _qualifiers("exercise", sessions.columns)
    for _, row in infusions.iterrows():
        builder.add((row["day"], 0), {
            "USUBJID": row["participant_id"], "EXCAT": terms.DRUG_CATEGORY,
            "EXTRT": str(row["drug"]).upper(), "EXDOSE": row["dose"], "EXDOSU": row["dose_unit"],
            "EXROUTE": terms.route_to_sdtm(row["route"]) if _present(row.get("route")) else None,
            "EXDUR": (terms.format_duration(row["duration_min"])
                      if _present(row.get("duration_min")) else None),
            **_timing("EX", row, start=True),
        }, _row_qualifiers(row, infusion_qnams))
    for _, row in sessions.iterrows():
        builder.add((row["day"], 1), {
            "USUBJID": row["participant_id"], "EXCAT": terms.EXERCISE_CATEGORY,
            "EXTRT": terms.modality_to_extrt(row.get("modality")),
            "EXDOSE": row["duration_min"], "EXDOSU": "min",
            "EXDUR": terms.format_duration(row["duration_min"]),
            **_timing("EX", row, start=True),
        }, _row_qualifiers(row, session_qnams))


def _timing(prefix: str, row: pd.Series, *, start: bool) -> dict:
    stem = f"{prefix}ST" if start else prefix
    return {f"{stem}DTC": _date(row.get("date")), f"{stem}DY": _sdtm_day(row["day"])}


# -- QS, RS and their SUPP-- -------------------------------------------------------


def _time_point(prefix: str, minutes: Any) -> dict:
    """--TPT, --TPTNUM, --ELTM, --TPTREF of a rating timed from the infusion start."""
    from ketex.io.sdtm.safety_terms import format_elapsed, time_point

    if not _present(minutes):
        return {}
    reference = terms.TIMED_REFERENCE
    return {f"{prefix}TPT": time_point(float(minutes), reference),
            f"{prefix}TPTNUM": float(minutes), f"{prefix}ELTM": format_elapsed(float(minutes)),
            f"{prefix}TPTREF": reference}


def _assessments(trial: Trial, builders: dict[str, _Builder]) -> None:
    frame = trial.assessments
    visits = {name: number for number, name in enumerate(trial.protocol.visit_names, start=1)}
    items = item_columns(frame.columns)
    qnams = _qualifiers("assessments", frame.columns)
    for instrument in frame["instrument"].dropna().unique():
        terms.scale_codes(instrument)  # refuse an unmapped scale before writing anything
    for position, (_, row) in enumerate(frame.iterrows()):
        codes = terms.scale_codes(row["instrument"])
        builder = builders[codes.domain]
        p = codes.domain
        common = {
            "USUBJID": row["participant_id"], f"{p}CAT": codes.category,
            f"{p}EVAL": codes.evaluator, "VISITNUM": visits.get(row["visit"]),
            "VISIT": row["visit"], **_timing(p, row, start=False),
            **_time_point(p, row.get("time_min")),
        }
        results: list[tuple[int | None, Any]] = [
            (int(c.split("_")[1]), row[c]) for c in items if _present(row[c])
        ]
        if _present(row.get("total")):
            results.append((None, row["total"]))
        qualifiers = _row_qualifiers(row, qnams)
        if not results:
            builder.add((row["day"], position, 0), {
                **common, f"{p}TESTCD": terms.scale_test_code(row["instrument"], None),
                f"{p}TEST": f"{row['instrument']} total score", f"{p}STAT": "NOT DONE"},
                qualifiers)
            continue
        for order, (item, value) in enumerate(results):
            text = terms.number_text(value)
            builder.add((row["day"], position, order), {
                **common, f"{p}TESTCD": terms.scale_test_code(row["instrument"], item),
                f"{p}TEST": (f"{row['instrument']} item {item}" if item
                             else f"{row['instrument']} total score"),
                f"{p}ORRES": text, f"{p}STRESC": text, f"{p}STRESN": float(value),
                f"{p}DRVFL": "Y" if item is None and len(results) > 1 else None,
            }, qualifiers if order == 0 else ())


# -- events: HO, DS, CE ------------------------------------------------------------


def _events(trial: Trial, builders: dict[str, _Builder]) -> None:
    frame = trial.events
    qnams = _qualifiers("events", frame.columns)
    for position, (_, row) in enumerate(frame.iterrows()):
        event, description = row["event"], row.get("description")
        described = description if _present(description) else None
        domain = terms.event_domain(event)
        base = {"USUBJID": row["participant_id"], **_timing(domain, row, start=True)}
        if domain == "HO":
            record = {"HOTERM": described or terms.HO_TERM, "HODECOD": terms.HO_DECOD,
                      "HOCAT": terms.HO_CATEGORIES[event]}
        elif domain == "DS":
            record = {"DSTERM": described or terms.DS_TERM, "DSDECOD": terms.DS_DECOD,
                      "DSCAT": terms.DS_DISPOSITION}
        else:
            decod = terms.event_to_decod(event)
            record = {"CETERM": described or decod, "CEDECOD": decod}
        builders[domain].add((row["day"], 1, position), {**base, **record},
                             _row_qualifiers(row, qnams))


# -- files --------------------------------------------------------------------------


def _is_numeric(name: str) -> bool:
    return bool(_NUMERIC.match(name))


def _check_xpt(datasets: dict[str, pd.DataFrame]) -> None:
    for domain, frame in datasets.items():
        for column in frame.columns:
            if _is_numeric(column):
                continue
            lengths = frame[column].map(lambda v: len(str(v).encode("utf-8")) if _present(v)
                                        else 0)
            if (lengths > XPT_MAX_TEXT).any():
                row = frame.iloc[int(np.argmax(lengths.to_numpy()))]
                raise ValueError(
                    f"{domain}.{column} of participant {row['USUBJID']} is "
                    f"{lengths.max()} bytes long; SAS XPORT v5 allows {XPT_MAX_TEXT}. "
                    "Shorten the value or write format='csv'")


def _write_xpt(frame: pd.DataFrame, path: Path, domain: str) -> None:
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - an optional dependency
        raise ImportError(
            "writing SAS XPORT files needs pyreadstat: pip install pyreadstat (or write "
            "format='csv')") from None
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if _is_numeric(column):
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        else:
            out[column] = frame[column].map(lambda v: str(v) if _present(v) else "").astype(
                object)
    labels: list[str | None] = [_label(column, domain) for column in out.columns]
    dataset_label = _DATASET_LABELS.get(domain.removeprefix("SUPP"), domain)
    if domain.startswith("SUPP"):
        dataset_label = f"Supplemental Qualifiers for {domain.removeprefix('SUPP')}"
    pyreadstat.write_xport(out, str(path), file_label=dataset_label[:40],
                           column_labels=labels, table_name=domain[:8],
                           file_format_version=5)


def _label(column: str, domain: str) -> str:
    if column in _LABELS:
        return _LABELS[column]
    return _SUFFIX_LABELS.get(column[2:], column)[:40]
