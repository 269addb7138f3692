"""The listing of serious adverse events: one row per event, every detail a reader of a
safety section looks for (who, which arm, what, when against treatment, how bad, related
to what, what was done, how it ended).

Also reachable as ``ketex.tables.serious_event_listing``; the report adds it to its safety
section when the trial has serious events.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ketex.derive.adverse_events import TreatmentEmergence, treatment_emergent
from ketex.report._table import ManuscriptTable
from ketex.study.trial import Trial

__all__ = ["SERIOUS_LISTING_COLUMNS", "serious_event_listing"]

#: Columns of ``serious_event_listing(...).data``.
SERIOUS_LISTING_COLUMNS = (
    "participant_id", "arm", "term", "pt", "soc", "start_day", "end_day",
    "day_from_first_treatment", "severity", "grade", "related", "action", "outcome",
    "treatment_emergent", "near_treatment",
)  # fmt: skip

_TEXT = ("participant_id", "arm", "term", "pt", "soc", "severity", "related", "action",
         "outcome", "near_treatment")


def serious_event_listing(
    trial: Trial,
    *,
    treatment_emergent_only: bool = False,
    rule: TreatmentEmergence | None = None,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Listing of the serious adverse events, by arm, participant and onset day.

    Parameters
    ----------
    trial : Trial
    treatment_emergent_only : bool
        List only the treatment-emergent ones. Default False: every serious event,
        with a column saying whether it was treatment-emergent (a serious event before
        treatment belongs in the listing too).
    rule : TreatmentEmergence, optional
        How an event is judged treatment-emergent (default ``TreatmentEmergence()``).
    group_labels : mapping, optional
        Arm code to the label printed.

    Returns
    -------
    ManuscriptTable
        ``data``: :data:`SERIOUS_LISTING_COLUMNS`, one row per event with ``serious``
        true; arms in the protocol's order (the reference arm first), then participant,
        onset day (unknown last) and term. ``day_from_first_treatment`` is ``start_day``
        minus the participant's first treatment day (0 = the day of the first infusion
        or session). Empty, with a note, when there are none.

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
    ...     "adverse_events": pd.DataFrame({
    ...         "participant_id": ["P1", "P1"], "term": ["nausea", "BP 220/120"],
    ...         "pt": ["Nausea", "Hypertensive crisis"], "start_day": [1, 1],
    ...         "serious": [False, True], "severity": ["mild", "severe"],
    ...         "related": ["drug", "drug"], "outcome": ["recovered", "recovered"]})})
    >>> listing = serious_event_listing(trial)
    >>> listing.data[["participant_id", "pt", "day_from_first_treatment", "severity"]]
      participant_id                   pt  day_from_first_treatment severity
    0             P1  Hypertensive crisis                         0   severe
    >>> listing.display.iloc[0]["Event (preferred term)"]
    'Hypertensive crisis (BP 220/120)'
    """
    from ketex.derive.analysis import arm_order

    events = treatment_emergent(trial, rule)
    serious = (events["serious"].fillna(False).astype(bool) if "serious" in events.columns
               else pd.Series(False, index=events.index))
    if treatment_emergent_only:
        serious &= events["treatment_emergent"].fillna(False).astype(bool)
    rows = events[serious].copy()
    for column in SERIOUS_LISTING_COLUMNS:
        if column not in rows.columns:
            rows[column] = pd.NA
    rows["day_from_first_treatment"] = (rows["start_day"].astype("Int64")
                                        - rows["first_treatment_day"].astype("Int64"))
    order = arm_order(trial.protocol)
    rows["_arm"] = rows["arm"].astype(str).map({a: i for i, a in enumerate(order)})
    rows["_day"] = rows["start_day"].astype("float64")
    rows = rows.sort_values(["_arm", "participant_id", "_day", "term"],
                            na_position="last", kind="mergesort")
    data = rows[list(SERIOUS_LISTING_COLUMNS)].reset_index(drop=True).astype(
        {**dict.fromkeys(_TEXT, "string"), "start_day": "Int64", "end_day": "Int64",
         "day_from_first_treatment": "Int64", "grade": "Int64",
         "treatment_emergent": "boolean"})
    labels = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(
        group_labels or {})
    display = pd.DataFrame([_display_row(r, labels) for _, r in data.iterrows()],
                           columns=list(_DISPLAY))
    notes = [
        "Every adverse event recorded as serious; day 0 = randomisation, days from first "
        "treatment: 0 = the day of the first infusion or exercise session. TEAE: "
        "treatment-emergent (docs/safety.md).",
    ]
    if treatment_emergent_only:
        notes[0] = notes[0].replace("Every adverse event", "Every treatment-emergent event")
    if not len(data):
        notes.append("No serious adverse events.")
    return ManuscriptTable(data, display, "Safety table 4. Listing of serious adverse events",
                           tuple(notes), "safety4_serious_listing")


_DISPLAY = ("Participant", "Arm", "Event (preferred term)", "System organ class",
            "Onset day (from first treatment)", "End day", "Severity", "Related to",
            "Action taken", "Outcome", "TEAE")


def _text(value, missing="\u2013") -> str:
    return missing if pd.isna(value) else str(value).replace("_", " ")


def _display_row(row: pd.Series, labels: Mapping[str, str]) -> dict:
    name = row["pt"] if pd.notna(row["pt"]) else row["term"]
    same = str(row["term"]).strip().lower() == str(name).strip().lower()
    event = str(name) if same else f"{name} ({row['term']})"
    onset = ("unknown" if pd.isna(row["start_day"]) else
             f"{row['start_day']} ({row['day_from_first_treatment']:+d})"
             if pd.notna(row["day_from_first_treatment"]) else f"{row['start_day']}")
    severity = _text(row["severity"])
    if pd.notna(row["grade"]):
        severity = f"grade {row['grade']}" if pd.isna(row["severity"]) else (
            f"{severity} (grade {row['grade']})")
    return dict(zip(_DISPLAY, (
        row["participant_id"], labels.get(row["arm"], row["arm"]), event, _text(row["soc"]),
        onset, _text(row["end_day"], "ongoing"), severity, _text(row["related"]),
        _text(row["action"]), _text(row["outcome"]),
        "yes" if row["treatment_emergent"] else "no",
    ), strict=True))
