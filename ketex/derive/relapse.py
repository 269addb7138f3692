"""Relapse after an entry condition: consecutive assessments at or above a threshold, or
a qualifying clinical event.

:func:`relapse` evaluates one participant for :func:`ketex.evaluate_endpoint`; the
conventions are in ``docs/endpoints-relapse.md`` and the :class:`RelapseRule` docstring.
"""

from __future__ import annotations

from ketex.derive._context import Context, Outcome, evaluates
from ketex.derive.endpoints import RelapseRule

__all__ = ["relapse"]


@evaluates(RelapseRule)
def relapse(context: Context, rule: RelapseRule, pid: str, arm: str) -> Outcome:
    """Evaluate a :class:`RelapseRule` for one participant."""
    entry = context.evaluate(rule.entry, pid, arm)
    if not entry.met or entry.day is None:
        why = entry.reason if entry.eligible else entry.reason.removesuffix("; left out")
        return Outcome(False, None, f"entry condition not met ({why}); left out")
    start = int(entry.day)
    end = start + rule.follow_up_days if rule.follow_up_days is not None else None
    scores = _scores(context, rule.scale, pid, start, end)
    by_score = _by_scores(rule, scores)
    by_event = _by_event(context, rule, pid, start, end)
    last_day = max(score[0] for score in scores) if scores else start
    candidates = [c for c in (by_score, by_event) if c is not None]
    if not candidates:
        window = f" within {rule.follow_up_days} days" if end is not None else ""
        return Outcome(True, False, f"no relapse after entry on day {start}{window}; "
                                    f"{len(scores)} {rule.scale} assessments after entry",
                       start_day=start, last_day=last_day)
    day, visit, reason = min(candidates, key=lambda c: c[0])
    return Outcome(True, True, reason, start_day=start, day=day, visit=visit,
                   last_day=last_day)


def _scores(context: Context, scale: str, pid: str, start: int, end: int | None
            ) -> list[tuple[int, str, float]]:
    """Every scored assessment ``(day, visit, total)`` of the scale after the entry day
    (scheduled or not), by day."""
    return [score for score in context.scores(scale, pid)
            if score[0] > start and (end is None or score[0] <= end)]


def _by_scores(rule: RelapseRule, scores: list[tuple[int, str, float]]
               ) -> tuple[int, str, str] | None:
    """The first run of ``consecutive`` neighbouring assessments at or above the threshold
    with every gap inside ``gap_days``."""
    days = [score[0] for score in scores]
    visits = [score[1] for score in scores]
    totals = [score[2] for score in scores]
    low, high = rule.gap_days
    n = rule.consecutive
    for k in range(len(days) - n + 1):
        run = range(k, k + n)
        if not all(totals[i] >= rule.threshold for i in run):
            continue
        if not all(low <= days[i + 1] - days[i] <= high for i in range(k, k + n - 1)):
            continue
        at = k if rule.event_day == "first" else k + n - 1
        described = ", ".join(f"{totals[i]:.4g} on day {days[i]}" for i in run)
        apart = ", ".join(str(days[i + 1] - days[i]) for i in range(k, k + n - 1))
        gaps = f" ({apart} days apart)" if n > 1 else ""
        return days[at], visits[at], (f"{rule.scale} >= {rule.threshold:g} at {n} consecutive "
                                      f"assessments: {described}{gaps}; relapse day = the "
                                      f"{'first' if rule.event_day == 'first' else 'last'}")
    return None


def _by_event(context: Context, rule: RelapseRule, pid: str, start: int, end: int | None
              ) -> tuple[int, None, str] | None:
    if not rule.events:
        return None
    qualifying = set(rule.events)
    found = [(day, event) for day, event in context.events(pid)
             if event in qualifying and day > start and (end is None or day <= end)]
    if not found:
        return None
    day, event = min(found, key=lambda e: e[0])
    return day, None, f"{event} on day {day}"
