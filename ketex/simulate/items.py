"""Item-level ratings that add up to a given total, for MADRS and QIDS-SR16.

A total is spread over the items in proportion to a typical depressive profile (with
Dirichlet variation from rating to rating), rounded by largest remainders and kept
within each item's range, so that the scored total equals the requested one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["allocate", "blank_items", "madrs_items", "qids_items"]

#: Typical MADRS item means at a total near 32 (sadness, tension, sleep, appetite, ...).
MADRS_PROFILE = np.array([3.6, 3.8, 3.2, 3.3, 2.2, 3.4, 3.5, 3.4, 3.0, 1.6])
#: Typical QIDS-SR16 domain scores near a total of 15: sleep, mood, appetite/weight,
#: concentration, self-view, suicidal ideation, interest, energy, psychomotor.
QIDS_DOMAIN_PROFILE = np.array([2.2, 2.0, 1.4, 2.0, 1.7, 0.8, 1.9, 2.0, 1.2])
#: Dirichlet concentration of a rating's profile around the typical one (higher: closer).
_PROFILE_CONCENTRATION = 60.0


def allocate(
    totals: np.ndarray, weights: np.ndarray, caps: np.ndarray
) -> np.ndarray:
    """Split whole-number totals into parts proportional to ``weights``, each within its cap.

    Parameters
    ----------
    totals : numpy.ndarray
        ``(m,)`` whole numbers, ``0 <= total <= caps.sum()``.
    weights : numpy.ndarray
        ``(m, k)`` positive weights.
    caps : numpy.ndarray
        ``(k,)`` maximum of each part.

    Returns
    -------
    numpy.ndarray
        ``(m, k)`` integers with row sums equal to ``totals``.

    Examples
    --------
    >>> import numpy as np
    >>> allocate(np.array([7, 0, 12]), np.ones((3, 2)), np.array([6, 6]))
    array([[4, 3],
           [0, 0],
           [6, 6]])
    """
    totals = np.asarray(totals, dtype=int)
    caps = np.asarray(caps, dtype=int)
    if (totals < 0).any() or (totals > caps.sum()).any():
        raise ValueError(f"totals must lie in 0..{caps.sum()}")
    share = weights / weights.sum(axis=1, keepdims=True)
    wanted = totals[:, None] * share
    parts = np.minimum(np.floor(wanted).astype(int), caps)
    remaining = totals - parts.sum(axis=1)
    while (remaining > 0).any():
        priority = np.where(parts < caps, wanted - parts, -np.inf)
        best = np.argmax(priority, axis=1)
        grow = remaining > 0
        parts[np.flatnonzero(grow), best[grow]] += 1
        remaining = remaining - grow
    return parts


def _profile(rng: np.random.Generator, profile: np.ndarray, m: int) -> np.ndarray:
    return rng.dirichlet(profile / profile.sum() * _PROFILE_CONCENTRATION, m)


def madrs_items(totals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """MADRS items (10, each 0-6) summing to ``totals``, ``(m, 10)`` floats.

    Examples
    --------
    >>> import numpy as np
    >>> items = madrs_items(np.array([0, 31, 60]), np.random.default_rng(1))
    >>> items.sum(axis=1), float(items.max())
    (array([ 0., 31., 60.]), 6.0)
    """
    totals = np.asarray(totals, dtype=int)
    weights = _profile(rng, MADRS_PROFILE, len(totals))
    return allocate(totals, weights, np.full(10, 6)).astype(float)


def qids_items(totals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """QIDS-SR16 items (16, each 0-3) whose domain-scored total equals ``totals``.

    The nine domain scores are allocated first; within the sleep, appetite/weight and
    psychomotor domains one item carries the domain score and the others lie below it
    (appetite and weight move in one direction: decrease or increase).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ketex.scales import score
    >>> items = qids_items(np.array([0, 14, 27]), np.random.default_rng(2))
    >>> frame = pd.DataFrame(items, columns=[f"item_{k}" for k in range(1, 17)])
    >>> score(frame, "QIDS-SR16")["total"].tolist()
    [0.0, 14.0, 27.0]
    """
    totals = np.asarray(totals, dtype=int)
    m = len(totals)
    domains = allocate(totals, _profile(rng, QIDS_DOMAIN_PROFILE, m), np.full(9, 3))
    items = np.zeros((m, 16))

    def spread(score: np.ndarray, members: list[int], chance: list[float]) -> None:
        # members are item numbers; one (chosen with `chance`) holds the domain score
        lead = np.asarray(members)[rng.choice(len(members), size=m, p=chance)]
        for item in members:
            below = np.floor(rng.random(m) * (score + 1))
            items[:, item - 1] = np.where(lead == item, score, np.minimum(below, score))

    spread(domains[:, 0], [1, 2, 3, 4], [0.35, 0.3, 0.25, 0.1])
    items[:, 4] = domains[:, 1]
    decrease = rng.random(m) < 0.65
    appetite = np.zeros((m, 4))
    lead_first = rng.random(m) < 0.6
    other = np.floor(rng.random(m) * (domains[:, 2] + 1))
    # decrease: items 6 (appetite) and 8 (weight); increase: items 7 and 9
    first, second = np.where(lead_first, domains[:, 2], other), np.where(
        lead_first, other, domains[:, 2])
    appetite[:, 0] = np.where(decrease, first, 0)
    appetite[:, 2] = np.where(decrease, second, 0)
    appetite[:, 1] = np.where(decrease, 0, first)
    appetite[:, 3] = np.where(decrease, 0, second)
    items[:, 5:9] = appetite
    items[:, 9:14] = domains[:, 3:8]
    spread(domains[:, 8], [15, 16], [0.55, 0.45])
    return items


def blank_items(items: np.ndarray, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Items with each one left blank (NaN) with ``probability``.

    Examples
    --------
    >>> import numpy as np
    >>> blank_items(np.ones((2, 3)), 0.0, np.random.default_rng(0))
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    blank = rng.random(items.shape) < probability
    return np.where(blank, np.nan, items)
