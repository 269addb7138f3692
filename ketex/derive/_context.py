"""What evaluating an endpoint rule needs, shared by every rule: the trial's analysed
visits, scores and events per participant, the protocol's settings, the
:class:`Outcome` of one participant, and the registry of evaluators.

Each rule's evaluation lives next to its kind, registered with :func:`evaluates`
(``achieved.py``, ``sustained.py``, ``relapse.py``); :func:`ketex.evaluate_endpoint`
(``evaluate.py``) imports those modules and asks :func:`evaluator` for the function of
a rule. Nothing here imports them: a new rule is a class in ``endpoints.py`` and one
registered function, and no switch is edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

import pandas as pd

from ketex.derive.analysis import analysis_dataset, scheduled_visits
from ketex.derive.endpoints import Criterion, CriterionLike, protocol_criterion
from ketex.study.trial import Trial

__all__ = ["Context", "Outcome", "evaluates", "evaluator"]

#: An evaluator: ``(context, rule, participant_id, arm) -> Outcome``.
Evaluator = Callable[["Context", Any, str, str], "Outcome"]
F = TypeVar("F", bound=Callable[..., Any])

_EVALUATORS: dict[type, Evaluator] = {}


@dataclass(frozen=True)
class Outcome:
    """One participant's outcome for one rule (a row of :func:`ketex.evaluate_endpoint`)."""

    eligible: bool
    met: bool | None
    reason: str
    start_day: int | None = None
    day: int | None = None
    visit: str | None = None
    last_day: int | None = None


def evaluates(kind: type) -> Callable[[F], F]:
    """Register the decorated function as the evaluator of rules of ``kind`` (and of its
    subclasses, the presets, unless they register their own)."""
    def register(function: F) -> F:
        _EVALUATORS[kind] = function
        return function
    return register


def evaluator(rule: object) -> Evaluator:
    """The registered evaluator of ``rule`` (the nearest class in its MRO)."""
    for kind in type(rule).__mro__:
        if kind in _EVALUATORS:
            return _EVALUATORS[kind]
    raise ValueError(f"rule must be an endpoint rule (Response, Remission, Achieved, "
                     f"Sustained, Stable, Consistent, RelapseRule or a preset of these), "
                     f"got {rule!r}")


class _DatasetOptions(TypedDict):
    """The keywords of :func:`analysis_dataset` a context passes on."""

    baseline: str
    baseline_day: int
    tie: str


class Context:
    """What evaluating a rule needs from the trial: analysis datasets by scale, resolved
    protocol settings. Built once per call."""

    def __init__(self, trial: Trial, *, baseline: str, baseline_day: int, tie: str) -> None:
        self.trial = trial
        self.protocol = trial.protocol
        self.baseline_day = int(baseline_day)
        self._options: _DatasetOptions = {"baseline": baseline, "baseline_day": baseline_day,
                                          "tie": tie}
        self._rows: dict[str, dict[str, list[dict]]] = {}
        self._scheduled: dict[tuple[str, str], list[str]] = {}
        self._scores: dict[str, dict[str, list[tuple[int, str, float]]]] = {}
        self._events: dict[str, list[tuple[int, str]]] | None = None

    # -- protocol settings ------------------------------------------------------------

    def criterion(self, criterion: CriterionLike) -> Criterion:
        """The criterion of a rule; the class ``Response`` or ``Remission`` gives the
        protocol's."""
        return protocol_criterion(criterion, self.protocol.endpoints)

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

    def label(self, rule) -> str:
        """The rule in words, with the protocol's settings filled in."""
        return rule.with_protocol(self.protocol.endpoints).label

    def evaluate(self, rule, pid: str, arm: str) -> Outcome:
        """One participant's outcome for ``rule`` (by the rule's registered evaluator);
        a rule built on another (relapse after an entry condition) calls this."""
        return evaluator(rule)(self, rule, pid, arm)

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
                if not na(r["AWTARGET"]) and r["AWTARGET"] > self.baseline_day]

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


#: The columns of an analysed row as :meth:`Context.rows` gives it.
_ROW_COLUMNS = ("AVISIT", "ADY", "AVAL", "BASE", "AWTARGET")


def na(value) -> bool:
    """Whether one value is missing (None, NaN or ``pd.NA``)."""
    return value is None or value is pd.NA or value != value


def at(rows: list[dict], visit: str) -> dict:
    """The analysed row of ``visit`` (a missing row when the participant has none)."""
    for row in rows:
        if row["AVISIT"] == visit:
            return row
    return {"AVISIT": visit, "ADY": pd.NA, "AVAL": float("nan"), "BASE": float("nan"),
            "AWTARGET": pd.NA}


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


def no_baseline(context: Context, criterion: Criterion, rows: list[dict],
                scale: str) -> Outcome | None:
    """The outcome of a participant without baseline, when the criterion needs one."""
    if criterion.needs_baseline and all(na(r["BASE"]) for r in rows):
        return Outcome(False, None, f"no baseline {scale} (nothing on or before day "
                                    f"{context.baseline_day}); left out")
    return None


def last_observed_day(rows: list[dict]) -> int | None:
    """Day of the last analysed assessment with a total, if any."""
    days = [r["ADY"] for r in rows if not na(r["AVAL"]) and not na(r["ADY"])]
    return int(max(days)) if days else None
