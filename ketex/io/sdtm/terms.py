"""The SDTM vocabulary ketex reads and writes: scale test codes, routes, exercise, events, days.

Everything that ties a ketex value to an SDTM value lives here, so that the reader and
the writer cannot drift apart. The choices are documented in ``docs/loading-data.md``
(section "CDISC SDTM").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import SupportsFloat

import numpy as np
import pandas as pd

from ketex import scales

__all__ = [
    "SCALES",
    "TIMED_REFERENCE",
    "SUPP_COLUMNS",
    "ScaleCodes",
    "ae_event",
    "day_from_sdtm",
    "day_to_sdtm",
    "event_domain",
    "event_from_decod",
    "event_to_decod",
    "format_duration",
    "is_exercise",
    "modality_from_extrt",
    "modality_to_extrt",
    "number_text",
    "parse_duration",
    "parse_test_code",
    "route_from_sdtm",
    "route_to_sdtm",
    "scale_of_category",
    "scale_test_code",
    "supp_column",
]


# -- rating scales ------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleCodes:
    """How one instrument is written: domain, ``--CAT``, test-code prefix, evaluator.

    The reader also accepts the variants matched by ``pattern`` (the test-code prefix
    with the optional instrument-version digits of the CDISC QRS naming, e.g.
    ``HAMD101`` as well as ``HAMD01`` for HAM-D17 item 1).
    """

    domain: str
    category: str
    prefix: str
    pattern: str
    evaluator: str


SCALES: dict[str, ScaleCodes] = {
    "MADRS": ScaleCodes("QS", "MADRS", "MADRS", r"MADRS1?", "INVESTIGATOR"),
    # clinician-rated classification instruments live in RS since the 2016 QRS supplement
    "HAM-D17": ScaleCodes("RS", "HAMD 17", "HAMD", r"HAMD(?:17|1)?", "INVESTIGATOR"),
    "QIDS-SR16": ScaleCodes("QS", "QIDS-SR16", "QIDS", r"QIDS(?:01|SR)?", "STUDY SUBJECT"),
    "PHQ-9": ScaleCodes("QS", "PHQ-9", "PHQ", r"PHQ(?:9|01)?", "STUDY SUBJECT"),
    "BDI-II": ScaleCodes("QS", "BDI-II", "BDI", r"BDI(?:2|01)?", "STUDY SUBJECT"),
    # the scales rated at minutes after an infusion (--TPT, --ELTM); sponsor-defined
    # codes: CDISC QRS has no supplement for them
    "CADSS": ScaleCodes("QS", "CADSS", "CADSS", r"CADSS", "INVESTIGATOR"),
    "BPRS-POSITIVE": ScaleCodes("QS", "BPRS POSITIVE", "BPRSP", r"BPRSP", "INVESTIGATOR"),
}
#: ``--TPTREF`` of a rating timed from an infusion (assessments.time_min).
TIMED_REFERENCE = "INFUSION START"
_TOTAL_SUFFIX = r"(?:TOT|TOTAL)"


def scale_test_code(instrument: str, item: int | None) -> str:
    """The ``--TESTCD`` ketex writes for an item (1-based) or, with ``item=None``, the total.

    Examples
    --------
    >>> scale_test_code("MADRS", 3), scale_test_code("HAM-D17", None)
    ('MADRS03', 'HAMDTOT')
    """
    prefix = SCALES[instrument].prefix
    return f"{prefix}TOT" if item is None else f"{prefix}{item:02d}"


def parse_test_code(code: str, instrument: str | None = None) -> tuple[str, int | None] | None:
    """The instrument and item number a ``--TESTCD`` names; item None for the total.

    Parameters
    ----------
    code : str
        The test code, e.g. ``"MADRS03"``, ``"HAMD101"``, ``"QIDSTOT"``.
    instrument : str, optional
        The instrument ``--CAT`` names (any alias ketex knows); only its codes match.

    Returns
    -------
    (str, int or None) or None
        None when the code is not an item or total of the instrument.

    Examples
    --------
    >>> parse_test_code("MADRS110")
    ('MADRS', 10)
    >>> parse_test_code("HAMDTOT", "HAMD 17")
    ('HAM-D17', None)
    >>> parse_test_code("MADRS11", "MADRS") is None
    True
    """
    code = code.strip().upper()
    if instrument is not None:
        candidates = [scales.get_instrument(instrument).code]
        candidates = [name for name in candidates if name in SCALES]
    else:
        candidates = list(SCALES)
    for name in candidates:
        pattern = SCALES[name].pattern
        if re.fullmatch(pattern + _TOTAL_SUFFIX, code):
            return name, None
        match = re.fullmatch(pattern + r"(\d{2})", code)
        if match and 1 <= int(match.group(1)) <= scales.INSTRUMENTS[name].n_items:
            return name, int(match.group(1))
    return None


def scale_of_category(category: str) -> str | None:
    """The ketex instrument code a ``--CAT`` names, or None when the SDTM mapping lacks it.

    The SDTM reader maps the test codes of the five depression scales and of CADSS and
    BPRS-POSITIVE (``SCALES``); the other tolerability scales are scored by ketex but
    have no SDTM test-code mapping yet.

    Examples
    --------
    >>> scale_of_category("HAMD 17"), scale_of_category("GAD-7"), scale_of_category("YBOCS")
    ('HAM-D17', None, None)
    """
    try:
        code = scales.get_instrument(category).code
    except ValueError:
        return None
    return code if code in SCALES else None


# -- study days ---------------------------------------------------------------------


def day_to_sdtm(day: pd.Series) -> pd.Series:
    """ketex study days (day 0 = randomisation) as SDTM ``--DY`` (no day 0).

    SDTM counts the reference day as day 1 and the day before it as day -1.

    Examples
    --------
    >>> day_to_sdtm(pd.Series([-3, 0, 1, 84])).tolist()
    [-3, 1, 2, 85]
    """
    day = pd.Series(day, dtype="float64")
    return pd.Series(np.where(day >= 0, day + 1, day), index=day.index).astype("Int64")


def day_from_sdtm(dy: pd.Series) -> pd.Series:
    """SDTM ``--DY`` as days since the reference date (``--DY`` 0 does not exist: NaN).

    Examples
    --------
    >>> day_from_sdtm(pd.Series([-3.0, 1.0, 2.0, 85.0])).tolist()
    [-3.0, 0.0, 1.0, 84.0]
    """
    dy = pd.Series(dy, dtype="float64")
    return pd.Series(np.where(dy > 0, dy - 1, np.where(dy < 0, dy, np.nan)), index=dy.index)


# -- durations ----------------------------------------------------------------------

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)


def parse_duration(text: str) -> float | None:
    """Minutes in an ISO 8601 duration such as ``PT40M`` or ``PT1H30M``; None if invalid.

    Examples
    --------
    >>> parse_duration("PT40M"), parse_duration("PT1H30M"), parse_duration("40 min")
    (40.0, 90.0, None)
    """
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        return None
    days, hours, minutes, seconds = (
        float(g.replace(",", ".")) if g else 0.0 for g in match.groups()
    )
    return days * 1440 + hours * 60 + minutes + seconds / 60


def format_duration(minutes: float) -> str:
    """An ISO 8601 duration in minutes: ``PT40M``.

    Examples
    --------
    >>> format_duration(40.0), format_duration(40.5)
    ('PT40M', 'PT40.5M')
    """
    return f"PT{number_text(minutes)}M"


def number_text(value: SupportsFloat) -> str:
    """A number as text that reads back exactly: ``16`` not ``16.0``.

    Examples
    --------
    >>> number_text(16.0), number_text(15.555555555555555)
    ('16', '15.555555555555555')
    """
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


# -- infusions and exercise -----------------------------------------------------------

# ketex spelling -> CDISC ROUTE term; other routes are written as they are
_ROUTES = {
    "IV": "INTRAVENOUS",
    "intranasal": "NASAL",
    "IM": "INTRAMUSCULAR",
    "SC": "SUBCUTANEOUS",
    "oral": "ORAL",
}
_ROUTES_BACK = {v: k for k, v in _ROUTES.items()} | {"INTRANASAL": "intranasal"}


def route_to_sdtm(route: str) -> str:
    """The CDISC ``EXROUTE`` term for a ketex route (``IV`` -> ``INTRAVENOUS``)."""
    return _ROUTES.get(route, route)


def route_from_sdtm(route: str) -> str:
    """The ketex route for an ``EXROUTE`` term (``INTRAVENOUS`` -> ``IV``).

    Examples
    --------
    >>> route_from_sdtm("INTRAVENOUS"), route_from_sdtm("nasal"), route_from_sdtm("IV")
    ('IV', 'intranasal', 'IV')
    """
    return _ROUTES_BACK.get(route.strip().upper(), route)


EXERCISE_CATEGORY = "EXERCISE"
DRUG_CATEGORY = "STUDY DRUG"
EXERCISE_UNSPECIFIED = "EXERCISE SESSION"  # EXTRT of a session with no modality
_MODALITIES = {"cycling": "STATIONARY CYCLING"}
_MODALITIES_BACK = {v: k for k, v in _MODALITIES.items()}
_EXERCISE_WORDS = (
    "EXERCISE", "CYCLING", "CYCLE ERGOMETER", "BICYCLE", "BIKE", "WALKING", "RUNNING",
    "JOGGING", "TREADMILL", "SWIMMING", "ROWING", "AEROBIC", "RESISTANCE TRAINING",
    "STRENGTH TRAINING", "YOGA", "ELLIPTICAL",
)
MINUTE_UNITS = ("MIN", "MINUTE", "MINUTES")


def is_exercise(extrt: str | None, excat: str | None) -> bool:
    """Whether an EX record is an exercise session: by ``EXCAT`` or by ``EXTRT``.

    Examples
    --------
    >>> is_exercise("STATIONARY CYCLING", None), is_exercise("KETAMINE", "STUDY DRUG")
    (True, False)
    """
    if excat and "EXERCISE" in excat.upper():
        return True
    text = (extrt or "").upper()
    return any(word in text for word in _EXERCISE_WORDS)


def modality_to_extrt(modality: str | None) -> str:
    """``EXTRT`` of an exercise session: ``cycling`` -> ``STATIONARY CYCLING``."""
    if modality is None or pd.isna(modality):
        return EXERCISE_UNSPECIFIED
    return _MODALITIES.get(modality, modality.upper())


def modality_from_extrt(extrt: str) -> str | None:
    """The ketex modality (lower case) of an exercise ``EXTRT``.

    Examples
    --------
    >>> modality_from_extrt("STATIONARY CYCLING"), modality_from_extrt("Walking")
    ('cycling', 'walking')
    """
    text = extrt.strip().upper()
    if text == EXERCISE_UNSPECIFIED:
        return None
    return _MODALITIES_BACK.get(text, text.lower())


# -- events -------------------------------------------------------------------------

HO_TERM = "HOSPITALIZATION"  # HOTERM written when the event has no description
HO_DECOD = "HOSPITAL"
HO_CATEGORIES = {
    "hospitalisation": "HOSPITALIZATION",
    "suicide_prevention_hospitalisation": "HOSPITALIZATION TO PREVENT SUICIDE",
}
DS_DISPOSITION = "DISPOSITION EVENT"
DS_MILESTONE = "PROTOCOL MILESTONE"
DS_RANDOMIZED = "RANDOMIZED"
DS_COMPLETED = "COMPLETED"
DS_TERM = "DISCONTINUED"  # DSTERM written when a discontinuation has no description
DS_DECOD = "OTHER"  # the reason is not recorded in ketex's events table

# beyond these, AE and CE records become "adverse_event" / their CEDECOD
_EVENT_WORDS = {"SUICIDE ATTEMPT": "suicide_attempt", "COMPLETED SUICIDE": "completed_suicide"}


def event_domain(event: str) -> str:
    """The SDTM domain an event type is written to: HO, DS or CE.

    Examples
    --------
    >>> event_domain("hospitalisation"), event_domain("discontinuation"), event_domain("other")
    ('HO', 'DS', 'CE')
    """
    if event in HO_CATEGORIES:
        return "HO"
    if event == "discontinuation":
        return "DS"
    return "CE"


def event_to_decod(event: str) -> str:
    """``CEDECOD`` of an event type: ``suicide_attempt`` -> ``SUICIDE ATTEMPT``."""
    return event.upper().replace("_", " ")


def event_from_decod(decod: str) -> str:
    """The ketex event type of a ``CEDECOD`` or ``AEDECOD``.

    Examples
    --------
    >>> event_from_decod("SUICIDE ATTEMPT"), event_from_decod("Panic attack")
    ('suicide_attempt', 'panic_attack')
    """
    text = decod.strip().upper()
    return _EVENT_WORDS.get(text, re.sub(r"[\s-]+", "_", text.lower()))


def ae_event(decod: str | None, term: str | None) -> str:
    """The ketex event type of an AE record: a suicidal event when coded so, else adverse_event.

    Examples
    --------
    >>> ae_event("Suicide attempt", "overdose"), ae_event("Nausea", "nausea")
    ('suicide_attempt', 'adverse_event')
    """
    for text in (decod, term):
        if text and text.strip().upper() in _EVENT_WORDS:
            return _EVENT_WORDS[text.strip().upper()]
    return "adverse_event"


# -- supplemental qualifiers --------------------------------------------------------

# QNAM -> (ketex column, QLABEL) of the columns ketex writes to SUPP-- datasets by name;
# other columns go there with a generated QNAM and their ketex name as QLABEL
SUPP_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "participants": {
        "BETABLK": ("beta_blocker", "Beta-Blocker Use"),
        "MAXHR": ("max_hr", "Measured Maximal Heart Rate (beats/min)"),
    },
    "exercise": {
        "SESSCMPL": ("completed", "Session Completed as Prescribed"),
        "AVGHR": ("avg_hr", "Mean Heart Rate in Session (beats/min)"),
        "PEAKHR": ("peak_hr", "Peak Heart Rate in Session (beats/min)"),
        "RPE": ("rpe", "Rating of Perceived Exertion (Borg 6-20)"),
        "WATTS": ("watts", "Mean Power on Ergometer (W)"),
        "METS": ("met", "Metabolic Equivalents of Session"),
    },
    "adverse_events": {
        "AERELTRT": ("related_to", "Related Study Treatment"),
        "PREEXIST": ("pre_existing", "Present Before First Treatment"),
        "BLSEV": ("baseline_severity", "Severity Before First Treatment"),
    },
}
_COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def supp_column(table: str, qnam: str, qlabel: str | None) -> str:
    """The ketex column a SUPP-- record fills.

    Known QNAMs map to ketex columns; otherwise the column is named after QLABEL when
    QLABEL is a lower-case identifier (as ketex writes it), else after QNAM in lower case.

    Examples
    --------
    >>> supp_column("exercise", "AVGHR", "Mean Heart Rate")
    'avg_hr'
    >>> supp_column("participants", "EDUCATIO", "education_years")
    'education_years'
    >>> supp_column("participants", "RACEOTH", "Race, Other")
    'raceoth'
    """
    known = SUPP_COLUMNS.get(table, {}).get(qnam.strip().upper())
    if known:
        return known[0]
    if qlabel and _COLUMN_NAME.match(qlabel.strip()):
        return qlabel.strip()
    return qnam.strip().lower()
