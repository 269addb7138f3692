"""The design of a simulated trial: who is enrolled, what they receive, how they fare.

A :class:`TrialDesign` is a frozen dataclass of frozen parts, one per concern. Its
defaults are the Yale-style sample study (single ketamine infusion + exercise vs six
infusions over two weeks + exercise; see ``docs`` and ``../shared/domain.md``), so
``TrialDesign()`` is the design of ``ketex/data/sample``. Change a part with
:func:`dataclasses.replace`. A design is stored as the ``[design]`` section of a TOML file
(:meth:`TrialDesign.to_toml`, :meth:`TrialDesign.read`).

The model behind the numbers is described in :mod:`ketex.simulate.trajectories`.
"""

from __future__ import annotations

import datetime
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from ketex.simulate import _config
from ketex.simulate._checks import ordered_range, positive, probability, require
from ketex.simulate.safety import SafetyDesign
from ketex.study.protocol import (
    Arm,
    EndpointSettings,
    ExercisePrescription,
    InfusionPlan,
    Protocol,
    Treatment,
    Visit,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "AddedEffectDesign",
    "ArmDesign",
    "BaselineDesign",
    "CourseDesign",
    "DropoutDesign",
    "EndpointDesign",
    "ExerciseDesign",
    "HospitalisationDesign",
    "KetamineDesign",
    "MeasurementDesign",
    "PopulationDesign",
    "RelapseDesign",
    "TrialDesign",
]

#: kcal per kg per minute for one MET (3.5 mL O2/kg/min x 5 kcal/L / 1000): KKW = 0.0175 x MET-min
KCAL_PER_KG_PER_MET_MIN = 0.0175
POST_INFUSION_VISIT = "INF{k}_24H"


@dataclass(frozen=True)
class ArmDesign:
    """A treatment arm: its infusions and its exercise programme.

    Parameters
    ----------
    code : str
        Arm code as it appears in ``participants.arm``.
    label : str
        Description for tables and figures.
    infusion_days : tuple of int
        Study days of the infusions (day 0 = randomisation).
    dose_mg_per_kg : float
        Dose of each infusion; 0.5 mg/kg is the standard IV ketamine dose.
    infusion_duration_min : float
        Duration of each infusion; 40 minutes is standard.
    drug, route : str
        ``"ketamine"``, ``"IV"``.
    role : {"active", "active_placebo", "placebo"}, optional
        The role of the drug (None: ``"active"``). Only an active drug has the ketamine
        effect (:class:`KetamineDesign`); an active placebo such as midazolam 0.045 mg/kg
        has none, so its arm improves by the nonspecific course and exercise alone.
    exercise : ExerciseDesign, optional
        The arm's own exercise programme (e.g. a stretching control); None: the trial's
        ``TrialDesign.exercise``.
    factors : tuple of (str, str), optional
        ``(factor, level)`` pairs of a factorial cell, written to the protocol's arms.
    """

    code: str
    label: str = ""
    infusion_days: tuple[int, ...] = (1,)
    dose_mg_per_kg: float = 0.5
    infusion_duration_min: float = 40.0
    drug: str = "ketamine"
    route: str = "IV"
    # None rather than a value so that designs without them write the same TOML as before
    role: str | None = None
    exercise: ExerciseDesign | None = None
    factors: tuple[tuple[str, str], ...] | None = None

    @property
    def active(self) -> bool:
        """Whether the arm's drug has the ketamine effect."""
        return self.role in (None, "active")

    def __post_init__(self) -> None:
        where = f"ArmDesign {self.code!r}:"
        require(bool(self.code.strip()), "ArmDesign.code", "must not be empty")
        require(self.role in (None, "active", "active_placebo", "placebo"), f"{where} role",
                 f"must be active, active_placebo or placebo, got {self.role!r}")
        days = self.infusion_days
        require(all(d >= 0 for d in days), f"{where} infusion_days", f"must be >= 0, got {days}")
        require(list(days) == sorted(set(days)), f"{where} infusion_days",
                 f"must be increasing without repeats, got {days}")
        require(0 < self.dose_mg_per_kg <= 1.0, f"{where} dose_mg_per_kg",
                 f"must lie in (0, 1] mg/kg (0.5 is standard), got {self.dose_mg_per_kg}")
        positive(self, "infusion_duration_min")


@dataclass(frozen=True)
class PopulationDesign:
    """Characteristics of the enrolled participants (pairs are (female, male))."""

    age_mean_years: float = 40.0
    age_sd_years: float = 12.0
    age_range_years: tuple[float, float] = (18.0, 65.0)
    female_fraction: float = 0.6
    weight_mean_kg: tuple[float, float] = (72.0, 86.0)
    weight_sd_kg: float = 14.0
    height_mean_cm: tuple[float, float] = (163.0, 177.0)
    height_sd_cm: float = 7.0
    resting_hr_mean: float = 72.0
    resting_hr_sd: float = 9.0
    beta_blocker_fraction: float = 0.05

    def __post_init__(self) -> None:
        positive(self, "age_sd_years", "weight_sd_kg", "height_sd_cm", "resting_hr_sd",
                  allow_zero=True)
        positive(self, "age_mean_years", "resting_hr_mean")
        probability(self, "female_fraction", "beta_blocker_fraction")
        ordered_range(self, "age_range_years")
        require(self.age_range_years[0] >= 12, "PopulationDesign.age_range_years",
                 f"must start at 12 years or later, got {self.age_range_years}")


@dataclass(frozen=True)
class BaselineDesign:
    """Baseline MADRS: normal, participants rated below the eligibility cut-off are not enrolled."""

    mean_madrs: float = 32.0
    sd_madrs: float = 4.0
    eligibility_min_madrs: float = 22.0

    def __post_init__(self) -> None:
        positive(self, "sd_madrs", allow_zero=True)
        require(0 < self.mean_madrs < 60, "BaselineDesign.mean_madrs",
                 f"must lie in (0, 60), got {self.mean_madrs}")
        require(0 <= self.eligibility_min_madrs < 60, "BaselineDesign.eligibility_min_madrs",
                 f"must lie in [0, 60), got {self.eligibility_min_madrs}")
        require(self.eligibility_min_madrs <= self.mean_madrs + 2 * self.sd_madrs,
                 "BaselineDesign.eligibility_min_madrs",
                 f"{self.eligibility_min_madrs} leaves almost nobody eligible with mean "
                 f"{self.mean_madrs} and sd {self.sd_madrs}")


@dataclass(frozen=True)
class CourseDesign:
    """The course of depression apart from ketamine and exercise.

    Parameters
    ----------
    nonspecific_improvement_madrs : float
        Improvement every participant approaches after randomisation (expectancy, regression
        to the mean, care), reached with time constant ``nonspecific_time_constant_days``.
    intercept_sd_madrs : float
        SD of the participant random intercept: each participant's lasting deviation
        from the arm's mean course after randomisation.
    site_sd_madrs : float
        SD of the site random effect, likewise after randomisation.
    """

    nonspecific_improvement_madrs: float = 8.0
    nonspecific_time_constant_days: float = 21.0
    intercept_sd_madrs: float = 5.0
    site_sd_madrs: float = 1.0

    def __post_init__(self) -> None:
        positive(self, "nonspecific_improvement_madrs", "intercept_sd_madrs", "site_sd_madrs",
                  allow_zero=True)
        positive(self, "nonspecific_time_constant_days")


@dataclass(frozen=True)
class KetamineDesign:
    """The antidepressant effect of ketamine infusions.

    Parameters
    ----------
    acute_effect_madrs : float
        Fall in MADRS 24 hours after one infusion.
    half_life_days : float
        Half-life of that effect for a participant who does no exercise; exercise lengthens
        it (:attr:`ExerciseDesign.half_life_days_per_kkw`).
    max_total_effect_madrs : float
        Cap on the summed effect of repeated infusions (scores also never fall below 0).
    """

    acute_effect_madrs: float = 14.0
    half_life_days: float = 4.0
    max_total_effect_madrs: float = 20.0

    def __post_init__(self) -> None:
        positive(self, "acute_effect_madrs", "max_total_effect_madrs", allow_zero=True)
        positive(self, "half_life_days")


@dataclass(frozen=True)
class ExerciseDesign:
    """The exercise prescription, how participants follow it, and what the dose does.

    Parameters
    ----------
    session_offsets_days : tuple of int
        Days of the sessions within each week, counted from ``start_day``: ``(0, 2, 4)`` is
        Monday, Wednesday, Friday when ``start_day`` falls on a Monday.
    duration_min, hrr_fraction, intensity, modality, start_day, weeks
        The prescription (ACSM moderate intensity = 40-59 % of heart-rate reserve).
    target_met : float
        Intended MET level; with the sessions it gives the protocol's target KKW
        (6.8 MET x 45 min x 3/week = 16.1 KKW).
    adherence_alpha, adherence_beta : float
        Beta distribution of each participant's probability of attending a session.
    completion_probability : float
        Probability that an attended session lasts its full duration.
    initial_met_mean, initial_met_sd, training_met_gain : float
        Each participant's working MET level in the first week (normal), and the gain
        reached by the last week of training.
    hrr_fraction_mean, hrr_fraction_sd_between, hrr_fraction_sd_within : float
        Achieved share of heart-rate reserve: participant mean, SD between participants,
        SD between sessions.
    half_life_days_per_kkw : float
        Days added to the ketamine half-life per KKW of achieved exercise dose.
    effect_madrs_per_kkw, effect_time_constant_days : float
        Direct antidepressant effect of exercise per KKW, reached with this time constant
        from the first session and kept afterwards.
    """

    modality: str = "cycling"
    session_offsets_days: tuple[int, ...] = (0, 2, 4)
    duration_min: float = 45.0
    intensity: str = "moderate"
    hrr_fraction: tuple[float, float] = (0.40, 0.59)
    start_day: int = 1
    weeks: int = 12
    target_met: float = 6.8
    adherence_alpha: float = 6.0
    adherence_beta: float = 2.0
    completion_probability: float = 0.9
    initial_met_mean: float = 5.6
    initial_met_sd: float = 0.8
    training_met_gain: float = 1.0
    hrr_fraction_mean: float = 0.50
    hrr_fraction_sd_between: float = 0.04
    hrr_fraction_sd_within: float = 0.04
    half_life_days_per_kkw: float = 0.3
    effect_madrs_per_kkw: float = 0.5
    effect_time_constant_days: float = 28.0

    def __post_init__(self) -> None:
        offsets = self.session_offsets_days
        require(len(offsets) > 0 and list(offsets) == sorted(set(offsets))
                 and offsets[0] >= 0 and offsets[-1] < 7,
                 "ExerciseDesign.session_offsets_days",
                 f"must be increasing days within a week (0-6), got {offsets}")
        positive(self, "duration_min", "weeks", "target_met", "adherence_alpha",
                  "adherence_beta", "initial_met_mean", "effect_time_constant_days")
        positive(self, "initial_met_sd", "training_met_gain", "hrr_fraction_sd_between",
                  "hrr_fraction_sd_within", "half_life_days_per_kkw", "effect_madrs_per_kkw",
                  "start_day", allow_zero=True)
        probability(self, "completion_probability", "hrr_fraction_mean")
        ordered_range(self, "hrr_fraction")

    @property
    def sessions_per_week(self) -> int:
        """Prescribed sessions per week."""
        return len(self.session_offsets_days)

    @property
    def session_days(self) -> tuple[int, ...]:
        """Study days of every prescribed session."""
        return tuple(
            self.start_day + 7 * week + offset
            for week in range(self.weeks)
            for offset in self.session_offsets_days
        )

    @property
    def target_kkw(self) -> float:
        """Prescribed weekly energy expenditure per kg: 0.0175 x MET x minutes x sessions."""
        return round(
            KCAL_PER_KG_PER_MET_MIN * self.target_met * self.duration_min * self.sessions_per_week,
            1,
        )


@dataclass(frozen=True)
class RelapseDesign:
    """Relapse: the loss of the ketamine effect, at risk from the first day of response.

    Time from first true response (MADRS at most half the baseline) to relapse is
    exponential with median ``median_days`` for a participant without exercise (18 days,
    Murrough et al. 2013); each KKW of achieved exercise dose multiplies the hazard by
    ``hazard_ratio_per_kkw``. The ketamine effect is then lost over ``onset_days``: the
    score climbs back to the course without ketamine (exercise and nonspecific benefit
    stay).
    """

    median_days: float = 18.0
    hazard_ratio_per_kkw: float = 0.96
    onset_days: float = 7.0

    def __post_init__(self) -> None:
        positive(self, "median_days", "hazard_ratio_per_kkw", "onset_days")


@dataclass(frozen=True)
class MeasurementDesign:
    """How the latent course is measured: visits, scales, noise, missing items.

    Parameters
    ----------
    visits : tuple of Visit
        Scheduled visits (the baseline visit first); the visits 24 hours after each
        infusion (``INF1_24H``, ...) are added when ``post_infusion_visits`` is true.
    post_infusion_window_days : int
        The 24-hour visit of an infusion on day d has window (d + 1, d + 1 + this); it is
        held on day d + 1.
    residual_sd_madrs, residual_ar1_per_week : float
        Residual (rater and day-to-day) SD of MADRS, and the correlation of two residuals
        7 days apart (continuous-time AR(1): correlation ``rho ** (days / 7)``).
    qids_per_madrs, residual_sd_qids : float
        QIDS-SR16 follows ``qids_per_madrs`` x the true MADRS, with its own residual.
    missing_item_probability : float
        Probability that an item is left blank, so that prorating gets exercised.
    visit_jitter_sd_days : float
        SD of the visit day around its target (rounded, kept in the window); the
        baseline visit is uniform over its window.
    """

    visits: tuple[Visit, ...] = (
        Visit("BASELINE", 0, (-7, 0), ("MADRS", "QIDS-SR16")),
        Visit("WEEK2", 14, (14, 17), ("MADRS",)),
        Visit("WEEK3", 21, (19, 23), ("MADRS",)),
        Visit("WEEK4", 28, (25, 31), ("MADRS", "QIDS-SR16")),
        Visit("WEEK6", 42, (39, 45), ("MADRS",)),
        Visit("WEEK8", 56, (53, 59), ("MADRS", "QIDS-SR16")),
        Visit("WEEK10", 70, (67, 73), ("MADRS",)),
        Visit("WEEK12", 84, (81, 87), ("MADRS", "QIDS-SR16")),
        Visit("WEEK16", 112, (105, 119), ("MADRS",)),
        Visit("WEEK24", 168, (161, 175), ("MADRS", "QIDS-SR16")),
    )
    post_infusion_visits: bool = True
    post_infusion_window_days: int = 1
    residual_sd_madrs: float = 3.0
    residual_ar1_per_week: float = 0.5
    qids_per_madrs: float = 0.45
    residual_sd_qids: float = 1.5
    missing_item_probability: float = 0.01
    visit_jitter_sd_days: float = 1.5

    def __post_init__(self) -> None:
        require(len(self.visits) > 0, "MeasurementDesign.visits", "must not be empty")
        for visit in self.visits:
            where = f"MeasurementDesign.visits {visit.name!r}:"
            low, high = visit.window
            require(low <= visit.day <= high, where,
                     f"window {visit.window} must contain its day {visit.day}")
            unknown = [i for i in visit.instruments if i not in ("MADRS", "QIDS-SR16")]
            require(not unknown, where, f"the simulator rates MADRS and QIDS-SR16, not "
                                         f"{', '.join(unknown)}")
        positive(self, "post_infusion_window_days", "residual_sd_madrs", "qids_per_madrs",
                  "residual_sd_qids", "visit_jitter_sd_days", allow_zero=True)
        probability(self, "residual_ar1_per_week", upper_open=True)
        require(self.missing_item_probability <= 0.2,
                 "MeasurementDesign.missing_item_probability",
                 f"must lie in [0, 0.2], got {self.missing_item_probability}")
        probability(self, "missing_item_probability")


@dataclass(frozen=True)
class DropoutDesign:
    """Dropout (a ``discontinuation`` event; nothing is observed from that day on).

    Each mechanism is a hazard stated as the probability of dropping out by the last
    visit from that mechanism alone:

    - MCAR: ``mcar_probability``, a constant hazard.
    - MAR: ``mar_probability`` for a participant whose last observed MADRS stays at
      ``reference_madrs``; the hazard is multiplied by ``exp(log_hazard_per_madrs x
      (last observed MADRS - reference_madrs))``.
    - MNAR: likewise ``mnar_probability``, on the current true (unobserved) MADRS.
    """

    mcar_probability: float = 0.08
    mar_probability: float = 0.08
    mnar_probability: float = 0.0
    reference_madrs: float = 22.0
    log_hazard_per_madrs: float = 0.08

    def __post_init__(self) -> None:
        probability(self, "mcar_probability", "mar_probability", "mnar_probability",
                     upper_open=True)


@dataclass(frozen=True)
class HospitalisationDesign:
    """Hospitalisation for worsening depression: a hazard rising with the true MADRS.

    The rate is ``rate_per_year_at_reference`` at MADRS ``reference_madrs``, multiplied by
    ``exp(log_hazard_per_madrs x (MADRS - reference_madrs))``; at most one per participant.
    """

    rate_per_year_at_reference: float = 0.3
    reference_madrs: float = 30.0
    log_hazard_per_madrs: float = 0.15

    def __post_init__(self) -> None:
        positive(self, "rate_per_year_at_reference", allow_zero=True)


@dataclass(frozen=True)
class EndpointDesign:
    """Endpoint settings written to the protocol, and used for the true response/remission.

    ``sustained_through_visit`` empty means no sustained-response endpoint.
    """

    baseline_visit: str = "BASELINE"
    primary_visit: str = "WEEK12"
    response_reduction: float = 0.5
    remission_max_madrs: float = 10.0
    relapse_preset: str = "SUSTAIN-1"
    sustained_through_visit: str = "WEEK24"

    def __post_init__(self) -> None:
        require(0 < self.response_reduction <= 1, "EndpointDesign.response_reduction",
                 f"must lie in (0, 1], got {self.response_reduction}")

    @property
    def remission_preset(self) -> str:
        """Name of the remission preset, e.g. ``"MADRS<=10"``."""
        return f"MADRS<={self.remission_max_madrs:g}"


@dataclass(frozen=True)
class AddedEffectDesign:
    """A known effect of one arm on the true MADRS, added to what its infusions do.

    For power analyses: two arms that differ only by an added effect differ in true mean
    change from baseline by exactly ``change_madrs`` at every visit after the onset
    (less only where the 0-60 range of the score clips the course). The effect is part of
    the course, so it also moves response, relapse, dropout (MAR, MNAR) and
    hospitalisation, as a real treatment effect would.

    Parameters
    ----------
    arm : str
        Code of the arm whose course changes.
    change_madrs : float
        Added to the arm's true MADRS (negative: lower scores, a benefit).
    onset_days : float
        The effect grows linearly from day 0 and is complete from this study day on
        (0: complete from day 1, the first day after randomisation).

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import AddedEffectDesign, TrialDesign
    >>> design = dataclasses.replace(
    ...     TrialDesign(), added_effects=(AddedEffectDesign("SERIES", -3.0, onset_days=14),))
    >>> design.added_effect_madrs("SERIES", [7, 14, 84]), design.added_effect_madrs("SINGLE", [84])
    (array([-1.5, -3. , -3. ]), array([0.]))
    """

    arm: str
    change_madrs: float
    onset_days: float = 0.0

    def __post_init__(self) -> None:
        require(math.isfinite(self.change_madrs), "AddedEffectDesign.change_madrs",
                 f"must be a finite number, got {self.change_madrs!r}")
        positive(self, "onset_days", allow_zero=True)


def _prescription(ex: ExerciseDesign) -> ExercisePrescription:
    return ExercisePrescription(
        modality=ex.modality,
        sessions_per_week=ex.sessions_per_week,
        duration_min=ex.duration_min,
        intensity=ex.intensity,
        hrr_fraction=ex.hrr_fraction,
        start_day=ex.start_day,
        weeks=ex.weeks,
        target_kkw=ex.target_kkw,
    )


def _protocol_arm(arm: ArmDesign) -> Arm:
    """The protocol's arm: the older one-plan form unless a role, exercise or factors."""
    exercise = _prescription(arm.exercise) if arm.exercise is not None else None
    if arm.role is None:
        plan = (InfusionPlan(arm.drug, arm.route, arm.dose_mg_per_kg, "mg/kg",
                             arm.infusion_duration_min, arm.infusion_days)
                if arm.infusion_days else None)
        return Arm(arm.code, arm.label, plan, exercise=exercise, factors=arm.factors or ())
    treatments = (
        (Treatment(arm.drug, arm.dose_mg_per_kg, "mg/kg", arm.infusion_days, arm.role,
                   arm.route, arm.infusion_duration_min),)
        if arm.infusion_days else ()
    )
    return Arm(arm.code, arm.label, treatments=treatments, exercise=exercise,
               factors=arm.factors or ())


def _yale_arms() -> tuple[ArmDesign, ...]:
    return (
        ArmDesign("SINGLE", "Single ketamine infusion + exercise", (1,)),
        ArmDesign("SERIES", "Six ketamine infusions over two weeks + exercise",
                  (1, 3, 5, 8, 10, 12)),
    )


@dataclass(frozen=True)
class TrialDesign:
    """Everything the simulator needs to generate a trial; defaults give the sample study.

    Parameters
    ----------
    study_id, title : str
    arms : tuple of ArmDesign
    n_per_arm : int
        Participants randomised to each arm (permuted blocks, so arms are exactly equal).
    n_sites : int
        Sites ``SITE1``, ``SITE2``, ...; each participant is enrolled at one, at random.
    first_randomization_date : datetime.date
    randomization_period_days : int
        Randomisation dates are spread uniformly over this period, each moved back to the
        weekday that puts the first exercise session on a Monday.
    population, baseline, course, ketamine, exercise, relapse, measurement, dropout,
    hospitalisation, endpoints
        The parts of the model; see each class.
    safety : SafetyDesign, optional
        Adverse events, vital signs on infusion days and medications
        (:mod:`ketex.simulate.safety`); None (default): the trial has no safety data.
    added_effects : tuple of AddedEffectDesign, optional
        Known effects added to arms' courses (for power analyses); None: none.

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import TrialDesign
    >>> design = TrialDesign()
    >>> design.arm_codes, design.n_per_arm
    (('SINGLE', 'SERIES'), 40)
    >>> design.protocol().visit_names[:4]
    ('BASELINE', 'INF1_24H', 'INF2_24H', 'INF3_24H')
    >>> small = dataclasses.replace(design, n_per_arm=10)
    >>> TrialDesign.from_toml_text(small.to_toml()) == small
    True
    >>> TrialDesign(n_per_arm=0)
    Traceback (most recent call last):
    ...
    ValueError: TrialDesign.n_per_arm must be > 0, got 0
    """

    study_id: str = "KETEX-SAMPLE"
    title: str = (
        "Simulated Yale-style trial: single ketamine infusion vs six infusions over two "
        "weeks, both with 12 weeks of moderate cycling"
    )
    arms: tuple[ArmDesign, ...] = field(default_factory=_yale_arms)
    n_per_arm: int = 40
    n_sites: int = 2
    first_randomization_date: datetime.date = datetime.date(2024, 1, 7)
    randomization_period_days: int = 540
    population: PopulationDesign = field(default_factory=PopulationDesign)
    baseline: BaselineDesign = field(default_factory=BaselineDesign)
    course: CourseDesign = field(default_factory=CourseDesign)
    ketamine: KetamineDesign = field(default_factory=KetamineDesign)
    exercise: ExerciseDesign = field(default_factory=ExerciseDesign)
    relapse: RelapseDesign = field(default_factory=RelapseDesign)
    measurement: MeasurementDesign = field(default_factory=MeasurementDesign)
    dropout: DropoutDesign = field(default_factory=DropoutDesign)
    hospitalisation: HospitalisationDesign = field(default_factory=HospitalisationDesign)
    endpoints: EndpointDesign = field(default_factory=EndpointDesign)
    # None rather than () so that designs without one write the same TOML as before
    added_effects: tuple[AddedEffectDesign, ...] | None = None
    safety: SafetyDesign | None = None

    def __post_init__(self) -> None:
        require(bool(self.study_id.strip()), "TrialDesign.study_id", "must not be empty")
        require(len(self.arms) > 0, "TrialDesign.arms", "must hold at least one arm")
        codes = self.arm_codes
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        require(not repeated, "TrialDesign.arms", f"repeat the code(s) {', '.join(repeated)}")
        for name in ("n_per_arm", "n_sites"):
            value = getattr(self, name)
            require(isinstance(value, int) and value > 0, f"TrialDesign.{name}",
                     f"must be > 0, got {value!r}")
        positive(self, "randomization_period_days", allow_zero=True)
        self._check_visits()
        self._check_added_effects()

    def _check_added_effects(self) -> None:
        if self.added_effects is None:
            return
        require(isinstance(self.added_effects, tuple), "TrialDesign.added_effects",
                 f"must be a tuple of AddedEffectDesign or None, got {self.added_effects!r}")
        arms = [effect.arm for effect in self.added_effects]
        unknown = sorted({a for a in arms if a not in self.arm_codes})
        require(not unknown, "TrialDesign.added_effects",
                 f"name arm(s) {', '.join(unknown)} not among {', '.join(self.arm_codes)}")
        repeated = sorted({a for a in arms if arms.count(a) > 1})
        require(not repeated, "TrialDesign.added_effects",
                 f"give arm(s) {', '.join(repeated)} more than one effect; add them up")

    def _check_visits(self) -> None:
        visits = self.protocol_visits()
        names = [v.name for v in visits]
        repeated = sorted({n for n in names if names.count(n) > 1})
        require(not repeated, "MeasurementDesign.visits",
                 f"repeat the name(s) {', '.join(repeated)} (INFk_24H names are reserved for "
                 "the visits after infusions)")
        for visit in self.measurement.visits:
            unknown = [a for a in visit.arms if a not in self.arm_codes]
            require(not unknown, f"MeasurementDesign.visits {visit.name!r}:",
                     f"arm(s) {', '.join(unknown)} not among {', '.join(self.arm_codes)}")
        ends = self.endpoints
        for name, value in (("baseline_visit", ends.baseline_visit),
                            ("primary_visit", ends.primary_visit),
                            ("sustained_through_visit", ends.sustained_through_visit)):
            require(not value or value in names, f"EndpointDesign.{name}",
                     f"{value!r} is not among the visits {', '.join(names)}")
        baseline = self.measurement.visits[0]
        require(baseline.name == ends.baseline_visit and baseline.window[1] <= 0,
                 "MeasurementDesign.visits",
                 f"must start with the baseline visit {ends.baseline_visit!r}, held on or "
                 f"before day 0; got {baseline.name!r} with window {baseline.window}")
        first_doses = [arm.infusion_days[0] for arm in self.arms if arm.infusion_days]
        starts = [self.arm_exercise(arm.code).start_day for arm in self.arms]
        require(min(first_doses, default=1) > 0 and min(starts) > 0, "TrialDesign",
                 "infusions and exercise must start after randomisation (day >= 1), so that "
                 "the baseline visit precedes treatment")

    # -- derived quantities -------------------------------------------------------------

    @property
    def arm_codes(self) -> tuple[str, ...]:
        """Codes of the arms, in design order."""
        return tuple(arm.code for arm in self.arms)

    @property
    def site_codes(self) -> tuple[str, ...]:
        """Codes of the sites: ``SITE1``, ``SITE2``, ..."""
        return tuple(f"SITE{k + 1}" for k in range(self.n_sites))

    @property
    def n_participants(self) -> int:
        """Participants randomised in all."""
        return self.n_per_arm * len(self.arms)

    def added_effect_madrs(self, arm: str, days: Any) -> np.ndarray:
        """The added effect (:class:`AddedEffectDesign`) on ``arm``'s true MADRS on ``days``.

        Zero before day 1 and for arms without one.
        """
        days = np.asarray(days, dtype=float)
        effect = next((e for e in self.added_effects or () if e.arm == arm), None)
        if effect is None:
            return np.zeros_like(days)
        if effect.onset_days > 0:
            share = np.clip(days / effect.onset_days, 0.0, 1.0)
        else:
            share = np.ones_like(days)
        return np.where(days >= 1, effect.change_madrs * share, 0.0)

    def post_infusion_visits(self) -> tuple[Visit, ...]:
        """The visits 24 hours after the k-th infusion, for the arms that give one.

        Raises
        ------
        ValueError
            When arms give their k-th infusion on different days (no common visit).
        """
        if not self.measurement.post_infusion_visits:
            return ()
        visits = []
        most = max(len(arm.infusion_days) for arm in self.arms)  # 0: no visits
        for k in range(most):
            having = [arm for arm in self.arms if len(arm.infusion_days) > k]
            days = {arm.infusion_days[k] for arm in having}
            require(len(days) == 1, "ArmDesign.infusion_days",
                     f"infusion {k + 1} falls on different days ({sorted(days)}) in arms "
                     f"{', '.join(a.code for a in having)}; the 24-hour visits need a common "
                     "day (or set MeasurementDesign.post_infusion_visits = false)")
            day = days.pop() + 1
            arms = () if len(having) == len(self.arms) else tuple(a.code for a in having)
            visits.append(Visit(
                POST_INFUSION_VISIT.format(k=k + 1), day,
                (day, day + self.measurement.post_infusion_window_days), ("MADRS",), arms,
            ))
        return tuple(visits)

    def protocol_visits(self) -> tuple[Visit, ...]:
        """Every visit of the protocol, ordered by day (scheduled and 24-hour visits)."""
        visits = (*self.measurement.visits, *self.post_infusion_visits())
        return tuple(sorted(visits, key=lambda v: v.day))

    def protocol(self) -> Protocol:
        """The :class:`~ketex.study.protocol.Protocol` the simulated trial follows.

        Examples
        --------
        >>> protocol = TrialDesign().protocol()
        >>> protocol.arm("SERIES").infusions.days
        (1, 3, 5, 8, 10, 12)
        >>> protocol.visit("INF6_24H").arms, protocol.exercise.target_kkw
        (('SERIES',), 16.1)
        >>> protocol.endpoints.primary_visit, protocol.endpoints.remission_preset
        ('WEEK12', 'MADRS<=10')
        """
        arms = tuple(_protocol_arm(arm) for arm in self.arms)
        ends = self.endpoints
        return Protocol(
            study_id=self.study_id,
            title=self.title,
            primary_scale="MADRS",
            arms=arms,
            visits=self.protocol_visits(),
            exercise=_prescription(self.exercise),
            endpoints=EndpointSettings(
                baseline_visit=ends.baseline_visit,
                primary_visit=ends.primary_visit,
                response_reduction=ends.response_reduction,
                remission_preset=ends.remission_preset,
                relapse_preset=ends.relapse_preset,
                sustained_through_visit=ends.sustained_through_visit or None,
            ),
        )

    def arm_exercise(self, code: str) -> ExerciseDesign:
        """The exercise programme of an arm: its own, else the trial's."""
        arm = next(a for a in self.arms if a.code == code)
        return arm.exercise or self.exercise

    # -- TOML -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The design as nested dictionaries (the ``[design]`` table of a TOML file)."""
        return _config.to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "design") -> TrialDesign:
        """Build a design from :meth:`to_dict` output; ``ValueError`` naming the key otherwise."""
        return _config.from_dict(cls, data, "design", source)

    def to_toml(self) -> str:
        """The design as TOML text with one ``[design]`` section."""
        return tomli_w.dumps({"design": self.to_dict()})

    @classmethod
    def from_toml_text(cls, text: str, source: str = "design.toml") -> TrialDesign:
        """Read the ``[design]`` section of TOML text; missing keys take the sample's values."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{source}: not valid TOML ({exc}); fix the syntax") from None
        if not isinstance(data.get("design"), dict):
            raise ValueError(f"{source}: no [design] section; the design goes under [design]")
        return cls.from_dict(data["design"], source)

    @classmethod
    def read(cls, path: str | Path) -> TrialDesign:
        """Read a design from the ``[design]`` section of a TOML file."""
        path = Path(path)
        return cls.from_toml_text(path.read_text(encoding="utf-8"), source=str(path))

    def write(self, path: str | Path) -> Path:
        """Write the design as a TOML file; returns the path."""
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path
