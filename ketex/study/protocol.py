"""The trial protocol: arms, visit schedule, infusion plan, exercise prescription.

A :class:`Protocol` is read from the study folder's ``study.toml``. Every part is a
frozen dataclass, so a protocol can be shared freely and compared with ``==``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "Arm",
    "EndpointSettings",
    "ExercisePrescription",
    "InfusionPlan",
    "Protocol",
    "ProtocolError",
    "ScoringSettings",
    "Visit",
]

DOSE_UNITS = ("mg/kg", "mg")


class ProtocolError(ValueError):
    """``study.toml`` is malformed; the message names the file, the key and what to do."""


@dataclass(frozen=True)
class InfusionPlan:
    """The infusions an arm prescribes.

    Parameters
    ----------
    drug : str
        ``"ketamine"`` (racemic, IV) or ``"esketamine"`` (intranasal), or another name.
    route : str
        ``"IV"``, ``"intranasal"``, ...
    dose : float
        Dose per administration, in ``dose_unit``.
    dose_unit : {"mg/kg", "mg"}
    duration_min : float or None
        Infusion duration in minutes (40 for the standard IV ketamine infusion).
    days : tuple of int
        Study days of the planned infusions (day 0 = randomisation).
    """

    drug: str = "ketamine"
    route: str = "IV"
    dose: float = 0.5
    dose_unit: str = "mg/kg"
    duration_min: float | None = 40.0
    days: tuple[int, ...] = (1,)


@dataclass(frozen=True)
class Arm:
    """A treatment arm: its code (as in ``participants.arm``), a label and its infusions."""

    code: str
    label: str = ""
    infusions: InfusionPlan | None = None


@dataclass(frozen=True)
class Visit:
    """A scheduled assessment visit.

    Parameters
    ----------
    name : str
        Visit label as it appears in ``assessments.visit`` (e.g. ``"WEEK12"``).
    day : int
        Target study day.
    window : tuple of int
        Inclusive ``(first_day, last_day)`` in which an assessment counts for this visit.
    instruments : tuple of str
        Scales assessed at this visit; empty means the primary scale only.
    arms : tuple of str
        Arms that have this visit; empty means every arm.
    """

    name: str
    day: int
    window: tuple[int, int]
    instruments: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()

    def contains(self, day: float) -> bool:
        """Whether ``day`` lies inside the visit window (inclusive)."""
        return self.window[0] <= day <= self.window[1]


@dataclass(frozen=True)
class ExercisePrescription:
    """The structured exercise every arm prescribes.

    ``hrr_fraction`` is the prescribed heart-rate-reserve zone (Karvonen); ACSM moderate
    intensity is 40-59 % of heart-rate reserve.
    """

    modality: str = "cycling"
    sessions_per_week: int = 3
    duration_min: float = 45.0
    intensity: str = "moderate"
    hrr_fraction: tuple[float, float] = (0.40, 0.59)
    start_day: int = 1
    weeks: int = 12
    target_kkw: float | None = None


@dataclass(frozen=True)
class ScoringSettings:
    """How totals are computed from items: prorating rule for missing items."""

    prorate: bool = True
    min_answered: float = 0.8
    round_prorated: bool = False


@dataclass(frozen=True)
class EndpointSettings:
    """Endpoint settings named by the protocol; the rules themselves live in ``ketex.derive``."""

    baseline_visit: str = "BASELINE"
    primary_visit: str = "WEEK12"
    response_reduction: float = 0.5
    remission_preset: str = "MADRS<=10"
    relapse_preset: str = "SUSTAIN-1"
    sustained_through_visit: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """A trial protocol as declared in ``study.toml``.

    Examples
    --------
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> protocol = Protocol(
    ...     study_id="DEMO",
    ...     arms=(Arm("SINGLE"), Arm("SERIES")),
    ...     visits=(Visit("BASELINE", 0, (-14, 0)), Visit("WEEK12", 84, (77, 91))),
    ... )
    >>> protocol.arm_codes
    ('SINGLE', 'SERIES')
    >>> Protocol.from_dict(protocol.to_dict()) == protocol
    True
    """

    study_id: str
    arms: tuple[Arm, ...]
    visits: tuple[Visit, ...]
    title: str = ""
    primary_scale: str = "MADRS"
    exercise: ExercisePrescription | None = None
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    endpoints: EndpointSettings = field(default_factory=EndpointSettings)

    @property
    def arm_codes(self) -> tuple[str, ...]:
        """Codes of the arms, in protocol order."""
        return tuple(arm.code for arm in self.arms)

    @property
    def visit_names(self) -> tuple[str, ...]:
        """Names of the scheduled visits, in protocol order."""
        return tuple(visit.name for visit in self.visits)

    def arm(self, code: str) -> Arm:
        """The arm with this code; ``KeyError`` naming the known codes otherwise."""
        for arm in self.arms:
            if arm.code == code:
                return arm
        raise KeyError(f"arm {code!r} is not in the protocol; arms: {', '.join(self.arm_codes)}")

    def visit(self, name: str) -> Visit:
        """The visit with this name; ``KeyError`` naming the known visits otherwise."""
        for visit in self.visits:
            if visit.name == name:
                return visit
        raise KeyError(
            f"visit {name!r} is not in the protocol; visits: {', '.join(self.visit_names)}"
        )

    # -- conversion -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The protocol as the nested dictionary ``study.toml`` holds (None values omitted)."""
        return _drop_none(
            {
                "study": {
                    "id": self.study_id,
                    "title": self.title,
                    "primary_scale": self.primary_scale,
                },
                "arms": [asdict(arm) for arm in self.arms],
                "visits": [asdict(visit) for visit in self.visits],
                "exercise": asdict(self.exercise) if self.exercise else None,
                "scoring": asdict(self.scoring),
                "endpoints": asdict(self.endpoints),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "study.toml") -> Protocol:
        """Build a protocol from the nested dictionary of ``study.toml``.

        Raises
        ------
        ProtocolError
            When a key is missing, unknown or of the wrong type; the message names
            ``source`` and the key.
        """
        reader = _Reader(source)
        study = reader.table(data, "study", required=True)
        arms = tuple(
            reader.build(Arm, item, f"arms[{i}]", nested={"infusions": InfusionPlan})
            for i, item in enumerate(reader.array(data, "arms"))
        )
        visits = tuple(
            reader.build(Visit, item, f"visits[{i}]")
            for i, item in enumerate(reader.array(data, "visits"))
        )
        exercise = data.get("exercise")
        protocol = cls(
            study_id=str(reader.value(study, "id", "study.id")),
            title=str(study.get("title", "")),
            primary_scale=str(study.get("primary_scale", "MADRS")),
            arms=arms,
            visits=visits,
            exercise=(
                reader.build(ExercisePrescription, exercise, "exercise")
                if exercise is not None
                else None
            ),
            scoring=reader.build(ScoringSettings, data.get("scoring", {}), "scoring"),
            endpoints=reader.build(EndpointSettings, data.get("endpoints", {}), "endpoints"),
        )
        reader.check(protocol)
        return protocol

    @classmethod
    def read(cls, path: str | Path) -> Protocol:
        """Read ``study.toml``.

        Raises
        ------
        OSError
            When the file does not exist.
        ProtocolError
            When it is not valid TOML or not a valid protocol.
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        return cls.from_toml_text(text, source=str(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "study.toml") -> Protocol:
        """Parse a protocol from TOML text (as in ``study.toml``)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProtocolError(f"{source}: not valid TOML ({exc}); fix the syntax") from None
        return cls.from_dict(data, source=source)

    def to_toml(self) -> str:
        """The protocol as ``study.toml`` text."""
        return tomli_w.dumps(self.to_dict())

    def write(self, path: str | Path) -> Path:
        """Write ``study.toml`` to ``path`` and return the path."""
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


class _Reader:
    """Turns TOML data into dataclasses, with errors that name the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, what: str) -> ProtocolError:
        return ProtocolError(f"{self.source}: {key}: {what}")

    def table(self, data: Mapping[str, Any], key: str, required: bool = False) -> Mapping:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(key, f"missing; add a [{key}] table")
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table ([{key}]), got {type(value).__name__}")
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping]:
        value = data.get(key)
        if not value:
            raise self.fail(key, f"missing; add at least one [[{key}]] entry")
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(key, f"must be an array of tables ([[{key}]])")
        return value

    def value(self, data: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in data:
            raise self.fail(path, "missing; it is required")
        return data[key]

    def build(self, cls: type, data: Any, path: str, nested: Mapping[str, type] | None = None):
        if not isinstance(data, Mapping):
            raise self.fail(path, f"must be a table, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise self.fail(
                path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(known)}"
            )
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if nested and name in nested:
                value = self.build(nested[name], value, f"{path}.{name}")
            else:
                value = self._typed(known[name], value, f"{path}.{name}")
            kwargs[name] = value
        missing = [
            name
            for name, f in known.items()
            if name not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise self.fail(path, f"missing required key(s) {', '.join(missing)}")
        return cls(**kwargs)

    def _typed(self, spec: Any, value: Any, path: str) -> Any:
        """Check a value against the field's type as written in its annotation."""
        annotation = str(spec.type)
        if annotation.startswith("tuple"):
            if not isinstance(value, list):
                raise self.fail(path, f"must be an array, got {value!r}")
            element = annotation[len("tuple["):].split(",")[0].split("]")[0].strip()
            for k, item in enumerate(value):
                self._check_scalar(element, item, f"{path}[{k}]")
            return tuple(value)
        self._check_scalar(annotation, value, path)
        return value

    def _check_scalar(self, annotation: str, value: Any, path: str) -> None:
        if annotation.startswith(("int", "float")) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise self.fail(path, f"must be a number, got {value!r}")
        if annotation.startswith("int") and " | None" not in annotation and isinstance(
            value, float
        ):
            raise self.fail(path, f"must be a whole number, got {value!r}")
        if annotation.startswith("bool") and not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {value!r}")
        if annotation.startswith("str") and not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {value!r}")

    def check(self, protocol: Protocol) -> None:
        """Checks that span several entries: unique codes, windows, units."""
        for key, names in (("arms", protocol.arm_codes), ("visits", protocol.visit_names)):
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                raise self.fail(key, f"duplicated name(s) {', '.join(duplicated)}")
        for i, visit in enumerate(protocol.visits):
            window = visit.window
            if len(window) != 2 or not window[0] <= visit.day <= window[1]:
                raise self.fail(
                    f"visits[{i}].window",
                    f"visit {visit.name}: window {list(window)} must be [first_day, "
                    f"last_day] around its day {visit.day}",
                )
            for arm in visit.arms:
                if arm not in protocol.arm_codes:
                    raise self.fail(f"visits[{i}].arms", f"arm {arm!r} is not among [[arms]]")
        for i, arm in enumerate(protocol.arms):
            plan = arm.infusions
            if plan is not None and plan.dose_unit not in DOSE_UNITS:
                raise self.fail(
                    f"arms[{i}].infusions.dose_unit",
                    f"{plan.dose_unit!r} is not a known unit; use one of {', '.join(DOSE_UNITS)}",
                )
        if not 0.5 <= protocol.scoring.min_answered <= 1:
            raise self.fail(
                "scoring.min_answered",
                f"{protocol.scoring.min_answered} must lie in [0.5, 1]: never prorate from "
                "fewer than half the items",
            )
