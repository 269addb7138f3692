"""Sufficient statistics per missingness pattern.

Subjects in the same covariance group who were observed at the same set of visits
share one covariance sub-matrix, hence one factorisation.  For a pattern ``p`` with
visit set ``S`` we keep the Gram tensor

    G_p[a, b] = sum over its subjects i of z_ia z_ib'   (a, b in S),

where ``z_ia = sqrt(w_ia) * (x_ia, y_ia)`` stacks the fixed-effects row and the
outcome of subject ``i`` at visit ``a``.  Every quantity of the likelihood, its
gradient and Hessian, Satterthwaite and Kenward-Roger is a contraction of ``G_p``
with a small matrix that depends on the pattern only, so the cost of evaluating the
likelihood grows with the number of patterns, not of subjects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Patterns", "SubjectGrams", "build_patterns"]


@dataclass(frozen=True)
class Patterns:
    """Missingness patterns and their Gram tensors.

    Attributes
    ----------
    group : numpy.ndarray of int, shape (n_patterns,)
    visits : tuple of numpy.ndarray
        Visit level indices observed in each pattern (sorted).
    n_subjects : numpy.ndarray of int
    gram : tuple of numpy.ndarray
        Packed by symmetry, each of shape ``(t_p (t_p + 1) / 2, (k + 1) (k + 2) / 2)``:
        row ``(a, b)``, ``a <= b`` (in ``numpy.triu_indices`` order), holds the upper
        triangle of ``S_p[a, b] = G_p[a, b] + G_p[b, a]`` (``G_p[a, a]`` when ``a = b``),
        a symmetric matrix.  For symmetric ``M``,
        ``sum_ab M[a, b] G_p[a, b] = sum_{a <= b} M[a, b] S_p[a, b]``, which cuts the
        work of every contraction by about four.
    n_columns : int
        Number of fixed-effect columns ``k``.
    sum_log_weights : float
    subject_pattern : numpy.ndarray of int
        Pattern index of each subject (in subject order).
    """

    group: np.ndarray
    visits: tuple[np.ndarray, ...]
    n_subjects: np.ndarray
    gram: tuple[np.ndarray, ...]
    n_columns: int
    sum_log_weights: float
    subject_pattern: np.ndarray

    @property
    def n_patterns(self) -> int:
        return len(self.visits)


def build_patterns(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    subject: np.ndarray,
    visit: np.ndarray,
    group: np.ndarray,
) -> Patterns:
    """Group subjects by (covariance group, observed visits) and sum their Gram tensors.

    Rows must be sorted by subject, then visit; ``subject`` holds consecutive codes
    ``0..n_subjects-1``; ``group`` is constant within a subject.
    """
    n_rows, k = x.shape
    z = np.empty((n_rows, k + 1))
    root_w = np.sqrt(weights)
    z[:, :k] = x * root_w[:, None]
    z[:, k] = y * root_w
    starts = np.flatnonzero(np.r_[True, subject[1:] != subject[:-1]])
    sizes = np.diff(np.r_[starts, n_rows])
    n_visit_levels = int(visit.max()) + 1
    # one bit string per subject identifies its visit set
    masks = np.zeros((starts.size, n_visit_levels), dtype=bool)
    masks[np.repeat(np.arange(starts.size), sizes), visit] = True
    subject_group = group[starts]
    keys = np.concatenate([subject_group[:, None], masks.astype(np.int64)], axis=1)
    unique_keys, subject_pattern = np.unique(keys, axis=0, return_inverse=True)
    subject_pattern = subject_pattern.ravel()
    row_pattern = np.repeat(subject_pattern, sizes)
    grams, visits, counts = [], [], []
    for p, key in enumerate(unique_keys):
        visit_set = np.flatnonzero(key[1:])
        t_p = visit_set.size
        rows = np.flatnonzero(row_pattern == p)
        block = z[rows].reshape(-1, t_p * (k + 1))
        gram = block.T @ block
        grams.append(_pack(gram.reshape(t_p, k + 1, t_p, k + 1).transpose(0, 2, 1, 3)))
        visits.append(visit_set)
        counts.append(block.shape[0])
    return Patterns(
        group=unique_keys[:, 0].astype(int),
        visits=tuple(visits),
        n_subjects=np.asarray(counts),
        gram=tuple(grams),
        n_columns=k,
        sum_log_weights=float(np.sum(np.log(weights))),
        subject_pattern=subject_pattern,
    )


@dataclass(frozen=True)
class SubjectGrams:
    """Every subject's own Gram tensor, so that resamples of the subjects (the jackknife,
    the bootstrap) get their :class:`Patterns` by a weighted sum, without the rows.

    A resample is a count per subject (0 leaves it out, 2 takes it twice, each copy a
    subject of its own).  The patterns are the full data's; those left empty by a
    resample are dropped.
    """

    patterns: Patterns
    members: tuple[np.ndarray, ...]  # subjects of each pattern
    grams: tuple[np.ndarray, ...]  # (n_p, packed rows, packed columns) per pattern
    log_weights: np.ndarray  # sum of log weights of each subject

    @classmethod
    def build(cls, x, y, weights, subject, visit, group) -> SubjectGrams:
        """As :func:`build_patterns` (same arguments and row order)."""
        patterns = build_patterns(x, y, weights, subject, visit, group)
        n_rows, k = x.shape
        z = np.empty((n_rows, k + 1))
        root_w = np.sqrt(weights)
        z[:, :k] = x * root_w[:, None]
        z[:, k] = y * root_w
        row_pattern = patterns.subject_pattern[subject]
        members, grams = [], []
        for p, visit_set in enumerate(patterns.visits):
            t_p = visit_set.size
            block = z[row_pattern == p].reshape(-1, t_p, k + 1)
            outer = np.einsum("iak,ibl->iabkl", block, block)
            grams.append(_pack(outer))
            members.append(np.flatnonzero(patterns.subject_pattern == p))
        log_weights = np.bincount(subject, weights=np.log(weights))
        return cls(patterns, tuple(members), tuple(grams), log_weights)

    def resample(self, counts: np.ndarray) -> Patterns:
        """The patterns of the resample taking subject ``i`` ``counts[i]`` times."""
        counts = np.asarray(counts)
        full = self.patterns
        kept, grams, n_subjects = [], [], []
        for p, (members, gram) in enumerate(zip(self.members, self.grams, strict=True)):
            c = counts[members]
            total = int(c.sum())
            if total == 0:
                continue
            kept.append(p)
            grams.append(np.tensordot(c.astype(float), gram, axes=1))
            n_subjects.append(total)
        kept_codes = np.asarray(kept, dtype=int)
        renumber = np.full(full.n_patterns, -1)
        renumber[kept_codes] = np.arange(kept_codes.size)
        return Patterns(
            group=full.group[kept_codes],
            visits=tuple(full.visits[p] for p in kept_codes),
            n_subjects=np.asarray(n_subjects),
            gram=tuple(grams),
            n_columns=full.n_columns,
            sum_log_weights=float(counts @ self.log_weights),
            subject_pattern=np.repeat(renumber[full.subject_pattern], counts),
        )


def _pack(gram: np.ndarray) -> np.ndarray:
    """``(..., t, t, K, K)`` Gram tensors to their packed symmetric form (see
    :class:`Patterns`)."""
    t, size = gram.shape[-4], gram.shape[-1]
    summed = gram + np.swapaxes(gram, -4, -3)
    rows, cols = np.triu_indices(t)
    inner_rows, inner_cols = np.triu_indices(size)
    packed = summed[..., rows, cols, :, :][..., inner_rows, inner_cols]
    packed[..., rows == cols, :] *= 0.5
    return np.ascontiguousarray(packed)
