"""Simulated ratings around infusions: CADSS and BPRS positive symptoms at minutes of
infusion days.

Each infusion day gets a CADSS (23 items 0-4, total 0-92) and a BPRS positive-symptom
rating (4 items 1-7, total 4-28) at every minute of
:attr:`SafetyDesign.rating_times_min <ketex.simulate.SafetyDesign>` (default 0, 40,
120 and 240 minutes from the start of the infusion). The total is the participant's
level, plus a rise that grows over the 40-minute infusion, peaks at its end and is gone
within two hours (half-life :attr:`~ketex.simulate.SafetyDesign.dissociation_half_life_min`),
plus rating noise; rounded and kept in the scale's range, then spread over the items.

The rise at the first infusion of 0.5 mg/kg IV ketamine is of the order of 10-20
CADSS points at 40 minutes, back to about baseline by 120-240 minutes, and smaller at
later infusions (Luckenbaugh et al. 2014, J Affect Disord 155:123, "Do the dissociative
side effects of ketamine mediate its antidepressant effects?"; Singh et al. 2016, Am J
Psychiatry 173:816, repeated infusions twice or thrice weekly). An infusion of a placebo or
active placebo (midazolam) brings :attr:`~ketex.simulate.SafetyDesign.rating_placebo_fraction`
of it. The values are illustrative, not estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.simulate.items import allocate

__all__ = ["CADSS_ITEMS", "BPRS_POSITIVE_ITEMS", "simulate_peri_infusion_ratings"]

CADSS_ITEMS = 23
BPRS_POSITIVE_ITEMS = 4
_INFUSION_END_MIN = 40.0
_PROFILE_CONCENTRATION = 30.0


def rise_share(time_min: np.ndarray, half_life_min: float) -> np.ndarray:
    """Share of the end-of-infusion rise of a rating ``time_min`` after the start.

    Linear over the 40-minute infusion, then halving every ``half_life_min``.

    Examples
    --------
    >>> rise_share(np.array([0.0, 20.0, 40.0, 120.0, 240.0]), 20.0).round(4).tolist()
    [0.0, 0.5, 1.0, 0.0625, 0.001]
    """
    t = np.asarray(time_min, dtype=float)
    rising = np.clip(t / _INFUSION_END_MIN, 0.0, 1.0)
    fading = np.power(0.5, np.clip(t - _INFUSION_END_MIN, 0.0, None) / half_life_min)
    return np.where(t > _INFUSION_END_MIN, fading, rising)


def simulate_peri_infusion_ratings(safety, participants: pd.DataFrame, active: np.ndarray,
                                   infusions: pd.DataFrame,
                                   rng: np.random.Generator) -> pd.DataFrame:
    """Raw assessments rows (with ``time_min`` and items) of CADSS and BPRS-POSITIVE.

    ``infusions`` are the infusions given (``participant_id``, ``day``), ``active``
    whether each is of an active drug. One rating per infusion day, instrument and minute
    of ``safety.rating_times_min``; ``visit`` is ``INF<n>``, the participant's n-th
    infusion day.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.simulate import SafetyDesign
    >>> given = pd.DataFrame({"participant_id": ["P1", "P1"], "day": [1, 3]})
    >>> people = pd.DataFrame({"participant_id": ["P1"]})
    >>> rows = simulate_peri_infusion_ratings(
    ...     SafetyDesign(timed_ratings=True), people, np.array([True, True]), given,
    ...     np.random.default_rng(1))
    >>> rows[rows["instrument"] == "CADSS"][["visit", "day", "time_min", "total"]]
      visit  day  time_min  total
    0  INF1    1       0.0    0.0
    1  INF1    1      40.0   22.0
    2  INF1    1     120.0    3.0
    3  INF1    1     240.0    1.0
    4  INF2    3       0.0    2.0
    5  INF2    3      40.0   15.0
    6  INF2    3     120.0    2.0
    7  INF2    3     240.0    1.0
    """
    people = participants.set_index("participant_id")
    given = infusions[["participant_id", "day"]].reset_index(drop=True).assign(active=active)
    given = given.drop_duplicates(["participant_id", "day"]).sort_values(
        ["participant_id", "day"], kind="mergesort").reset_index(drop=True)
    number = given.groupby("participant_id").cumcount().to_numpy()
    who = people.index.get_indexer(pd.Index(given["participant_id"]))
    times = np.asarray(safety.rating_times_min, dtype=float)
    share = rise_share(times, safety.dissociation_half_life_min)
    scale = np.where(given["active"].to_numpy(bool), 1.0, safety.rating_placebo_fraction)
    scale = scale * np.power(safety.rating_attenuation_per_infusion, number)
    n, m = len(people), len(given)
    frames = []
    for code, base_mean, rise, noise, low, k, top in (
            ("CADSS", safety.cadss_baseline_mean, safety.cadss_rise_first, 1.0, 0, CADSS_ITEMS,
             4),
            ("BPRS-POSITIVE", safety.bprs_positive_baseline_mean, safety.bprs_positive_rise_first,
             0.5, BPRS_POSITIVE_ITEMS, BPRS_POSITIVE_ITEMS, 7)):
        level = low + (base_mean - low) * rng.exponential(1.0, n)  # mostly near the floor
        sigma = np.sqrt(np.log1p(safety.rating_rise_sd_fraction ** 2))  # log-normal, mean 1
        drawn = rise * np.exp(sigma * rng.standard_normal(m) - sigma ** 2 / 2)
        true = level[who][:, None] + (scale * drawn)[:, None] * share[None, :]
        total = np.clip(np.round(true + noise * rng.standard_normal(true.shape)), low,
                        k * top).ravel() + 0.0  # no -0.0
        floor = 0 if code == "CADSS" else 1
        weights = rng.dirichlet(np.full(k, _PROFILE_CONCENTRATION / k), len(total))
        items = allocate((total - floor * k).astype(int), weights,
                         np.full(k, top - floor)) + floor
        frame = pd.DataFrame(items.astype(float), columns=[f"item_{j}" for j in range(1, k + 1)])
        frame.insert(0, "participant_id", np.repeat(given["participant_id"].to_numpy(),
                                                    len(times)))
        frame.insert(1, "day", np.repeat(given["day"].to_numpy(), len(times)).astype(int))
        frame.insert(2, "visit", np.repeat([f"INF{j + 1}" for j in number], len(times)))
        frame.insert(3, "instrument", code)
        frame.insert(4, "time_min", np.tile(times, m))
        frame["total"] = total
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
