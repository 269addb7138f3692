"""A criterion met at a visit, by a visit, or by a study day: the evaluation of
:class:`~ketex.derive.endpoints.Achieved` (and of a bare Response or Remission).

:func:`achieved` evaluates one participant for :func:`ketex.evaluate_endpoint`; the
conventions are in ``docs/endpoints-response-remission.md``.
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
from ketex.derive.endpoints import Achieved

__all__ = ["achieved"]


@evaluates(Achieved)
def achieved(context: Context, rule: Achieved, pid: str, arm: str) -> Outcome:
    """Evaluate :class:`Achieved` for one participant."""
    criterion = context.criterion(rule.criterion)
    scale = context.scale(criterion)
    criterion = dataclasses.replace(criterion, scale=scale)
    rows = context.rows(scale, pid)
    missing = None if rule.missing == "exclude" else False
    out = no_baseline(context, criterion, rows, scale)
    if out is not None:
        return out
    start = context.baseline_day
    if rule.by_day is not None:
        candidates = [r for r in context.post_baseline(rows)
                      if not na(r["ADY"]) and r["ADY"] <= rule.by_day]
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
            if na(row["AVAL"]):
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
    observed = [r for r in candidates if not na(r["AVAL"])]
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
