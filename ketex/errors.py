"""Exceptions and warnings raised by ketex."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "KetexError",
    "DataValidationError",
    "ConvergenceError",
    "ConvergenceWarning",
]


class KetexError(Exception):
    """Base class of every error ketex raises on purpose."""


class DataValidationError(KetexError, ValueError):
    """The input data break one or more validation rules.

    Parameters
    ----------
    message : str
        Summary of what went wrong.
    report : pandas.DataFrame
        Every problem found, one row each, with the columns of
        :data:`ketex.study.validation.REPORT_COLUMNS` (table, source_file, line,
        participant_id, column, value, rule, severity, message).

    Notes
    -----
    Readers collect every problem before raising, so one run shows them all.
    """

    def __init__(self, message: str, report: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.report = report

    @property
    def errors(self) -> pd.DataFrame | None:
        """The rows of the report with severity ``"error"``."""
        if self.report is None:
            return None
        return self.report[self.report["severity"] == "error"].reset_index(drop=True)


class ConvergenceError(KetexError, RuntimeError):
    """A model fit did not converge and no fallback succeeded."""


class ConvergenceWarning(UserWarning):
    """A model fit converged only with a fallback, or with doubtful results."""
