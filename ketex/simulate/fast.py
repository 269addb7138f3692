"""Simulation straight to what an analysis needs, for power analyses.

:func:`simulate_trial` builds and validates a whole :class:`~ketex.study.trial.Trial`
(items, exercise sessions, infusions, events), which is what a reader would return; a power
analysis of the MADRS change from baseline needs only the analysis dataset's change
scores. :func:`simulate_changes` runs the same simulation with the same random streams and
stops at the MADRS totals, so its rows equal the analysed rows of
``analysis_dataset(simulate_trial(design, seed))`` (a test checks it), several times
faster. :func:`true_difference` gives the true difference between two arms in mean
change from baseline at a visit, from counterfactual twins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ketex.derive.analysis import arm_order
from ketex.scales import score
from ketex.simulate.design import TrialDesign
from ketex.simulate.items import blank_items, madrs_items
from ketex.simulate.trial import _STREAMS, _Simulation

__all__ = ["CHANGE_COLUMNS", "TrueDifference", "simulate_changes", "true_difference"]

#: Columns of :func:`simulate_changes`, named as in :func:`ketex.analysis_dataset`.
CHANGE_COLUMNS = {
    "USUBJID": "participant identifier",
    "ARM": "arm code (ordered Categorical, reference arm first, as in analysis_dataset)",
    "AVISIT": "visit (ordered Categorical of the visits asked for)",
    "AVAL": "MADRS total (missing after dropout, or when too many items are blank)",
    "BASE": "baseline MADRS total",
    "CHG": "AVAL - BASE",
}


def _simulation(design: TrialDesign, seed: int) -> _Simulation:
    # the same streams, in the same order, as simulate_trial
    generators = np.random.default_rng(seed).spawn(len(_STREAMS))
    return _Simulation(design, dict(zip(_STREAMS, generators, strict=True)))


def madrs_visits(design: TrialDesign) -> tuple[str, ...]:
    """Names of the protocol visits after baseline that rate MADRS, for every arm.

    Visits for some arms only (the 24-hour visits after the second and later infusions
    of a series) are left out: an arm x visit model cannot estimate them.

    Examples
    --------
    >>> from ketex.simulate import TrialDesign
    >>> madrs_visits(TrialDesign())
    ('INF1_24H', 'WEEK2', 'WEEK3', 'WEEK4', 'WEEK6', 'WEEK8', 'WEEK10', 'WEEK12', 'WEEK16',
     'WEEK24')
    """
    baseline = design.endpoints.baseline_visit
    return tuple(
        v.name for v in design.protocol_visits()
        if v.name != baseline and not v.arms and (not v.instruments or "MADRS" in v.instruments)
    )


def simulate_changes(
    design: TrialDesign, seed: int, visits: Sequence[str] | None = None
) -> pd.DataFrame:
    """Simulate a trial and return only its MADRS change scores, one row per visit.

    Parameters
    ----------
    design : TrialDesign
    seed : int
        As in :func:`~ketex.simulate.simulate_trial`: the same seed simulates the same
        participants.
    visits : sequence of str, optional
        Visits after baseline to return (protocol order is kept); None: every MADRS
        visit for all arms (:func:`madrs_visits`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHANGE_COLUMNS`; one row per participant and visit scheduled for
        the participant's arm, in participant then visit order. Values equal those of the
        analysed records (``ANL01FL = "Y"``) of
        ``ketex.analysis_dataset(ketex.simulate_trial(design, seed))`` with the default
        baseline rule (missing visits are rows with a missing ``AVAL``).

    Raises
    ------
    ValueError
        When a visit is not a MADRS visit of the design.

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import TrialDesign
    >>> design = dataclasses.replace(TrialDesign(), n_per_arm=3)
    >>> changes = simulate_changes(design, seed=1, visits=["WEEK4", "WEEK12"])
    >>> changes.head(4).round(1)    # P002's baseline was prorated from 9 of 10 items
      USUBJID     ARM  AVISIT  AVAL  BASE   CHG
    0    P001  SINGLE   WEEK4  38.0  40.0  -2.0
    1    P001  SINGLE  WEEK12  36.0  40.0  -4.0
    2    P002  SERIES   WEEK4  12.0  33.3 -21.3
    3    P002  SERIES  WEEK12  18.0  33.3 -15.3
    """
    sim = _simulation(design, seed)
    protocol = sim.latent()
    names = [v.name for v in sim.visits]
    rated = madrs_visits(design)
    wanted = rated if visits is None else tuple(visits)
    unknown = [v for v in wanted if v not in names or v == design.endpoints.baseline_visit]
    if unknown:
        raise ValueError(f"visits: {', '.join(map(str, unknown))} not among the MADRS visits "
                         f"after baseline ({', '.join(rated)})")
    wanted = tuple(v for v in names if v in wanted)
    aval = _madrs_totals(sim, protocol)
    base = aval[:, names.index(design.endpoints.baseline_visit)]
    columns = [names.index(v) for v in wanted]
    scheduled = ~np.isnan(sim.visit_day[:, columns])
    participant, position = np.nonzero(scheduled)
    value = aval[participant, np.asarray(columns)[position]]
    return pd.DataFrame({
        "USUBJID": pd.array(sim.ids[participant], dtype="string"),
        "ARM": pd.Categorical(sim.arm[participant].astype(object),
                              categories=arm_order(design.protocol()), ordered=True),
        "AVISIT": pd.Categorical.from_codes(position, categories=pd.Index(list(wanted)),
                                            ordered=True),
        "AVAL": value,
        "BASE": base[participant],
        "CHG": value - base[participant],
    })


def _madrs_totals(sim: _Simulation, protocol) -> np.ndarray:
    """``(n, V)`` MADRS totals as the trial's assessments would score them (NaN: none)."""
    totals = sim.madrs_total
    participant, visit = np.nonzero(~np.isnan(totals))
    day = sim.visit_day[participant, visit]
    keep = sim._on_study(participant, day)
    participant, visit = participant[keep], visit[keep]
    values = totals[participant, visit]
    p_blank = sim.design.measurement.missing_item_probability
    if p_blank > 0:
        # the MADRS ratings are the first draws of the items stream, as in simulate_trial
        rng = sim.rngs["items"]
        items = blank_items(madrs_items(values, rng), p_blank, rng)
        frame = pd.DataFrame(items, columns=[f"item_{k}" for k in range(1, 11)])
        scoring = protocol.scoring
        values = score(frame, "MADRS", min_answered=scoring.min_answered,
                       prorate=scoring.prorate,
                       round_prorated=scoring.round_prorated)["total"].to_numpy(float)
    # with no blank items the items add up to the total (ketex.simulate.items.allocate)
    out = np.full(totals.shape, np.nan)
    out[participant, visit] = values
    return out


@dataclasses.dataclass(frozen=True)
class TrueDifference:
    """True difference between two arms in mean change of MADRS at a visit.

    Attributes
    ----------
    estimate : float
        Mean over counterfactual twins of (true MADRS on treatment - true MADRS on
        control) on the day of the visit.
    mcse : float
        Its Monte Carlo standard error.
    n_participants : int
        Twins simulated.
    """

    estimate: float
    mcse: float
    n_participants: int


def true_difference(
    design: TrialDesign,
    treatment: str,
    control: str,
    visit: str,
    *,
    seed: int = 0,
    max_participants: int = 200_000,
    target_mcse: float = 0.005,
    chunk: int = 4_000,
) -> TrueDifference:
    """The true treatment - control difference in mean change of MADRS at a visit.

    Each simulated participant is followed twice, on each arm, with the same random
    draws (baseline, random effects, exercise, relapse draw, visit days), so the
    difference of their true scores is the participant's treatment effect; its mean
    is the effect an analysis of change from baseline estimates when everyone stays on
    study (the hypothetical estimand of an MMRM under missing at random). Chunks of
    participants are added until the Monte Carlo standard error is below
    ``target_mcse`` or ``max_participants`` are reached.

    Parameters
    ----------
    design : TrialDesign
    treatment, control : str
        Arm codes.
    visit : str
        A visit both arms attend.
    seed : int
    max_participants, target_mcse, chunk
        Stopping rule and chunk size (memory grows with ``chunk``).

    Returns
    -------
    TrueDifference

    Examples
    --------
    Arms that differ only by an added effect of -3 differ by exactly -3:

    >>> import dataclasses
    >>> from ketex.simulate import AddedEffectDesign, ArmDesign, TrialDesign
    >>> design = dataclasses.replace(
    ...     TrialDesign(), arms=(ArmDesign("CONTROL"), ArmDesign("ACTIVE")),
    ...     added_effects=(AddedEffectDesign("ACTIVE", -3.0),))
    >>> true_difference(design, "ACTIVE", "CONTROL", "WEEK12", chunk=500)
    TrueDifference(estimate=-3.0, mcse=0.0, n_participants=500)
    """
    for name, arm in (("treatment", treatment), ("control", control)):
        if arm not in design.arm_codes:
            raise ValueError(f"{name}: {arm!r} is not an arm of the design "
                             f"({', '.join(design.arm_codes)})")
    names = [v.name for v in design.protocol_visits()]
    if visit not in names:
        raise ValueError(f"visit: {visit!r} is not a visit of the design")
    if any(design.protocol_visits()[names.index(visit)].arms):
        raise ValueError(f"visit: {visit!r} is not scheduled for every arm")
    per_arm = max(1, chunk // len(design.arms))
    piece = dataclasses.replace(design, n_per_arm=per_arm)
    column = [v.name for v in piece.protocol_visits()].index(visit)
    seeds = np.random.SeedSequence(seed)
    effects: list[np.ndarray] = []
    while True:
        chunk_seed = int(seeds.spawn(1)[0].generate_state(1, np.uint64)[0] >> 1)
        twins = []
        for arm in (treatment, control):
            sim = _simulation(piece, chunk_seed)
            sim.latent(arm=arm)
            twins.append(sim.true_madrs[:, column])
        effects.append(twins[0] - twins[1])
        every = np.concatenate(effects)
        mcse = float(every.std(ddof=1) / np.sqrt(every.size)) if every.size > 1 else np.inf
        if mcse <= target_mcse or every.size >= max_participants:
            return TrueDifference(float(every.mean()), mcse, int(every.size))
