"""The analysis plan of ``study.toml`` (``[analysis.primary]``): the one primary analysis.

Everything that runs "the primary analysis" (``ketex report``, the power analysis's
:class:`~ketex.simulate.MMRMAnalysis`, :func:`ketex.primary_analysis`, the notebooks)
reads it from here, so they agree. A key left out takes the value that reproduces the
analysis ketex ran before plans existed: the change from baseline in the study's primary
scale, ``CHG ~ BASE + ARM * AVISIT``, unstructured covariance, REML, Satterthwaite degrees
of freedom, every post-baseline visit that every arm has and that rates the scale, the
difference at ``[endpoints] primary_visit`` against the first arm.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ketex.study.derivation_plan import DerivationPlan, read_derivation
from ketex.study.secondary_plan import SecondaryPlan, read_secondary
from ketex.study.subgroup_plan import SubgroupPlan, read_subgroups, subgroup_problems

if TYPE_CHECKING:  # pragma: no cover
    from ketex.study.protocol import Protocol, _Reader
    from ketex.study.trial import Trial

__all__ = ["OUTCOMES", "AnalysisPlan", "PrimaryAnalysis", "check_plan", "check_plan_data",
           "formula_names"]

#: What the primary model may analyse: the change from baseline or the value itself.
OUTCOMES = ("CHG", "AVAL")
METHODS = ("reml", "ml")


@dataclass(frozen=True)
class PrimaryAnalysis:
    """The pre-specified primary analysis: an MMRM and its contrast at one visit.

    Parameters
    ----------
    scale : str, optional
        Instrument analysed (a code of :data:`ketex.scales.INSTRUMENTS`); default: the
        study's ``primary_scale``.
    outcome : {"CHG", "AVAL"}
        Change from baseline or the score itself.
    formula : str, optional
        Model formula over the columns of :func:`ketex.analysis_dataset` (``BASE``,
        ``ARM``, ``AVISIT``, covariates such as ``SITEID``); its left side is ``outcome``.
        Default: ``"<outcome> ~ BASE + ARM * AVISIT"``.
    covariance : tuple of str
        Covariance structure, or a pre-specified fallback sequence (the first that
        converges is used), as in :func:`ketex.mmrm`.
    method : {"reml", "ml"}
    df : str
        Degrees of freedom, as in :func:`ketex.mmrm` (``"kenward_roger_linear"`` equals
        SAS PROC MIXED ``DDFM=KR``).
    visits : tuple of str
        Visits in the model, in protocol order; empty: every visit after the baseline
        visit that every arm has and that rates ``scale``.
    primary_visit : str, optional
        Visit of the primary contrast; default: ``[endpoints] primary_visit``.
    reference_arm : str, optional
        Contrasts are arm - ``reference_arm`` everywhere; default: the first arm.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> plan = protocol.analysis.primary.resolve(protocol)
    >>> plan.formula, plan.covariance, plan.reference_arm, plan.visits[-1]
    ('CHG ~ BASE + ARM * AVISIT', ('us',), 'SINGLE', 'WEEK24')
    """

    scale: str | None = None
    outcome: str = "CHG"
    formula: str | None = None
    covariance: tuple[str, ...] = ("us",)
    method: str = "reml"
    df: str = "satterthwaite"
    visits: tuple[str, ...] = ()
    primary_visit: str | None = None
    reference_arm: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.covariance, str):
            object.__setattr__(self, "covariance", (self.covariance,))
        object.__setattr__(self, "covariance", tuple(self.covariance))
        object.__setattr__(self, "visits", tuple(self.visits))

    def resolve(self, protocol: Protocol, source: str = "study.toml") -> PrimaryAnalysis:
        """This plan with every default filled in from ``protocol``.

        ``source`` names where the plan came from in error messages.

        Raises
        ------
        ketex.study.protocol.ProtocolError
            When the plan names a scale, visit or arm the protocol does not have.
        """
        check_plan(self, protocol, source)
        return self._filled(protocol)

    def _filled(self, protocol: Protocol) -> PrimaryAnalysis:
        scale = self.scale or protocol.primary_scale
        return replace(
            self,
            scale=scale,
            formula=self.formula or f"{self.outcome} ~ BASE + ARM * AVISIT",
            visits=self.visits or common_visits(protocol, scale),
            primary_visit=self.primary_visit or protocol.endpoints.primary_visit,
            reference_arm=self.reference_arm or (protocol.arm_codes or (None,))[0],
        )


@dataclass(frozen=True)
class AnalysisPlan:
    """The ``[analysis]`` tables of ``study.toml``.

    Attributes
    ----------
    primary : PrimaryAnalysis
        ``[analysis.primary]``: the primary MMRM and its contrast.
    secondary : ketex.study.secondary_plan.SecondaryPlan
        ``[analysis.secondary]``: the response, remission, sustained-response and relapse
        endpoints of the report.
    subgroups : ketex.study.subgroup_plan.SubgroupPlan
        ``[analysis.subgroups]``: the subgroups of the report's forest plot.
    derivation : ketex.study.derivation_plan.DerivationPlan
        ``[analysis.derivation]``: the options of :func:`ketex.analysis_dataset` (baseline
        rule, baseline day, visit-window tie rule).
    source : str
        The file the plan was read from (``"study.toml"``, or the plan file of
        :func:`ketex.read_analysis_plan`), as the report's methods name it.

    Examples
    --------
    >>> AnalysisPlan().primary.df, AnalysisPlan().subgroups.names
    ('satterthwaite', ('sex', 'age', 'baseline', 'site'))
    """

    primary: PrimaryAnalysis = field(default_factory=PrimaryAnalysis)
    subgroups: SubgroupPlan = field(default_factory=SubgroupPlan)
    secondary: SecondaryPlan = field(default_factory=SecondaryPlan)
    derivation: DerivationPlan = field(default_factory=DerivationPlan)
    #: Where the plan was read: ``"study.toml"``, or a plan file (``ketex report --plan``).
    #: Named in the report's methods; not part of the plan (not compared, not written).
    source: str = field(default="study.toml", compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The plan as ``study.toml`` holds it (keys left at None omitted)."""
        primary = asdict(self.primary)
        out: dict[str, Any] = {"primary": {k: v for k, v in primary.items() if v is not None
                                           and not (k == "visits" and not v)}}
        for name, part in (("derivation", self.derivation), ("secondary", self.secondary),
                           ("subgroups", self.subgroups)):
            if part.to_dict():
                out[name] = part.to_dict()
        return out


def common_visits(protocol: Protocol, scale: str) -> tuple[str, ...]:
    """Visits after the baseline visit that every arm has and that rate ``scale``."""
    days = {v.name: v.day for v in protocol.visits}
    baseline = days.get(protocol.endpoints.baseline_visit)
    return tuple(
        v.name for v in protocol.visits
        if (baseline is None or v.day > baseline) and not v.arms and _rates(v, scale, protocol)
    )


def _rates(visit: Any, scale: str, protocol: Protocol) -> bool:
    return scale in visit.instruments or (not visit.instruments
                                          and scale == protocol.primary_scale)


def formula_names(formula: str) -> list[str]:
    """Names in a formula that are not function calls (C, Treatment, np.log, ...).

    Examples
    --------
    >>> formula_names("CHG ~ BASE + C(SITEID) + ARM * AVISIT")
    ['CHG', 'BASE', 'SITEID', 'ARM', 'AVISIT']
    """
    tokens = list(tokenize.generate_tokens(io.StringIO(formula).readline))
    names = []
    for k, token in enumerate(tokens):
        following = tokens[k + 1].string if k + 1 < len(tokens) else ""
        previous = tokens[k - 1].string if k > 0 else ""
        if (token.type == tokenize.NAME and following not in ("(", ".")
                and previous != "." and not keyword.iskeyword(token.string)):
            names.append(token.string)
    return names


def read_plan(reader: _Reader, data: Any) -> AnalysisPlan | None:
    """``[analysis]`` from TOML data (None: problems recorded in ``reader``)."""
    if data is None:
        return AnalysisPlan()
    if not isinstance(data, Mapping):
        reader.problem("analysis", f"must be a table ([analysis]), got {type(data).__name__}")
        return None
    known = ("primary", "derivation", "secondary", "subgroups")
    unknown = sorted(set(data) - set(known))
    if unknown:
        reader.problem("analysis", f"unknown table(s) {', '.join(unknown)}; known: "
                       f"{', '.join(known)}")
    primary = data.get("primary", {})
    if isinstance(primary, Mapping) and isinstance(primary.get("covariance"), str):
        primary = {**primary, "covariance": [primary["covariance"]]}
    plan = reader.build(PrimaryAnalysis, primary, "analysis.primary")
    subgroups = read_subgroups(reader, data.get("subgroups"))
    secondary = read_secondary(reader, data.get("secondary"))
    derivation = read_derivation(reader, data.get("derivation"))
    if plan is None or subgroups is None or secondary is None or derivation is None \
            or unknown:
        return None
    return AnalysisPlan(plan, subgroups, secondary, derivation)


def plan_problems(plan: PrimaryAnalysis, protocol: Protocol,
                  complete: bool = False) -> list[tuple[str, str]]:
    """``(key, what to do)`` for every way ``plan`` does not fit ``protocol``.

    Reading ``study.toml`` checks what the plan names; ``complete=True`` (before an
    analysis runs) also checks the defaults it takes from the protocol.
    """
    from ketex.models._inference import DF_METHODS
    from ketex.models.covariance import COVARIANCE_STRUCTURES
    from ketex.scales import INSTRUMENTS

    key = "analysis.primary"
    out: list[tuple[str, str]] = []
    if plan.scale is not None and plan.scale not in INSTRUMENTS:
        out.append((f"{key}.scale", f"{plan.scale!r} is not a known scale; use one of "
                    f"{', '.join(INSTRUMENTS)}"))
    if plan.outcome not in OUTCOMES:
        out.append((f"{key}.outcome", f"{plan.outcome!r} must be one of {', '.join(OUTCOMES)}"))
    if plan.formula is not None:
        out.extend(_formula_problems(plan.formula, plan.outcome, f"{key}.formula"))
    if not plan.covariance:
        out.append((f"{key}.covariance", 'empty; give a structure such as ["us"]'))
    for k, name in enumerate(plan.covariance):
        if name not in COVARIANCE_STRUCTURES:
            out.append((f"{key}.covariance[{k}]", f"{name!r} is not a covariance structure; "
                        f"use one of {', '.join(COVARIANCE_STRUCTURES)}"))
    if plan.method not in METHODS:
        out.append((f"{key}.method", f"{plan.method!r} must be one of {', '.join(METHODS)}"))
    if plan.df not in DF_METHODS:
        out.append((f"{key}.df", f"{plan.df!r} must be one of {', '.join(DF_METHODS)}"))
    if plan.reference_arm is not None and plan.reference_arm not in protocol.arm_codes:
        out.append((f"{key}.reference_arm", f"arm {plan.reference_arm!r} is not among "
                    f"[[arms]] ({', '.join(protocol.arm_codes)})"))
    if out and any(k.endswith(".scale") for k, _ in out):
        return out
    filled = plan._filled(protocol)
    out.extend(_visit_problems(plan, filled, protocol, key,
                               complete or bool(plan.visits) or plan.primary_visit is not None
                               or plan.scale is not None))
    return out


def _formula_problems(formula: str, outcome: str, key: str) -> list[tuple[str, str]]:
    sides = formula.split("~")
    if len(sides) != 2 or not sides[1].strip():
        return [(key, f"{formula!r} must read '<outcome> ~ <terms>', e.g. "
                 f"'{outcome} ~ BASE + ARM * AVISIT'")]
    try:
        right = formula_names(sides[1])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [(key, f"{formula!r} is not a formula; e.g. '{outcome} ~ BASE + ARM * AVISIT'")]
    out = []
    if sides[0].strip() != outcome:
        out.append((key, f"its left side {sides[0].strip()!r} must be the outcome "
                    f"{outcome!r} (analysis.primary.outcome)"))
    for needed in ("ARM", "AVISIT"):
        if needed not in right:
            out.append((key, f"{formula!r} lacks {needed}; the primary contrast is the "
                        "ARM difference at one AVISIT"))
    return out


def _visit_problems(plan: PrimaryAnalysis, filled: PrimaryAnalysis, protocol: Protocol,
                    key: str, complete: bool) -> list[tuple[str, str]]:
    out = []
    names = protocol.visit_names
    baseline = protocol.endpoints.baseline_visit
    for k, name in enumerate(plan.visits):
        where = f"{key}.visits[{k}]"
        if name not in names:
            out.append((where, f"visit {name!r} is not among [[visits]] ({', '.join(names)})"))
            continue
        visit = protocol.visit(name)
        if name == baseline:
            out.append((where, f"{name} is the baseline visit; the model has the visits "
                        "after it"))
        elif visit.arms:
            out.append((where, f"{name} is scheduled for {', '.join(visit.arms)} only; an "
                        "arm x visit model needs visits every arm has"))
        elif not _rates(visit, filled.scale, protocol):
            out.append((where, f"{name} does not rate {filled.scale} (its instruments: "
                        f"{', '.join(visit.instruments)})"))
    duplicated = sorted({v for v in plan.visits if plan.visits.count(v) > 1})
    if duplicated:
        out.append((f"{key}.visits", f"duplicated visit(s) {', '.join(duplicated)}"))
    if not complete:
        return out
    if not filled.visits:
        out.append((f"{key}.visits", f"no visit after {baseline} that every arm has rates "
                    f"{filled.scale}; list the visits to analyse"))
    elif filled.primary_visit not in filled.visits:
        where = (f"{key}.primary_visit" if plan.primary_visit is not None
                 else "endpoints.primary_visit")
        out.append((where, f"visit {filled.primary_visit!r} is not among the analysed visits "
                    f"({', '.join(filled.visits)})"))
    return out


def check_plan(plan: PrimaryAnalysis, protocol: Protocol, source: str = "study.toml") -> None:
    """Raise :class:`~ketex.study.protocol.ProtocolError` listing every problem of ``plan``.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> check_plan(PrimaryAnalysis(primary_visit="WEEK99"), protocol, "my plan")
    Traceback (most recent call last):
    ...
    ketex.study.protocol.ProtocolError: my plan: analysis.primary.primary_visit: visit
    'WEEK99' is not among the analysed visits (INF1_24H, WEEK2, ..., WEEK24)
    """
    from ketex.study.protocol import _Reader

    reader = _Reader(source)
    for key, what in plan_problems(plan, protocol, complete=True):
        reader.problem(key, what)
    reader.raise_if_any()


def check_plan_data(trial: Trial, source: str = "study.toml") -> None:
    """Raise :class:`~ketex.study.protocol.ProtocolError` listing every column the plan
    names that the trial's data lack (``[analysis.subgroups]``).

    :func:`check_plan` checks the plan against the protocol; this checks it against the
    data, before an analysis runs (``ketex report`` does).

    Examples
    --------
    >>> import dataclasses, ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> check_plan_data(trial)
    >>> plan = dataclasses.replace(trial.protocol.analysis,
    ...                            subgroups=SubgroupPlan(("sex", "smoker")))
    >>> protocol = dataclasses.replace(trial.protocol, analysis=plan)
    >>> check_plan_data(dataclasses.replace(trial, protocol=protocol))
    Traceback (most recent call last):
    ...
    ketex.study.protocol.ProtocolError: study.toml: analysis.subgroups.columns[1]: 'smoker'
    is neither 'baseline' nor a participants column with values (columns: participant_id,
    ...)
    """
    from ketex.study.protocol import _Reader

    reader = _Reader(source)
    for key, what in subgroup_problems(trial.protocol.analysis.subgroups, trial.participants):
        reader.problem(key, what)
    reader.raise_if_any()
