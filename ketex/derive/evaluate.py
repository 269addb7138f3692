"""Evaluating endpoint rules per participant: who meets them, when, and why.

:func:`evaluate_endpoint` returns one row per participant with a fixed set of columns
(:data:`EVALUATION_COLUMNS`) whatever the rule, so tables of different endpoints stack.
Each rule is evaluated by the function registered for its kind next to it (``achieved.py``,
``sustained.py``, ``relapse.py``; the shared context is ``_context.py``): this module
imports those modules, none of them imports this one. The rules' conventions are written
out in the user guide pages on endpoints.
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

# the rule modules register their evaluators when imported
from ketex.derive import achieved, relapse, sustained  # noqa: F401
from ketex.derive._cache import cached, copy_frame
from ketex.derive._context import Context, Outcome, evaluator
from ketex.derive.endpoints import Achieved, Remission, Response, Rule
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
           "for Achieved with missing='exclude')",
    "start_day": "day evaluation starts: the baseline day, or for relapse the day the "
                 "entry condition was met",
    "day": "day the endpoint was met (relapse: the relapse day); NA when not met",
    "visit": "visit at which it was met (collected visit for relapse by assessments)",
    "last_day": "last day with an assessment taken into account (the censoring day of "
                "time-to-event analyses)",
    "reason": "why the outcome is what it is, in words",
})


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
        ``Response``, ``Remission``, ``Achieved``, ``Sustained``, ``Stable``,
        ``Consistent`` (or a preset of these: ``SustainedResponse``,
        ``SustainedRemission``, ``StableRemission``, ``StableResponse``,
        ``ConsistentRemission``, ``ConsistentResponse``) or ``RelapseRule``.
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
    context = Context(trial, baseline=baseline, baseline_day=baseline_day, tie=tie)
    if isinstance(rule, Response | Remission):
        rule = Achieved(rule)
    evaluate = evaluator(rule)
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
