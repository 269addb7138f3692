"""Survival analysis: Kaplan-Meier curves, (weighted) log-rank tests, Cox models.

The numbers match R's ``survival`` package (``survfit``, ``survdiff``, ``coxph``,
``cox.zph``); see ``docs/survival.md``.
"""

from ketex.survival.cox import CoxResult, cox
from ketex.survival.kaplan_meier import KaplanMeierResult, kaplan_meier
from ketex.survival.logrank import LogRankResult, logrank_test
from ketex.survival.ph_check import PHTestResult, cox_zph

__all__ = [
    "CoxResult",
    "KaplanMeierResult",
    "LogRankResult",
    "PHTestResult",
    "cox",
    "cox_zph",
    "kaplan_meier",
    "logrank_test",
]
