"""Endpoint rules as small frozen objects, and the named presets taken from published trials.

A rule says *what* counts; :func:`ketex.evaluate_endpoint` and :func:`ketex.time_to_event`
say *who* meets it and *when*. Every number a trial may change is a field, and every
preset names its source. The exact conventions are in the user guide
(``docs/endpoints-response-remission.md``, ``docs/endpoints-relapse.md``,
``docs/endpoints-sustained.md``, ``docs/time-to-event.md``).

Examples
--------
>>> from ketex.derive.endpoints import Remission, Response, endpoint_preset
>>> Response().label
'response (>= 50% reduction from baseline)'
>>> endpoint_preset("MADRS<=12").cutoff
'MADRS <= 12'
>>> endpoint_preset("SUSTAIN-1").threshold
22.0
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

import pandas as pd

from ketex.scales import get_instrument

if TYPE_CHECKING:
    from ketex.study.protocol import EndpointSettings

__all__ = [
    "PRESETS",
    "Achieved",
    "MISSING_POLICIES",
    "Consistent",
    "ConsistentRemission",
    "ConsistentResponse",
    "EndpointRule",
    "RelapseRule",
    "Remission",
    "Response",
    "Stable",
    "StableRemission",
    "StableResponse",
    "Sustained",
    "SustainedRemission",
    "SustainedResponse",
    "endpoint_preset",
]

#: Absorbs floating-point error in ``base - value >= reduction x base`` (e.g. 0.3 x 30).
_TOLERANCE = 1e-9
#: Events that count as relapse in SUSTAIN-1 (Daly et al. 2019).
SUSTAIN1_EVENTS = (
    "hospitalisation",
    "suicide_attempt",
    "completed_suicide",
    "suicide_prevention_hospitalisation",
)
#: What ``missing=`` may say, in every rule that takes it (each takes the values that
#: apply to it) and in :func:`ketex.report.tables.endpoint_table`.
MISSING_POLICIES = MappingProxyType({
    "exclude": "the outcome is left missing (NA), so observed-case rates leave the "
               "participant out",
    "failure": "a missing visit counts as the criterion not met",
    "skip": "a missing visit is passed over (rules over several visits)",
})
#: Old spellings of :data:`MISSING_POLICIES`, accepted with a FutureWarning.
_MISSING_ALIASES = MappingProxyType({"missing": "exclude"})


def _fail(owner: str, name: str, message: str) -> ValueError:
    return ValueError(f"{owner}.{name} {message}")


def _scale_code(owner: str, scale: str | None) -> str | None:
    if scale is None:
        return None
    try:
        return get_instrument(scale).code
    except (ValueError, TypeError) as exc:
        raise _fail(owner, "scale", f"is not a known instrument: {exc}") from None


def _check_missing(owner: str, missing: str, allowed: tuple[str, ...]) -> str:
    """``missing`` in the one vocabulary (:data:`MISSING_POLICIES`), among ``allowed``."""
    new = _MISSING_ALIASES.get(missing) if isinstance(missing, str) else None
    if new in allowed:
        warnings.warn(f"{owner}(missing={missing!r}) is deprecated; write "
                      f"missing={new!r} (the same meaning: {MISSING_POLICIES[new]})",
                      FutureWarning, stacklevel=4)
        missing = new
    if missing not in allowed:
        raise _fail(owner, "missing", f"must be one of {', '.join(allowed)}, got {missing!r}")
    return missing


def _check_count(owner: str, name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(owner, name, f"must be a whole number >= {minimum}, got {value!r}")


# -- criteria met at one assessment ---------------------------------------------------


@dataclass(frozen=True)
class Response:
    """Response: a reduction of at least ``reduction`` x baseline in the total score.

    Met at an assessment when ``baseline - value >= reduction x baseline`` (within 1e-9),
    i.e. ``PCHG <= -100 x reduction``. Undefined without a baseline, or with a baseline
    of 0.

    Parameters
    ----------
    reduction : float
        Fraction of the baseline score, in (0, 1]; 0.5 is the convention of depression
        trials (a 50 % reduction).
    scale : str, optional
        Instrument; None means the protocol's primary scale.

    Examples
    --------
    >>> Response().met(value=16, base=32), Response().met(value=17, base=32)
    (True, False)
    >>> Response(reduction=1.5)
    Traceback (most recent call last):
    ...
    ValueError: Response.reduction must lie in (0, 1], got 1.5
    """

    reduction: float = 0.5
    scale: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.reduction, bool) or not isinstance(self.reduction, int | float) \
                or not 0 < self.reduction <= 1:
            raise _fail("Response", "reduction", f"must lie in (0, 1], got {self.reduction!r}")
        object.__setattr__(self, "reduction", float(self.reduction))
        object.__setattr__(self, "scale", _scale_code("Response", self.scale))

    def met(self, value: float, base: float) -> bool | None:
        """Whether ``value`` is a response from ``base`` (None when undefined)."""
        if _missing(value) or _missing(base) or base <= 0:
            return None
        return bool(base - value >= self.reduction * base - _TOLERANCE)

    @property
    def needs_baseline(self) -> bool:
        """Whether the criterion needs a baseline score (it does)."""
        return True

    @property
    def label(self) -> str:
        """A short description for tables."""
        scale = f"{self.scale} " if self.scale else ""
        return f"{scale}response (>= {self.reduction:.0%} reduction from baseline)"


@dataclass(frozen=True)
class Remission:
    """Remission: a total score at or below ``max_score`` (or strictly below ``below``).

    Give exactly one of ``max_score`` and ``below``. Presets (:func:`endpoint_preset`):
    ``MADRS<=10`` (Daly et al. 2018), ``MADRS<=12`` (SUSTAIN-1, SUSTAIN-3, ASPIRE),
    ``HAM-D17<=7`` (Frank et al. 1991), ``QIDS-SR16<=5`` (Rush et al. 2003),
    ``PHQ-9<5`` (Kroenke et al. 2001: the "minimal" band).

    Parameters
    ----------
    scale : str
        Instrument the cut-off belongs to.
    max_score : float, optional
        Met when the total is ``<= max_score``.
    below : float, optional
        Met when the total is ``< below``.
    source : str
        Where the cut-off comes from.

    Examples
    --------
    >>> rule = Remission("MADRS", max_score=10)
    >>> rule.met(10), rule.met(11), rule.label
    (True, False, 'remission (MADRS <= 10)')
    >>> Remission("PHQ-9", below=5).met(5)
    False
    """

    scale: str
    max_score: float | None = None
    below: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", _scale_code("Remission", self.scale))
        if self.scale is None:
            raise _fail("Remission", "scale", "is required (e.g. 'MADRS')")
        given = [name for name in ("max_score", "below") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("Remission: give exactly one of max_score (total <= max_score) "
                             f"and below (total < below); got {given or 'neither'}")
        value = getattr(self, given[0])
        total_max = get_instrument(self.scale).total_max
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 <= value <= total_max:
            raise _fail("Remission", given[0], f"must lie in [0, {total_max}] for "
                                               f"{self.scale}, got {value!r}")
        object.__setattr__(self, given[0], float(value))

    def met(self, value: float, base: float | None = None) -> bool | None:
        """Whether the total ``value`` is a remission (None when missing)."""
        if _missing(value):
            return None
        if self.max_score is not None:
            return bool(value <= self.max_score)
        return bool(value < cast(float, self.below))  # exactly one is set

    @property
    def needs_baseline(self) -> bool:
        """Whether the criterion needs a baseline score (it does not)."""
        return False

    @property
    def cutoff(self) -> str:
        """The cut-off as text: ``"MADRS <= 10"``."""
        if self.max_score is not None:
            return f"{self.scale} <= {self.max_score:g}"
        return f"{self.scale} < {self.below:g}"

    @property
    def label(self) -> str:
        """A short description for tables."""
        return f"remission ({self.cutoff})"


Criterion = Response | Remission
#: A criterion, or its class: ``Response`` / ``Remission`` (the class) means the
#: protocol's (``[endpoints] response_reduction``, ``remission_preset``).
CriterionLike = Response | Remission | type[Response] | type[Remission]


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]  # pandas-stubs: any scalar


def _check_criterion(owner: str, name: str, value: object, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is not Response and value is not Remission \
            and not isinstance(value, Response | Remission):
        raise _fail(owner, name, f"must be a Response or Remission rule (or the class "
                                 f"Response or Remission: the protocol's), got {value!r}")


def protocol_criterion(criterion: CriterionLike, settings: EndpointSettings) -> Criterion:
    """``criterion``, or the protocol's when it is the class ``Response`` or ``Remission``.

    Examples
    --------
    >>> from ketex.study.protocol import EndpointSettings
    >>> protocol_criterion(Response, EndpointSettings(response_reduction=0.4)).reduction
    0.4
    >>> protocol_criterion(Remission, EndpointSettings(remission_preset="MADRS<=12")).cutoff
    'MADRS <= 12'
    """
    if not isinstance(criterion, type):
        return criterion
    if criterion is Response:
        return Response(settings.response_reduction)
    preset = PRESETS.get(settings.remission_preset)
    if not isinstance(preset, Remission):
        raise ValueError(
            f"the protocol's [endpoints] remission_preset {settings.remission_preset!r} is "
            "not a remission preset; give the rule a Remission(...) or fix study.toml")
    return preset


# -- when a criterion is met --------------------------------------------------------


class EndpointRule:
    """What every endpoint rule over visits is: a frozen dataclass with a ``label`` and
    :meth:`with_protocol`, evaluated by the function registered for its class
    (``ketex.derive._context.evaluates``).

    A new rule subclasses it (and can then be a :class:`RelapseRule`'s entry condition);
    nothing else lists the rules.
    """

    __slots__ = ()

    @property
    def label(self) -> str:
        """A short description for tables."""
        raise NotImplementedError

    def with_protocol(self, settings: EndpointSettings) -> EndpointRule:
        """The rule with the settings it leaves to the protocol filled in (itself, by
        default)."""
        return self


@dataclass(frozen=True)
class Achieved(EndpointRule):
    """A criterion met at a visit, by a visit, or by a study day.

    - ``Achieved(Response(), "WEEK12")``: response at the WEEK12 visit.
    - ``Achieved(Response(), "WEEK12", by=True)``: response at any scheduled visit after
      baseline up to and including WEEK12; the first such visit is the day it is met.
    - ``Achieved(Response(), by_day=14)``: response at any analysed assessment after
      baseline on or before day 14 (the first one).

    Only the analysed record of each scheduled visit counts (``ANL01FL = "Y"`` in
    :func:`ketex.analysis_dataset`). A missing visit leaves the outcome missing
    (``met`` is NA: ``missing="exclude"``) unless ``missing="failure"``.

    Parameters
    ----------
    criterion : Response, Remission, or the class ``Response`` / ``Remission``
        The class means the protocol's criterion.
    visit : str, optional
        Visit name; None means the protocol's primary visit. Ignored with ``by_day``.
    by : bool
        False: met at ``visit``; True: met at any scheduled visit up to ``visit``.
    by_day : int, optional
        Instead of a visit: met at an analysed assessment on or before this day.
    missing : {"exclude", "failure"}
        What a participant with nothing to evaluate gets (:data:`MISSING_POLICIES`):
        NA, or ``met = False``. ``"missing"``, the old spelling of ``"exclude"``, is
        deprecated.

    Examples
    --------
    >>> Achieved(Response(), "WEEK12").label
    'response (>= 50% reduction from baseline) at WEEK12'
    >>> Achieved(Remission("MADRS", max_score=12), by_day=28).label
    'remission (MADRS <= 12) by day 28'
    """

    criterion: CriterionLike = field(default_factory=Response)
    visit: str | None = None
    by: bool = False
    by_day: int | None = None
    missing: str = "exclude"

    def __post_init__(self) -> None:
        _check_criterion("Achieved", "criterion", self.criterion, allow_none=False)
        if self.by_day is not None and (isinstance(self.by_day, bool)
                                        or not isinstance(self.by_day, int)):
            raise _fail("Achieved", "by_day", f"must be a whole study day, got {self.by_day!r}")
        object.__setattr__(self, "missing", _check_missing("Achieved", self.missing,
                                                           ("exclude", "failure")))

    @property
    def label(self) -> str:
        """A short description for tables."""
        where = self.visit or "the primary visit"
        what = (f"{self.criterion.__name__.lower()} (the protocol's)"
                if isinstance(self.criterion, type) else self.criterion.label)
        if self.by_day is not None:
            return f"{what} by day {self.by_day}"
        return f"{what} {'by' if self.by else 'at'} {where}"

    def with_protocol(self, settings: EndpointSettings) -> Achieved:
        """The rule with its visit (and a class criterion) filled in from the protocol."""
        return dataclasses.replace(self, visit=self.visit or settings.primary_visit,
                                   criterion=protocol_criterion(self.criterion, settings))


# -- endpoints over several visits: a pattern around any criterion -------------------


def _words(criterion: CriterionLike) -> str:
    """The criterion in a pattern's label: ``response``, ``remission (MADRS <= 12)``, or
    ``remission`` for the protocol's cut-off."""
    if criterion is Response or isinstance(criterion, Response):
        return "response"
    if isinstance(criterion, Remission):
        return f"remission ({criterion.cutoff})"
    return "remission"


def _preset_criterion(owner: str, name: str, given: object, criterion: object,
                      kind: type) -> CriterionLike:
    """The criterion of a preset (``SustainedResponse`` and kin): ``given`` (its old
    keyword), else ``criterion`` (as :func:`dataclasses.replace` passes it), else the
    protocol's (``kind``)."""
    value = given if given is not None else criterion if criterion is not None else kind
    if value is not kind and not isinstance(value, kind):
        raise _fail(owner, name, f"must be a {kind.__name__}, got {value!r}")
    return cast(CriterionLike, value)  # a kind instance or the kind itself: checked above


_Kind = TypeVar("_Kind", Response, Remission)


def _known(criterion: CriterionLike, kind: type[_Kind]) -> _Kind | None:
    """A preset's criterion as its old field gave it: None for the protocol's."""
    return None if criterion is kind else cast(_Kind, criterion)


class _Preset:
    """The repr of a preset, in its own fields: ``SustainedResponse(response=None, ...)``."""

    __slots__ = ()
    #: The preset's name for its criterion, and the criterion's kind.
    _field: tuple[str, type[Response] | type[Remission]] = ("response", Response)
    if TYPE_CHECKING:  # what the dataclass a preset is mixed into has
        __dataclass_fields__: ClassVar[dict[str, Any]]
        criterion: CriterionLike

    def __repr__(self) -> str:
        name, kind = self._field
        known = None if self.criterion is kind else self.criterion  # as _known
        values = [f"{name}={known!r}"]
        values += [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self)
                   if f.name != "criterion"]
        return f"{type(self).__name__}({', '.join(values)})"


@dataclass(frozen=True)
class Sustained(EndpointRule):
    """A criterion met at a visit and at every later scheduled visit through a stated visit.

    NCT03321526-style sustained response: response at week 12 maintained at every later
    scheduled visit (e.g. weeks 16 and 24). A missing later visit counts as failure
    unless ``missing="skip"``, which passes over it; the start visit must be observed and
    met. The day it is met is the day of the start visit.

    Parameters
    ----------
    criterion : Response, Remission, or the class ``Response`` / ``Remission``
        What must be met at each visit; the class means the protocol's
        (``[endpoints] response_reduction``, ``remission_preset``).
    from_visit : str, optional
        First visit; None means the protocol's primary visit.
    through_visit : str, optional
        Last visit; None means the protocol's ``sustained_through_visit``.
    missing : {"failure", "skip"}
        What a missing later visit does (:data:`MISSING_POLICIES`).

    Examples
    --------
    >>> Sustained(Remission("MADRS", max_score=12), "WEEK12", "WEEK24").label
    'sustained remission (MADRS <= 12) from WEEK12 through WEEK24'
    >>> Sustained(Response, through_visit="WEEK24").label
    'sustained response from the primary visit through WEEK24'
    """

    criterion: CriterionLike
    from_visit: str | None = None
    through_visit: str | None = None
    missing: str = "failure"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _check_criterion(owner, "criterion", self.criterion, allow_none=False)
        object.__setattr__(self, "missing", _check_missing(owner, self.missing,
                                                           ("failure", "skip")))

    @property
    def label(self) -> str:
        """A short description for tables."""
        return (f"sustained {_words(self.criterion)} from "
                f"{self.from_visit or 'the primary visit'} "
                f"through {self.through_visit or 'the protocol visit'}")

    def with_protocol(self, settings: EndpointSettings) -> Sustained:
        """The rule with its visits filled in from the protocol's ``[endpoints]``."""
        return dataclasses.replace(
            self, from_visit=self.from_visit or settings.primary_visit,
            through_visit=self.through_visit or settings.sustained_through_visit)


@dataclass(frozen=True)
class Stable(EndpointRule):
    """A criterion met at ``at_least`` of the participant's last ``last`` scheduled visits.

    The visits are the last ``last`` scheduled visits after baseline up to and including
    ``through_visit``; a missing visit counts as not met. ``last_required`` asks that
    the final visits of those be met each. The day it is met is the day of the last
    visit. Presets: :class:`StableRemission`, :class:`StableResponse` (SUSTAIN-1).

    Parameters
    ----------
    criterion : Response, Remission, or the class ``Response`` / ``Remission``
        The class means the protocol's criterion.
    last : int
        How many of the last scheduled visits are looked at.
    at_least : int
        How many of them must meet the criterion.
    through_visit : str, optional
        Last visit; None means the protocol's primary visit.
    last_required : int
        How many of the final visits must each be met (0: none in particular).

    Examples
    --------
    >>> Stable(Response(), last=3, at_least=2).label
    'stable response in >= 2 of the last 3 visits through the primary visit'
    """

    criterion: CriterionLike
    last: int
    at_least: int
    through_visit: str | None = None
    last_required: int = 0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _check_criterion(owner, "criterion", self.criterion, allow_none=False)
        _check_stable(owner, self.last, self.at_least, self.last_required)

    @property
    def label(self) -> str:
        """A short description for tables."""
        required = f", the last {self.last_required} required" if self.last_required else ""
        return (f"stable {_words(self.criterion)} in >= {self.at_least} of the last "
                f"{self.last} visits through {self.through_visit or 'the primary visit'}"
                f"{required}")

    def with_protocol(self, settings: EndpointSettings) -> Stable:
        """The rule with its visit filled in from the protocol's ``[endpoints]``."""
        return dataclasses.replace(self, through_visit=self.through_visit
                                   or settings.primary_visit)


def _check_stable(owner: str, last: int, at_least: int, last_required: int) -> None:
    _check_count(owner, "last", last)
    _check_count(owner, "at_least", at_least)
    _check_count(owner, "last_required", last_required, minimum=0)
    if at_least > last:
        raise _fail(owner, "at_least", f"({at_least}) must not exceed last ({last})")
    if last_required > at_least:
        raise _fail(owner, "last_required", f"({last_required}) must not exceed at_least "
                                            f"({at_least})")


@dataclass(frozen=True)
class Consistent(EndpointRule):
    """A criterion met at ``consecutive`` consecutive scheduled visits.

    Consecutive means adjacent among the participant's scheduled visits for the scale
    after baseline, between ``from_visit`` and ``through_visit``. A missing visit breaks
    the run unless ``missing="skip"`` (then adjacent among the observed visits). The
    day it is met is the first visit of the first run (``event_day="first"``) or the last
    (``"last"``): a ketex choice, not a published one. ASPIRE post hoc: remission at two
    consecutive visits (:class:`ConsistentRemission`).

    Parameters
    ----------
    criterion : Response, Remission, or the class ``Response`` / ``Remission``
        The class means the protocol's criterion.
    consecutive : int
        Length of the run (>= 2).
    from_visit, through_visit : str, optional
        The visits looked at (None: from the first, through the last scheduled one).
    missing : {"failure", "skip"}
        What a missing visit does (:data:`MISSING_POLICIES`).
    event_day : {"first", "last"}

    Examples
    --------
    >>> Consistent(Response(), consecutive=3).label
    'consistent response at 3 consecutive visits'
    """

    criterion: CriterionLike
    consecutive: int = 2
    from_visit: str | None = None
    through_visit: str | None = None
    missing: str = "failure"
    event_day: str = "first"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        _check_criterion(owner, "criterion", self.criterion, allow_none=False)
        _check_count(owner, "consecutive", self.consecutive, minimum=2)
        object.__setattr__(self, "missing", _check_missing(owner, self.missing,
                                                           ("failure", "skip")))
        if self.event_day not in ("first", "last"):
            raise _fail(owner, "event_day", f"must be 'first' or 'last', "
                                            f"got {self.event_day!r}")

    @property
    def label(self) -> str:
        """A short description for tables."""
        return f"consistent {_words(self.criterion)} at {self.consecutive} consecutive visits"

    def with_protocol(self, settings: EndpointSettings) -> Consistent:
        """The rule with its criterion filled in from the protocol's ``[endpoints]``."""
        return dataclasses.replace(self, criterion=protocol_criterion(self.criterion,
                                                                      settings))


# -- the rules by their published names: presets of the patterns above -------------------


class SustainedResponse(_Preset, Sustained):
    """Response at a visit and at every later scheduled visit through a stated visit.

    A preset of :class:`Sustained`: ``SustainedResponse(response, ...)`` is
    ``Sustained(response or Response, ...)`` (``Response``, the class: the protocol's
    ``response_reduction``).

    Parameters
    ----------
    response : Response, optional
        None means ``Response(protocol.endpoints.response_reduction)``.
    from_visit : str, optional
        First visit; None means the protocol's primary visit.
    through_visit : str, optional
        Last visit; None means the protocol's ``sustained_through_visit``.
    missing : {"failure", "skip"}

    Examples
    --------
    >>> SustainedResponse(through_visit="WEEK24").label
    'sustained response from the primary visit through WEEK24'
    """

    _field = ("response", Response)

    def __init__(self, response: Response | None = None, from_visit: str | None = None,
                 through_visit: str | None = None, missing: str = "failure", *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("SustainedResponse", "response", response,
                                           criterion, Response),
                         from_visit, through_visit, missing)

    @property
    def response(self) -> Response | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Response)


class SustainedRemission(_Preset, Sustained):
    """Remission at a visit and at every later scheduled visit through a stated visit.

    A preset of :class:`Sustained`, as :class:`SustainedResponse` with a remission
    cut-off; None means the protocol's ``remission_preset``.

    Examples
    --------
    >>> SustainedRemission(Remission("MADRS", max_score=12), "WEEK12", "WEEK24").label
    'sustained remission (MADRS <= 12) from WEEK12 through WEEK24'
    """

    _field = ("remission", Remission)

    def __init__(self, remission: Remission | None = None, from_visit: str | None = None,
                 through_visit: str | None = None, missing: str = "failure", *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("SustainedRemission", "remission", remission,
                                           criterion, Remission),
                         from_visit, through_visit, missing)

    @property
    def remission(self) -> Remission | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Remission)


class StableRemission(_Preset, Stable):
    """Remission at ``at_least`` of the participant's last ``last`` scheduled visits.

    A preset of :class:`Stable`. SUSTAIN-1 (Daly et al. 2019): MADRS <= 12 in at least 3
    of the last 4 weeks of the optimisation phase, one excursion (a score above 12 or
    one missing assessment) allowed only in the first two of them, i.e.
    ``StableRemission(Remission("MADRS", 12), last=4, at_least=3, last_required=2)``
    (preset ``"SUSTAIN-1 stable remission"``). None means the protocol's
    ``remission_preset``.

    Examples
    --------
    >>> StableRemission(Remission("MADRS", max_score=12)).label
    'stable remission (MADRS <= 12) in >= 3 of the last 4 visits through the primary visit'
    """

    _field = ("remission", Remission)

    def __init__(self, remission: Remission | None = None, through_visit: str | None = None,
                 last: int = 4, at_least: int = 3, last_required: int = 0, *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("StableRemission", "remission", remission,
                                           criterion, Remission),
                         last, at_least, through_visit, last_required)

    @property
    def remission(self) -> Remission | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Remission)


class StableResponse(_Preset, Stable):
    """Response at ``at_least`` of the participant's last ``last`` scheduled visits.

    A preset of :class:`Stable`. SUSTAIN-1 stable response: a >= 50 % reduction at each
    of the last 2 weeks of the optimisation phase (``StableResponse(last=2,
    at_least=2)``, preset ``"SUSTAIN-1 stable response"``). None means the protocol's
    ``response_reduction``.

    Examples
    --------
    >>> StableResponse(last=2, at_least=2).label
    'stable response in >= 2 of the last 2 visits through the primary visit'
    """

    _field = ("response", Response)

    def __init__(self, response: Response | None = None, through_visit: str | None = None,
                 last: int = 2, at_least: int = 2, last_required: int = 0, *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("StableResponse", "response", response,
                                           criterion, Response),
                         last, at_least, through_visit, last_required)

    @property
    def response(self) -> Response | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Response)


class ConsistentRemission(_Preset, Consistent):
    """Remission at ``consecutive`` consecutive scheduled visits (ASPIRE post hoc: two).

    A preset of :class:`Consistent`; None means the protocol's ``remission_preset``.

    Examples
    --------
    >>> ConsistentRemission(Remission("MADRS", max_score=12)).label
    'consistent remission (MADRS <= 12) at 2 consecutive visits'
    """

    _field = ("remission", Remission)

    def __init__(self, remission: Remission | None = None, consecutive: int = 2,
                 from_visit: str | None = None, through_visit: str | None = None,
                 missing: str = "failure", event_day: str = "first", *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("ConsistentRemission", "remission", remission,
                                           criterion, Remission),
                         consecutive, from_visit, through_visit, missing, event_day)

    @property
    def remission(self) -> Remission | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Remission)


class ConsistentResponse(_Preset, Consistent):
    """Response at ``consecutive`` consecutive scheduled visits.

    A preset of :class:`Consistent`, as :class:`ConsistentRemission` with a response;
    None means the protocol's ``response_reduction``.

    Examples
    --------
    >>> ConsistentResponse().label
    'consistent response at 2 consecutive visits'
    """

    _field = ("response", Response)

    def __init__(self, response: Response | None = None, consecutive: int = 2,
                 from_visit: str | None = None, through_visit: str | None = None,
                 missing: str = "failure", event_day: str = "first", *,
                 criterion: CriterionLike | None = None) -> None:
        super().__init__(_preset_criterion("ConsistentResponse", "response", response,
                                           criterion, Response),
                         consecutive, from_visit, through_visit, missing, event_day)

    @property
    def response(self) -> Response | None:
        """The per-visit criterion (None: from the protocol)."""
        return _known(self.criterion, Response)


#: The rules a :class:`RelapseRule` may take as its entry condition (any
#: :class:`EndpointRule` but a relapse rule; these are ketex's).
EntryRule = Achieved | Sustained | Stable | Consistent


@dataclass(frozen=True)
class RelapseRule(EndpointRule):
    """Relapse: a score at or above a threshold at consecutive assessments, or an event.

    Evaluated only among participants who meet ``entry``; evidence counts only when it
    lies after the day the entry condition was met (so a relapse before entry is not
    counted), and, with ``follow_up_days``, no later than that many days after it.

    A participant relapses on the earliest of:

    - ``consecutive`` consecutive scored assessments of ``scale`` (adjacent in time, any
      visit, scheduled or not) each with a total ``>= threshold``, each gap between
      neighbours within ``gap_days`` (inclusive). The relapse day is the day of the first
      of them (``event_day="first"``) or of the last (``"last"``, the second of two:
      the SUSTAIN-1 convention and the default);
    - an event in ``events.csv`` whose type is among ``events`` (its day).

    Presets: ``"SUSTAIN-1"`` (Daly et al. 2019: MADRS >= 22 at two consecutive
    assessments 5 to 15 days apart, or hospitalisation for worsening depression, suicide
    attempt, completed suicide or hospitalisation to prevent suicide) and
    ``"HAM-D17>=18"`` (NCT04007367-style: HAM-D17 >= 18 twice 7 to 14 days apart, or the
    same events).

    Parameters
    ----------
    scale : str
    threshold : float
        Met when the total is ``>= threshold``.
    consecutive : int
        Number of consecutive assessments (>= 1; 1 means a single assessment).
    gap_days : (int, int)
        Inclusive range of days between neighbouring assessments.
    events : tuple of str
        Event types (``ketex.study.tables.EVENT_TYPES``) that count as relapse.
    entry : Achieved, Sustained, Stable or Consistent (or a preset of these)
        Who is at risk, and from when (a bare Response or Remission means
        ``Achieved(criterion)``: met at the primary visit). The presets use
        ``Achieved(Response(), by=True)``: response at any visit up to the primary visit,
        at risk from the first such visit.
    origin : {"entry", "randomisation"}
        Time zero of ``AVAL`` in :func:`ketex.time_to_event`: the day entry was met, or
        day 0.
    event_day : {"first", "last"}
    follow_up_days : int, optional
        Only evidence within this many days after entry counts.
    name, source : str

    Examples
    --------
    >>> rule = RelapseRule()
    >>> rule.threshold, rule.gap_days, rule.event_day
    (22.0, (5, 15), 'last')
    >>> RelapseRule(gap_days=(15, 5))
    Traceback (most recent call last):
    ...
    ValueError: RelapseRule.gap_days must be (min, max) with 0 <= min <= max, got (15, 5)
    """

    scale: str = "MADRS"
    threshold: float = 22.0
    consecutive: int = 2
    gap_days: tuple[int, int] = (5, 15)
    events: tuple[str, ...] = SUSTAIN1_EVENTS
    entry: EntryRule = field(default_factory=lambda: Achieved(Response(), by=True))
    origin: str = "entry"
    event_day: str = "last"
    follow_up_days: int | None = None
    name: str = "SUSTAIN-1"
    source: str = "Daly et al., JAMA Psychiatry 2019;76:893-903 (SUSTAIN-1)"

    def __post_init__(self) -> None:
        owner = "RelapseRule"
        object.__setattr__(self, "scale", _scale_code(owner, self.scale))
        if self.scale is None:
            raise _fail(owner, "scale", "is required (e.g. 'MADRS')")
        total_max = get_instrument(self.scale).total_max
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float) \
                or not 0 <= self.threshold <= total_max:
            raise _fail(owner, "threshold", f"must lie in [0, {total_max}] for {self.scale}, "
                                            f"got {self.threshold!r}")
        object.__setattr__(self, "threshold", float(self.threshold))
        _check_count(owner, "consecutive", self.consecutive)
        gap = tuple(self.gap_days)
        if len(gap) != 2 or any(isinstance(g, bool) or not isinstance(g, int) for g in gap) \
                or not 0 <= gap[0] <= gap[1]:
            raise _fail(owner, "gap_days", f"must be (min, max) with 0 <= min <= max, "
                                           f"got {self.gap_days!r}")
        object.__setattr__(self, "gap_days", gap)
        if isinstance(self.events, str):
            raise _fail(owner, "events", f"must be a tuple of event types, got the string "
                                         f"{self.events!r}; write ({self.events!r},)")
        object.__setattr__(self, "events", tuple(self.events))
        if isinstance(self.entry, Response | Remission):
            object.__setattr__(self, "entry", Achieved(self.entry))
        if not isinstance(self.entry, EndpointRule) or isinstance(self.entry, RelapseRule):
            raise _fail(owner, "entry", f"must be Achieved, Sustained, Stable or Consistent "
                                        f"(or a preset: SustainedResponse, StableRemission, "
                                        f"...), got {self.entry!r}")
        if self.origin not in ("entry", "randomisation"):
            raise _fail(owner, "origin", f"must be 'entry' or 'randomisation', got "
                                         f"{self.origin!r}")
        if self.event_day not in ("first", "last"):
            raise _fail(owner, "event_day", f"must be 'first' or 'last', got "
                                            f"{self.event_day!r}")
        if self.follow_up_days is not None:
            _check_count(owner, "follow_up_days", self.follow_up_days)

    def met(self, value: float) -> bool | None:
        """Whether one total is at or above the threshold (None when missing)."""
        if _missing(value):
            return None
        return bool(value >= self.threshold)

    @property
    def label(self) -> str:
        """A short description for tables."""
        events = f" or {', '.join(self.events)}" if self.events else ""
        return (f"relapse ({self.scale} >= {self.threshold:g} at {self.consecutive} "
                f"consecutive assessments {self.gap_days[0]}-{self.gap_days[1]} days apart"
                f"{events})")


Rule = EntryRule | Response | Remission | RelapseRule


# -- presets ---------------------------------------------------------------------------

_MADRS_12 = Remission("MADRS", max_score=12,
                      source="SUSTAIN-1 (Daly et al. 2019), SUSTAIN-3, ASPIRE")
_HAMD_EVENTS_SOURCE = "NCT04007367-style relapse (HAM-D17 >= 18 twice, 7-14 days apart)"

#: Named presets, each with its source; look one up with :func:`endpoint_preset`.
PRESETS: MappingProxyType[str, Rule] = MappingProxyType({
    "response": Response(0.5),
    "MADRS<=10": Remission("MADRS", max_score=10,
                           source="Daly et al., JAMA Psychiatry 2018;75:139-148"),
    "MADRS<=12": _MADRS_12,
    "HAM-D17<=7": Remission("HAM-D17", max_score=7,
                            source="Frank et al., Arch Gen Psychiatry 1991;48:851-855"),
    "QIDS-SR16<=5": Remission("QIDS-SR16", max_score=5,
                              source="Rush et al., Biol Psychiatry 2003;54:573-583"),
    "PHQ-9<5": Remission("PHQ-9", below=5,
                         source="Kroenke et al., J Gen Intern Med 2001;16:606-613 "
                                "(minimal band 0-4)"),
    "SUSTAIN-1": RelapseRule(),
    "HAM-D17>=18": RelapseRule(scale="HAM-D17", threshold=18, gap_days=(7, 14),
                               name="HAM-D17>=18", source=_HAMD_EVENTS_SOURCE),
    "SUSTAIN-1 stable remission": StableRemission(_MADRS_12, last=4, at_least=3,
                                                  last_required=2),
    "SUSTAIN-1 stable response": StableResponse(Response(0.5), last=2, at_least=2),
    "ASPIRE consistent remission": ConsistentRemission(_MADRS_12, consecutive=2),
})


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name.upper())


_PRESET_KEYS = {_key(name): name for name in PRESETS}
#: Remission preset used for a scale when the protocol names none for it.
DEFAULT_REMISSION = MappingProxyType({
    "MADRS": "MADRS<=10", "HAM-D17": "HAM-D17<=7", "QIDS-SR16": "QIDS-SR16<=5",
    "PHQ-9": "PHQ-9<5",
})


def endpoint_preset(name: str) -> Rule:
    """The endpoint rule published under ``name`` (case, spaces and underscores ignored).

    Parameters
    ----------
    name : str
        One of :data:`PRESETS`: ``"response"``, ``"MADRS<=10"``, ``"MADRS<=12"``,
        ``"HAM-D17<=7"``, ``"QIDS-SR16<=5"``, ``"PHQ-9<5"``, ``"SUSTAIN-1"``,
        ``"HAM-D17>=18"``, ``"SUSTAIN-1 stable remission"``,
        ``"SUSTAIN-1 stable response"``, ``"ASPIRE consistent remission"``.

    Returns
    -------
    Response, Remission, RelapseRule, StableRemission, StableResponse or ConsistentRemission
        A frozen rule; change a field with :func:`dataclasses.replace`.

    Raises
    ------
    ValueError
        When the name is unknown; the message lists the presets.

    Examples
    --------
    >>> endpoint_preset("qids-sr16<=5").cutoff
    'QIDS-SR16 <= 5'
    >>> endpoint_preset("MADRS<=8")
    Traceback (most recent call last):
    ...
    ValueError: unknown endpoint preset 'MADRS<=8'; presets: response, MADRS<=10, ...
    """
    if not isinstance(name, str) or _key(name) not in _PRESET_KEYS:
        raise ValueError(f"unknown endpoint preset {name!r}; presets: {', '.join(PRESETS)}. "
                         "Build another rule with Remission(scale, max_score=...) or "
                         "RelapseRule(...)")
    return PRESETS[_PRESET_KEYS[_key(name)]]
