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
    "scale_codes",
    "scale_of_category",
    "scale_test_code",
    "scales_of_category",
    "supp_column",
]


# -- rating scales ------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleCodes:
    """How one instrument is written: domain, ``--CAT``, test-code prefix, evaluator.

    Items are written as the prefix and two digits (``MADRS03``), the total as the prefix
    and ``TOT``. The reader also accepts the variants matched by ``pattern`` (the prefix
    with the optional instrument-version digits of the CDISC QRS naming, e.g. ``HAMD101``
    as well as ``HAMD01`` for HAM-D17 item 1). A single-item global rating may name its
    one rating by a code of its own (``single``, written; ``single_pattern``, read), as
    the CDISC CGI supplement does: several ketex instruments then share one ``--CAT``.
    """

    domain: str
    category: str
    prefix: str
    pattern: str
    evaluator: str
    single: str = ""
    single_pattern: str = ""


_CLINICIAN, _SUBJECT = "INVESTIGATOR", "STUDY SUBJECT"

SCALES: dict[str, ScaleCodes] = {
    "MADRS": ScaleCodes("QS", "MADRS", "MADRS", r"MADRS1?", _CLINICIAN),
    # clinician-rated classification instruments live in RS since the 2016 QRS supplement
    "HAM-D17": ScaleCodes("RS", "HAMD 17", "HAMD", r"HAMD(?:17|1)?", _CLINICIAN),
    "QIDS-SR16": ScaleCodes("QS", "QIDS-SR16", "QIDS", r"QIDS(?:01|SR)?", _SUBJECT),
    "PHQ-9": ScaleCodes("QS", "PHQ-9", "PHQ", r"PHQ(?:9|01)?", _SUBJECT),
    "BDI-II": ScaleCodes("QS", "BDI-II", "BDI", r"BDI(?:2|01)?", _SUBJECT),
    # CDISC QRS names: GAD-7 (QS, "GAD-7 V2" read too, GAD0201..), HAMA (RS, clinical
    # classification, HAMA101..HAMA114), YMRS (RS), PCL-5 (QS); ketex writes its
    # prefix + two digits and reads the version-digit forms
    "GAD-7": ScaleCodes("QS", "GAD-7", "GAD", r"GAD(?:7|02|07)?", _SUBJECT),
    "HAM-A": ScaleCodes("RS", "HAMA", "HAMA", r"HAMA1?", _CLINICIAN),
    "YMRS": ScaleCodes("RS", "YMRS", "YMRS", r"YMRS(?:01|1)?", _CLINICIAN),
    "PCL-5": ScaleCodes("QS", "PCL-5", "PCL", r"PCL(?:5|05)?", _SUBJECT),
    # the CDISC CGI supplement (RS) has one --CAT for both ratings: CGI01 severity, CGI02
    # improvement (read also with the supplement's version digits, CGI0101, CGI0201, ...);
    # the totals (CGISTOT, CGIITOT) are sponsor-defined
    "CGI-S": ScaleCodes("RS", "CGI", "CGIS", r"CGIS", _CLINICIAN,
                        single="CGI01", single_pattern=r"CGI(?:01|02)?01"),
    "CGI-I": ScaleCodes("RS", "CGI", "CGII", r"CGII", _CLINICIAN,
                        single="CGI02", single_pattern=r"CGI(?:01|02)?02"),
    # sponsor-defined codes below: CDISC QRS publishes no supplement for these (the PGI
    # supplement leaves the wording and responses to the sponsor), so --CAT and
    # --TESTCD are ketex's own, kept within the 8 characters of --TESTCD
    "PGI-I": ScaleCodes("QS", "PGI-I", "PGII", r"PGII", _SUBJECT),
    "SHAPS": ScaleCodes("QS", "SHAPS", "SHAPS", r"SHAPS", _SUBJECT),
    "SHAPS-LIKERT": ScaleCodes("QS", "SHAPS LIKERT", "SHAPL", r"SHAPL", _SUBJECT),
    # the scales rated at minutes after an infusion (--TPT, --ELTM)
    "CADSS": ScaleCodes("QS", "CADSS", "CADSS", r"CADSS", _CLINICIAN),
    "BPRS-POSITIVE": ScaleCodes("QS", "BPRS POSITIVE", "BPRSP", r"BPRSP", _CLINICIAN),
}
#: ``--TPTREF`` of a rating timed from an infusion (assessments.time_min).
TIMED_REFERENCE = "INFUSION START"
_TOTAL_SUFFIX = r"(?:TOT|TOTAL)"
# --CAT names read beyond the instruments' codes and aliases (CDISC QRS short names)
_CATEGORY_NAMES = {"GAD-7 V2": "GAD-7"}


def scale_codes(instrument: str) -> ScaleCodes:
    """The SDTM codes of an instrument ketex scores.

    Raises
    ------
    KetexError
        If ketex scores the instrument but has no SDTM mapping for it (or does not know
        it); the message names it and what to do.

    Examples
    --------
    >>> scale_codes("GAD-7").domain, scale_codes("CGI-I").category
    ('QS', 'CGI')
    """
    from ketex.errors import KetexError

    codes = SCALES.get(instrument)
    if codes is None:
        raise KetexError(
            f"instrument {instrument!r} has no SDTM mapping (domain, --CAT, --TESTCD), so "
            f"its assessments cannot be written as SDTM; SDTM maps {', '.join(SCALES)}. "
            "Add it to ketex.io.sdtm.terms.SCALES, or leave its rows out of "
            "trial.assessments before write_sdtm")
    return codes


def scale_test_code(instrument: str, item: int | None) -> str:
    """The ``--TESTCD`` ketex writes for an item (1-based) or, with ``item=None``, the total.

    Examples
    --------
    >>> scale_test_code("MADRS", 3), scale_test_code("HAM-D17", None)
    ('MADRS03', 'HAMDTOT')
    >>> scale_test_code("CGI-S", 1), scale_test_code("CGI-S", None)
    ('CGI01', 'CGISTOT')
    """
    codes = scale_codes(instrument)
    if item is None:
        return f"{codes.prefix}TOT"
    if codes.single and item == 1:
        return codes.single
    return f"{codes.prefix}{item:02d}"


def scales_of_category(category: str) -> tuple[str, ...]:
    """The ketex instrument codes a ``--CAT`` names: one, several (CGI), or none.

    Examples
    --------
    >>> scales_of_category("HAMA"), scales_of_category("CGI"), scales_of_category("YBOCS")
    (('HAM-A',), ('CGI-S', 'CGI-I'), ())
    """
    key = _category_key(category)
    named = tuple(name for name, codes in SCALES.items()
                  if _category_key(codes.category) == key)
    if named:
        return named
    alias = {_category_key(k): v for k, v in _CATEGORY_NAMES.items()}.get(key)
    if alias is not None:
        return (alias,)
    try:
        code = scales.get_instrument(category).code
    except ValueError:
        return ()
    return (code,) if code in SCALES else ()


def _category_key(category: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", category.upper())


def parse_test_code(code: str, instrument: str | None = None) -> tuple[str, int | None] | None:
    """The instrument and item number a ``--TESTCD`` names; item None for the total.

    Parameters
    ----------
    code : str
        The test code, e.g. ``"MADRS03"``, ``"HAMD101"``, ``"QIDSTOT"``.
    instrument : str, optional
        The ``--CAT`` (any name ketex knows, :func:`scales_of_category`); only the codes
        of the instruments it names match.

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
    >>> parse_test_code("CGI02", "CGI"), parse_test_code("HAMA114", "HAM-A")
    (('CGI-I', 1), ('HAM-A', 14))
    >>> parse_test_code("MADRS11", "MADRS") is None
    True
    """
    code = code.strip().upper()
    candidates = list(SCALES) if instrument is None else scales_of_category(instrument)
    for name in candidates:
        codes = SCALES[name]
        if re.fullmatch(codes.pattern + _TOTAL_SUFFIX, code):
            return name, None
        if codes.single_pattern and re.fullmatch(codes.single_pattern, code):
            return name, 1
        match = re.fullmatch(codes.pattern + r"(\d{2})", code)
        if match and 1 <= int(match.group(1)) <= scales.INSTRUMENTS[name].n_items:
            return name, int(match.group(1))
    return None


def scale_of_category(category: str) -> str | None:
    """The ketex instrument code a ``--CAT`` names; None when it names none, or several.

    Every instrument ketex scores has an SDTM mapping (``SCALES``). The CDISC CGI
    ``--CAT`` names both CGI-S and CGI-I; :func:`scales_of_category` gives both, and the
    test code tells them apart (:func:`parse_test_code`).

    Examples
    --------
    >>> scale_of_category("HAMD 17"), scale_of_category("GAD-7"), scale_of_category("YBOCS")
    ('HAM-D17', 'GAD-7', None)
    """
    named = scales_of_category(category)
    return named[0] if len(named) == 1 else None


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
