"""Endpoints over several visits: sustained, stable and consistent, of any criterion.

Each function evaluates one participant of its rule (:class:`Sustained`, :class:`Stable`,
:class:`Consistent` and their presets ``SustainedResponse``, ``StableRemission``, ...),
registered with :func:`~ketex.derive._context.evaluates`, and returns an
:class:`~ketex.derive._context.Outcome`; :func:`ketex.evaluate_endpoint` calls them. Only
the analysed record of each scheduled visit counts (``ANL01FL = "Y"``); the conventions
are in ``docs/endpoints-sustained.md``.
"""

from __future__ import annotations

import dataclasses

from ketex.derive._context import (
    Context,
    Outcome,
    at,
    describe,
    evaluates,
    is_met,
    last_observed_day,
    na,
    no_baseline,
)
from ketex.derive.endpoints import Consistent, Stable, Sustained

__all__ = ["consistent", "stable", "sustained"]


def _setup(context: Context, rule, pid: str, arm: str):
    criterion = context.criterion(rule.criterion)
    scale = context.scale(criterion)
    criterion = dataclasses.replace(criterion, scale=scale)
    rows = context.rows(scale, pid)
    days = {v.name: v.day for v in context.protocol.visits}
    names = [n for n in context.scheduled(scale, arm) if days[n] > context.baseline_day]
    return criterion, scale, rows, names


def _window(context: Context, names: list[str], first: str | None, last: str | None,
            arm: str, scale: str) -> list[str] | str:
    """Scheduled visits from ``first`` through ``last`` (inclusive), or a reason."""
    order = context.protocol.visit_names
    missing = [v for v in (first, last) if v is not None and v not in names]
    if missing:
        return f"{', '.join(missing)} is not a scheduled {scale} visit of arm {arm}"
    lo = order.index(first) if first else -1
    hi = order.index(last) if last else len(order)
    if lo > hi:
        raise ValueError(f"visits: {first} comes after {last} in the protocol; give them "
                         "in protocol order")
    return [n for n in names if lo <= order.index(n) <= hi]


@evaluates(Sustained)
def sustained(context: Context, rule: Sustained, pid: str, arm: str) -> Outcome:
    """Met at ``from_visit`` and at every later scheduled visit through ``through_visit``."""
    ends = context.protocol.endpoints
    first = context.visit(rule.from_visit, ends.primary_visit, f"{type(rule).__name__}"
                                                               ".from_visit")
    last = context.visit(rule.through_visit, ends.sustained_through_visit,
                         f"{type(rule).__name__}.through_visit")
    criterion, scale, rows, names = _setup(context, rule, pid, arm)
    out = no_baseline(context, criterion, rows, scale)
    if out is not None:
        return out
    visits = _window(context, names, first, last, arm, scale)
    if isinstance(visits, str):
        return Outcome(False, None, f"{visits}; left out")
    start = context.baseline_day
    head = at(rows, first)
    if na(head["AVAL"]):
        return Outcome(True, False, f"{first} missing (the first visit must be observed)",
                       start_day=start, last_day=last_observed_day(rows))
    if not is_met(criterion, head):
        return Outcome(True, False, f"not met at {first}: {describe(criterion, head)}",
                       start_day=start, last_day=last_observed_day(rows))
    seen = [first]
    for name in visits[1:]:
        row = at(rows, name)
        if na(row["AVAL"]):
            if rule.missing == "failure":
                return Outcome(True, False, f"met at {', '.join(seen)}; {name} missing "
                                            "(counts as failure)", start_day=start,
                               last_day=last_observed_day(rows))
            continue
        if not is_met(criterion, row):
            return Outcome(True, False, f"met at {', '.join(seen)}; not met at {name}: "
                                        f"{describe(criterion, row)}", start_day=start,
                           last_day=last_observed_day(rows))
        seen.append(name)
    skipped = [n for n in visits if n not in seen]
    note = f" ({', '.join(skipped)} missing, skipped)" if skipped else ""
    return Outcome(True, True, f"met at {', '.join(seen)}{note}", start_day=start,
                   day=int(head["ADY"]), visit=first, last_day=last_observed_day(rows))


@evaluates(Stable)
def stable(context: Context, rule: Stable, pid: str, arm: str) -> Outcome:
    """Met at ``at_least`` of the last ``last`` scheduled visits through ``through_visit``."""
    last_visit = context.visit(rule.through_visit, context.protocol.endpoints.primary_visit,
                               f"{type(rule).__name__}.through_visit")
    criterion, scale, rows, names = _setup(context, rule, pid, arm)
    out = no_baseline(context, criterion, rows, scale)
    if out is not None:
        return out
    visits = _window(context, names, None, last_visit, arm, scale)
    if isinstance(visits, str):
        return Outcome(False, None, f"{visits}; left out")
    if len(visits) < rule.last:
        return Outcome(False, None, f"only {len(visits)} scheduled {scale} visits after "
                                    f"baseline through {last_visit}, {rule.last} needed; "
                                    "left out")
    visits = visits[-rule.last:]
    marks = []
    for name in visits:
        row = at(rows, name)
        marks.append(bool(is_met(criterion, row)) if not na(row["AVAL"]) else None)
    count = sum(1 for m in marks if m)
    tail = marks[len(marks) - rule.last_required:] if rule.last_required else []
    met = count >= rule.at_least and all(m is True for m in tail)
    detail = ", ".join(f"{n} {'yes' if m else 'missing' if m is None else 'no'}"
                       for n, m in zip(visits, marks, strict=True))
    required = (f"; the last {rule.last_required} must be met"
                if rule.last_required else "")
    row = at(rows, visits[-1])
    return Outcome(True, met, f"met at {count} of the last {rule.last} visits ({detail}); "
                              f"{rule.at_least} needed{required}",
                   start_day=context.baseline_day,
                   day=int(row["ADY"]) if met and not na(row["ADY"]) else None,
                   visit=visits[-1] if met else None, last_day=last_observed_day(rows))


@evaluates(Consistent)
def consistent(context: Context, rule: Consistent, pid: str, arm: str) -> Outcome:
    """Met at ``consecutive`` consecutive scheduled visits."""
    owner = type(rule).__name__
    first = None if rule.from_visit is None else context.visit(
        rule.from_visit, None, f"{owner}.from_visit")
    last = None if rule.through_visit is None else context.visit(
        rule.through_visit, None, f"{owner}.through_visit")
    criterion, scale, rows, names = _setup(context, rule, pid, arm)
    out = no_baseline(context, criterion, rows, scale)
    if out is not None:
        return out
    visits = _window(context, names, first, last, arm, scale)
    if isinstance(visits, str):
        return Outcome(False, None, f"{visits}; left out")
    start = context.baseline_day
    sequence = [at(rows, name) for name in visits]
    if rule.missing == "skip":
        sequence = [row for row in sequence if not na(row["AVAL"])]
    run: list[dict] = []
    for row in sequence:
        if not na(row["AVAL"]) and is_met(criterion, row):
            run.append(row)
            if len(run) == rule.consecutive:
                hit = run[0] if rule.event_day == "first" else run[-1]
                return Outcome(True, True, "met at " + ", ".join(
                    f"{r['AVISIT']} (day {r['ADY']}, {scale} {r['AVAL']:.4g})" for r in run),
                    start_day=start, day=int(hit["ADY"]), visit=str(hit["AVISIT"]),
                    last_day=last_observed_day(rows))
        else:
            run = []
    observed = sum(1 for row in sequence if not na(row["AVAL"]))
    if observed == 0:
        return Outcome(True, False, f"no {scale} assessment after baseline",
                       start_day=start)
    return Outcome(True, False, f"never met at {rule.consecutive} consecutive visits "
                                f"({observed} observed)", start_day=start,
                   last_day=last_observed_day(rows))
