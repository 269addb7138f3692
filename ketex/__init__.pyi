"""The public API of ketex, for type checkers and the lazy loader.

``ketex/__init__.py`` reads the imports below and imports each module on first use
(``lazy_loader.attach_stub``), so ``import ketex`` stays light. Add a public name here,
to ``__all__`` below and to the API docs; ``__init__.py`` takes ``__all__`` from the
imports (tests/test_lazy_import.py checks that the two agree).
"""

# the subpackages, reached as ketex.<name> (``as`` re-exports them to type checkers)
from . import derive as derive
from . import estimands as estimands
from . import io as io
from . import models as models
from . import report as report
from . import scales as scales
from . import simulate as simulate
from . import streams as streams
from . import study as study
from . import survival as survival
from .causal_mediation import MediationResult, mediation
from .causal_sensitivity import MediationSensitivity, mediation_sensitivity
from .datasets import sample_study_path
from .derive import (
    COMPENDIUM_2011,
    PERSON_PERIOD_COLUMNS,
    PRESETS,
    Achieved,
    CompendiumEntry,
    CompendiumTable,
    Consistent,
    ConsistentRemission,
    ConsistentResponse,
    ExerciseDoseOptions,
    HeartRateOptions,
    InfusionVitalsOptions,
    MetOptions,
    RelapseRule,
    Remission,
    Response,
    Stable,
    StableRemission,
    StableResponse,
    Sustained,
    SustainedRemission,
    SustainedResponse,
    TimeToEvent,
    TreatmentEmergence,
    analysis_dataset,
    endpoint_preset,
    evaluate_endpoint,
    exercise_dose,
    exercise_windows,
    infusion_exposure,
    infusion_vitals,
    peri_infusion_ratings,
    peri_infusion_summary,
    person_period,
    time_to_event,
    treatment_emergent,
)
from .errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataValidationError,
    KetexError,
)
from .estimands import (
    EstimandAnalyses,
    EstimandSpec,
    PooledEstimate,
    ReferenceBasedResult,
    TippingPointResult,
    delta_template,
    estimand_analyses,
    estimand_spec,
    intercurrent_events,
    read_estimand_spec,
    reference_based_mi,
    rubin_rules,
    tipping_point,
)
from .factorial import AdditiveInteraction, additive_interaction
from .factorial_mmrm import factorial_contrasts
from .io.adam import actual_treatment, write_adam
from .io.folder import load_trial, write_excel, write_trial
from .io.redcap import load_redcap, write_redcap
from .io.sdtm import load_sdtm, write_sdtm
from .models import (
    GEEControl,
    GEEResult,
    GLMMControl,
    GLMMResult,
    LMMControl,
    LMMResult,
    MMRMControl,
    MMRMResult,
    gee,
    glmm,
    lmm,
    mmrm,
)
from .primary import PrimaryResult, primary_analysis
from .report import ManuscriptTable, figures, tables
from .report.context import AnalysisContext
from .report.factorial_table import consort_factorial_table
from .report.figures.factorial import plot_factorial_forest, plot_interaction
from .report.figures.tipping import plot_tipping_point
from .report.run import ReportOptions, write_report
from .scales import INSTRUMENTS, Instrument, get_instrument, score, severity
from .scales.cssrs import cssrs_outcomes, cssrs_scores
from .simulate import (
    MMRMAnalysis,
    PowerResult,
    RelapseAnalysis,
    TrialDesign,
    null_design,
    plot_power,
    power,
    simulate_trial,
)
from .streams import (
    ADHERENCE_COLUMNS,
    LOAD_COLUMNS,
    MANIFEST_COLUMNS,
    STREAM_COLUMNS,
    STREAM_DOSE_COLUMNS,
    StreamIndex,
    read_stream,
    read_streams,
    stream_adherence,
    stream_dose,
    training_load,
    write_streams,
)
from .study.derivation_plan import DerivationPlan
from .study.plan import AnalysisPlan, PrimaryAnalysis
from .study.plan_file import read_analysis_plan, with_analysis_plan
from .study.problems import REPORT_COLUMNS, format_report
from .study.protocol import (
    Arm,
    EndpointSettings,
    ExercisePrescription,
    InfusionPlan,
    Protocol,
    ScoringSettings,
    Treatment,
    Visit,
)
from .study.secondary_plan import SecondaryPlan
from .study.subgroup_plan import SubgroupPlan
from .study.summary import TrialSummary, summarize
from .study.trial import Trial
from .survival import (
    CoxResult,
    KaplanMeierResult,
    LogRankResult,
    PHTestResult,
    cox,
    cox_zph,
    kaplan_meier,
    logrank_test,
)

__version__: str

__all__ = [
    "reference_based_mi",
    "ReferenceBasedResult",
    "delta_template",
    "tipping_point",
    "TippingPointResult",
    "rubin_rules",
    "PooledEstimate",
    "training_load",
    "LOAD_COLUMNS",
    "read_stream",
    "read_streams",
    "write_streams",
    "MANIFEST_COLUMNS",
    "STREAM_COLUMNS",
    "mediation",
    "MediationResult",
    "additive_interaction",
    "AdditiveInteraction",
    "factorial_contrasts",
    "power",
    "plot_power",
    "null_design",
    "RelapseAnalysis",
    "PowerResult",
    "MMRMAnalysis",
    "person_period",
    "PERSON_PERIOD_COLUMNS",
    "lmm",
    "glmm",
    "LMMResult",
    "LMMControl",
    "GLMMResult",
    "GLMMControl",
    "gee",
    "GEEResult",
    "GEEControl",
    "write_report",
    "AnalysisContext",
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
    "Sustained",
    "SustainedResponse",
    "SustainedRemission",
    "Stable",
    "StableResponse",
    "StableRemission",
    "Response",
    "Remission",
    "RelapseRule",
    "Consistent",
    "ConsistentRemission",
    "ConsistentResponse",
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
    "Treatment",
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
    "cssrs_scores",
    "cssrs_outcomes",
    "simulate_trial",
    "summarize",
    "write_excel",
    "write_redcap",
    "write_sdtm",
    "write_trial",
    "StreamIndex",
    "stream_adherence",
    "stream_dose",
    "STREAM_DOSE_COLUMNS",
    "ADHERENCE_COLUMNS",
    "actual_treatment",
    "mediation_sensitivity",
    "MediationSensitivity",
    "exercise_windows",
    "intercurrent_events",
    "EstimandSpec",
    "estimand_spec",
    "read_estimand_spec",
    "EstimandAnalyses",
    "estimand_analyses",
    "plot_tipping_point",
    "plot_interaction",
    "plot_factorial_forest",
    "consort_factorial_table",
    "treatment_emergent",
    "TreatmentEmergence",
    "infusion_vitals",
    "InfusionVitalsOptions",
    "peri_infusion_ratings",
    "peri_infusion_summary",
    "AnalysisPlan",
    "PrimaryAnalysis",
    "DerivationPlan",
    "SecondaryPlan",
    "SubgroupPlan",
    "read_analysis_plan",
    "with_analysis_plan",
    "PrimaryResult",
    "primary_analysis",
]
