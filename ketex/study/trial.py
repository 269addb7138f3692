"""The in-memory trial: the validated tables and the protocol they follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ketex.study.problems import REPORT_COLUMNS
from ketex.study.protocol import Protocol
from ketex.study.tables import SAFETY_TABLES, TABLES, canonical, empty_table

if TYPE_CHECKING:  # pragma: no cover
    from ketex.streams.index import StreamIndex

__all__ = ["TABLE_NAMES", "Trial"]

TABLE_NAMES = tuple(TABLES)


def _no_rows(name: str):
    return field(default_factory=lambda: canonical(name, empty_table(name)))


def _empty_report() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in REPORT_COLUMNS}).astype(
        {"line": "Int64"}
    )


@dataclass(frozen=True, eq=False)
class Trial:
    """A trial's data: participants, infusions, exercise, assessments, events, protocol.

    The safety tables (adverse events, vital signs, concomitant medications) are
    optional: a trial without them has them empty.

    Readers (:func:`ketex.load_trial`, :func:`ketex.load_redcap`, :func:`ketex.load_sdtm`)
    return a ``Trial`` whose tables are validated and in canonical form (see
    ``docs/study-folder.md``): fixed column names and dtypes, rows sorted by participant
    and day. Treat the tables as read-only.

    Attributes
    ----------
    protocol : Protocol
    participants, infusions, exercise, assessments, events : pandas.DataFrame
    adverse_events, vitals, medications : pandas.DataFrame
        The safety tables; empty when the source has none (``docs/safety.md``).
    report : pandas.DataFrame
        Problems found while reading (warnings; errors too when read with
        ``on_error="drop"``), one row each; see :data:`ketex.study.problems.REPORT_COLUMNS`.
    truth : pandas.DataFrame or None
        Latent truth recorded by the simulator (one row per participant); None for
        real data. Not compared by :meth:`equals`.
    streams : ketex.streams.index.StreamIndex or None
        The device recordings of a ``streams/`` folder, checked when loaded and read on
        demand (``trial.streams.read()``); None without one. Not compared by
        :meth:`equals`, not written by :func:`ketex.write_trial` (copy the folder).
    """

    protocol: Protocol
    participants: pd.DataFrame
    infusions: pd.DataFrame
    exercise: pd.DataFrame
    assessments: pd.DataFrame
    events: pd.DataFrame
    adverse_events: pd.DataFrame = _no_rows("adverse_events")
    vitals: pd.DataFrame = _no_rows("vitals")
    medications: pd.DataFrame = _no_rows("medications")
    report: pd.DataFrame = field(default_factory=_empty_report)
    truth: pd.DataFrame | None = None
    streams: StreamIndex | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in the order of :data:`TABLE_NAMES` (safety tables too)."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    @property
    def warnings(self) -> pd.DataFrame:
        """Rows of the report with severity ``"warning"``."""
        return self.report[self.report["severity"] == "warning"].reset_index(drop=True)

    @property
    def has_safety_data(self) -> bool:
        """Whether any safety table (adverse events, vitals, medications) has rows."""
        return any(len(getattr(self, name)) for name in SAFETY_TABLES)

    @property
    def arms(self) -> pd.Series:
        """Arm of each participant, indexed by participant_id."""
        return self.participants.set_index("participant_id")["arm"]

    def differences(self, other: Trial, *, rtol: float = 1e-9) -> list[str]:
        """What differs between two trials, one sentence per difference (empty if equal).

        Numbers are compared with relative tolerance ``rtol``; the validation reports
        are not compared (they name different source files).
        """
        found = []
        if self.protocol != other.protocol:
            found.append("protocols differ")
        for name in TABLE_NAMES:
            mine, theirs = getattr(self, name), getattr(other, name)
            if list(mine.columns) != list(theirs.columns):
                found.append(
                    f"{name}: columns differ: {list(mine.columns)} vs {list(theirs.columns)}"
                )
                continue
            try:
                pd.testing.assert_frame_equal(mine, theirs, check_exact=False, rtol=rtol)
            except AssertionError as exc:
                found.append(f"{name}: {str(exc).strip().splitlines()[0:4]}")
        return found

    def equals(self, other: Trial) -> bool:
        """Whether two trials hold the same protocol and tables (reports aside)."""
        return not self.differences(other)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{name}={len(getattr(self, name))}"
            for name in TABLE_NAMES
            if name not in SAFETY_TABLES or len(getattr(self, name))
        )
        problems = self.report["severity"].value_counts().to_dict()
        return (
            f"Trial({self.protocol.study_id!r}, {counts}, "
            f"errors={problems.get('error', 0)}, warnings={problems.get('warning', 0)})"
        )
