"""Survival analysis: Kaplan-Meier curves, (weighted) log-rank tests, Cox models.

The numbers match R's ``survival`` package (``survfit``, ``survdiff``, ``coxph``,
``cox.zph``); see ``docs/survival.md``.
"""

from ketex.survival.kaplan_meier import KaplanMeierResult, kaplan_meier
from ketex.survival.logrank import LogRankResult, logrank_test

__all__ = ["KaplanMeierResult", "LogRankResult", "kaplan_meier", "logrank_test"]
