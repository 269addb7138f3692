"""The ``[estimands]`` table of ``study.toml``: ICE strategies, sensitivity analyses, tipping.

Parsed from the raw TOML dictionary (the protocol reader in ``ketex.study.protocol``
reads the rest of the file)::

    [estimands]
    references = { SERIES = "SINGLE", SINGLE = "SINGLE" }
    method = "condmean_jackknife"          # or condmean_bootstrap / approx_bayes (+ n_samples)
    visits = ["WEEK4", "WEEK8", "WEEK12"]  # analysis visits; default: the primary analysis's
    sensitivity = ["CR", "CIR"]            # each replaces every non-MAR strategy in turn

    [estimands.strategies]                 # reason of the ICE -> strategy
    "lack of efficacy" = "JR"
    "adverse event" = "JR"
    other = "MAR"

    [estimands.tipping_point]
    arm = "SERIES"
    deltas = [0, 1, 2, 3, 4, 5, 6]
    alpha = 0.05
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ketex.estimands.reference_based import METHODS
from ketex.estimands.strategies import STRATEGIES
from ketex.study.protocol import Protocol, ProtocolError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_FORMULA", "EstimandSpec", "estimand_spec", "read_estimand_spec"]

#: The imputation model on :func:`ketex.analysis_dataset` columns.
DEFAULT_FORMULA = "CHG ~ BASE * AVISIT + ARM * AVISIT"
_KEYS = ("references", "strategies", "method", "n_samples", "seed", "visits", "formula",
         "analysis_covariates", "sensitivity", "tipping_point")  # fmt: skip
_TIPPING_KEYS = ("arm", "deltas", "alpha")


@dataclass(frozen=True)
class EstimandSpec:
    """The estimand settings of a study (``[estimands]`` in ``study.toml``; immutable).

    Attributes
    ----------
    references : mapping of str to str
        Arm -> reference arm, as :func:`ketex.reference_based_mi`'s ``references``.
    strategies : mapping of str to str
        ICE reason -> strategy, as :func:`ketex.intercurrent_events`'s ``strategies``.
    method : str
    n_samples, seed : int or None
    visits : tuple of str
        Analysis visits; empty: the primary analysis's (``[analysis.primary]`` visits,
        by default every visit after baseline that every arm has).
    formula : str
        The imputation model (default :data:`DEFAULT_FORMULA`).
    analysis_covariates : tuple of str
        Covariates of the per-visit ANCOVA (default ``("BASE",)``).
    sensitivity : tuple of str
        Strategies that replace every non-MAR strategy in turn, each a sensitivity
        analysis beside the primary one.
    tipping_arm : str or None
        The arm whose imputed values the tipping-point grid shifts (None: no tipping point).
    tipping_deltas : tuple of float
    alpha : float
    """

    references: Mapping[str, str]
    strategies: Mapping[str, str]
    method: str = "condmean_jackknife"
    n_samples: int | None = None
    seed: int | None = None
    visits: tuple[str, ...] = ()
    formula: str = DEFAULT_FORMULA
    analysis_covariates: tuple[str, ...] = ("BASE",)
    sensitivity: tuple[str, ...] = ()
    tipping_arm: str | None = None
    tipping_deltas: tuple[float, ...] = field(default=())
    alpha: float = 0.05


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[str] = []

    def add(self, key: str, what: str) -> None:
        self.found.append(f"{self.source}: estimands.{key}: {what}")

    def raise_if_any(self) -> None:
        if len(self.found) == 1:
            raise ProtocolError(self.found[0], tuple(self.found))
        if self.found:
            lines = "\n".join(f"  {p}" for p in self.found)
            raise ProtocolError(
                f"{self.source}: {len(self.found)} problems in [estimands]; fix each of "
                f"them:\n{lines}",
                tuple(self.found),
            )


def _strings(value: Any, key: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.add(key, f"must be a list of names, e.g. [\"WEEK4\"], got {value!r}")
        return ()
    return tuple(value)


def _integer(value: Any, key: str, problems: _Problems, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.add(key, f"must be an integer >= {minimum}, got {value!r}")
        return None
    return value


def _name_table(value: Any, key: str, problems: _Problems, allowed) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        problems.add(key, f"must be a table of names, e.g. {key} = {{ A = \"B\" }}, got {value!r}")
        return {}
    for name, target in value.items():
        if target not in allowed:
            problems.add(f"{key}.{name}", f"{target!r} is not one of {sorted(allowed)}")
    return dict(value)


def estimand_spec(
    data: Mapping[str, Any], *, protocol: Protocol | None = None, source: str = "study.toml"
) -> EstimandSpec | None:
    """The :class:`EstimandSpec` of a ``study.toml`` dictionary; None without ``[estimands]``.

    Parameters
    ----------
    data : mapping
        The whole parsed ``study.toml`` (``tomllib.load``).
    protocol : Protocol, optional
        When given, arms and visits are checked against it.
    source : str
        The file, for the messages.

    Raises
    ------
    ProtocolError
        Every problem at once, each naming the file, the key (``estimands.<key>``) and
        what is allowed.

    Examples
    --------
    >>> spec = estimand_spec({"estimands": {
    ...     "references": {"SERIES": "SINGLE", "SINGLE": "SINGLE"},
    ...     "strategies": {"lack of efficacy": "JR", "other": "MAR"},
    ...     "sensitivity": ["CR"], "tipping_point": {"arm": "SERIES", "deltas": [0, 2, 4]}}})
    >>> spec.method, spec.sensitivity, spec.tipping_deltas
    ('condmean_jackknife', ('CR',), (0.0, 2.0, 4.0))
    >>> estimand_spec({"study": {"id": "X"}}) is None
    True
    """
    table = data.get("estimands")
    if table is None:
        return None
    problems = _Problems(source)
    if not isinstance(table, Mapping):
        problems.add("(table)", f"must be a table ([estimands]), got {type(table).__name__}")
        problems.raise_if_any()
    for key in sorted(set(table) - set(_KEYS)):
        problems.add(key, f"unknown key; known: {', '.join(_KEYS)}")
    arms = protocol.arm_codes if protocol is not None else None
    references = _name_table(table.get("references"), "references", problems,
                             set(arms) if arms is not None else _Anything())  # fmt: skip
    if arms is not None and references:
        for arm in sorted(set(arms) - set(references)):
            problems.add("references", f"names no reference for arm {arm!r}")
    strategies = _name_table(table.get("strategies"), "strategies", problems, set(STRATEGIES))
    method, n_samples = _method(table, problems)
    seed = _integer(table.get("seed"), "seed", problems, 0)
    visits = _strings(table["visits"], "visits", problems) if "visits" in table else ()
    if protocol is not None:
        for name in visits:
            if name not in protocol.visit_names:
                problems.add("visits", f"{name!r} is not a visit of the protocol")
    formula = table.get("formula", DEFAULT_FORMULA)
    if not isinstance(formula, str) or "~" not in formula:
        problems.add("formula", f"must be 'outcome ~ terms', got {formula!r}")
    covariates = (_strings(table["analysis_covariates"], "analysis_covariates", problems)
                  if "analysis_covariates" in table else ("BASE",))  # fmt: skip
    sensitivity = _strings(table.get("sensitivity", []), "sensitivity", problems)
    for name in sensitivity:
        if name not in STRATEGIES:
            problems.add("sensitivity", f"{name!r} is not one of {sorted(STRATEGIES)}")
    tipping_arm, deltas, alpha = _tipping(table.get("tipping_point"), arms, problems)
    problems.raise_if_any()
    return EstimandSpec(
        references=MappingProxyType(references),
        strategies=MappingProxyType(strategies),
        method=method,
        n_samples=n_samples,
        seed=seed,
        visits=visits,
        formula=formula,
        analysis_covariates=covariates,
        sensitivity=sensitivity,
        tipping_arm=tipping_arm,
        tipping_deltas=deltas,
        alpha=alpha,
    )


def _method(table: Mapping, problems: _Problems) -> tuple[str, int | None]:
    method = table.get("method", "condmean_jackknife")
    if method not in METHODS:
        problems.add("method", f"{method!r} is not one of {list(METHODS)}")
    n_samples = _integer(table.get("n_samples"), "n_samples", problems, 2)
    if method in METHODS and (method == "condmean_jackknife") != (n_samples is None):
        problems.add("n_samples", f"method {method!r} "
                     + ("takes no n_samples" if n_samples is not None else "needs n_samples"))
    return method, n_samples


def _tipping(tipping: Any, arms, problems: _Problems) -> tuple[str | None, tuple, float]:
    if tipping is None:
        return None, (), 0.05
    if not isinstance(tipping, Mapping):
        problems.add("tipping_point", "must be a table ([estimands.tipping_point])")
        return None, (), 0.05
    for key in sorted(set(tipping) - set(_TIPPING_KEYS)):
        problems.add(f"tipping_point.{key}", f"unknown key; known: {_TIPPING_KEYS}")
    arm = tipping.get("arm")
    if not isinstance(arm, str) or (arms is not None and arm not in arms):
        problems.add("tipping_point.arm", f"must name an arm, got {arm!r}")
    raw = tipping.get("deltas")
    numbers = isinstance(raw, list) and all(
        isinstance(d, int | float) and not isinstance(d, bool) for d in raw
    )
    deltas: tuple[float, ...] = ()
    if not isinstance(raw, list) or not numbers or len(raw) < 2:
        problems.add("tipping_point.deltas", f"must be >= 2 numbers, got {raw!r}")
    else:
        deltas = tuple(float(d) for d in raw)
    alpha = tipping.get("alpha", 0.05)
    if not isinstance(alpha, float) or not 0 < alpha < 1:
        problems.add("tipping_point.alpha", f"must be a number in (0, 1), got {alpha!r}")
    return arm, deltas, alpha


class _Anything:
    """Any arm name (no protocol to check against)."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and bool(item)

    def __iter__(self):
        return iter(("<any arm code>",))


def read_estimand_spec(
    path: str | Path, *, protocol: Protocol | None = None
) -> EstimandSpec | None:
    """:func:`estimand_spec` of a ``study.toml`` file (or a study folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "study.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    return estimand_spec(data, protocol=protocol, source=str(path))
