"""Statistical models: the MMRM engine, its covariance structures and inference."""

from ketex.models.covariance import COVARIANCE_STRUCTURES, CovarianceStructure
from ketex.models.mmrm import MMRMControl, mmrm
from ketex.models.result import MMRMResult

__all__ = [
    "COVARIANCE_STRUCTURES",
    "CovarianceStructure",
    "MMRMControl",
    "MMRMResult",
    "mmrm",
]
