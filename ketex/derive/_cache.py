"""Derivations computed once per analysis: a cache the derive functions consult.

Outside an active :class:`DerivationCache` every derivation computes afresh, as before.
Inside one (``with cache:``, which :class:`ketex.report.context.AnalysisContext` enters
while a report is written), :func:`cached` keeps the first result of each derivation of
the cache's trial, keyed by the function and its arguments, and hands out copies, so a
caller that changes its copy changes nothing for the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

__all__ = ["DerivationCache", "cached"]

T = TypeVar("T")

_ACTIVE: ContextVar[DerivationCache | None] = ContextVar("ketex_derivation_cache",
                                                          default=None)


class DerivationCache:
    """The derived tables of one trial, each computed once while the cache is active.

    Parameters
    ----------
    trial : Trial
        Only derivations of this very object (``is``) are cached.

    Attributes
    ----------
    computed : collections.Counter
        How many times each derivation (by function name) was computed, not served from
        the cache.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> with DerivationCache(trial) as cache:
    ...     a = ketex.analysis_dataset(trial)
    ...     b = ketex.analysis_dataset(trial)
    >>> cache.computed["analysis_dataset"], a.equals(b), a is b
    (1, True, False)
    """

    def __init__(self, trial: object) -> None:
        self.trial = trial
        self.computed: Counter[str] = Counter()
        self._values: dict[tuple[str, Hashable], Any] = {}
        self._tokens: list[Token] = []

    def __enter__(self) -> DerivationCache:
        self._tokens.append(_ACTIVE.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._tokens.pop())

    def get(self, name: str, key: Hashable, compute: Callable[[], T],
            copy: Callable[[T], T]) -> T:
        """The cached value of ``(name, key)`` (computed now if absent), as a copy."""
        full = (name, key)
        try:
            found = full in self._values
        except TypeError:  # an argument that cannot be a key: no caching
            return compute()
        if not found:
            with self:  # what compute derives on the way is cached too
                self._values[full] = compute()
            self.computed[name] += 1
        return copy(self._values[full])


def cached(trial: object, name: str, key: Hashable, compute: Callable[[], T],
           copy: Callable[[T], T]) -> T:
    """``compute()``, or a copy of its first result while a cache of ``trial`` is active.

    Parameters
    ----------
    trial : Trial
    name : str
        The derivation (its public function name).
    key : hashable
        Its arguments other than the trial.
    compute : callable
        Computes the value.
    copy : callable
        A copy of a value that can be changed without changing the cached one.

    Examples
    --------
    >>> cached(object(), "answer", (), lambda: 42, int)  # no cache active: computed
    42
    """
    cache = _ACTIVE.get()
    if cache is None or cache.trial is not trial:
        return compute()
    return cache.get(name, key, compute, copy)


def copy_frame(frame):
    """A deep copy of a DataFrame (the cached one stays as computed)."""
    return frame.copy(deep=True)
