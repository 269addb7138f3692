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
        self._rows: dict[str, dict[str, pd.DataFrame]] = {}

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

    def rows(self, scale: str, pid: str) -> pd.DataFrame:
        """The analysed rows (one per scheduled visit) of a participant, in visit order."""
        code = scale
        if code not in self._rows:
            ds = analysis_dataset(self.trial, code, **self._options)
            ds = ds[ds["ANL01FL"] == "Y"].sort_values(["USUBJID", "AVISITN"])
            self._rows[code] = {str(k): g for k, g in ds.groupby("USUBJID", sort=False)}
        empty = pd.DataFrame(columns=["AVISIT", "ADY", "AVAL", "BASE", "AWTARGET"])
        return self._rows[code].get(pid, empty)

    def post_baseline(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Rows of the scheduled visits whose target day is after the baseline day."""
        return rows[rows["AWTARGET"] > self.baseline_day]


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


def describe(criterion: Criterion, row: pd.Series) -> str:
    """``"MADRS 14 at WEEK12 (day 85), baseline 32"``."""
    scale = criterion.scale if criterion.scale else "score"
    text = f"{scale} {row['AVAL']:.4g} at {row['AVISIT']} (day {row['ADY']})"
    if criterion.needs_baseline:
        text += f", baseline {row['BASE']:.4g}"
    return text


def is_met(criterion: Criterion, row: pd.Series) -> bool | None:
    """The criterion at one analysed row (None when missing)."""
    return criterion.met(row["AVAL"], row["BASE"])


def no_baseline(context: _Context, criterion: Criterion, rows: pd.DataFrame,
                scale: str) -> Outcome | None:
    """The outcome of a participant without baseline, when the criterion needs one."""
    if criterion.needs_baseline and (rows.empty or rows["BASE"].isna().all()):
        return Outcome(False, None, f"no baseline {scale} (nothing on or before day "
                                    f"{context.baseline_day}); left out")
    return None


def last_observed_day(rows: pd.DataFrame) -> int | None:
    """Day of the last analysed assessment with a total, if any."""
    days = rows.loc[rows["AVAL"].notna(), "ADY"]
    return int(days.max()) if len(days) else None


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
        candidates = context.post_baseline(rows)
        candidates = candidates[candidates["ADY"].notna() & (candidates["ADY"] <= rule.by_day)]
        where = f"on or before day {rule.by_day}"
    else:
        visit = context.visit(rule.visit, context.protocol.endpoints.primary_visit,
                              "Achieved.visit")
        names = [v.name for v in scheduled_visits(context.protocol, scale, arm)]
        if visit not in names:
            return Outcome(False, None, f"{visit} is not a scheduled {scale} visit of arm "
                                        f"{arm}; left out")
        if not rule.by:
            row = rows[rows["AVISIT"] == visit].iloc[0]
            if pd.isna(row["AVAL"]):
                return Outcome(True, missing, f"{visit} missing", start_day=start,
                               last_day=last_observed_day(rows))
            met = is_met(criterion, row)
            return Outcome(True, met, f"{describe(criterion, row)}: "
                                      f"{'met' if met else 'not met'}", start_day=start,
                           day=int(row["ADY"]) if met else None,
                           visit=visit if met else None, last_day=int(row["ADY"]))
        upto = names.index(visit)
        candidates = context.post_baseline(rows[rows["AVISIT"].isin(names[: upto + 1])])
        where = f"up to {visit}"
    observed = candidates[candidates["AVAL"].notna()]
    for _, row in observed.iterrows():
        if is_met(criterion, row):
            return Outcome(True, True, f"first met: {describe(criterion, row)}",
                           start_day=start, day=int(row["ADY"]), visit=str(row["AVISIT"]),
                           last_day=last_observed_day(observed))
    if observed.empty:
        return Outcome(True, missing, f"no {scale} assessment after baseline {where}",
                       start_day=start)
    return Outcome(True, False, f"not met at any of {len(observed)} assessments {where}",
                   start_day=start, last_day=last_observed_day(observed))
