"""Simulation straight to the time-to-relapse table, for power analyses of relapse.

:func:`~ketex.simulate.simulate_trial` builds and validates a whole trial, and
:func:`ketex.time_to_event` then evaluates the relapse rule participant by participant;
a power analysis of time to relapse needs only each eligible participant's time and
event. :func:`simulate_relapse` runs the same simulation with the same random streams
(the participants, their course, MADRS ratings with blank items, dropout and
hospitalisation, as :mod:`ketex.simulate.fast` does for the change scores) and evaluates
the rule on ``(participants, visits)`` arrays: the entry condition on the analysed
visits, then runs of consecutive ratings at or above the threshold and qualifying
events after entry. Its rows equal those of ``time_to_event(simulate_trial(design,
seed), rule).table`` (a test checks every column on many seeds and rules);
:func:`fast_relapse_problem` says when it cannot be used (the full path then stays the
way).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.derive.endpoints import (
    _TOLERANCE,
    PRESETS,
    Achieved,
    RelapseRule,
    Remission,
    Response,
)
from ketex.simulate.design import TrialDesign
from ketex.simulate.fast import _madrs_totals, _simulation

__all__ = ["RELAPSE_COLUMNS", "fast_relapse_problem", "simulate_relapse"]

#: Columns of :func:`simulate_relapse`, named and typed as in :func:`ketex.time_to_event`.
RELAPSE_COLUMNS = {
    "USUBJID": "participant identifier (eligible participants: the entry condition met)",
    "ARM": "arm code",
    "STARTDY": "origin: the day entry was met, or 0 (RelapseRule.origin)",
    "ADY": "study day of the relapse or of censoring",
    "AVAL": "days from origin to relapse or censoring",
    "event": "True = relapse",
}

#: The baseline rule of :func:`ketex.time_to_event`'s defaults, which the fast path follows.
_BASELINE_DAY = 0
#: Event types the simulator writes into ``events.csv``.
_SIMULATED_EVENTS = ("discontinuation", "hospitalisation")


def fast_relapse_problem(design: TrialDesign, rule: RelapseRule) -> str | None:
    """Why :func:`simulate_relapse` cannot evaluate ``rule`` on ``design`` (None: it can).

    The fast path covers relapse on MADRS after an :class:`~ketex.derive.Achieved` entry
    (response or remission at a visit, by a visit or by a day), any threshold, number of
    consecutive ratings, gaps, events, origin, relapse day and follow-up, with the
    default baseline of :func:`ketex.time_to_event` (the baseline visit, rated on or
    before day 0, and no other MADRS visit that early).

    Examples
    --------
    >>> from ketex.derive import RelapseRule, StableRemission
    >>> from ketex.simulate import TrialDesign
    >>> fast_relapse_problem(TrialDesign(), RelapseRule()) is None
    True
    >>> print(fast_relapse_problem(TrialDesign(), RelapseRule(entry=StableRemission())))
    the entry rule StableRemission is evaluated on the full trial only (the fast path has
    Achieved)
    """
    if not isinstance(rule, RelapseRule):
        return f"{rule!r} is not a RelapseRule"
    if rule.scale != "MADRS":
        return f"the relapse scale is {rule.scale} (the fast path has MADRS ratings only)"
    entry = rule.entry
    if not isinstance(entry, Achieved):
        return (f"the entry rule {type(entry).__name__} is evaluated on the full trial only "
                "(the fast path has Achieved)")
    protocol = design.protocol()
    if protocol.primary_scale != "MADRS":
        return f"the primary scale is {protocol.primary_scale}, not MADRS"
    criterion = _criterion(entry, protocol)
    if criterion is None:
        if isinstance(entry.criterion, Response | Remission | type(None)) or \
                entry.criterion is Remission:
            return (f"the protocol's remission preset "
                    f"{protocol.endpoints.remission_preset!r} is not a remission cut-off")
        return f"the entry criterion {entry.criterion!r} is not a response or remission"
    if criterion.scale not in (None, "MADRS"):
        return f"the entry condition is read on {criterion.scale} (the fast path has MADRS)"
    baseline = protocol.endpoints.baseline_visit
    rated = [v for v in protocol.visits if _rates_madrs(v)]
    if baseline not in [v.name for v in rated]:
        return f"the baseline visit {baseline} does not rate MADRS"
    for visit in rated:
        if visit.name == baseline and visit.window[1] > _BASELINE_DAY:
            return (f"the baseline visit's window {visit.window} reaches past day "
                    f"{_BASELINE_DAY}")
        if visit.name != baseline and visit.window[0] <= _BASELINE_DAY:
            return (f"visit {visit.name}'s window {visit.window} reaches day {_BASELINE_DAY}:"
                    " the baseline record would be chosen among several visits")
    if entry.by_day is None:
        name = entry.visit or protocol.endpoints.primary_visit
        if name not in protocol.visit_names:
            return f"the entry visit {name!r} is not a visit of the design"
    return None


def simulate_relapse(design: TrialDesign, seed: int, rule: RelapseRule) -> pd.DataFrame:
    """Simulate a trial and return only its time-to-relapse table.

    Parameters
    ----------
    design : TrialDesign
    seed : int
        As in :func:`~ketex.simulate.simulate_trial`: the same seed simulates the same
        participants.
    rule : RelapseRule
        One :func:`fast_relapse_problem` accepts.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RELAPSE_COLUMNS`, one row per eligible participant in participant
        order; equal (values and types) to those columns of
        ``ketex.time_to_event(ketex.simulate_trial(design, seed), rule).table``.

    Raises
    ------
    ValueError
        When the fast path cannot evaluate the rule (the reason of
        :func:`fast_relapse_problem`).

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.derive import endpoint_preset
    >>> from ketex.simulate import TrialDesign
    >>> design = dataclasses.replace(TrialDesign(), n_per_arm=10)
    >>> simulate_relapse(design, seed=3, rule=endpoint_preset("SUSTAIN-1")).head(3)
      USUBJID     ARM  STARTDY  ADY   AVAL  event
    0    P001  SINGLE        2   22   20.0   True
    1    P002  SINGLE        2  167  165.0  False
    2    P003  SERIES        2   19   17.0   True
    """
    problem = fast_relapse_problem(design, rule)
    if problem is not None:
        raise ValueError(f"simulate_relapse: {problem}; use time_to_event(simulate_trial("
                         "design, seed), rule)")
    sim = _simulation(design, seed)
    protocol = sim.latent()
    sim._hospitalisation()
    aval = _madrs_totals(sim, protocol)
    day = sim.visit_day
    names = [v.name for v in sim.visits]
    base = aval[:, names.index(protocol.endpoints.baseline_visit)]
    entry = rule.entry
    if not isinstance(entry, Achieved):  # pragma: no cover - fast_relapse_problem says so
        raise ValueError(f"simulate_relapse: the entry rule {type(entry).__name__} has no "
                         "fast path")
    eligible, start = _entry(entry, protocol, sim, aval, base)
    rows = np.flatnonzero(eligible)
    start = start[rows]
    end = start + rule.follow_up_days if rule.follow_up_days is not None else np.inf
    after = (~np.isnan(aval[rows]) & (day[rows] > start[:, None])
             & (day[rows] <= np.asarray(end, float).reshape(-1, 1)))
    by_score, last_day = _by_scores(rule, day[rows], aval[rows], after, start)
    by_event = _by_event(rule, sim, rows, start, end)
    relapse_day = np.fmin(by_score, by_event)
    met = ~np.isnan(relapse_day)
    origin = start if rule.origin == "entry" else np.zeros(len(rows))
    finish = np.maximum(np.where(met, relapse_day, last_day), origin)
    return pd.DataFrame({
        "USUBJID": pd.array(sim.ids[rows], dtype="string"),
        "ARM": pd.array(sim.arm[rows].astype(object), dtype="string"),
        "STARTDY": pd.array(origin.astype("int64"), dtype="Int64"),
        "ADY": pd.array(finish.astype("int64"), dtype="Int64"),
        "AVAL": (finish - origin).astype("float64"),
        "event": met,
    })


# -- the entry condition --------------------------------------------------------------


def _rates_madrs(visit) -> bool:
    # as scheduled_visits reads a visit (primary scale MADRS: checked by the caller) and
    # as the simulator rates it
    return not visit.instruments or "MADRS" in visit.instruments


def _criterion(entry: Achieved, protocol) -> Response | Remission | None:
    """The entry criterion, filled in from the protocol as evaluate_endpoint does (None
    or the class ``Remission``: the protocol's remission preset; the class ``Response``:
    its response reduction); None when that is not a remission cut-off."""
    criterion = entry.criterion
    if criterion is Response:
        return Response(protocol.endpoints.response_reduction)
    if criterion is None or criterion is Remission:
        preset = PRESETS.get(protocol.endpoints.remission_preset)
        return preset if isinstance(preset, Remission) else None
    return criterion if isinstance(criterion, Response | Remission) else None


def _met(criterion: Response | Remission, aval: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``(n, V)``: the criterion at each analysed visit (False where undefined), by the
    arithmetic of ``Response.met`` / ``Remission.met``."""
    observed = ~np.isnan(aval)
    with np.errstate(invalid="ignore"):
        if isinstance(criterion, Response):
            b = base[:, None]
            ok = observed & ~np.isnan(b) & (b > 0)
            return ok & (b - aval >= criterion.reduction * b - _TOLERANCE)
        if criterion.max_score is not None:
            return observed & (aval <= criterion.max_score)
        return observed & (aval < criterion.below)


def _entry(entry: Achieved, protocol, sim, aval: np.ndarray,
           base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Who meets the entry condition and on which day (``start``, NaN when not met)."""
    criterion = _criterion(entry, protocol)
    if criterion is None:  # pragma: no cover - fast_relapse_problem says so
        raise ValueError("simulate_relapse: the entry criterion is not a response or "
                         "remission cut-off")
    met = _met(criterion, aval, base)
    rates = np.array([_rates_madrs(v) for v in sim.visits])
    target = np.array([v.day for v in sim.visits], float)
    scheduled = ~np.isnan(sim.visit_day) & rates[None, :]
    post_baseline = scheduled & (target > _BASELINE_DAY)[None, :]
    if entry.by_day is not None:
        candidates = post_baseline & (sim.visit_day <= entry.by_day)
    else:
        name = entry.visit or protocol.endpoints.primary_visit
        column = protocol.visit_names.index(name)
        at_visit = np.zeros(len(sim.visits), bool)
        at_visit[column] = True
        upto = np.arange(len(sim.visits)) <= column
        # a participant whose arm does not have the visit is left out
        candidates = (post_baseline & upto[None, :] if entry.by
                      else scheduled & at_visit[None, :])
        candidates &= scheduled[:, [column]]
    hit = met & candidates
    entered = hit.any(axis=1)
    if criterion.needs_baseline:
        entered &= ~np.isnan(base)
    first = np.argmax(hit, axis=1)
    start = np.where(entered, sim.visit_day[np.arange(sim.n), first], np.nan)
    return entered, start


# -- relapse after entry --------------------------------------------------------------


def _by_scores(rule: RelapseRule, day: np.ndarray, aval: np.ndarray, after: np.ndarray,
               start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day of the first run of ``consecutive`` ratings at or above the threshold with
    every gap inside ``gap_days`` (NaN: none), and the last rating day after entry
    (the entry day when none)."""
    m = len(start)
    # each participant's ratings after entry, by day (ties: protocol visit order, the
    # order of the assessments table), moved to the left
    order = np.argsort(np.where(after, day, np.inf), axis=1, kind="stable")
    days = np.take_along_axis(day, order, axis=1)
    totals = np.take_along_axis(aval, order, axis=1)
    valid = np.take_along_axis(after, order, axis=1)
    count = valid.sum(axis=1)
    last_day = np.where(count > 0, np.max(np.where(after, day, -np.inf), axis=1,
                                          initial=-np.inf), start)
    n = rule.consecutive
    width = days.shape[1]
    found = np.full(m, np.nan)
    if width < n or m == 0:
        return found, last_day
    with np.errstate(invalid="ignore"):
        high = valid & (totals >= rule.threshold)
        gap = np.diff(days, axis=1)
        low_gap, high_gap = rule.gap_days
        gap_ok = valid[:, 1:] & valid[:, :-1] & (gap >= low_gap) & (gap <= high_gap)
    starts = width - n + 1
    run = np.ones((m, starts), bool)
    for i in range(n):
        run &= high[:, i:i + starts]
    for i in range(n - 1):
        run &= gap_ok[:, i:i + starts]
    has = run.any(axis=1)
    k = np.argmax(run, axis=1) + (0 if rule.event_day == "first" else n - 1)
    found[has] = days[np.flatnonzero(has), k[has]]
    return found, last_day


def _by_event(rule: RelapseRule, sim, rows: np.ndarray, start: np.ndarray,
              end: np.ndarray | float) -> np.ndarray:
    """Day of the first qualifying event after entry (NaN: none)."""
    found = np.full(len(rows), np.nan)
    days = {"discontinuation": sim.dropout_day, "hospitalisation": sim.hospitalisation_day}
    for event in _SIMULATED_EVENTS:
        if event in rule.events:
            when = days[event][rows]
            inside = (when > start) & (when <= end)
            found = np.fmin(found, np.where(inside, when, np.nan))
    return found
