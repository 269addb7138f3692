"""Derived data: the analysis dataset, endpoint rules and their evaluation, time to event,
exercise dose and adherence, infusion exposure, treatment-emergent adverse events and
peri-infusion vital signs.

Re-exports only; each module holds one concern.
"""

from ketex.derive.adverse_events import TreatmentEmergence, treatment_emergent
from ketex.derive.analysis import analysis_dataset
from ketex.derive.endpoints import (
    PRESETS,
    Achieved,
    Consistent,
    ConsistentRemission,
    ConsistentResponse,
    RelapseRule,
    Remission,
    Response,
    Stable,
    StableRemission,
    StableResponse,
    Sustained,
    SustainedRemission,
    SustainedResponse,
    endpoint_preset,
)
from ketex.derive.evaluate import evaluate_endpoint
from ketex.derive.exercise import ExerciseDoseOptions, exercise_dose
from ketex.derive.heart_rate import HeartRateOptions
from ketex.derive.infusions import infusion_exposure
from ketex.derive.mets import COMPENDIUM_2011, CompendiumEntry, CompendiumTable, MetOptions
from ketex.derive.peri_infusion import peri_infusion_ratings, peri_infusion_summary
from ketex.derive.person_period import PERSON_PERIOD_COLUMNS, person_period
from ketex.derive.time_to_event import TimeToEvent, time_to_event
from ketex.derive.vitals import InfusionVitalsOptions, infusion_vitals
from ketex.derive.windows import exercise_windows

__all__ = [
    "TreatmentEmergence",
    "treatment_emergent",
    "InfusionVitalsOptions",
    "infusion_vitals",
    "peri_infusion_ratings",
    "peri_infusion_summary",
    "person_period",
    "PERSON_PERIOD_COLUMNS",
    "COMPENDIUM_2011",
    "CompendiumEntry",
    "CompendiumTable",
    "ExerciseDoseOptions",
    "HeartRateOptions",
    "MetOptions",
    "exercise_dose",
    "exercise_windows",
    "infusion_exposure",
    "PRESETS",
    "Achieved",
    "Consistent",
    "ConsistentRemission",
    "ConsistentResponse",
    "RelapseRule",
    "Remission",
    "Response",
    "Stable",
    "StableRemission",
    "StableResponse",
    "Sustained",
    "SustainedRemission",
    "SustainedResponse",
    "TimeToEvent",
    "analysis_dataset",
    "endpoint_preset",
    "evaluate_endpoint",
    "time_to_event",
]
