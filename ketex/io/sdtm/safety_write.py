"""Writing the safety tables as SDTM: adverse events to AE, vital signs to VS, medications to CM.

Called by :func:`ketex.io.sdtm.write.sdtm_datasets`; a trial without safety data writes
none of these records. The vocabulary is in :mod:`ketex.io.sdtm.safety_terms`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ketex.io.sdtm import safety_terms as st
from ketex.io.sdtm import terms
from ketex.io.sdtm.write import (
    _Builder,
    _date,
    _present,
    _qualifiers,
    _row_qualifiers,
    _sdtm_day,
)
from ketex.study.trial import Trial

__all__ = ["write_safety"]

_LAST = float("inf")


def write_safety(trial: Trial, builders: dict[str, _Builder]) -> None:
    """Add the AE, VS and CM records of a trial's safety tables to ``builders``."""
    _adverse_events(trial.adverse_events, builders["AE"])
    _vitals(trial, builders["VS"])
    _medications(trial.medications, builders["CM"])


def _value(row: pd.Series, column: str) -> Any:
    value = row.get(column)
    return value if _present(value) else None


def _day(row: pd.Series, column: str) -> int | None:
    value = _value(row, column)
    return None if value is None else _sdtm_day(value)


def _order(row: pd.Series, column: str) -> float:
    value = _value(row, column)
    return _LAST if value is None else float(value)


def _coded(row: pd.Series, column: str, vocabulary) -> str | None:
    value = _value(row, column)
    return None if value is None else vocabulary[value]


def _yes_no(value: object) -> str | None:
    if not _present(value):
        return None
    return "Y" if value else "N"


# -- AE, SUPPAE ---------------------------------------------------------------------


def _adverse_events(frame: pd.DataFrame, builder: _Builder) -> None:
    if frame.empty:
        return
    supplemental = frame.assign(
        related_to=frame["related"].map(st.AE_RELATED_TO.get) if "related" in frame else None,
        **({"baseline_severity": frame["baseline_severity"].map(st.AE_SEVERITIES.get)}
           if "baseline_severity" in frame else {}))
    qnams = _qualifiers("adverse_events", supplemental.columns)
    for position, ((_, row), (_, supp)) in enumerate(
            zip(frame.iterrows(), supplemental.iterrows(), strict=True)):
        related = _value(row, "related")
        grade = _value(row, "grade")
        action = _value(row, "action")
        builder.add((_order(row, "start_day"), position), {
            "USUBJID": row["participant_id"], "AETERM": row["term"],
            "AEDECOD": _value(row, "pt"), "AEBODSYS": _value(row, "soc"),
            "AESEV": _coded(row, "severity", st.AE_SEVERITIES),
            "AESER": _yes_no(row.get("serious")),
            "AEACN": None if action is None else st.AE_ACTIONS[action],
            "AEACNOTH": None if action is None else st.AE_OTHER_ACTIONS.get(action),
            "AEREL": None if related is None else (
                st.AE_NOT_RELATED if related == "none" else st.AE_RELATED),
            "AEOUT": _coded(row, "outcome", st.AE_OUTCOMES),
            "AETOXGR": None if grade is None else terms.number_text(grade),
            "AESTDTC": _date(row.get("start_date")), "AEENDTC": _date(row.get("end_date")),
            "AESTDY": _day(row, "start_day"), "AEENDY": _day(row, "end_day"),
        }, _row_qualifiers(supp, qnams))


# -- VS: vital signs on study days ---------------------------------------------------


def _vitals(trial: Trial, builder: _Builder) -> None:
    frame = trial.vitals
    if frame.empty:
        return
    infusion_days = set(zip(trial.infusions["participant_id"], trial.infusions["day"],
                            strict=True))
    session_days = set(zip(trial.exercise["participant_id"], trial.exercise["day"],
                           strict=True))
    qnams = _qualifiers("vitals", frame.columns)
    tests = list(st.VS_TESTS)
    for _, row in frame.iterrows():
        code, name = st.VS_TESTS[row["test"]]
        value, unit = float(row["value"]), row["unit"]
        standard, standard_unit = st.standard_result(value, unit)
        text = terms.number_text(value)
        minutes = _value(row, "time_min")
        key = (row["participant_id"], row["day"])
        reference = ("INFUSION START" if key in infusion_days else
                     "SESSION START" if key in session_days else "INFUSION OR SESSION START")
        timing = {} if minutes is None else {
            "VSTPT": st.time_point(minutes, reference), "VSTPTNUM": float(minutes),
            "VSELTM": st.format_elapsed(minutes), "VSTPTREF": reference}
        builder.add((1, row["day"], _order(row, "time_min"), tests.index(row["test"])), {
            "USUBJID": row["participant_id"], "VSTESTCD": code, "VSTEST": name,
            "VSORRES": text, "VSORRESU": st.unit_to_sdtm(unit),
            "VSSTRESC": terms.number_text(standard), "VSSTRESN": standard,
            "VSSTRESU": standard_unit, **timing,
            "VSDTC": _date(row.get("date")), "VSDY": _sdtm_day(row["day"]),
        }, _row_qualifiers(row, qnams))


# -- CM, SUPPCM ---------------------------------------------------------------------


def _medications(frame: pd.DataFrame, builder: _Builder) -> None:
    qnams = _qualifiers("medications", frame.columns)
    for position, (_, row) in enumerate(frame.iterrows()):
        rescue = row.get("rescue")
        builder.add((_order(row, "start_day"), position), {
            "USUBJID": row["participant_id"], "CMTRT": row["name"],
            "CMCAT": None if not _present(rescue) else (
                st.CM_RESCUE if rescue else st.CM_CONCOMITANT),
            "CMCLAS": _value(row, "class"), "CMINDC": _value(row, "indication"),
            "CMSTDTC": _date(row.get("start_date")), "CMENDTC": _date(row.get("end_date")),
            "CMSTDY": _day(row, "start_day"), "CMENDY": _day(row, "end_day"),
        }, _row_qualifiers(row, qnams))
