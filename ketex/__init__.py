"""ketex: analysis of ketamine + structured exercise trials for depression.

The public API is listed in ``__all__``; everything else is private.
"""

from ketex.datasets import sample_study_path
from ketex.derive import (
    COMPENDIUM_2011,
    PRESETS,
    Achieved,
    CompendiumEntry,
    CompendiumTable,
    ConsistentRemission,
    ExerciseDoseOptions,
    HeartRateOptions,
    MetOptions,
    RelapseRule,
    Remission,
    Response,
    StableRemission,
    StableResponse,
    SustainedRemission,
    SustainedResponse,
    TimeToEvent,
    analysis_dataset,
    endpoint_preset,
    evaluate_endpoint,
    exercise_dose,
    infusion_exposure,
    time_to_event,
)
from ketex.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    KetexError,
)
from ketex.io.adam import write_adam
from ketex.io.folder import load_trial, write_excel, write_trial
from ketex.io.redcap import load_redcap, write_redcap
from ketex.io.sdtm import load_sdtm, write_sdtm
from ketex.models import GEEResult, MMRMControl, MMRMResult, gee, mmrm
from ketex.report import ManuscriptTable, figures, tables
from ketex.report.run import ReportOptions, write_report
from ketex.scales import INSTRUMENTS, Instrument, get_instrument, score, severity
from ketex.simulate import TrialDesign, simulate_trial
from ketex.study.problems import REPORT_COLUMNS, format_report
from ketex.study.protocol import (
    Arm,
    EndpointSettings,
    ExercisePrescription,
    InfusionPlan,
    Protocol,
    ScoringSettings,
    Visit,
)
from ketex.study.summary import TrialSummary, summarize
from ketex.study.trial import Trial
from ketex.survival import (
    CoxResult,
    KaplanMeierResult,
    LogRankResult,
    PHTestResult,
    cox,
    cox_zph,
    kaplan_meier,
    logrank_test,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "gee",
    "GEEResult",
    "write_report",
    "tables",
    "figures",
    "ReportOptions",
    "ManuscriptTable",
    "logrank_test",
    "kaplan_meier",
    "cox_zph",
    "cox",
    "PHTestResult",
    "LogRankResult",
    "KaplanMeierResult",
    "CoxResult",
    "write_adam",
    "time_to_event",
    "evaluate_endpoint",
    "endpoint_preset",
    "analysis_dataset",
    "TimeToEvent",
    "SustainedResponse",
    "SustainedRemission",
    "StableResponse",
    "StableRemission",
    "Response",
    "Remission",
    "RelapseRule",
    "ConsistentRemission",
    "Achieved",
    "PRESETS",
    "infusion_exposure",
    "exercise_dose",
    "MetOptions",
    "HeartRateOptions",
    "ExerciseDoseOptions",
    "CompendiumTable",
    "CompendiumEntry",
    "COMPENDIUM_2011",
    "Arm",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataValidationError",
    "EndpointSettings",
    "ExercisePrescription",
    "INSTRUMENTS",
    "InfusionPlan",
    "Instrument",
    "MMRMControl",
    "MMRMResult",
    "KetexError",
    "Protocol",
    "REPORT_COLUMNS",
    "ScoringSettings",
    "Trial",
    "TrialDesign",
    "TrialSummary",
    "Visit",
    "__version__",
    "format_report",
    "get_instrument",
    "load_redcap",
    "load_sdtm",
    "load_trial",
    "mmrm",
    "sample_study_path",
    "score",
    "severity",
    "simulate_trial",
    "summarize",
    "write_excel",
    "write_redcap",
    "write_sdtm",
    "write_trial",
]
