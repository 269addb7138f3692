"""Estimands and missing data: reference-based imputation (rbmi's approach).

Modules: ``strategies`` (MAR, JR, CR, CIR, LMCF), ``imputation_model`` (ketex's MMRM
fitted to the MAR data), ``impute`` (conditional means and draws), ``ancova``
(per-visit analysis), ``pooling`` (Rubin's rules, jackknife, bootstrap), ``ice`` (the
intercurrent-event table from a trial), ``reference_based`` (the entry point),
``tipping`` (delta grids), ``spec`` (the ``[estimands]`` table of ``study.toml``) and
``analyses`` (the analyses that table pre-specifies, run on a trial).
"""

from ketex.estimands.analyses import EstimandAnalyses, estimand_analyses
from ketex.estimands.ice import intercurrent_events
from ketex.estimands.pooling import PooledEstimate, rubin_rules
from ketex.estimands.reference_based import ReferenceBasedResult, delta_template, reference_based_mi
from ketex.estimands.spec import EstimandSpec, estimand_spec, read_estimand_spec
from ketex.estimands.strategies import STRATEGIES
from ketex.estimands.tipping import TippingPointResult, tipping_point

__all__ = [
    "STRATEGIES",
    "PooledEstimate",
    "ReferenceBasedResult",
    "delta_template",
    "EstimandAnalyses",
    "EstimandSpec",
    "estimand_analyses",
    "estimand_spec",
    "read_estimand_spec",
    "intercurrent_events",
    "reference_based_mi",
    "rubin_rules",
    "TippingPointResult",
    "tipping_point",
]
