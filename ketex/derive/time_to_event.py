"""Time-to-event tables (ADaM ADTTE-like): time to relapse, response, remission.

Conventions are in ``docs/time-to-event.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from ketex.derive._cache import cached
from ketex.derive.endpoints import (
    Achieved,
    Consistent,
    RelapseRule,
    Remission,
    Response,
    Rule,
)
from ketex.derive.evaluate import evaluate_endpoint
from ketex.study.trial import Trial

__all__ = ["EXCLUDED_COLUMNS", "TTE_COLUMNS", "TimeToEvent", "time_to_event"]

#: Columns of :attr:`TimeToEvent.table`, with their meaning.
TTE_COLUMNS = MappingProxyType({
    "STUDYID": "study identifier",
    "USUBJID": "participant identifier",
    "ARM": "arm code",
    "PARAMCD": "TTRELAPS, TTRESP, TTREMIS, TTCREMIS or TTCRESP",
    "PARAM": "the rule, in words",
    "STARTDY": "origin: study day time is counted from",
    "ADY": "study day of the event or of censoring",
    "AVAL": "days from origin to event or censoring (ADY - STARTDY)",
    "CNSR": "0 = event, 1 = censored (the ADaM convention)",
    "event": "True = event (the Python convention; not CNSR)",
    "EVNTDESC": "what the event was (missing when censored)",
    "CNSDTDSC": "what the censoring day is (missing for events)",
})

#: Columns of :attr:`TimeToEvent.excluded`.
EXCLUDED_COLUMNS = MappingProxyType({
    "USUBJID": "participant identifier",
    "ARM": "arm code",
    "reason": "why the participant is not in the table",
})


_ANY_DAY = 10**9  # Achieved(by_day=...) with no limit: every assessment after baseline


@dataclass(frozen=True)
class TimeToEvent:
    """A time-to-event table and the participants left out of it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per eligible participant, columns :data:`TTE_COLUMNS`.
    excluded : pandas.DataFrame
        One row per participant left out, columns :data:`EXCLUDED_COLUMNS`.
    rule : object
        The rule evaluated.
    paramcd : str
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    rule: object
    paramcd: str

    def __repr__(self) -> str:
        events = int(self.table["event"].sum()) if len(self.table) else 0
        return (f"TimeToEvent({self.paramcd}: {len(self.table)} participants, {events} events, "
                f"{len(self.table) - events} censored, {len(self.excluded)} excluded)")


def time_to_event(
    trial: Trial,
    rule: RelapseRule | Response | Remission | Achieved | Consistent | str,
    *,
    baseline: str = "last",
    baseline_day: int = 0,
    tie: str = "later",
) -> TimeToEvent:
    """Time to relapse, to response, to remission or to consistent remission or response.

    Parameters
    ----------
    trial : Trial
    rule : RelapseRule, Response, Remission, Achieved, Consistent or str
        ``RelapseRule``: time from its origin (the day entry was met, or day 0) to relapse,
        among participants meeting its entry condition. ``Response`` / ``Remission``:
        time from day 0 to the first analysed assessment after baseline that meets it
        (``Achieved(rule, by_day=...)`` limits the follow-up to that day, or
        ``Achieved(rule, visit, by=True)`` to that visit). ``Consistent`` (e.g.
        ``ConsistentRemission``): time from day 0 to the day it is met. A string is a preset name
        (:func:`ketex.endpoint_preset`).
    baseline, baseline_day, tie
        Passed to :func:`ketex.analysis_dataset`.

    Returns
    -------
    TimeToEvent
        ``table`` (one row per eligible participant) and ``excluded`` (with the reason).

    Raises
    ------
    ValueError
        For another kind of rule, or ``Achieved`` at a single visit (not a time to event).

    Notes
    -----
    Event day: the day the rule is met (relapse: see :class:`ketex.RelapseRule`).
    Censoring day: the last analysed assessment of the scale taken into account (for
    relapse, the last scored assessment after entry, scheduled or not); the origin when
    there is none, giving ``AVAL = 0``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> relapse = time_to_event(trial, "SUSTAIN-1")
    >>> relapse
    TimeToEvent(TTRELAPS: 58 participants, 18 events, 40 censored, 22 excluded)
    >>> relapse.table[["USUBJID", "STARTDY", "ADY", "AVAL", "CNSR", "EVNTDESC"]].head(3)
      USUBJID  STARTDY  ADY  AVAL  CNSR                                  EVNTDESC
    0    P002        2  169 167.0     1                                      <NA>
    1    P003       56  168 112.0     1                                      <NA>
    2    P004        4   26  22.0     0  MADRS >= 22 at 2 consecutive assessments
    >>> time_to_event(trial, ketex.derive.Response())
    TimeToEvent(TTRESP: 80 participants, 58 events, 22 censored, 0 excluded)
    """
    chosen: Rule
    if isinstance(rule, str):
        from ketex.derive.endpoints import endpoint_preset

        chosen = endpoint_preset(rule)
    else:
        chosen = rule
    return cached(trial, "time_to_event", (chosen, baseline, baseline_day, tie),
                  lambda: _time_to_event(trial, chosen, baseline=baseline,
                                         baseline_day=baseline_day, tie=tie), _copy)


def _copy(tte: TimeToEvent) -> TimeToEvent:
    return dataclasses.replace(tte, table=tte.table.copy(), excluded=tte.excluded.copy())


def _time_to_event(trial: Trial, rule: object, *, baseline: str, baseline_day: int,
                   tie: str) -> TimeToEvent:
    """:func:`time_to_event` of a rule (not a preset name), computed."""
    paramcd, evaluated = _evaluated(rule)
    outcomes = evaluate_endpoint(trial, evaluated, baseline=baseline,
                                 baseline_day=baseline_day, tie=tie)
    eligible = outcomes[outcomes["eligible"].fillna(False).astype(bool)]
    excluded = outcomes[~outcomes.index.isin(eligible.index)]
    if isinstance(rule, RelapseRule) and rule.origin == "entry":
        origin = eligible["start_day"]
    else:
        origin = pd.Series(0, index=eligible.index, dtype="Int64")
    met = eligible["met"].fillna(False).astype(bool)
    end = eligible["day"].where(met, eligible["last_day"])
    end = end.fillna(eligible["start_day"]).fillna(origin).astype("Int64")
    end = end.where(end >= origin, origin)
    label = outcomes["endpoint"].iloc[0] if len(outcomes) else ""
    if isinstance(rule, Response | Remission):
        label = rule.label if rule.scale else f"{trial.protocol.primary_scale} {rule.label}"
    table = pd.DataFrame({
        "STUDYID": pd.Series(trial.protocol.study_id, index=eligible.index, dtype="string"),
        "USUBJID": eligible["participant_id"],
        "ARM": eligible["arm"],
        "PARAMCD": pd.Series(paramcd, index=eligible.index, dtype="string"),
        "PARAM": pd.Series(label, index=eligible.index, dtype="string"),
        "STARTDY": origin.astype("Int64"),
        "ADY": end,
        "AVAL": (end - origin).astype("float64"),
        "CNSR": (~met).astype("int64"),
        "event": met.astype(bool),
        "EVNTDESC": pd.Series([_event_text(rule, r, label) if m else pd.NA
                               for r, m in zip(eligible["reason"], met, strict=True)],
                              index=eligible.index, dtype="string"),
        "CNSDTDSC": pd.Series([pd.NA if m else _censor_text(rule, r, d)
                               for r, m, d in zip(eligible["reason"], met,
                                                  eligible["last_day"], strict=True)],
                              index=eligible.index, dtype="string"),
    }).reset_index(drop=True)
    left_out = pd.DataFrame({
        "USUBJID": excluded["participant_id"],
        "ARM": excluded["arm"],
        "reason": excluded["reason"],
    }).reset_index(drop=True)
    return TimeToEvent(table=table, excluded=left_out, rule=rule, paramcd=paramcd)


def _evaluated(rule: object) -> tuple[str, Rule]:
    """The PARAMCD and the rule evaluate_endpoint should evaluate."""
    if isinstance(rule, RelapseRule):
        return "TTRELAPS", rule
    if isinstance(rule, Consistent):
        return ("TTCRESP" if _is_response(rule.criterion) else "TTCREMIS"), rule
    if isinstance(rule, Response | Remission):
        rule = Achieved(rule, by_day=_ANY_DAY)
    if isinstance(rule, Achieved):
        if not rule.by and rule.by_day is None:
            raise ValueError("rule: Achieved at a single visit is not a time to event; use "
                             "Achieved(criterion, visit, by=True) or by_day=...")
        code = "TTRESP" if _is_response(rule.criterion) else "TTREMIS"
        return code, dataclasses.replace(rule, missing="failure")
    raise ValueError(f"rule must be a RelapseRule, Response, Remission, Achieved or "
                     f"Consistent (e.g. ConsistentRemission), got {rule!r}")


def _is_response(criterion: object) -> bool:
    """Whether a rule's criterion (an instance, or the class: the protocol's) is a
    response."""
    return criterion is Response or isinstance(criterion, Response)


def _event_text(rule: object, reason: str, label: str) -> str:
    if isinstance(rule, RelapseRule):
        if reason.startswith(f"{rule.scale} >= "):
            return (f"{rule.scale} >= {rule.threshold:g} at {rule.consecutive} consecutive "
                    "assessments")
        return reason.split(" on day ")[0]  # the event type
    return label


def _censor_text(rule: object, reason: str, last_day: object) -> str:
    if pd.isna(last_day):  # type: ignore[call-overload]  # pandas-stubs: isna takes any scalar
        return "no assessment after origin"
    if isinstance(rule, RelapseRule):
        return f"last {rule.scale} assessment after entry"
    return "last assessment"
