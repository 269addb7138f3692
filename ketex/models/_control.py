"""The one base of every model's fitting options.

:class:`ModelControl` holds what every iterative fit has (an iteration limit and a
tolerance) and validates it; :class:`OptimiserControl` adds what the likelihood
models (:func:`ketex.mmrm`, :func:`ketex.lmm`, :func:`ketex.glmm`) share: the
scipy optimisers tried in turn, the confidence level, starting values and the
fallback warning. ``MMRMControl``, ``LMMControl``, ``GLMMControl`` and ``GEEControl``
derive from them; a new model's control does too, declaring its ``OPTIMISERS`` and
defaults.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import ClassVar

from ketex._deprecated import renamed

__all__ = ["ModelControl", "OptimiserControl"]


@dataclass(frozen=True)
class ModelControl:
    """Validated options of an iterative fit.

    Parameters
    ----------
    max_iterations : int
        Iteration limit (of each optimiser, where several are tried).
    tolerance : float
        Convergence criterion; its meaning is the model's (see its control).
    """

    max_iterations: int = 1000
    tolerance: float = 1e-8

    def __post_init__(self) -> None:
        if not isinstance(self.max_iterations, int) or isinstance(self.max_iterations, bool) \
                or self.max_iterations < 1:
            raise ValueError(
                f"max_iterations must be a positive integer, got {self.max_iterations}."
            )
        if not (isinstance(self.tolerance, (int, float)) and not isinstance(self.tolerance, bool)
                and self.tolerance > 0):
            raise ValueError(f"tolerance must be a positive number, got {self.tolerance}.")


@dataclass(frozen=True)
class OptimiserControl(ModelControl):
    """Validated options of a likelihood fit by scipy optimisers.

    Parameters
    ----------
    optimisers : tuple of str
        scipy.optimize methods tried in turn until one converges (among the class's
        ``OPTIMISERS``).
    conf_level : float
        Level of the confidence intervals.
    confidence_level : float, optional
        Deprecated alias of ``conf_level``, accepted by the constructor only (an
        ``InitVar``, so that :func:`dataclasses.replace` keeps working); removed in the
        next release.
    start : tuple of float, optional
        Starting values of the parameters optimised.
    warn_on_fallback : bool
        Warn (:class:`ketex.errors.ConvergenceWarning`) when only a fallback converged.
    """

    OPTIMISERS: ClassVar[tuple[str, ...]] = ()

    optimisers: tuple[str, ...] = ()
    conf_level: float = 0.95
    confidence_level: InitVar[float | None] = None
    start: tuple[float, ...] | None = None
    warn_on_fallback: bool = True

    def __post_init__(self, confidence_level: float | None = None) -> None:
        super().__post_init__()
        if confidence_level is not None:
            name = type(self).__name__
            object.__setattr__(self, "conf_level", renamed(
                name, "confidence_level", "conf_level", confidence_level, self.conf_level,
                default=0.95, stacklevel=5))
        optimisers = (
            (self.optimisers,) if isinstance(self.optimisers, str) else tuple(self.optimisers)
        )
        object.__setattr__(self, "optimisers", optimisers)
        bad = [o for o in optimisers if o not in self.OPTIMISERS]
        if not optimisers or bad:
            raise ValueError(f"optimisers must be among {self.OPTIMISERS}; got {optimisers}.")
        if not (isinstance(self.conf_level, (int, float)) and 0 < self.conf_level < 1):
            raise ValueError(f"conf_level must be in (0, 1), got {self.conf_level}.")
        if self.start is not None:
            object.__setattr__(self, "start", tuple(float(v) for v in self.start))

