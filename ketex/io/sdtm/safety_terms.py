"""The SDTM vocabulary of the safety tables: AE, VS (vital signs over time) and CM.

ketex's own codes (``docs/safety.md``) are written as CDISC controlled terminology and
read back from it, so a round trip loses nothing. The reader also accepts ketex's own
spellings. Everything here is documented in ``docs/loading-data.md`` (section
"CDISC SDTM", "Safety data").
"""

from __future__ import annotations

import re
from types import MappingProxyType

from ketex.io.sdtm.terms import number_text, parse_duration

__all__ = [
    "AE_ACTIONS",
    "AE_NOT_RELATED",
    "AE_OTHER_ACTIONS",
    "AE_OUTCOMES",
    "AE_RELATED",
    "AE_RELATED_TO",
    "AE_SEVERITIES",
    "ACTIONS_READ",
    "RELATED_READ",
    "CM_CONCOMITANT",
    "CM_RESCUE",
    "NO_YES",
    "VS_TESTS",
    "format_elapsed",
    "parse_elapsed",
    "read_code",
    "standard_result",
    "time_point",
    "unit_to_sdtm",
    "vital_test",
]

#: AESEV (CDISC codelist AESEV): ketex severity -> CT.
AE_SEVERITIES = MappingProxyType({"mild": "MILD", "moderate": "MODERATE", "severe": "SEVERE"})
#: AEOUT (codelist OUT).
AE_OUTCOMES = MappingProxyType({
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
})
#: AEACN (codelist ACN) of each ketex action; the exercise and study actions, which ACN
#: has no terms for, also go to AEACNOTH (:data:`AE_OTHER_ACTIONS`).
AE_ACTIONS = MappingProxyType({
    "none": "DOSE NOT CHANGED",
    "dose_reduced": "DOSE REDUCED",
    "drug_interrupted": "DRUG INTERRUPTED",
    "drug_withdrawn": "DRUG WITHDRAWN",
    "exercise_paused": "DOSE NOT CHANGED",
    "exercise_stopped": "DOSE NOT CHANGED",
    "withdrawn_from_study": "DRUG WITHDRAWN",
})
AE_OTHER_ACTIONS = MappingProxyType({
    "exercise_paused": "EXERCISE PAUSED",
    "exercise_stopped": "EXERCISE STOPPED",
    "withdrawn_from_study": "WITHDRAWN FROM STUDY",
})
# AEACN terms read beyond the ones written; UNKNOWN leaves the action empty
ACTIONS_READ = {"NOT APPLICABLE": "none", "DOSE RATE REDUCED": "dose_reduced",
                 "UNKNOWN": None}
#: AEREL, sponsor-defined in SDTMIG: RELATED / NOT RELATED; which treatment goes to
#: SUPPAE ``AERELTRT`` (:data:`AE_RELATED_TO`).
AE_RELATED = "RELATED"
AE_NOT_RELATED = "NOT RELATED"
RELATED_READ = {
    "RELATED": "related", "Y": "related", "YES": "related", "POSSIBLE": "related",
    "POSSIBLY RELATED": "related", "PROBABLE": "related", "PROBABLY RELATED": "related",
    "DEFINITE": "related", "DEFINITELY RELATED": "related",
    "NOT RELATED": "none", "UNRELATED": "none", "N": "none", "NO": "none",
    "UNLIKELY": "none", "UNLIKELY RELATED": "none", "NONE": "none",
}
AE_RELATED_TO = MappingProxyType({
    "drug": "STUDY DRUG", "exercise": "EXERCISE", "both": "STUDY DRUG AND EXERCISE"})
#: SDTM NY codelist as booleans; U and NA leave the value empty.
NO_YES = MappingProxyType({"Y": True, "N": False, "U": None, "NA": None})
CM_RESCUE = "RESCUE MEDICATION"
CM_CONCOMITANT = "CONCOMITANT MEDICATION"

#: ketex vital-sign test -> (VSTESTCD, VSTEST) of the CDISC VSTESTCD codelist.
VS_TESTS = MappingProxyType({
    "SBP": ("SYSBP", "Systolic Blood Pressure"),
    "DBP": ("DIASBP", "Diastolic Blood Pressure"),
    "HR": ("HR", "Heart Rate"),
    "SPO2": ("OXYSAT", "Oxygen Saturation"),
    "TEMP": ("TEMP", "Temperature"),
    "WEIGHT": ("WEIGHT", "Weight"),
})
_TESTS_READ = {code: test for test, (code, _) in VS_TESTS.items()} | {
    test: test for test in VS_TESTS} | {"PULSE": "HR"}
# ketex unit -> CDISC UNIT term; standard units (VSSTRESU) convert lb and F
_UNITS = {"lb": "LB"}
_STANDARD = {"lb": ("kg", 0.45359237, 0.0), "LB": ("kg", 0.45359237, 0.0),
             "F": ("C", 5 / 9, -32.0)}


def read_code(text: str, written: MappingProxyType | dict, extra: dict | None = None,
              ketex_codes=()) -> tuple[bool, object]:
    """Read one coded value: (known, ketex value), ketex value None for 'leave empty'.

    Examples
    --------
    >>> read_code("Moderate", AE_SEVERITIES)
    (True, 'moderate')
    >>> read_code("very bad", AE_SEVERITIES)
    (False, None)
    """
    key = re.sub(r"\s+", " ", text.strip().upper())
    back = {ct: code for code, ct in written.items()} | dict(extra or {})
    if key in back:
        return True, back[key]
    code = re.sub(r"[\s-]+", "_", text.strip().lower())
    if code in written or code in ketex_codes:
        return True, code
    return False, None


def vital_test(code: str) -> str | None:
    """The ketex test of a ``VSTESTCD`` (SYSBP -> SBP, PULSE -> HR); None if not a vital.

    Examples
    --------
    >>> vital_test("SYSBP"), vital_test("pulse"), vital_test("HEIGHT")
    ('SBP', 'HR', None)
    """
    return _TESTS_READ.get(code.strip().upper())


def unit_to_sdtm(unit: str) -> str:
    """The CDISC UNIT term of a ketex unit (``lb`` -> ``LB``; the others are the same)."""
    return _UNITS.get(unit, unit)


def standard_result(value: float, unit: str) -> tuple[float, str]:
    """``VSSTRESN`` and ``VSSTRESU``: weight in kg, temperature in C, others as given.

    Examples
    --------
    >>> standard_result(212.0, "F"), standard_result(120.0, "mmHg")
    ((100.0, 'C'), (120.0, 'mmHg'))
    """
    if unit in _STANDARD:
        target, factor, shift = _STANDARD[unit]
        return (float(value) + shift) * factor, target
    return float(value), unit


def format_elapsed(minutes: float) -> str:
    """``VSELTM``: planned elapsed time as a signed ISO 8601 duration.

    Examples
    --------
    >>> format_elapsed(-15.0), format_elapsed(40.0), format_elapsed(0.0)
    ('-PT15M', 'PT40M', 'PT0M')
    """
    sign = "-" if minutes < 0 else ""
    return f"{sign}PT{number_text(abs(minutes))}M"


def parse_elapsed(text: str) -> float | None:
    """Minutes of a signed ISO 8601 duration (``-PT15M``); None if it is not one.

    Examples
    --------
    >>> parse_elapsed("-PT15M"), parse_elapsed("PT1H20M"), parse_elapsed("40 min")
    (-15.0, 80.0, None)
    """
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    minutes = parse_duration(text.lstrip("+-"))
    return None if minutes is None else sign * minutes


def time_point(minutes: float, reference: str) -> str:
    """``VSTPT``: the time point's name, e.g. ``40 MIN AFTER INFUSION START``.

    Examples
    --------
    >>> time_point(-10.0, "INFUSION START"), time_point(0.0, "SESSION START")
    ('10 MIN BEFORE INFUSION START', 'SESSION START')
    """
    if minutes == 0:
        return reference
    word = "BEFORE" if minutes < 0 else "AFTER"
    return f"{number_text(abs(minutes))} MIN {word} {reference}"
