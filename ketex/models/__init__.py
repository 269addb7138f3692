"""Statistical models: MMRM, linear and logistic mixed models, GEE."""

from ketex.models.covariance import COVARIANCE_STRUCTURES, CovarianceStructure
from ketex.models.gee import GEEControl, gee
from ketex.models.gee_result import GEEResult
from ketex.models.glmm import GLMMControl, glmm
from ketex.models.glmm_result import GLMMResult
from ketex.models.lmm import LMMControl, lmm
from ketex.models.lmm_result import LMMResult
from ketex.models.mmrm import MMRMControl, mmrm
from ketex.models.result import MMRMResult

__all__ = [
    "lmm",
    "glmm",
    "LMMResult",
    "LMMControl",
    "GLMMResult",
    "GLMMControl",
    "COVARIANCE_STRUCTURES",
    "CovarianceStructure",
    "GEEResult",
    "GEEControl",
    "MMRMControl",
    "MMRMResult",
    "gee",
    "mmrm",
]
