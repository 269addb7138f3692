"""``[analysis.secondary]`` of ``study.toml``: the secondary endpoints of the report.

```toml
[analysis.secondary]
response = "response"                         # a preset name (ketex.derive.endpoints.PRESETS)
remission = "MADRS<=12"
sustained = { rule = "SustainedResponse", through_visit = "WEEK24" }   # or a rule, inline
relapse = false                               # not analysed
```

A key left out takes what the report analysed before plans existed, from
``[endpoints]``: response (``response_reduction``) and remission (``remission_preset``)
at the primary visit, sustained response from the primary visit through
``sustained_through_visit`` (when given) and relapse (``relapse_preset``).
:func:`secondary_endpoints` gives the endpoints with their table labels.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ketex.study.protocol import Protocol, _Reader

__all__ = ["ENDPOINTS", "SecondaryEndpoint", "SecondaryPlan", "read_secondary",
           "rule_from_dict", "rule_to_dict", "secondary_endpoints", "secondary_problems"]

#: The secondary endpoints of the plan, in the order of the report's endpoint table.
ENDPOINTS = ("response", "remission", "sustained", "relapse")


@dataclass(frozen=True)
class SecondaryPlan:
    """The secondary endpoints: each a preset name, a rule, False (not analysed) or None.

    Parameters
    ----------
    response, remission, sustained, relapse : str, endpoint rule, False or None
        A name of :data:`ketex.derive.endpoints.PRESETS` (``"MADRS<=12"``), a rule of
        :mod:`ketex.derive.endpoints` (in ``study.toml`` an inline table naming its
        class: ``{ rule = "Remission", scale = "MADRS", max_score = 12 }``), False: not
        analysed; None: what ``[endpoints]`` says (see the module).

    Examples
    --------
    >>> SecondaryPlan(remission="MADRS<=12").to_dict()
    {'remission': 'MADRS<=12'}
    """

    response: Any = None
    remission: Any = None
    sustained: Any = None
    relapse: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The table as ``study.toml`` holds it (keys left at None omitted)."""
        out = {}
        for name in ENDPOINTS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value if isinstance(value, str | bool) else rule_to_dict(value)
        return out


@dataclass(frozen=True)
class SecondaryEndpoint:
    """One secondary endpoint as the report tables it.

    Attributes
    ----------
    key : str
        Its key in :class:`SecondaryPlan` (``"relapse"``).
    label : str
        Row label of the endpoint table (``"Relapse (SUSTAIN-1) among responders"``).
    rule : endpoint rule
    name : str
        The preset name, or the rule's own name or cutoff (``"SUSTAIN-1"``).
    desirable : bool
        False for relapse (the direction of the number needed to treat).
    preset : str, optional
        The preset name the plan gives (None: a rule).
    """

    key: str
    label: str
    rule: Any
    name: str
    desirable: bool = True
    preset: str | None = None

    @property
    def in_words(self) -> str:
        """How the Methods name the rule: ``"relapse preset SUSTAIN-1"``."""
        if self.key == "sustained":  # "Sustained response WEEK12-WEEK24"
            return f"sustained {self.label.split()[1]} through {self.name}"
        return f"{self.key} preset {self.preset}" if self.preset else f"{self.key} {self.name}"


def _endpoints_module():
    from ketex.derive import endpoints

    return endpoints


def _rule_classes() -> dict[str, type]:
    module = _endpoints_module()
    classes = {}
    for name in module.__all__:
        value = getattr(module, name, None)
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            classes[name] = value
    return classes


def rule_from_dict(data: Mapping[str, Any]) -> Any:
    """The endpoint rule an inline table describes: ``rule`` names its class.

    Nested tables with a ``rule`` key are rules too; arrays become tuples.

    Raises
    ------
    ValueError
        When the class is unknown or the rule refuses a value.

    Examples
    --------
    >>> rule_from_dict({"rule": "Remission", "scale": "MADRS", "max_score": 12}).cutoff
    'MADRS <= 12'
    >>> rule_from_dict({"rule": "SustainedResponse", "through_visit": "WEEK24",
    ...                 "response": {"rule": "Response", "reduction": 0.4}}).response
    Response(reduction=0.4, scale=None)
    """
    classes = _rule_classes()
    name = data.get("rule")
    if name not in classes:
        raise ValueError(f"'rule = {name!r}' must name an endpoint rule: "
                         f"{', '.join(classes)}")
    cls = classes[name]
    # the constructor's keywords: a preset's own name for its criterion ("remission")
    # as well as the dataclass fields
    known = {p for p in inspect.signature(cls).parameters if p != "self"}
    unknown = sorted(set(data) - known - {"rule"})
    if unknown:
        raise ValueError(f"{name} has no field(s) {', '.join(unknown)}; its fields: "
                         f"{', '.join(sorted(known))}")
    kwargs = {k: _criterion_class(v, classes) if k in _CRITERIA else _value(v)
              for k, v in data.items() if k != "rule"}
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"{name}: {error}") from None


#: Fields holding a per-visit criterion; the name of a criterion class there
#: (``criterion = "Response"``) means the protocol's criterion of that kind.
_CRITERIA = ("criterion", "response", "remission")


def _criterion_class(value: Any, classes: Mapping[str, type]) -> Any:
    if isinstance(value, str) and value in ("Response", "Remission"):
        return classes[value]
    return _value(value)


def _value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return rule_from_dict(value) if "rule" in value else dict(value)
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    return value


def rule_to_dict(rule: Any) -> dict[str, Any]:
    """The inline table of a rule (:func:`rule_from_dict` reads it back): its class and
    the fields that differ from their defaults.

    Examples
    --------
    >>> from ketex.derive.endpoints import Remission
    >>> rule_to_dict(Remission("MADRS", max_score=12))
    {'rule': 'Remission', 'scale': 'MADRS', 'max_score': 12.0}
    """
    out: dict[str, Any] = {"rule": type(rule).__name__}
    preset = getattr(rule, "_field", None)  # a preset names its criterion itself
    for f in dataclasses.fields(rule):
        if not f.init:
            continue
        value = getattr(rule, f.name)
        if f.name == "criterion" and isinstance(value, type):
            # the protocol's criterion: a preset's default, a piece's class by name
            if preset is None:
                out[f.name] = value.__name__
            continue
        name = preset[0] if preset is not None and f.name == "criterion" else f.name
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        if value is None or value == default:
            continue
        out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return rule_to_dict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def read_secondary(reader: _Reader, data: Any, key: str = "analysis.secondary"
                   ) -> SecondaryPlan | None:
    """``[analysis.secondary]`` from TOML data (None: problems recorded in ``reader``)."""
    if data is None:
        return SecondaryPlan()
    if not isinstance(data, Mapping):
        reader.problem(key, f"must be a table ([{key}]), got {type(data).__name__}")
        return None
    before = len(reader.problems)
    unknown = sorted(set(data) - set(ENDPOINTS))
    if unknown:
        reader.problem(key, f"unknown key(s) {', '.join(unknown)}; known keys: "
                       f"{', '.join(ENDPOINTS)}")
    values = {}
    for name in ENDPOINTS:
        if name not in data:
            continue
        value = data[name]
        if value is True:
            reader.problem(f"{key}.{name}", "true is not a rule; give a preset name, an "
                           "inline rule, or false (not analysed)")
        elif isinstance(value, Mapping):
            try:
                values[name] = rule_from_dict(value)
            except ValueError as error:
                reader.problem(f"{key}.{name}", str(error))
        elif isinstance(value, str | bool):
            values[name] = value
        else:
            reader.problem(f"{key}.{name}", f"must be a preset name, an inline rule "
                           f"({{ rule = \"Remission\", ... }}) or false, got {value!r}")
    if len(reader.problems) > before:
        return None
    return SecondaryPlan(**values)


def _preset(name: str) -> Any:
    return _endpoints_module().endpoint_preset(name)


def secondary_problems(plan: SecondaryPlan, protocol: Protocol,
                       key: str = "analysis.secondary") -> list[tuple[str, str]]:
    """``(key, what to do)`` for every endpoint of the plan that does not fit ``protocol``:
    an unknown preset, a visit the protocol lacks, a sustained response with no last
    visit.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> secondary_problems(SecondaryPlan(remission="MADRS<=8"), protocol)
    [('analysis.secondary.remission', "unknown endpoint preset 'MADRS<=8'; presets: ...")]
    """
    out = []
    for name in ENDPOINTS:
        value = getattr(plan, name)
        if isinstance(value, str):
            try:
                _preset(value)
            except ValueError as error:
                out.append((f"{key}.{name}", str(error)))
                continue
            value = _preset(value)
        if value is None or value is False:
            continue
        for field in ("visit", "from_visit", "through_visit"):
            visit = getattr(value, field, None)
            if visit is not None and visit not in protocol.visit_names:
                out.append((f"{key}.{name}.{field}", f"visit {visit!r} is not among "
                            f"[[visits]] ({', '.join(protocol.visit_names)})"))
        if (name == "sustained" and hasattr(value, "through_visit")
                and value.through_visit is None
                and not protocol.endpoints.sustained_through_visit):
            out.append((f"{key}.{name}", "no last visit: give through_visit in the rule or "
                        "[endpoints] sustained_through_visit"))
    return out


def secondary_endpoints(protocol: Protocol) -> tuple[SecondaryEndpoint, ...]:
    """The secondary endpoints of the protocol's plan, in table order, with their labels.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> for e in secondary_endpoints(protocol):
    ...     print(e.key, "|", e.label, "|", e.name)
    response | Response at WEEK12 | response (>= 50% reduction from baseline)
    remission | Remission (MADRS<=10) at WEEK12 | MADRS<=10
    sustained | Sustained response WEEK12-WEEK24 | WEEK24
    relapse | Relapse (SUSTAIN-1) among responders | SUSTAIN-1
    """
    endpoints = _endpoints_module()
    settings = protocol.endpoints
    plan = protocol.analysis.secondary
    primary = settings.primary_visit
    defaults = {
        "response": endpoints.Response(settings.response_reduction),
        "remission": settings.remission_preset,
        "sustained": (endpoints.SustainedResponse() if settings.sustained_through_visit
                      else False),
        "relapse": settings.relapse_preset or False,
    }
    out = []
    for key in ENDPOINTS:
        value = getattr(plan, key)
        value = defaults[key] if value is None else value
        if value is False:
            continue
        name, rule = (value, _preset(value)) if isinstance(value, str) else (None, value)
        preset = name
        if key == "response":
            out.append(SecondaryEndpoint(key, f"Response at {primary}", rule,
                                         name or rule.label, preset=preset))
        elif key == "remission":
            name = name or getattr(rule, "cutoff", None) or rule.label
            out.append(SecondaryEndpoint(key, f"Remission ({name}) at {primary}", rule, name,
                                         preset=preset))
        elif key == "sustained":
            start = getattr(rule, "from_visit", None) or primary
            through = getattr(rule, "through_visit", None) or settings.sustained_through_visit
            word = "remission" if "Remission" in type(rule).__name__ else "response"
            out.append(SecondaryEndpoint(key, f"Sustained {word} {start}-{through}", rule,
                                         str(through), preset=preset))
        else:
            name = name or getattr(rule, "name", None) or rule.label
            out.append(SecondaryEndpoint(key, f"Relapse ({name}) among responders", rule,
                                         name, desirable=False, preset=preset))
    return tuple(out)
