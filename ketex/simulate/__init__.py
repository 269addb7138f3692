"""Trial simulator: synthetic trials with known truth, for the sample study, tests and power.

:class:`TrialDesign` says what to simulate (its defaults are the Yale-style sample study
in ``data/sample``); :func:`simulate_trial` returns a validated :class:`~ketex.study.trial.Trial`
with the latent truth in ``trial.truth``. The model is described in
:mod:`ketex.simulate.trajectories`.

Examples
--------
>>> import dataclasses
>>> from ketex.simulate import TrialDesign, simulate_trial
>>> design = dataclasses.replace(TrialDesign(), n_per_arm=5)
>>> trial = simulate_trial(design, seed=3)
>>> len(trial.participants), trial.protocol.endpoints.primary_visit
(10, 'WEEK12')
"""

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
from ketex.simulate.trial import TRUTH_COLUMNS, simulate_trial

__all__ = [
    "TRUTH_COLUMNS",
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
    "simulate_trial",
]
