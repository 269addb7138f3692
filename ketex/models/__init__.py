"""Statistical models: the MMRM engine, its covariance structures and inference; GEE."""

from ketex.models.covariance import COVARIANCE_STRUCTURES, CovarianceStructure
from ketex.models.gee import gee
from ketex.models.gee_result import GEEResult
from ketex.models.mmrm import MMRMControl, mmrm
from ketex.models.result import MMRMResult

__all__ = [
    "COVARIANCE_STRUCTURES",
    "CovarianceStructure",
    "GEEResult",
    "MMRMControl",
    "MMRMResult",
    "gee",
    "mmrm",
]
