"""The checks of the simulator's design dataclasses: each refusal a ``ValueError`` naming
the class and field (``TrialDesign``, ``ArmDesign``, ``SafetyDesign``, ...)."""

from __future__ import annotations

import math

__all__ = ["ordered_range", "positive", "probability", "require"]


def require(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{where} {message}")


def positive(owner: object, *names: str, allow_zero: bool = False) -> None:
    for name in names:
        value = getattr(owner, name)
        ok = value >= 0 if allow_zero else value > 0
        bound = ">= 0" if allow_zero else "> 0"
        require(ok and math.isfinite(value), f"{type(owner).__name__}.{name}",
                 f"must be {bound}, got {value!r}")


def probability(owner: object, *names: str, upper_open: bool = False) -> None:
    for name in names:
        value = getattr(owner, name)
        ok = 0 <= value < 1 if upper_open else 0 <= value <= 1
        require(ok, f"{type(owner).__name__}.{name}",
                 f"must be a probability in [0, 1{')' if upper_open else ']'}, got {value!r}")


def ordered_range(owner: object, name: str) -> None:
    low, high = getattr(owner, name)
    require(low <= high, f"{type(owner).__name__}.{name}",
             f"must be (low, high), got {(low, high)}")
