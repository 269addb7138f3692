"""Infusion exposure: per participant (counts, cumulative dose, plan) and per assessment.

:func:`infusion_exposure` summarises the infusions table against each arm's treatments
(``study.toml [[arms.treatments]]`` or ``[arms.infusions]``), drug by drug, or, with
``per="assessment"``, gives every assessment the number of infusions received so far and
the days since the last one, ready to use as time-varying covariates. Doses of different
drugs are never added together.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ketex.study.protocol import Treatment
from ketex.study.trial import Trial

__all__ = [
    "ASSESSMENT_COLUMNS",
    "PARTICIPANT_COLUMNS",
    "PER_CHOICES",
    "SAME_DAY_CHOICES",
    "infusion_exposure",
]

PER_CHOICES = ("participant", "assessment")
SAME_DAY_CHOICES = ("before", "after")

PARTICIPANT_COLUMNS = (
    "participant_id",
    "arm",
    "drug",
    "infusions_planned",
    "infusions_received",
    "infusions_on_planned_days",
    "planned_days_missed",
    "unplanned_infusions",
    "first_day",
    "last_day",
    "weight_kg",
    "dose_mg_per_kg",
    "dose_mg",
    "planned_dose_mg_per_kg",
    "planned_dose_mg",
    "note",
)
ASSESSMENT_COLUMNS = (
    "participant_id",
    "day",
    "visit",
    "instrument",
    "infusions_so_far",
    "first_infusion_day",
    "last_infusion_day",
    "days_since_first_infusion",
    "days_since_last_infusion",
)


def infusion_exposure(
    trial: Trial,
    per: str = "participant",
    *,
    drug: str | None = None,
    same_day: str = "before",
) -> pd.DataFrame:
    """Infusions received: per participant and drug, or as of each assessment.

    Parameters
    ----------
    trial : Trial
    per : {"participant", "assessment"}
        ``"participant"``: one row per participant and drug; ``"assessment"``: one row per
        row of ``trial.assessments``, with the same index and order.
    drug : str, optional
        Only this drug (case-insensitive), e.g. ``"ketamine"`` in a trial whose control
        infusions are midazolam. None: every drug (``per="participant"`` still gives each
        drug its own rows; ``per="assessment"`` counts infusions of every drug).
    same_day : {"before", "after"}
        ``per="assessment"`` only: whether an assessment on an infusion day was taken
        before the infusion (default, as pre-dose ratings are), so that infusion is not
        yet counted, or after it.

    Returns
    -------
    pandas.DataFrame
        ``per="participant"``: ``participant_id, arm, drug, infusions_planned,
        infusions_received, infusions_on_planned_days, planned_days_missed,
        unplanned_infusions, first_day, last_day, weight_kg, dose_mg_per_kg, dose_mg,
        planned_dose_mg_per_kg, planned_dose_mg, note``. Every participant has a row for
        every drug of the infusions table and the arms' plans (participants without
        infusions: 0 received, cumulative dose 0, ``first_day`` and ``last_day`` missing).

        ``per="assessment"``: ``participant_id, day, visit, instrument,
        infusions_so_far, first_infusion_day, last_infusion_day,
        days_since_first_infusion, days_since_last_infusion`` (days since: NaN before the
        first infusion).

    Raises
    ------
    ValueError
        When ``per`` or ``same_day`` is not one of the choices.

    Notes
    -----
    **Cumulative dose** is the sum of the doses received, in both units: a dose in mg/kg
    is converted to mg by multiplying by ``weight_kg``, a dose in mg to mg/kg by dividing
    by it (the weight of the participants table, the one recorded at entry). Without a
    weight, the unit that needs it is NaN and ``note`` says why; the other stays known.

    **Planned vs received** compares the infusion days of each drug with the arm's
    treatment of that drug (``[[arms.treatments]]`` or ``[arms.infusions]``: its
    ``days``): ``infusions_on_planned_days`` of the ``infusions_planned``,
    ``planned_days_missed`` (planned days without an infusion, whether or not the
    participant was still in the study, listed in ``note``) and ``unplanned_infusions``
    (on days not in the plan). The planned dose is the sum of the treatment's planned
    doses (``doses``, e.g. an esketamine titration, else ``dose`` on every day), in both
    units; a placebo of dose 0 plans 0.

    **Per assessment**, an infusion counts as received by an assessment when its day is
    earlier, or the same day with ``same_day="after"``.

    Examples
    --------
    >>> import ketex
    >>> from ketex.derive.infusions import infusion_exposure
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> exposure = infusion_exposure(trial)
    >>> columns = ["participant_id", "arm", "infusions_received", "dose_mg_per_kg", "dose_mg"]
    >>> print(exposure[columns].head(3).round(2).to_string(index=False))
    participant_id    arm  infusions_received  dose_mg_per_kg  dose_mg
              P001 SINGLE                   1             0.5    38.65
              P002 SERIES                   6             3.0   221.40
              P003 SINGLE                   1             0.5    28.25

    P002 weighs 73.8 kg: six infusions of 0.5 mg/kg, 6 x 0.5 x 73.8 = 221.4 mg.

    >>> covariates = infusion_exposure(trial, per="assessment")
    >>> columns = ["visit", "day", "infusions_so_far", "days_since_last_infusion"]
    >>> visits = ["BASELINE", "INF1_24H", "INF6_24H", "WEEK2", "WEEK4"]
    >>> p002 = covariates[(covariates["participant_id"] == "P002")
    ...                   & (covariates["instrument"] == "MADRS")
    ...                   & covariates["visit"].isin(visits)]
    >>> print(p002[columns].to_string(index=False))
       visit  day  infusions_so_far  days_since_last_infusion
    BASELINE   -3                 0                       NaN
    INF1_24H    2                 1                       1.0
    INF6_24H   13                 6                       1.0
       WEEK2   15                 6                       3.0
       WEEK4   27                 6                      15.0
    """
    if per not in PER_CHOICES:
        raise ValueError(f"per must be one of {', '.join(PER_CHOICES)}; got {per!r}")
    if same_day not in SAME_DAY_CHOICES:
        raise ValueError(f"same_day must be one of {', '.join(SAME_DAY_CHOICES)}; got {same_day!r}")
    infusions = trial.infusions
    if drug is not None:
        infusions = infusions[infusions["drug"].str.lower() == drug.strip().lower()]
    if per == "assessment":
        return _per_assessment(trial.assessments, infusions, same_day)
    return _per_participant(trial, infusions, drug)


# -- per assessment ----------------------------------------------------------------------


def _per_assessment(
    assessments: pd.DataFrame, infusions: pd.DataFrame, same_day: str
) -> pd.DataFrame:
    side: Literal["left", "right"] = "left" if same_day == "before" else "right"
    days_by_person = {
        pid: np.sort(group.to_numpy(dtype=float))
        for pid, group in infusions.groupby("participant_id")["day"]
    }
    ids = assessments["participant_id"].astype("string")
    day = assessments["day"].to_numpy(dtype=float, na_value=np.nan)
    n = len(assessments)
    so_far = np.zeros(n, dtype="int64")
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    for k, (pid, d) in enumerate(zip(ids, day, strict=True)):
        days = days_by_person.get(pid)
        if days is None or not np.isfinite(d):
            continue
        count = int(np.searchsorted(days, d, side=side))
        so_far[k] = count
        if count:
            first[k], last[k] = days[0], days[count - 1]
    return pd.DataFrame(
        {
            "participant_id": ids.to_numpy(),
            "day": assessments["day"].to_numpy(),
            "visit": assessments["visit"].to_numpy(),
            "instrument": assessments["instrument"].to_numpy(),
            "infusions_so_far": so_far,
            "first_infusion_day": pd.array(first, dtype="Int64"),
            "last_infusion_day": pd.array(last, dtype="Int64"),
            "days_since_first_infusion": day - first,
            "days_since_last_infusion": day - last,
        },
        index=assessments.index,
    ).astype(
        {"participant_id": "string", "day": "Int64", "visit": "string", "instrument": "string"}
    )


# -- per participant ---------------------------------------------------------------------


def _per_participant(trial: Trial, infusions: pd.DataFrame, drug: str | None) -> pd.DataFrame:
    people = trial.participants
    plans = {
        (arm.code, treatment.drug.lower()): treatment
        for arm in trial.protocol.arms
        for treatment in arm.treatments
    }
    drugs = sorted(set(infusions["drug"].str.lower()) | {drug for _, drug in plans})
    if drug is not None:
        drugs = [drug.strip().lower()]
    weights = (
        pd.to_numeric(people["weight_kg"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if "weight_kg" in people.columns
        else np.full(len(people), np.nan)
    )
    by_person = {
        (pid, str(name).lower()): group
        for (pid, name), group in infusions.groupby(["participant_id", "drug"])
    }
    rows = []
    for pid, arm, weight in zip(people["participant_id"], people["arm"], weights, strict=True):
        for name in drugs:
            given = by_person.get((pid, name), infusions.iloc[0:0])
            rows.append(_one_participant(pid, arm, name, weight, given, plans.get((arm, name))))
    frame = pd.DataFrame(rows, columns=list(PARTICIPANT_COLUMNS))
    return frame.astype(
        {
            "participant_id": "string",
            "arm": "string",
            "drug": "string",
            "infusions_planned": "int64",
            "infusions_received": "int64",
            "infusions_on_planned_days": "int64",
            "planned_days_missed": "int64",
            "unplanned_infusions": "int64",
            "first_day": "Int64",
            "last_day": "Int64",
            "weight_kg": "float64",
            "dose_mg_per_kg": "float64",
            "dose_mg": "float64",
            "planned_dose_mg_per_kg": "float64",
            "planned_dose_mg": "float64",
            "note": "string",
        }
    )


def _one_participant(
    pid: str, arm: str, drug: str, weight: float, given: pd.DataFrame, plan: Treatment | None
) -> dict:
    days = given["day"].to_numpy(dtype=float, na_value=np.nan)
    dose = pd.to_numeric(given["dose"]).to_numpy(dtype=float, na_value=np.nan)
    unit = given["dose_unit"].astype("string").str.lower().fillna("").to_numpy(dtype=object)
    notes = []
    mg_per_kg, mg, unit_notes = _cumulative(dose, unit, weight)
    notes.extend(unit_notes)

    planned_days = sorted(set(plan.days)) if plan is not None else []
    received = set(days[np.isfinite(days)].astype(int).tolist())
    missed = [d for d in planned_days if d not in received]
    unplanned = int(sum(1 for d in days if np.isfinite(d) and int(d) not in planned_days))
    if missed:
        notes.append(f"missed planned day(s) {', '.join(map(str, missed))}")
    if unplanned and planned_days:
        notes.append(f"{unplanned} infusion(s) on days not in the plan")
    elif len(days) and not planned_days:
        notes.append(f"arm {arm} has no {drug} in its plan")
    planned_mg_per_kg, planned_mg = _planned_dose(plan, weight)
    return {
        "participant_id": pid,
        "arm": arm,
        "drug": drug,
        "infusions_planned": len(planned_days),
        "infusions_received": len(days),
        "infusions_on_planned_days": sum(1 for d in days if d in planned_days),
        "planned_days_missed": len(missed),
        "unplanned_infusions": unplanned,
        "first_day": np.nanmin(days) if len(days) else np.nan,
        "last_day": np.nanmax(days) if len(days) else np.nan,
        "weight_kg": weight,
        "dose_mg_per_kg": mg_per_kg,
        "dose_mg": mg,
        "planned_dose_mg_per_kg": planned_mg_per_kg,
        "planned_dose_mg": planned_mg,
        "note": "; ".join(notes),
    }


def _cumulative(dose: np.ndarray, unit: np.ndarray, weight: float) -> tuple[float, float, list]:
    """Total dose in mg/kg and in mg, and why either is unknown."""
    per_kg = unit == "mg/kg"
    flat = unit == "mg"
    notes = []
    other = sorted(set(unit[~(per_kg | flat)]))
    if other:
        notes.append(f"unknown dose unit(s) {', '.join(repr(u) for u in other)}: dose unknown")
        return np.nan, np.nan, notes
    known_weight = np.isfinite(weight) and weight > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        as_mg_per_kg = np.where(per_kg, dose, dose / weight if known_weight else np.nan)
        as_mg = np.where(flat, dose, dose * weight if known_weight else np.nan)
    total_mg_per_kg = float(as_mg_per_kg.sum()) if len(dose) else 0.0
    total_mg = float(as_mg.sum()) if len(dose) else 0.0
    if not known_weight and flat.any():
        notes.append("no weight_kg: mg doses cannot be expressed in mg/kg")
    if not known_weight and per_kg.any():
        notes.append("no weight_kg: mg/kg doses cannot be expressed in mg")
    if np.isnan(dose).any():
        notes.append("a dose is missing")
    return total_mg_per_kg, total_mg, notes


def _planned_dose(plan: Treatment | None, weight: float) -> tuple[float, float]:
    if plan is None or not plan.days:
        return 0.0, 0.0
    known_weight = np.isfinite(weight) and weight > 0
    total = float(sum(plan.planned_doses))
    if plan.dose_unit == "mg/kg":
        return total, total * weight if known_weight else np.nan
    return (total / weight if known_weight else np.nan), total
