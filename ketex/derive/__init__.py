"""Derived data: the analysis dataset, endpoint rules and their evaluation, time to event.

Re-exports only; each module holds one concern.
"""

from ketex.derive.analysis import analysis_dataset
from ketex.derive.endpoints import (
    PRESETS,
    Achieved,
    ConsistentRemission,
    RelapseRule,
    Remission,
    Response,
    StableRemission,
    StableResponse,
    SustainedRemission,
    SustainedResponse,
    endpoint_preset,
)
from ketex.derive.evaluate import evaluate_endpoint
from ketex.derive.time_to_event import TimeToEvent, time_to_event

__all__ = [
    "PRESETS",
    "Achieved",
    "ConsistentRemission",
    "RelapseRule",
    "Remission",
    "Response",
    "StableRemission",
    "StableResponse",
    "SustainedRemission",
    "SustainedResponse",
    "TimeToEvent",
    "analysis_dataset",
    "endpoint_preset",
    "evaluate_endpoint",
    "time_to_event",
]
