"""ADaM safety datasets: ADAE (adverse events), ADVS (vital signs) and ADCM (medications).

Built from the trial's safety tables (``docs/safety.md``) with the admiral (pharmaverse)
names and rules: ``TRTEMFL`` from :func:`ketex.treatment_emergent`, the first-occurrence
flags of ``derive_var_extreme_flag``, ``BASE``/``CHG`` per infusion in ADVS, and
``ONTRTFL``/``PREFL``/``FUPFL`` of the ADCM template. :func:`ketex.io.adam.write_adam`
writes them when the tables have rows.

Record-level flags are ``"Y"`` or missing, as in ADaM and admiral (``AESER`` keeps the
SDTM Y/N). Days are ketex study days (day 0 = randomisation), as ``ADY`` in ADQS.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from ketex.derive.adverse_events import (
    TreatmentEmergence,
    _treatment_days,
    treatment_emergent,
)
from ketex.io.sdtm import safety_terms as st
from ketex.study.trial import Trial

__all__ = ["ADAE_COLUMNS", "ADCM_COLUMNS", "ADVS_COLUMNS", "adae", "adcm", "advs"]

_COMMON = {
    "STUDYID": ("Study Identifier", "study.toml [study] id"),
    "USUBJID": ("Unique Subject Identifier", "participant_id, as given"),
    "ARM": ("Description of Planned Arm", "arm code (participants.arm)"),
    "TRTA": ("Actual Treatment", "ADSL TRT01A (see actual_treatment)"),
}
_DATES = {
    "ASTDT": ("Analysis Start Date", "start_date, as given (present when the table has "
              "dates)"),
    "AENDT": ("Analysis End Date", "end_date, as given (present when the table has dates)"),
}

#: ADAE variables: name -> (label, derivation), in column order (dates when given).
ADAE_COLUMNS = MappingProxyType({
    **_COMMON,
    "AESEQ": ("Sequence Number", "1, 2, ... per participant in the table's order "
              "(participant, start_day, term)"),
    "AETERM": ("Reported Term for the Adverse Event", "adverse_events.term (verbatim)"),
    "AEDECOD": ("Dictionary-Derived Term", "adverse_events.pt (MedDRA PT, as coded)"),
    "AEBODSYS": ("Body System or Organ Class", "adverse_events.soc (MedDRA SOC, as coded)"),
    "ASTDY": ("Analysis Start Relative Day", "adverse_events.start_day"),
    "AENDY": ("Analysis End Relative Day", "adverse_events.end_day (missing: ongoing)"),
    **_DATES,
    "ADURN": ("Analysis Duration (N)", "AENDY - ASTDY + 1"),
    "ADURU": ("Analysis Duration Units", "DAYS when ADURN is given"),
    "TRTSDY": ("Day of First Treatment (ketex)", "first infusion or exercise session day "
               "(TreatmentEmergence.treatment); ADSL TRTSDT as a day"),
    "TRTEDY": ("Day of Last Treatment (ketex)", "last treatment day; ADSL TRTEDT as a day"),
    "AESEV": ("Severity/Intensity", "adverse_events.severity as CDISC AESEV"),
    "ASEV": ("Analysis Severity/Intensity", "AESEV"),
    "AETOXGR": ("Standard Toxicity Grade", "adverse_events.grade (CTCAE)"),
    "ATOXGR": ("Analysis Toxicity Grade", "AETOXGR"),
    "AESER": ("Serious Event", "Y / N from adverse_events.serious"),
    "AEREL": ("Causality", "RELATED when related is drug, exercise or both; NOT RELATED "
              "when none"),
    "AREL": ("Analysis Causality", "AEREL"),
    "AERELTRT": ("Related to Treatment (ketex)", "STUDY DRUG, EXERCISE or STUDY DRUG AND "
                 "EXERCISE (SUPPAE AERELTRT)"),
    "AEACN": ("Action Taken with Study Treatment", "adverse_events.action as CDISC ACN"),
    "AEACNOTH": ("Other Action Taken", "exercise and study actions ACN lacks"),
    "AEOUT": ("Outcome of Adverse Event", "adverse_events.outcome as CDISC OUT"),
    "TRTEMFL": ("Treatment Emergent Analysis Flag", "'Y' when treatment_emergent (admiral "
                "derive_var_trtemfl rules), else missing"),
    "TRTEMRSN": ("Treatment Emergent Reason (ketex)", "treatment_emergent's teae_reason"),
    "NEARTRT": ("Onset Near Treatment (ketex)", "infusion, exercise, both or neither: the "
                "onset day within the attribution window of an infusion or session"),
    "AOCCFL": ("1st Occurrence within Subject Flag", "'Y' on the participant's first TEAE "
               "(by ASTDY, AESEQ; admiral derive_var_extreme_flag)"),
    "AOCCSFL": ("1st Occurrence of SOC Flag", "'Y' on the first TEAE of each "
                "participant and AEBODSYS"),
    "AOCCPFL": ("1st Occurrence of Preferred Term Flag", "'Y' on the first TEAE of each "
                "participant, AEBODSYS and AEDECOD"),
})

#: ADVS variables: name -> (label, derivation), in column order.
ADVS_COLUMNS = MappingProxyType({
    **_COMMON,
    "PARAMCD": ("Parameter Code", "vitals.test as CDISC VSTESTCD (SYSBP, DIASBP, HR, "
                "OXYSAT, TEMP, WEIGHT)"),
    "PARAM": ("Parameter", "the VSTEST name with the unit"),
    "ADY": ("Analysis Relative Day", "vitals.day"),
    "ATPTREF": ("Analysis Timepoint Reference", "INFUSION k on the k-th infusion day of "
                "the participant, EXERCISE SESSION on a session day without an infusion"),
    "ATPTREFN": ("Analysis Timepoint Reference (N) (ketex)", "k of INFUSION k"),
    "ATPT": ("Analysis Timepoint", "e.g. 40 MIN AFTER INFUSION START (as SDTM VSTPT)"),
    "ATPTN": ("Analysis Timepoint (N)", "vitals.time_min: minutes from the start"),
    "AVAL": ("Analysis Value", "vitals.value"),
    "AVALU": ("Analysis Value Unit", "vitals.unit"),
    "BASE": ("Baseline Value", "the infusion's pre-infusion value: the last measurement "
             "of the test at or before minute 0 that day (missing off infusion days)"),
    "ABLFL": ("Baseline Record Flag", "'Y' on the record BASE comes from"),
    "CHG": ("Change from Baseline", "AVAL - BASE, on records after the baseline record"),
    "PCHG": ("Percent Change from Baseline", "100 x CHG / BASE"),
})

#: ADCM variables: name -> (label, derivation), in column order (dates when given).
ADCM_COLUMNS = MappingProxyType({
    **_COMMON,
    "CMSEQ": ("Sequence Number", "1, 2, ... per participant in the table's order"),
    "CMTRT": ("Reported Name of Drug, Med, or Therapy", "medications.name"),
    "CMCLAS": ("Medication Class", "medications.class"),
    "CMINDC": ("Indication", "medications.indication"),
    "CMCAT": ("Category for Medication", "RESCUE MEDICATION or CONCOMITANT MEDICATION "
              "(medications.rescue)"),
    "ASTDY": ("Analysis Start Relative Day", "medications.start_day"),
    "AENDY": ("Analysis End Relative Day", "medications.end_day (missing: ongoing)"),
    **_DATES,
    "TRTSDY": ("Day of First Treatment (ketex)", "first infusion or exercise session day"),
    "TRTEDY": ("Day of Last Treatment (ketex)", "last infusion or exercise session day"),
    "ONTRTFL": ("On Treatment Record Flag", "admiral derive_var_ontrtfl with span_period: "
                "'Y' when started between TRTSDY and TRTEDY, or before TRTSDY and ongoing "
                "or ended on or after it, or with the start unknown (unless it ended "
                "before TRTSDY)"),
    "PREFL": ("Prior Medication Flag", "'Y' when ASTDY < TRTSDY"),
    "FUPFL": ("Follow-up Medication Flag", "'Y' when ASTDY > TRTEDY"),
})


def _yes(mask) -> pd.Series:
    """'Y' where the mask is true, missing elsewhere (an ADaM record-level flag)."""
    mask = pd.Series(mask).fillna(False).astype(bool)
    return pd.Series(np.where(mask, "Y", None), index=mask.index, dtype="string")


def _column(frame: pd.DataFrame, name: str, dtype="string") -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(dtype)
    return pd.Series(pd.NA, index=frame.index, dtype=dtype)


def _coded(values: pd.Series, terms) -> pd.Series:
    return values.map(lambda v: terms.get(v) if pd.notna(v) else None).astype("string")


def _head(trial: Trial, ids: pd.Series) -> pd.DataFrame:
    from ketex.io.adam import actual_treatment

    actual = actual_treatment(trial)
    return pd.DataFrame({
        "STUDYID": pd.Series(trial.protocol.study_id, index=ids.index, dtype="string"),
        "USUBJID": ids.astype("string"),
        "ARM": ids.map(trial.arms).astype("string"),
        "TRTA": ids.map(actual).astype("string"),
    })


def _sequence(ids: pd.Series) -> pd.Series:
    return (ids.groupby(ids, sort=False).cumcount() + 1).astype("Int64")


def _with_dates(out: pd.DataFrame, table: pd.DataFrame, after: str) -> pd.DataFrame:
    """Insert ASTDT and AENDT after ``after`` when the table has dates."""
    if "start_date" not in table.columns and "end_date" not in table.columns:
        return out
    at = out.columns.get_loc(after) + 1
    for offset, (name, source) in enumerate((("ASTDT", "start_date"), ("AENDT", "end_date"))):
        values = table[source] if source in table.columns else pd.Series(
            pd.NaT, index=table.index)
        out.insert(at + offset, name, pd.to_datetime(values))
    return out


def adae(trial: Trial, rule: TreatmentEmergence | None = None) -> pd.DataFrame:
    """The adverse events analysis dataset: one row per adverse event.

    Parameters
    ----------
    trial : Trial
    rule : TreatmentEmergence, optional
        How ``TRTEMFL`` is judged (default ``TreatmentEmergence()``).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ADAE_COLUMNS` (``ASTDT``, ``AENDT`` only when the table
        has dates), rows in the order of ``trial.adverse_events``.

    Notes
    -----
    ``TRTEMFL`` is ``"Y"`` exactly where :func:`ketex.treatment_emergent` says
    treatment-emergent. The first-occurrence flags are set among the TEAEs only, first
    by ``ASTDY`` then ``AESEQ`` (a missing ``ASTDY`` last), as admiral's
    ``derive_var_extreme_flag(mode = "first")`` on ``TRTEMFL == "Y"`` records.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="AE", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1"], "day": [1], "drug": ["ketamine"],
    ...                                "dose": [0.5], "dose_unit": ["mg/kg"]}),
    ...     "adverse_events": pd.DataFrame({"participant_id": ["P1", "P1"],
    ...                                     "term": ["nausea", "insomnia"],
    ...                                     "start_day": [1, -3], "serious": [False, True]})})
    >>> adae(trial)[["AESEQ", "AETERM", "ASTDY", "AESER", "TRTEMFL", "AOCCFL"]]
       AESEQ    AETERM  ASTDY AESER TRTEMFL AOCCFL
    0      1  insomnia     -3     Y    <NA>   <NA>
    1      2    nausea      1     N       Y      Y
    """
    events = treatment_emergent(trial, rule).reset_index(drop=True)
    ids = events["participant_id"]
    out = _head(trial, ids)
    start, end = _column(events, "start_day", "Int64"), _column(events, "end_day", "Int64")
    related = _column(events, "related")
    action = _column(events, "action")
    serious = _column(events, "serious", "boolean")
    duration = (end - start + 1).astype("Int64")
    severity = _coded(_column(events, "severity"), st.AE_SEVERITIES)
    grade = _column(events, "grade", "Int64")
    rel = related.map(lambda v: None if pd.isna(v) else (
        st.AE_NOT_RELATED if v == "none" else st.AE_RELATED)).astype("string")
    out = out.assign(
        AESEQ=_sequence(ids).to_numpy(),
        AETERM=events["term"].astype("string"),
        AEDECOD=_column(events, "pt"),
        AEBODSYS=_column(events, "soc"),
        ASTDY=start,
        AENDY=end,
        ADURN=duration,
        ADURU=pd.Series(np.where(duration.notna(), "DAYS", None), dtype="string"),
        TRTSDY=events["first_treatment_day"].astype("Int64"),
        TRTEDY=events["last_treatment_day"].astype("Int64"),
        AESEV=severity,
        ASEV=severity,
        AETOXGR=grade,
        ATOXGR=grade,
        AESER=serious.map(lambda v: None if pd.isna(v) else ("Y" if v else "N")).astype(
            "string"),
        AEREL=rel,
        AREL=rel,
        AERELTRT=_coded(related, st.AE_RELATED_TO),
        AEACN=_coded(action, st.AE_ACTIONS),
        AEACNOTH=_coded(action, st.AE_OTHER_ACTIONS),
        AEOUT=_coded(_column(events, "outcome"), st.AE_OUTCOMES),
        TRTEMFL=_yes(events["treatment_emergent"]),
        TRTEMRSN=events["teae_reason"].astype("string"),
        NEARTRT=events["near_treatment"].astype("string"),
    )
    out = _with_dates(out, events, "AENDY")
    teae = out["TRTEMFL"] == "Y"
    for flag, keys in (("AOCCFL", ["USUBJID"]), ("AOCCSFL", ["USUBJID", "AEBODSYS"]),
                       ("AOCCPFL", ["USUBJID", "AEBODSYS", "AEDECOD"])):
        out[flag] = _first(out, teae.fillna(False).astype(bool), keys)
    return out


def _first(out: pd.DataFrame, among: pd.Series, keys: list[str]) -> pd.Series:
    """'Y' on the first record (by ASTDY, AESEQ) of each key group among ``among``."""
    rows = out[among].assign(_day=out["ASTDY"].astype("float64"))
    rows = rows.sort_values(["_day", "AESEQ"], na_position="last", kind="mergesort")
    first = rows.groupby(keys, dropna=False, sort=False).head(1).index
    return _yes(out.index.isin(first)).set_axis(out.index)


def advs(trial: Trial) -> pd.DataFrame:
    """The vital signs analysis dataset, with the baseline of each infusion.

    Parameters
    ----------
    trial : Trial

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ADVS_COLUMNS`, one row per vital-sign measurement in the
        order of ``trial.vitals``.

    Notes
    -----
    Each infusion has its own baseline (ADaM ``BASE`` per ``ATPTREF``, as admiral's
    ``derive_var_base`` with the infusion among the ``by_vars``): the last measurement of
    the test at or before minute 0 on the infusion day, flagged ``ABLFL = "Y"``; the same
    value as ``baseline`` of :func:`ketex.infusion_vitals`. ``CHG`` and ``PCHG`` are
    given on the records after the baseline record (as ADQS gives them after the
    baseline day). Measurements off infusion days, or without ``time_min``, have no
    baseline.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="VS", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1"], "day": [1], "drug": ["ketamine"],
    ...                                "dose": [0.5], "dose_unit": ["mg/kg"]}),
    ...     "vitals": pd.DataFrame({"participant_id": "P1", "day": 1, "test": "SBP",
    ...                             "unit": "mmHg", "time_min": [-5, 40],
    ...                             "value": [120, 150]})})
    >>> advs(trial)[["PARAMCD", "ATPTREF", "ATPTN", "AVAL", "BASE", "ABLFL", "CHG"]]
      PARAMCD    ATPTREF  ATPTN   AVAL   BASE ABLFL   CHG
    0   SYSBP  INFUSION 1   -5.0  120.0  120.0     Y   NaN
    1   SYSBP  INFUSION 1   40.0  150.0  120.0  <NA>  30.0
    """
    vitals = trial.vitals.reset_index(drop=True)
    ids = vitals["participant_id"]
    out = _head(trial, ids)
    days = trial.infusions[["participant_id", "day"]].dropna().drop_duplicates().sort_values(
        ["participant_id", "day"], kind="mergesort")
    number = dict(zip(zip(days["participant_id"], days["day"], strict=True),
                      days.groupby("participant_id").cumcount() + 1, strict=True))
    sessions = set(zip(trial.exercise["participant_id"], trial.exercise["day"], strict=True))
    keys = list(zip(ids, vitals["day"], strict=True))
    k = pd.Series([number.get(key) for key in keys], index=vitals.index, dtype="Int64")
    reference = pd.Series(
        [f"INFUSION {n}" if pd.notna(n) else "EXERCISE SESSION" if key in sessions else None
         for n, key in zip(k, keys, strict=True)], index=vitals.index, dtype="string")
    minutes = _column(vitals, "time_min", "float64")
    start = ["INFUSION START" if pd.notna(n) else "SESSION START" for n in k]
    tests = vitals["test"].astype(str)
    unit = vitals["unit"].astype("string")
    out = out.assign(
        PARAMCD=tests.map(lambda t: st.VS_TESTS[t][0]).astype("string"),
        PARAM=[f"{st.VS_TESTS[t][1]} ({u})" for t, u in zip(tests, unit, strict=True)],
        ADY=vitals["day"].astype("Int64"),
        ATPTREF=reference,
        ATPTREFN=k,
        ATPT=pd.Series([st.time_point(m, s) if pd.notna(m) and r is not pd.NA else None
                        for m, s, r in zip(minutes, start, reference, strict=True)],
                       index=vitals.index, dtype="string"),
        ATPTN=minutes,
        AVAL=vitals["value"].astype("float64"),
        AVALU=unit,
    )
    out["PARAM"] = out["PARAM"].astype("string")
    candidates = out[out["ATPTREFN"].notna() & (out["ATPTN"] <= 0)]
    base_rows = (candidates.sort_values("ATPTN", kind="mergesort")
                 .groupby(["USUBJID", "ADY", "PARAMCD"], observed=True).tail(1))
    base = base_rows.set_index(["USUBJID", "ADY", "PARAMCD"])
    joined = out.join(base[["AVAL", "ATPTN"]].rename(
        columns={"AVAL": "BASE", "ATPTN": "_base_time"}), on=["USUBJID", "ADY", "PARAMCD"])
    joined.loc[joined["ATPTREFN"].isna(), ["BASE", "_base_time"]] = np.nan
    out["BASE"] = joined["BASE"].astype("float64")
    out["ABLFL"] = _yes(out.index.isin(base_rows.index)).set_axis(out.index)
    after = (out["ATPTN"] > joined["_base_time"]).fillna(False).to_numpy(bool)
    out["CHG"] = np.where(after, out["AVAL"] - out["BASE"], np.nan)
    out["PCHG"] = np.where(after & (out["BASE"] != 0),
                           100 * out["CHG"] / out["BASE"].where(out["BASE"] != 0), np.nan)
    return out


def adcm(trial: Trial, treatment: str = "any") -> pd.DataFrame:
    """The concomitant and rescue medication analysis dataset: one row per medication.

    Parameters
    ----------
    trial : Trial
    treatment : {"any", "infusion", "exercise"}
        What starts and ends treatment for ``TRTSDY``/``TRTEDY`` (as
        :class:`ketex.TreatmentEmergence`).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ADCM_COLUMNS` (``ASTDT``, ``AENDT`` only when the table
        has dates), rows in the order of ``trial.medications``.

    Notes
    -----
    ``ONTRTFL`` follows admiral's ``derive_var_ontrtfl(start_date = ASTDT, end_date =
    AENDT, ref_start_date = TRTSDT, ref_end_date = TRTEDT, span_period = TRUE)``, as in
    admiral's ADCM template, on study days: ``"Y"`` when the medication started on or
    after the first treatment day and on or before the last; or started before it and
    is ongoing (no ``end_day``) or ended on or after the first treatment day; or its
    start is unknown, unless it ended before the first treatment day. Missing for a
    participant never treated. ``PREFL`` and ``FUPFL`` are the template's: started
    before the first, after the last treatment day.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="CM", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": "P1", "day": [1, 8],
    ...                                "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"}),
    ...     "medications": pd.DataFrame({"participant_id": "P1",
    ...                                  "name": ["sertraline", "lorazepam", "zolpidem"],
    ...                                  "start_day": [-90, 3, 20], "end_day": [None, 4, 25]})})
    >>> adcm(trial)[["CMTRT", "ASTDY", "AENDY", "ONTRTFL", "PREFL", "FUPFL"]]
            CMTRT  ASTDY  AENDY ONTRTFL PREFL FUPFL
    0  sertraline    -90   <NA>       Y     Y  <NA>
    1   lorazepam      3      4       Y  <NA>  <NA>
    2    zolpidem     20     25    <NA>  <NA>     Y
    """
    meds = trial.medications.reset_index(drop=True)
    ids = meds["participant_id"]
    out = _head(trial, ids)
    if len(meds):
        days = _treatment_days(trial, treatment)
        first = ids.map(days.groupby("participant_id")["day"].min())
        last = ids.map(days.groupby("participant_id")["day"].max())
    else:
        first = last = pd.Series(dtype="float64")
    start, end = _column(meds, "start_day", "Int64"), _column(meds, "end_day", "Int64")
    rescue = _column(meds, "rescue", "boolean")
    out = out.assign(
        CMSEQ=_sequence(ids).to_numpy(),
        CMTRT=meds["name"].astype("string"),
        CMCLAS=_column(meds, "class"),
        CMINDC=_column(meds, "indication"),
        CMCAT=rescue.map(lambda v: None if pd.isna(v) else (
            st.CM_RESCUE if v else st.CM_CONCOMITANT)).astype("string"),
        ASTDY=start,
        AENDY=end,
        TRTSDY=pd.array(first, dtype="Int64"),
        TRTEDY=pd.array(last, dtype="Int64"),
    )
    out = _with_dates(out, meds, "AENDY")
    s, e = out["ASTDY"].astype("float64"), out["AENDY"].astype("float64")
    f, la = out["TRTSDY"].astype("float64"), out["TRTEDY"].astype("float64")
    treated = f.notna()
    within = (s >= f) & (s <= la)
    spans = (s < f) & (e.isna() | (e >= f))
    unknown = s.isna() & ~(e < f)
    out["ONTRTFL"] = _yes(treated & (within | spans | unknown))
    out["PREFL"] = _yes(s < f)
    out["FUPFL"] = _yes(s > la)
    return out
