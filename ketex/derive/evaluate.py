"""Evaluating endpoint rules per participant: who meets them, when, and why.

:func:`evaluate_endpoint` returns one row per participant with a fixed set of columns
(:data:`EVALUATION_COLUMNS`) whatever the rule, so tables of different endpoints stack.
The rules' conventions are written out in the user guide pages on endpoints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from ketex.derive._cache import cached, copy_frame
from ketex.derive.analysis import analysis_dataset, scheduled_visits
from ketex.derive.endpoints import (
    PRESETS,
    Achieved,
    ConsistentRemission,
    Criterion,
    RelapseRule,
    Remission,
    Response,
    Rule,
    StableRemission,
    StableResponse,
    SustainedRemission,
    SustainedResponse,
)
from ketex.study.trial import Trial

__all__ = ["EVALUATION_COLUMNS", "Outcome", "evaluate_endpoint"]

#: Columns of :func:`evaluate_endpoint`, with their meaning.
EVALUATION_COLUMNS = MappingProxyType({
    "participant_id": "participant identifier",
    "arm": "arm code",
    "endpoint": "the rule, in words",
    "eligible": "whether the participant could be evaluated (a baseline when the rule "
                "needs one; for relapse, the entry condition met)",
    "met": "whether the endpoint was met (NA: could not be evaluated, or a missing visit "
           "for Achieved with missing='missing')",
    "start_day": "day evaluation starts: the baseline day, or for relapse the day the "
                 "entry condition was met",
    "day": "day the endpoint was met (relapse: the relapse day); NA when not met",
    "visit": "visit at which it was met (collected visit for relapse by assessments)",
    "last_day": "last day with an assessment taken into account (the censoring day of "
                "time-to-event analyses)",
    "reason": "why the outcome is what it is, in words",
})


@dataclass(frozen=True)
class Outcome:
    """One participant's outcome for one rule (a row of :func:`evaluate_endpoint`)."""

    eligible: bool
    met: bool | None
    reason: str
    start_day: int | None = None
    day: int | None = None
    visit: str | None = None
    last_day: int | None = None


def evaluate_endpoint(
    trial: Trial,
    rule: Rule,
    *,
    baseline: str = "last",
    baseline_day: int = 0,
    tie: str = "later",
) -> pd.DataFrame:
    """Evaluate an endpoint rule for every participant, with the reason for each outcome.

    Parameters
    ----------
    trial : Trial
    rule : endpoint rule
        ``Response``, ``Remission``, ``Achieved``, ``SustainedResponse``,
        ``SustainedRemission``, ``StableRemission``, ``StableResponse``,
        ``ConsistentRemission`` or ``RelapseRule``.
        A bare :class:`~ketex.derive.endpoints.Response` or
        :class:`~ketex.derive.endpoints.Remission` is evaluated at the protocol's
        primary visit (``Achieved(rule)``). Fields left None take the protocol's
        ``[endpoints]`` settings.
    baseline, baseline_day, tie
        Passed to :func:`ketex.analysis_dataset`, which places the assessments in visits.

    Returns
    -------
    pandas.DataFrame
        One row per participant, columns :data:`EVALUATION_COLUMNS`.

    Raises
    ------
    ValueError
        When the rule names a visit the protocol does not have, or the protocol's
        remission preset is unknown.

    Examples
    --------
    >>> import ketex
    >>> from ketex.derive.endpoints import Achieved, Response
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> week12 = evaluate_endpoint(trial, Response())
    >>> int(week12["met"].sum()), int(week12["met"].isna().sum())  # 5 missed WEEK12
    (23, 5)
    >>> print(week12.loc[1, "reason"])
    MADRS 21 at WEEK12 (day 87), baseline 34.44: not met
    >>> early = evaluate_endpoint(trial, Achieved(Response(), "WEEK2", by=True))
    >>> int(early["met"].sum())
    51
    """
    return cached(trial, "evaluate_endpoint", (rule, baseline, baseline_day, tie),
                  lambda: _evaluate_endpoint(trial, rule, baseline=baseline,
                                             baseline_day=baseline_day, tie=tie), copy_frame)


def _evaluate_endpoint(trial: Trial, rule: Rule, *, baseline: str, baseline_day: int,
                       tie: str) -> pd.DataFrame:
    """:func:`evaluate_endpoint`, computed."""
    context = _Context(trial, baseline=baseline, baseline_day=baseline_day, tie=tie)
    if isinstance(rule, Response | Remission):
        rule = Achieved(rule)
    evaluate = _evaluator(rule)
    label = context.label(rule)
    rows = []
    for pid, arm in zip(trial.participants["participant_id"], trial.participants["arm"],
                        strict=True):
        outcome = evaluate(context, rule, pid, arm)
        rows.append((pid, arm, label, outcome.eligible, outcome.met, outcome.start_day,
                     outcome.day, outcome.visit, outcome.last_day, outcome.reason))
    frame = pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
    return frame.astype({
        "participant_id": "string", "arm": "string", "endpoint": "string",
        "eligible": "boolean", "met": "boolean", "start_day": "Int64", "day": "Int64",
        "visit": "string", "last_day": "Int64", "reason": "string",
    })


def _evaluator(rule: Rule) -> Callable[[_Context, Rule, str, str], Outcome]:
    from ketex.derive import relapse, sustained

    table = {
        Achieved: achieved,
        SustainedResponse: sustained.sustained,
        SustainedRemission: sustained.sustained,
        StableRemission: sustained.stable,
        StableResponse: sustained.stable,
        ConsistentRemission: sustained.consistent,
        RelapseRule: relapse.relapse,
    }
    for kind, function in table.items():
        if isinstance(rule, kind):
            return function
    raise ValueError(f"rule must be an endpoint rule (Response, Remission, Achieved, "
                     f"SustainedResponse, ..., RelapseRule), got {rule!r}")


class _Context:
    """What evaluating a rule needs from the trial: analysis datasets by scale, resolved
    protocol settings. Built once per call."""

    def __init__(self, trial: Trial, *, baseline: str, baseline_day: int, tie: str) -> None:
        self.trial = trial
        self.protocol = trial.protocol
        self.baseline_day = int(baseline_day)
        self._options = {"baseline": baseline, "baseline_day": baseline_day, "tie": tie}
        self._rows: dict[str, dict[str, list[dict]]] = {}
        self._scheduled: dict[tuple[str, str], list[str]] = {}
        self._scores: dict[str, dict[str, list[tuple[int, str, float]]]] = {}
        self._events: dict[str, list[tuple[int, str]]] | None = None

    # -- protocol settings ------------------------------------------------------------

    def criterion(self, criterion: Criterion | None, kind: type) -> Criterion:
        """The criterion of a rule, filled in from the protocol when None."""
        if criterion is not None:
            return criterion
        ends = self.protocol.endpoints
        if kind is Response:
            return Response(ends.response_reduction)
        preset = PRESETS.get(ends.remission_preset)
        if not isinstance(preset, Remission):
            raise ValueError(
                f"the protocol's [endpoints] remission_preset {ends.remission_preset!r} is "
                "not a remission preset; give the rule a Remission(...) or fix study.toml")
        return preset

    def scale(self, criterion: Criterion) -> str:
        """The instrument a criterion is read on."""
        return criterion.scale or self.trial.protocol.primary_scale

    def visit(self, name: str | None, default: str | None, what: str) -> str:
        """A visit name checked against the protocol (None takes ``default``)."""
        name = name if name is not None else default
        if name is None:
            raise ValueError(f"{what}: no visit given and the protocol's [endpoints] names "
                             "none; give the visit")
        if name not in self.protocol.visit_names:
            raise ValueError(f"{what}: visit {name!r} is not in the protocol; visits: "
                             f"{', '.join(self.protocol.visit_names)}")
        return name

    def label(self, rule: Rule) -> str:
        """The rule in words, with the protocol's settings filled in."""
        return _resolved(self, rule).label

    # -- data ---------------------------------------------------------------------------

    def rows(self, scale: str, pid: str) -> list[dict]:
        """The analysed rows (one per scheduled visit) of a participant, in visit order.

        Each row is a plain mapping of ``AVISIT, ADY, AVAL, BASE, AWTARGET`` (missing:
        NaN for scores, ``pd.NA`` for days): the rules run once per participant, and
        plain Python values keep that loop fast at any trial size.
        """
        if scale not in self._rows:
            ds = analysis_dataset(self.trial, scale, **self._options)
            ds = ds[ds["ANL01FL"] == "Y"].sort_values(["USUBJID", "AVISITN"], kind="mergesort")
            records = ds[list(_ROW_COLUMNS)].astype(object).to_dict("records")
            grouped: dict[str, list[dict]] = {}
            for pid_, record in zip(ds["USUBJID"].astype(str), records, strict=True):
                grouped.setdefault(pid_, []).append(record)
            self._rows[scale] = grouped
        return self._rows[scale].get(pid, [])

    def post_baseline(self, rows: list[dict]) -> list[dict]:
        """Rows of the scheduled visits whose target day is after the baseline day."""
        return [r for r in rows
                if not _na(r["AWTARGET"]) and r["AWTARGET"] > self.baseline_day]

    def scheduled(self, scale: str, arm: str) -> list[str]:
        """Names of the visits that rate ``scale`` for ``arm``, in protocol order."""
        key = (scale, arm)
        if key not in self._scheduled:
            self._scheduled[key] = [v.name for v in
                                    scheduled_visits(self.protocol, scale, arm)]
        return self._scheduled[key]

    def scores(self, scale: str, pid: str) -> list[tuple[int, str, float]]:
        """Every scored assessment ``(day, visit, total)`` of a participant on ``scale``
        (scheduled or not), by day; ties keep the order of the assessments table."""
        if scale not in self._scores:
            a = self.trial.assessments
            grouped: dict[str, list[tuple[int, str, float]]] = {}
            if "total" in a.columns:
                keep = ((a["instrument"] == scale) & a["total"].notna()
                        & a["day"].notna()).fillna(False).astype(bool)
                kept = a.loc[keep].sort_values("day", kind="mergesort")
                for pid_, day, visit, total in zip(
                        kept["participant_id"].astype(str), kept["day"].astype(int),
                        kept["visit"].astype(object), kept["total"].astype(float),
                        strict=True):
                    grouped.setdefault(pid_, []).append((int(day), str(visit), float(total)))
            self._scores[scale] = grouped
        return self._scores[scale].get(pid, [])

    def events(self, pid: str) -> list[tuple[int, str]]:
        """The clinical events ``(day, event)`` of a participant with a known day, in the
        order of the events table."""
        if self._events is None:
            events = self.trial.events
            grouped: dict[str, list[tuple[int, str]]] = {}
            if not events.empty:
                kept = events[events["day"].notna()]
                for pid_, day, event in zip(kept["participant_id"].astype(str),
                                            kept["day"].astype(int),
                                            kept["event"].astype(str), strict=True):
                    grouped.setdefault(pid_, []).append((int(day), event))
            self._events = grouped
        return self._events.get(pid, [])


#: The columns of an analysed row as :meth:`_Context.rows` gives it.
_ROW_COLUMNS = ("AVISIT", "ADY", "AVAL", "BASE", "AWTARGET")


def _na(value) -> bool:
    """Whether one value is missing (None, NaN or ``pd.NA``)."""
    return value is None or value is pd.NA or value != value


def at(rows: list[dict], visit: str) -> dict:
    """The analysed row of ``visit`` (a missing row when the participant has none)."""
    for row in rows:
        if row["AVISIT"] == visit:
            return row
    return {"AVISIT": visit, "ADY": pd.NA, "AVAL": float("nan"), "BASE": float("nan"),
            "AWTARGET": pd.NA}


def _resolved(context: _Context, rule: Rule) -> Rule:
    """The rule with None criteria and visits filled in from the protocol (for labels)."""
    ends = context.protocol.endpoints
    if isinstance(rule, Achieved):
        return dataclasses.replace(rule, visit=rule.visit or ends.primary_visit)
    if isinstance(rule, SustainedResponse | SustainedRemission):
        return dataclasses.replace(rule, from_visit=rule.from_visit or ends.primary_visit,
                                   through_visit=rule.through_visit
                                   or ends.sustained_through_visit)
    if isinstance(rule, StableRemission | StableResponse):
        return dataclasses.replace(rule, through_visit=rule.through_visit or ends.primary_visit)
    if isinstance(rule, ConsistentRemission) and rule.remission is None:
        return dataclasses.replace(rule, remission=context.criterion(None, Remission))
    return rule


def describe(criterion: Criterion, row: dict) -> str:
    """``"MADRS 14 at WEEK12 (day 85), baseline 32"``."""
    scale = criterion.scale if criterion.scale else "score"
    text = f"{scale} {row['AVAL']:.4g} at {row['AVISIT']} (day {row['ADY']})"
    if criterion.needs_baseline:
        text += f", baseline {row['BASE']:.4g}"
    return text


def is_met(criterion: Criterion, row: dict) -> bool | None:
    """The criterion at one analysed row (None when missing)."""
    return criterion.met(row["AVAL"], row["BASE"])


def no_baseline(context: _Context, criterion: Criterion, rows: list[dict],
                scale: str) -> Outcome | None:
    """The outcome of a participant without baseline, when the criterion needs one."""
    if criterion.needs_baseline and all(_na(r["BASE"]) for r in rows):
        return Outcome(False, None, f"no baseline {scale} (nothing on or before day "
                                    f"{context.baseline_day}); left out")
    return None


def last_observed_day(rows: list[dict]) -> int | None:
    """Day of the last analysed assessment with a total, if any."""
    days = [r["ADY"] for r in rows if not _na(r["AVAL"]) and not _na(r["ADY"])]
    return int(max(days)) if days else None


def achieved(context: _Context, rule: Achieved, pid: str, arm: str) -> Outcome:
    """Evaluate :class:`Achieved` for one participant."""
    kind = Response if isinstance(rule.criterion, Response) else Remission
    criterion = context.criterion(rule.criterion, kind)
    scale = context.scale(criterion)
    criterion = dataclasses.replace(criterion, scale=scale)
    rows = context.rows(scale, pid)
    missing = None if rule.missing == "missing" else False
    out = no_baseline(context, criterion, rows, scale)
    if out is not None:
        return out
    start = context.baseline_day
    if rule.by_day is not None:
        candidates = [r for r in context.post_baseline(rows)
                      if not _na(r["ADY"]) and r["ADY"] <= rule.by_day]
        where = f"on or before day {rule.by_day}"
    else:
        visit = context.visit(rule.visit, context.protocol.endpoints.primary_visit,
                              "Achieved.visit")
        names = context.scheduled(scale, arm)
        if visit not in names:
            return Outcome(False, None, f"{visit} is not a scheduled {scale} visit of arm "
                                        f"{arm}; left out")
        if not rule.by:
            row = at(rows, visit)
            if _na(row["AVAL"]):
                return Outcome(True, missing, f"{visit} missing", start_day=start,
                               last_day=last_observed_day(rows))
            met = is_met(criterion, row)
            return Outcome(True, met, f"{describe(criterion, row)}: "
                                      f"{'met' if met else 'not met'}", start_day=start,
                           day=int(row["ADY"]) if met else None,
                           visit=visit if met else None, last_day=int(row["ADY"]))
        upto = set(names[: names.index(visit) + 1])
        candidates = context.post_baseline([r for r in rows if r["AVISIT"] in upto])
        where = f"up to {visit}"
    observed = [r for r in candidates if not _na(r["AVAL"])]
    for row in observed:
        if is_met(criterion, row):
            return Outcome(True, True, f"first met: {describe(criterion, row)}",
                           start_day=start, day=int(row["ADY"]), visit=str(row["AVISIT"]),
                           last_day=last_observed_day(observed))
    if not observed:
        return Outcome(True, missing, f"no {scale} assessment after baseline {where}",
                       start_day=start)
    return Outcome(True, False, f"not met at any of {len(observed)} assessments {where}",
                   start_day=start, last_day=last_observed_day(observed))
