"""Treatment-emergent adverse events and their timing against infusions and sessions.

:func:`treatment_emergent` gives every adverse event the treatment-emergent flag with its
reason, following the rules of admiral's ``derive_var_trtemfl`` (pharmaverse) on study
days, and says whether the onset fell close to an infusion or an exercise session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketex.study.safety_rules import AE_SEVERITIES
from ketex.study.trial import Trial

if TYPE_CHECKING:
    from pandas.api.typing import NAType

__all__ = ["TEAE_COLUMNS", "TREATMENTS", "TreatmentEmergence", "treatment_emergent"]

TREATMENTS = ("any", "infusion", "exercise")

#: Columns :func:`treatment_emergent` adds to the adverse events.
TEAE_COLUMNS = (
    "arm",
    "first_treatment_day",
    "last_treatment_day",
    "treatment_emergent",
    "teae_reason",
    "near_treatment",
)


@dataclass(frozen=True)
class TreatmentEmergence:
    """How an adverse event is judged treatment-emergent.

    Parameters
    ----------
    treatment : {"any", "infusion", "exercise"}
        What starts treatment: the first infusion or exercise session (``"any"``,
        default), or only one of them.
    end_window_days : int, optional
        Events starting more than this many days after the last treatment are not
        treatment-emergent (admiral's ``end_window``). None (default): no limit.
    worsening : bool
        Whether an event that started before treatment counts when it worsened: its
        ``severity`` (the worst) above its ``baseline_severity`` (admiral's
        ``initial_intensity``). Applies only when the table has ``baseline_severity``.
    attribution_window_days : int
        An onset on the day of an infusion (session) or up to this many days after it is
        ``near_treatment`` that infusion (session). Default 1.

    Examples
    --------
    >>> TreatmentEmergence(end_window_days=30).end_window_days
    30
    """

    treatment: str = "any"
    end_window_days: int | None = None
    worsening: bool = True
    attribution_window_days: int = 1

    def __post_init__(self) -> None:
        if self.treatment not in TREATMENTS:
            raise ValueError(f"treatment must be one of {TREATMENTS}, got {self.treatment!r}")
        for name in ("end_window_days", "attribution_window_days"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | np.integer) or value < 0):
                raise ValueError(f"{name} must be a whole number of days >= 0, got {value!r}")


def treatment_emergent(
    trial: Trial, rule: TreatmentEmergence | None = None
) -> pd.DataFrame:
    """The adverse events with the treatment-emergent flag and its reason.

    Parameters
    ----------
    trial : Trial
    rule : TreatmentEmergence, optional
        Default ``TreatmentEmergence()``.

    Returns
    -------
    pandas.DataFrame
        ``trial.adverse_events`` (same rows and order) with ``arm``,
        ``first_treatment_day``, ``last_treatment_day``, ``treatment_emergent``
        (boolean), ``teae_reason`` (text) and ``near_treatment`` (``infusion``,
        ``exercise``, ``both``, ``neither``; missing when the onset is unknown).

    Notes
    -----
    The cases are tried in admiral's order; the first that applies decides:

    1. no treatment received: not treatment-emergent;
    2. the event ended before the first treatment: not;
    3. onset unknown: treatment-emergent (the conservative rule), unless
       ``pre_existing`` is true: then it is judged as an onset before treatment (case 5);
    4. onset on or after the first treatment day: treatment-emergent if no later than
       the last treatment day plus ``end_window_days``, otherwise not;
    5. onset before the first treatment: treatment-emergent only if it worsened,
       ``severity`` above ``baseline_severity`` (or ``severity`` missing, as admiral
       does). An event without ``baseline_severity`` is not judged for worsening:
       admiral would count a missing initial intensity as worsened, but in ketex's
       table ``baseline_severity`` is given only for pre-existing events, and a missing
       value there means "not recorded", not "unknown".

    Treatment starts on the first infusion or exercise session (see ``rule.treatment``);
    a session of 0 minutes (attended, not done) is not treatment. Days, not times, are
    compared: an event on the day of the first infusion is treatment-emergent even if
    it began before the infusion that day.

    Raises
    ------
    ValueError
        The trial has adverse events but no treatment records of the kind that starts
        treatment: no event could be treatment-emergent, which is a missing table far
        more often than a trial in which nobody was treated.

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
    ...                                     "start_day": [1, -3]})})
    >>> flagged = treatment_emergent(trial)
    >>> flagged[["term", "treatment_emergent"]]
           term  treatment_emergent
    0  insomnia               False
    1    nausea                True
    >>> print(flagged["teae_reason"].iloc[0])
    onset day -3 before first treatment (day 1)
    """
    rule = rule if rule is not None else TreatmentEmergence()
    events = trial.adverse_events.copy()
    days = _treatment_days(trial, rule.treatment)
    first = days.groupby("participant_id")["day"].min()
    last = days.groupby("participant_id")["day"].max()
    ids = events["participant_id"]
    out = events.assign(
        arm=ids.map(trial.arms).astype("string"),
        first_treatment_day=ids.map(first).astype("Int64"),
        last_treatment_day=ids.map(last).astype("Int64"),
    )
    flags, reasons = [], []
    for row in out.itertuples(index=False):
        flag, reason = _judge(row, rule)
        flags.append(flag)
        reasons.append(reason)
    out["treatment_emergent"] = pd.array(flags, dtype="boolean")
    out["teae_reason"] = pd.array(reasons, dtype="string")
    out["near_treatment"] = _near(out, trial, rule.attribution_window_days)
    return out


_SOURCES = {"infusion": ("infusions", "infusions.csv"), "exercise": ("exercise", "exercise.csv")}


def _treatment_days(trial: Trial, treatment: str) -> pd.DataFrame:
    kinds = ("infusion", "exercise") if treatment == "any" else (treatment,)
    parts = []
    for kind in kinds:
        table = getattr(trial, _SOURCES[kind][0])
        if kind == "exercise" and "duration_min" in table.columns:
            table = table[~(table["duration_min"] == 0).fillna(False)]  # attended, not done
        parts.append(table[["participant_id", "day"]])
    days = pd.concat(parts, ignore_index=True).astype({"day": "float64"}).dropna()
    if days.empty and len(trial.adverse_events):
        files = " or ".join(_SOURCES[kind][1] for kind in kinds)
        raise ValueError(
            f"treatment_emergent: the trial has {len(trial.adverse_events)} adverse events but "
            f"no treatment records ({files} is empty or missing), so no event can be judged "
            f"treatment-emergent; add the {files} table, or choose the treatment that starts "
            f"exposure with TreatmentEmergence(treatment=...)")
    return days


def _value(row, name):
    value = getattr(row, name, None)
    return None if value is None or pd.isna(value) else value


def _judge(row, rule: TreatmentEmergence) -> tuple[bool, str]:
    first, last = _value(row, "first_treatment_day"), _value(row, "last_treatment_day")
    start, end = _value(row, "start_day"), _value(row, "end_day")
    if first is None:
        return False, "no treatment received"
    if end is not None and end < first:
        return False, f"ended on day {end} before first treatment (day {first})"
    before = start is not None and start < first
    if start is None and bool(_value(row, "pre_existing")):
        before = True  # onset day unknown, but present before the first treatment
    elif start is None:
        return True, "onset day unknown: counted as treatment-emergent (conservative rule)"
    onset = f"onset day {start}" if start is not None else "onset day unknown"
    if not before:
        window = rule.end_window_days
        if window is None or start <= last + window:
            return True, f"{onset} on or after first treatment (day {first})"
        return False, (f"{onset} more than {window} days after the last treatment "
                       f"(day {last})")
    initial = _value(row, "baseline_severity")
    if rule.worsening and initial is not None:
        worst = _value(row, "severity")
        if worst is None or _rank(initial) < _rank(worst):
            return True, (f"{onset} before first treatment (day {first}), worsened from "
                          f"{initial} to {worst or 'unknown'}")
        return False, (f"{onset} before first treatment (day {first}), not worse than at "
                       f"baseline ({initial})")
    return False, f"{onset} before first treatment (day {first})"


def _rank(severity: str) -> int:
    return AE_SEVERITIES.index(severity)


def _near(events: pd.DataFrame, trial: Trial, window: int) -> pd.Series:
    def days_of(frame):
        return frame.groupby("participant_id")["day"].agg(lambda d: set(d.dropna().astype(int)))

    infusion_days, session_days = days_of(trial.infusions), days_of(trial.exercise)
    labels: list[str | NAType] = []
    for pid, start in zip(events["participant_id"], events.get("start_day", pd.Series(
            pd.NA, index=events.index)), strict=True):
        if pd.isna(start):
            labels.append(pd.NA)
            continue
        near = set(range(int(start) - window, int(start) + 1))
        infusion = bool(near & infusion_days.get(pid, set()))
        session = bool(near & session_days.get(pid, set()))
        labels.append({(True, True): "both", (True, False): "infusion",
                       (False, True): "exercise", (False, False): "neither"}[infusion, session])
    return pd.Series(pd.array(labels, dtype="string"), index=events.index)
