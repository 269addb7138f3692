"""Trial simulator: synthetic trials with known truth, for the sample study, tests and power.

:class:`TrialDesign` says what to simulate (its defaults are the Yale-style sample study
in ``ketex/data/sample``); :func:`simulate_trial` returns a validated
:class:`~ketex.study.trial.Trial` with the latent truth in ``trial.truth``. The model is
described in
:mod:`ketex.simulate.trajectories`. :func:`power` repeats simulation and analysis
(:class:`MMRMAnalysis`, :class:`RelapseAnalysis` or any callable) to give power, type I
error, bias and coverage (``docs/power.md``).

Examples
--------
>>> import dataclasses
>>> from ketex.simulate import TrialDesign, simulate_trial
>>> design = dataclasses.replace(TrialDesign(), n_per_arm=5)
>>> trial = simulate_trial(design, seed=3)
>>> len(trial.participants), trial.protocol.endpoints.primary_visit
(10, 'WEEK12')
"""

from ketex.simulate.analyses import MMRMAnalysis, RelapseAnalysis
from ketex.simulate.design import (
    AddedEffectDesign,
    ArmDesign,
    BaselineDesign,
    CourseDesign,
    DropoutDesign,
    EndpointDesign,
    ExerciseDesign,
    HospitalisationDesign,
    KetamineDesign,
    MeasurementDesign,
    PopulationDesign,
    RelapseDesign,
    TrialDesign,
)
from ketex.simulate.power import PowerResult, null_design, plot_power, power
from ketex.simulate.safety import AdverseEventDesign, SafetyDesign
from ketex.simulate.trial import TRUTH_COLUMNS, simulate_trial

__all__ = [
    "TRUTH_COLUMNS",
    "AddedEffectDesign",
    "AdverseEventDesign",
    "ArmDesign",
    "BaselineDesign",
    "CourseDesign",
    "DropoutDesign",
    "EndpointDesign",
    "ExerciseDesign",
    "HospitalisationDesign",
    "KetamineDesign",
    "MMRMAnalysis",
    "MeasurementDesign",
    "PopulationDesign",
    "PowerResult",
    "RelapseAnalysis",
    "RelapseDesign",
    "SafetyDesign",
    "TrialDesign",
    "null_design",
    "plot_power",
    "power",
    "simulate_trial",
]
