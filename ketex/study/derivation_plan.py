"""``[analysis.derivation]`` of ``study.toml``: how the analysis dataset is derived.

```toml
[analysis.derivation]
baseline = "last"     # the last assessment on or before baseline_day; or "visit"
baseline_day = 0      # the last study day a baseline may have
tie = "later"         # of two records equally far from a visit's target day; or "earlier"
```

These are the options of :func:`ketex.analysis_dataset` (and of
:func:`ketex.evaluate_endpoint` and :func:`ketex.time_to_event`, which derive it); the
primary analysis (:func:`ketex.primary_analysis`, so ``ketex report`` and the power
analysis's ``MMRMAnalysis``) and the report's endpoints, tables and figures pass
:meth:`DerivationPlan.options`, so they all analyse the same rows. The defaults are those
functions' defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ketex.study.protocol import Protocol, _Reader

__all__ = ["DerivationPlan", "derivation_options", "derivation_problems", "read_derivation"]

#: Baseline rules of :func:`ketex.analysis_dataset`.
BASELINES = ("last", "visit")
#: Tie rules of :func:`ketex.analysis_dataset`.
TIES = ("later", "earlier")


@dataclass(frozen=True)
class DerivationPlan:
    """The pre-specified options of :func:`ketex.analysis_dataset`.

    Parameters
    ----------
    baseline : {"last", "visit"}
        ``"last"``: the baseline is the last assessment with a total on or before
        ``baseline_day``; ``"visit"``: the analysed record of the baseline visit.
    baseline_day : int
        Last study day a baseline may have (day 0 = randomisation).
    tie : {"later", "earlier"}
        Which of two records equally far from a visit's target day is analysed.

    Examples
    --------
    >>> DerivationPlan(tie="earlier").options()
    {'baseline': 'last', 'baseline_day': 0, 'tie': 'earlier'}
    >>> DerivationPlan().to_dict()
    {}
    """

    baseline: str = "last"
    baseline_day: int = 0
    tie: str = "later"

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`ketex.analysis_dataset`."""
        return asdict(self)

    def to_dict(self) -> dict[str, Any]:
        """The table as ``study.toml`` holds it (keys at their defaults omitted)."""
        default = DerivationPlan()
        return {k: v for k, v in asdict(self).items() if getattr(default, k) != v}


def derivation_options(protocol: Protocol) -> dict[str, Any]:
    """The analysis-dataset options the protocol's plan pre-specifies.

    Examples
    --------
    >>> import ketex
    >>> derivation_options(ketex.load_trial(ketex.sample_study_path()).protocol)
    {'baseline': 'last', 'baseline_day': 0, 'tie': 'later'}
    """
    return protocol.analysis.derivation.options()


def read_derivation(reader: _Reader, data: Any, key: str = "analysis.derivation"
                    ) -> DerivationPlan | None:
    """``[analysis.derivation]`` from TOML data (None: problems recorded in ``reader``)."""
    if data is None:
        return DerivationPlan()
    return reader.build(DerivationPlan, data, key)


def derivation_problems(plan: DerivationPlan, key: str = "analysis.derivation"
                        ) -> list[tuple[str, str]]:
    """``(key, what to do)`` for every option of ``plan`` that is not one of its values.

    Examples
    --------
    >>> derivation_problems(DerivationPlan(tie="nearest"))
    [('analysis.derivation.tie', "'nearest' must be one of later, earlier")]
    """
    out = []
    if plan.baseline not in BASELINES:
        out.append((f"{key}.baseline", f"{plan.baseline!r} must be one of "
                    f"{', '.join(BASELINES)}"))
    if plan.tie not in TIES:
        out.append((f"{key}.tie", f"{plan.tie!r} must be one of {', '.join(TIES)}"))
    return out
