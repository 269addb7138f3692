"""The trial protocol: arms (their treatments and exercise), visit schedule, settings.

A :class:`Protocol` is read from the study folder's ``study.toml``. Every part is a
frozen dataclass, so a protocol can be shared freely and compared with ``==``. Each arm
owns its interventions: zero or more :class:`Treatment` entries (``[[arms.treatments]]``,
or the older single ``[arms.infusions]``) and its own :class:`ExercisePrescription`
(``[arms.exercise]``; ``exercise = false`` for none; absent: the study-level
``[exercise]``, if any). Every problem of a ``study.toml`` is reported at once, in one
:class:`ProtocolError`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from ketex.errors import KetexError
from ketex.study.derivation_plan import derivation_problems
from ketex.study.plan import AnalysisPlan, plan_problems, read_plan
from ketex.study.secondary_plan import secondary_problems

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
    "Treatment",
    "Visit",
]

DOSE_UNITS = ("mg/kg", "mg")
ROLES = ("active", "placebo", "active_placebo")


class ProtocolError(KetexError, ValueError):
    """``study.toml`` is malformed; the message names the file, the key and what to do.

    ``problems`` holds every problem found (each ``"<file>: <key>: <what to do>"``); the
    message is the one problem, or a count followed by one problem a line.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


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
class Treatment:
    """One drug an arm gives: active drug, placebo or active placebo, on planned days.

    Parameters
    ----------
    drug : str
        What is given: ``"ketamine"``, ``"esketamine"``, ``"midazolam"``, ``"saline"``, ...
    dose : float
        Dose per administration, in ``dose_unit`` (0 only for ``role="placebo"``); with
        ``doses``, the first of them.
    dose_unit : {"mg/kg", "mg"}
    days : tuple of int
        Study days of the planned administrations (day 0 = randomisation).
    role : {"active", "placebo", "active_placebo"}
        ``"active_placebo"``: a drug chosen to mimic the active drug's effects (midazolam
        0.045 mg/kg for ketamine), with a dose above 0.
    route : str
        ``"IV"``, ``"intranasal"``, ...
    duration_min : float or None
        Infusion duration in minutes (40 for the standard IV ketamine infusion).
    doses : tuple of float
        Per-administration doses, one per day of ``days`` (a titration such as esketamine
        56 mg then 84 mg); empty: ``dose`` every time.

    Examples
    --------
    >>> esk = Treatment("esketamine", 56.0, "mg", (1, 4, 8, 11), route="intranasal",
    ...                 duration_min=None, doses=(56.0, 56.0, 84.0, 84.0))
    >>> esk.planned_doses
    (56.0, 56.0, 84.0, 84.0)
    """

    drug: str
    dose: float
    dose_unit: str
    days: tuple[int, ...]
    role: str = "active"
    route: str = "IV"
    duration_min: float | None = None
    doses: tuple[float, ...] = ()

    @property
    def planned_doses(self) -> tuple[float, ...]:
        """The dose of each planned administration, in the order of ``days``."""
        return self.doses or tuple(self.dose for _ in self.days)

    def as_plan(self) -> InfusionPlan:
        """This treatment as the older :class:`InfusionPlan` (no role, one dose)."""
        return InfusionPlan(self.drug, self.route, self.dose, self.dose_unit,
                            self.duration_min, self.days)

    @classmethod
    def from_plan(cls, plan: InfusionPlan) -> Treatment:
        """An ``[arms.infusions]`` plan as a treatment of role ``"active"``."""
        return cls(plan.drug, plan.dose, plan.dose_unit, tuple(plan.days), "active",
                   plan.route, plan.duration_min)


@dataclass(frozen=True, init=False)
class Arm:
    """A trial arm: its code (as in ``participants.arm``), label, treatments and exercise.

    Parameters
    ----------
    code : str
    label : str
    infusions : InfusionPlan, optional
        Older form of one treatment of role ``"active"``; it becomes the first of
        ``treatments``.
    treatments : tuple of Treatment
        What the arm gives (may be empty: an exercise-only or usual-care arm).
    exercise : ExercisePrescription, False or None
        The arm's own exercise prescription; ``False``: the arm prescribes no exercise;
        None: not stated, the study-level ``Protocol.exercise`` applies (see
        :meth:`Protocol.exercise_for`).
    factors : tuple of (str, str)
        ``(factor, level)`` pairs of a factorial cell, e.g.
        ``(("drug", "ketamine"), ("exercise", "aerobic"))``; may be given as a mapping.

    Examples
    --------
    >>> arm = Arm("KET", infusions=InfusionPlan(days=(1, 3)))
    >>> arm.treatments[0].role, arm.infusions.days, arm.exercise
    ('active', (1, 3), None)
    """

    code: str
    label: str = ""
    treatments: tuple[Treatment, ...] = ()
    exercise: ExercisePrescription | bool | None = None
    factors: tuple[tuple[str, str], ...] = ()

    def __init__(
        self,
        code: str,
        label: str = "",
        infusions: InfusionPlan | None = None,
        *,
        treatments: tuple[Treatment, ...] = (),
        exercise: ExercisePrescription | bool | None = None,
        factors: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
    ) -> None:
        treatments = tuple(treatments)
        if infusions is not None:
            treatments = (Treatment.from_plan(infusions), *treatments)
        if isinstance(factors, Mapping):
            factors = tuple(factors.items())
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "treatments", treatments)
        object.__setattr__(self, "exercise", exercise)
        object.__setattr__(self, "factors", tuple((str(k), str(v)) for k, v in factors))

    @property
    def infusions(self) -> InfusionPlan | None:
        """The arm's first treatment as an :class:`InfusionPlan` (None without treatments)."""
        return self.treatments[0].as_plan() if self.treatments else None

    @property
    def drugs(self) -> tuple[str, ...]:
        """Names of the drugs the arm gives, lower case, in order, each once."""
        return tuple(dict.fromkeys(t.drug.lower() for t in self.treatments))


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
    """The structured exercise an arm prescribes (or every arm, as ``[exercise]``).

    ``modality`` is cycling, treadmill, resistance, hiit, stretching, relaxation, ...;
    ``hrr_fraction`` is the prescribed heart-rate-reserve zone (Karvonen); ACSM moderate
    intensity is 40-59 % of heart-rate reserve. ``sets``, ``repetitions`` and
    ``load_fraction_1rm`` describe resistance training.
    """

    modality: str = "cycling"
    sessions_per_week: int = 3
    duration_min: float = 45.0
    intensity: str = "moderate"
    hrr_fraction: tuple[float, float] = (0.40, 0.59)
    start_day: int = 1
    weeks: int = 12
    target_kkw: float | None = None
    sets: int | None = None
    repetitions: int | None = None
    load_fraction_1rm: float | None = None


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
    analysis: AnalysisPlan = field(default_factory=AnalysisPlan)

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

    def exercise_for(self, arm_code: str) -> ExercisePrescription | None:
        """The exercise prescription of an arm: its own, else the study-level one.

        None when the arm says ``exercise = false`` or when neither the arm nor the
        study prescribes exercise.

        Examples
        --------
        >>> study = ExercisePrescription(modality="cycling")
        >>> protocol = Protocol("X", (Arm("A"), Arm("B", exercise=False)),
        ...                     (Visit("BASELINE", 0, (-7, 0)),), exercise=study)
        >>> protocol.exercise_for("A").modality, protocol.exercise_for("B")
        ('cycling', None)
        """
        own = self.arm(arm_code).exercise
        if own is False:
            return None
        return own if isinstance(own, ExercisePrescription) else self.exercise

    @property
    def factors(self) -> dict[str, tuple[str, ...]]:
        """Factor name -> its levels, both in the order of first appearance in the arms."""
        levels: dict[str, dict[str, None]] = {}
        for arm in self.arms:
            for name, level in arm.factors:
                levels.setdefault(name, {})[level] = None
        return {name: tuple(values) for name, values in levels.items()}

    # -- conversion -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The protocol as the nested dictionary ``study.toml`` holds (None values omitted).

        An arm whose one treatment is an active drug with a single dose and a duration is
        written in the older ``[arms.infusions]`` form (it reads back the same);
        otherwise treatments are written as ``[[arms.treatments]]``.
        """
        return _drop_none(
            {
                "study": {
                    "id": self.study_id,
                    "title": self.title,
                    "primary_scale": self.primary_scale,
                },
                "arms": [_arm_dict(arm) for arm in self.arms],
                "visits": [asdict(visit) for visit in self.visits],
                "exercise": asdict(self.exercise) if self.exercise else None,
                "scoring": asdict(self.scoring),
                "endpoints": asdict(self.endpoints),
                "analysis": self.analysis.to_dict(),
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "study.toml") -> Protocol:
        """Build a protocol from the nested dictionary of ``study.toml``.

        Raises
        ------
        ProtocolError
            When keys are missing, unknown or of the wrong type, or entries contradict
            each other; every problem is listed, each naming ``source`` and the key.
        """
        reader = _Reader(source)
        study = reader.table(data, "study", required=True)
        # [estimands] is read by ketex.estimands.spec (read_estimand_spec) from the same file
        known = ("study", "arms", "visits", "exercise", "scoring", "endpoints", "analysis",
                 "estimands")
        unknown = sorted(set(data) - set(known))
        if unknown:
            reader.problem("(top level)", f"unknown table(s) {', '.join(unknown)}; known: "
                           f"{', '.join(known)}")
        arms = tuple(
            reader.arm(item, f"arms[{i}]") for i, item in enumerate(reader.array(data, "arms"))
        )
        visits = tuple(
            reader.build(Visit, item, f"visits[{i}]")
            for i, item in enumerate(reader.array(data, "visits"))
        )
        exercise = data.get("exercise")
        if exercise is not None:
            exercise = reader.exercise(exercise, "exercise")
        scoring = reader.build(ScoringSettings, data.get("scoring", {}), "scoring")
        endpoints = reader.build(EndpointSettings, data.get("endpoints", {}), "endpoints")
        analysis = read_plan(reader, data.get("analysis"))
        study_id = reader.value(study, "id", "study.id") if study else None
        parts = (*arms, *visits, scoring, endpoints, analysis, study_id)
        if any(part is None for part in parts) or exercise is False:
            reader.check_partial(
                [a for a in arms if a is not None], [v for v in visits if v is not None]
            )
            reader.raise_if_any()
        protocol = cls(
            study_id=str(study_id),
            title=str(study.get("title", "")),
            primary_scale=str(study.get("primary_scale", "MADRS")),
            arms=arms,
            visits=visits,
            exercise=exercise,
            scoring=scoring,
            endpoints=endpoints,
            analysis=analysis,
        )
        reader.check(protocol)
        reader.raise_if_any()
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


def _arm_dict(arm: Arm) -> dict[str, Any]:
    out: dict[str, Any] = {"code": arm.code, "label": arm.label}
    if arm.factors:
        out["factors"] = dict(arm.factors)
    plain = (
        len(arm.treatments) == 1
        and arm.treatments[0].role == "active"
        and not arm.treatments[0].doses
        and arm.treatments[0].duration_min is not None
    )
    if plain:
        out["infusions"] = asdict(arm.treatments[0].as_plan())
    elif arm.treatments:
        out["treatments"] = [
            {k: v for k, v in asdict(t).items() if not (k == "doses" and not v)}
            for t in arm.treatments
        ]
    if arm.exercise is False:
        out["exercise"] = False
    elif isinstance(arm.exercise, ExercisePrescription):
        out["exercise"] = asdict(arm.exercise)
    return out


_ARM_KEYS = ("code", "label", "factors", "treatments", "infusions", "exercise")


class _Reader:
    """Turns TOML data into dataclasses, collecting errors that name the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, key: str, what: str) -> None:
        self.problems.append(f"{self.source}: {key}: {what}")

    def raise_if_any(self) -> None:
        if len(self.problems) == 1:
            raise ProtocolError(self.problems[0], tuple(self.problems))
        if self.problems:
            lines = "\n".join(f"  {p}" for p in self.problems)
            raise ProtocolError(
                f"{self.source}: {len(self.problems)} problems; fix each of them:\n{lines}",
                tuple(self.problems),
            )

    def table(self, data: Mapping[str, Any], key: str, required: bool = False) -> Mapping:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(key, f"missing; add a [{key}] table")
            return {}
        if not isinstance(value, Mapping):
            self.problem(key, f"must be a table ([{key}]), got {type(value).__name__}")
            return {}
        return value

    def array(self, data: Mapping[str, Any], key: str) -> list[Mapping]:
        value = data.get(key)
        if not value:
            self.problem(key, f"missing; add at least one [[{key}]] entry")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.problem(key, f"must be an array of tables ([[{key}]])")
            return []
        return value

    def value(self, data: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in data:
            self.problem(path, "missing; it is required")
            return None
        return data[key]

    def build(self, cls: type, data: Any, path: str) -> Any:
        """The dataclass ``cls`` from ``data``, or None (problems recorded)."""
        if not isinstance(data, Mapping):
            self.problem(path, f"must be a table, got {type(data).__name__}")
            return None
        before = len(self.problems)
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            self.problem(
                path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(known)}"
            )
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name in known:
                kwargs[name] = self._typed(known[name], value, f"{path}.{name}")
        missing = [
            name
            for name, f in known.items()
            if name not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            self.problem(path, f"missing required key(s) {', '.join(missing)}")
        if len(self.problems) > before:
            return None
        return cls(**kwargs)

    def arm(self, data: Mapping[str, Any], path: str) -> Arm | None:
        """One ``[[arms]]`` entry with its treatments, exercise and factors."""
        before = len(self.problems)
        unknown = sorted(set(data) - set(_ARM_KEYS))
        if unknown:
            self.problem(
                path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(_ARM_KEYS)}"
            )
        code = self.value(data, "code", f"{path}.code")
        if code is not None and not isinstance(code, str):
            self.problem(f"{path}.code", f"must be a string, got {code!r}")
        label = data.get("label", "")
        if not isinstance(label, str):
            self.problem(f"{path}.label", f"must be a string, got {label!r}")
        treatments: list[Treatment | None] = []
        if "infusions" in data:
            plan = self.build(InfusionPlan, data["infusions"], f"{path}.infusions")
            if plan is not None:
                self._dose_unit(plan.dose_unit, f"{path}.infusions.dose_unit")
                treatments.append(Treatment.from_plan(plan))
        given = data.get("treatments", [])
        if not isinstance(given, list) or not all(isinstance(t, Mapping) for t in given):
            self.problem(f"{path}.treatments", "must be an array of tables ([[arms.treatments]])")
            given = []
        for k, item in enumerate(given):
            treatments.append(self.treatment(item, f"{path}.treatments[{k}]"))
        exercise = data.get("exercise")
        if exercise is not None:
            exercise = self.exercise(exercise, f"{path}.exercise", allow_false=True)
        factors = data.get("factors", {})
        if not isinstance(factors, Mapping) or not all(
            isinstance(v, str) for v in factors.values()
        ):
            self.problem(f"{path}.factors", 'must be a table of names and levels, e.g. '
                         '{ drug = "ketamine", exercise = "aerobic" }')
            factors = {}
        if len(self.problems) > before:
            return None
        return Arm(code, label, treatments=tuple(treatments), exercise=exercise, factors=factors)

    def treatment(self, data: Mapping[str, Any], path: str) -> Treatment | None:
        doses = data.get("doses")
        if "dose" not in data and isinstance(doses, list) and doses:
            data = {**data, "dose": doses[0]}
        treatment = self.build(Treatment, data, path)
        if treatment is None:
            return None
        if treatment.role not in ROLES:
            self.problem(f"{path}.role", f"{treatment.role!r} must be one of {', '.join(ROLES)}")
        self._dose_unit(treatment.dose_unit, f"{path}.dose_unit")
        if treatment.doses and len(treatment.doses) != len(treatment.days):
            self.problem(f"{path}.doses", f"{len(treatment.doses)} doses for "
                         f"{len(treatment.days)} days; give one dose per day of days")
        for key, values in (("dose", (treatment.dose,)), ("doses", treatment.doses)):
            if any(v < 0 for v in values):
                self.problem(f"{path}.{key}", "must not be negative")
            elif any(v == 0 for v in values) and treatment.role != "placebo":
                self.problem(f"{path}.{key}", f'0 is a dose only for role "placebo"; this '
                             f"{treatment.role} {treatment.drug} needs its dose above 0")
        return treatment

    def exercise(self, data: Any, path: str, allow_false: bool = False) -> Any:
        if isinstance(data, bool):
            if data is False and allow_false:
                return False
            self.problem(path, "must be a table ([exercise] or [arms.exercise])"
                         + ("; exercise = false says the arm prescribes none" if allow_false
                            else "; remove it when no arm prescribes exercise"))
            return False
        prescription = self.build(ExercisePrescription, data, path)
        if prescription is None:
            return False
        low_high = prescription.hrr_fraction
        if len(low_high) != 2 or not 0 <= low_high[0] <= low_high[1] <= 1:
            self.problem(f"{path}.hrr_fraction", f"{list(low_high)} must be [low, high] "
                         "fractions of heart-rate reserve, 0 <= low <= high <= 1")
        for key in ("sessions_per_week", "weeks"):
            if getattr(prescription, key) < 1:
                self.problem(f"{path}.{key}", "must be at least 1; for an arm without "
                             "exercise write exercise = false")
        return prescription

    def _dose_unit(self, unit: str, path: str) -> None:
        if unit not in DOSE_UNITS:
            self.problem(path, f"{unit!r} is not a known unit; use one of {', '.join(DOSE_UNITS)}")

    def _typed(self, spec: Any, value: Any, path: str) -> Any:
        """Check a value against the field's type as written in its annotation."""
        annotation = str(spec.type)
        if annotation.startswith("tuple"):
            if not isinstance(value, list):
                self.problem(path, f"must be an array, got {value!r}")
                return value
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
            self.problem(path, f"must be a number, got {value!r}")
        elif annotation.startswith("int") and " | None" not in annotation and isinstance(
            value, float
        ):
            self.problem(path, f"must be a whole number, got {value!r}")
        elif annotation.startswith("bool") and not isinstance(value, bool):
            self.problem(path, f"must be true or false, got {value!r}")
        elif annotation.startswith("str") and not isinstance(value, str):
            self.problem(path, f"must be a string, got {value!r}")

    def check_partial(self, arms: list[Arm], visits: list[Visit]) -> None:
        """The cross checks that need only the arms and visits that could be read."""
        self._check_names(tuple(a.code for a in arms), tuple(v.name for v in visits))
        self._check_factors(arms)

    def _check_names(self, codes: tuple[str, ...], names: tuple[str, ...]) -> None:
        for key, values in (("arms", codes), ("visits", names)):
            duplicated = sorted({n for n in values if values.count(n) > 1})
            if duplicated:
                self.problem(key, f"duplicated name(s) {', '.join(duplicated)}")

    def _check_factors(self, arms: list[Arm] | tuple[Arm, ...]) -> None:
        declared = [a.code for a in arms if a.factors]
        if not declared:
            return
        names = [name for name, _ in next(a for a in arms if a.factors).factors]
        cells: dict[tuple[tuple[str, str], ...], str] = {}
        for i, arm in enumerate(arms):
            if not arm.factors:
                self.problem(f"arms[{i}].factors", f"missing; arm(s) {', '.join(declared)} "
                             "declare factors, so every arm must (or none)")
                continue
            if sorted(n for n, _ in arm.factors) != sorted(names):
                self.problem(f"arms[{i}].factors", f"names {', '.join(n for n, _ in arm.factors)}"
                             f" differ from the first factorial arm's {', '.join(names)}")
                continue
            cell = tuple(sorted(arm.factors))
            if cell in cells:
                self.problem(f"arms[{i}].factors", f"the same cell as arm {cells[cell]}; "
                             "every arm must be a distinct combination of levels")
            cells.setdefault(cell, arm.code)

    def check(self, protocol: Protocol) -> None:
        """Checks that span several entries: unique codes, windows, factors, settings."""
        self._check_names(protocol.arm_codes, protocol.visit_names)
        self._check_factors(protocol.arms)
        for i, visit in enumerate(protocol.visits):
            window = visit.window
            if len(window) != 2 or not window[0] <= visit.day <= window[1]:
                self.problem(
                    f"visits[{i}].window",
                    f"visit {visit.name}: window {list(window)} must be [first_day, "
                    f"last_day] around its day {visit.day}",
                )
            for arm in visit.arms:
                if arm not in protocol.arm_codes:
                    self.problem(f"visits[{i}].arms", f"arm {arm!r} is not among [[arms]]")
        if not 0.5 <= protocol.scoring.min_answered <= 1:
            self.problem(
                "scoring.min_answered",
                f"{protocol.scoring.min_answered} must lie in [0.5, 1]: never prorate from "
                "fewer than half the items",
            )
        for key, what in plan_problems(protocol.analysis.primary, protocol):
            self.problem(key, what)
        for key, what in secondary_problems(protocol.analysis.secondary, protocol):
            self.problem(key, what)
        for key, what in derivation_problems(protocol.analysis.derivation):
            self.problem(key, what)
