"""Supplemental qualifiers (SUPP-- datasets): extra columns attached to their parent records.

A SUPP-- record names its parent by ``RDOMAIN``, ``USUBJID`` and ``IDVAR`` /
``IDVARVAL`` (for SUPPDM: the participant, ``IDVAR`` empty). Its ``QVAL`` fills the
ketex column named by :func:`~ketex.io.sdtm.terms.supp_column` in the row the parent
record went into.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ketex.io.sdtm.datasets import Dataset
from ketex.io.sdtm.subjects import Subjects, location, report_unusable
from ketex.io.sdtm.terms import number_text, supp_column
from ketex.study.problems import LINE, ProblemLog

__all__ = ["attach_supp"]


def attach_supp(supp: Dataset, parent: Dataset | None, placement: dict, subjects: Subjects,
                log: ProblemLog) -> None:
    """Fill the rows of ``placement`` (parent record index -> (RawTable, row)) from ``supp``."""
    table = supp.table
    subject_level = supp.domain == "SUPPDM"
    missing = supp.missing("USUBJID", "QNAM", "QVAL", *(() if subject_level else ("IDVAR",
                                                                                "IDVARVAL")))
    if missing:
        report_unusable(supp, table, missing, log)
        return
    if parent is None:
        log.add(table, "missing_dataset",
                f"{supp.file} qualifies {supp.domain.removeprefix('SUPP')} records but there "
                f"is no {supp.domain.removeprefix('SUPP').lower()}.xpt or .csv; none of its "
                f"{len(supp.frame)} records were loaded", source_file=supp.file)
        return
    if "participant_id" not in parent.frame.columns:
        log.add(table, "missing_dataset",
                f"{supp.file} qualifies records of {parent.file}, which has no usable USUBJID "
                f"column (see its problem); none of the {len(supp.frame)} records of "
                f"{supp.file} were loaded", source_file=supp.file)
        return
    keep = subjects.keep(supp, table, log, strict=True)
    lookup = _ParentLookup(parent, placement)
    names = ["participant_id", "_source_file", LINE, "QNAM", "QLABEL", "QVAL", "IDVAR",
             "IDVARVAL"]
    frame = pd.DataFrame({n: supp.text(n) if n in ("QNAM", "QLABEL", "IDVAR") else
                          supp.column(n) for n in names})[keep].astype(object)
    for record in frame.where(frame.notna(), None).to_dict("records"):
        if subject_level:
            targets = [(subjects.table, subjects.rows[record["participant_id"]])]
        else:
            targets = lookup.targets(record, supp, log)
        _fill(record, targets, supp, log)


class _ParentLookup:
    """Finds the rows the parent records named by IDVAR/IDVARVAL went into."""

    def __init__(self, parent: Dataset, placement: dict) -> None:
        self.parent, self.placement = parent, placement
        self.index: dict[str, dict[tuple, list]] = {}

    def _by(self, idvar: str) -> dict[tuple, list] | None:
        if idvar not in self.index:
            if idvar not in self.parent.frame.columns:
                return None
            keys = zip(self.parent.frame["participant_id"],
                       self.parent.frame[idvar].map(_key), strict=True)
            found: dict[tuple, list] = {}
            for position, key in zip(self.parent.frame.index, keys, strict=True):
                found.setdefault(key, []).append(position)
            self.index[idvar] = found
        return self.index[idvar]

    def targets(self, record: dict, supp: Dataset, log: ProblemLog) -> list:
        idvar = str(record.get("IDVAR") or "").upper()
        where = dict(source_file=supp.file, line=int(record[LINE]),
                     participant_id=record["participant_id"])
        found = self._by(idvar) if idvar else None
        if found is None:
            log.add(supp.table, "unknown_parent_record",
                    f"{location(record)}: IDVAR {record.get('IDVAR')!r} is not a variable of "
                    f"{self.parent.file}; name the parent's --SEQ (or another identifying "
                    "variable)", column="IDVAR", value=record.get("IDVAR"), **where)
            return []
        parents = found.get((record["participant_id"], _key(record.get("IDVARVAL"))), [])
        if not parents:
            log.add(supp.table, "unknown_parent_record",
                    f"{location(record)}: no {self.parent.domain} record of participant "
                    f"{record['participant_id']} has {idvar} = {record.get('IDVARVAL')}; "
                    "correct IDVARVAL", column="IDVARVAL", value=record.get("IDVARVAL"),
                    **where)
            return []
        targets = list(dict.fromkeys(self.placement[p] for p in parents
                                     if p in self.placement))
        if not targets:
            log.add(supp.table, "parent_not_loaded",
                    f"{location(record)}: its parent record ({self.parent.file} "
                    f"{idvar} = {record.get('IDVARVAL')}) was not loaded (see its problem), "
                    "so neither was this qualifier", column="IDVARVAL",
                    value=record.get("IDVARVAL"), severity="warning", **where)
        return targets


def _key(value: Any) -> object:
    """IDVARVAL and the parent variable compared as text, numbers without a trailing .0."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        return number_text(float(value))
    except (TypeError, ValueError):
        return str(value).strip().upper()


def _fill(record: dict, targets: list, supp: Dataset, log: ProblemLog) -> None:
    line = int(record[LINE])
    if record.get("QNAM") is None:
        log.add(supp.table, "missing_value",
                f"{location(record)}: QNAM is empty; name the qualifier (up to 8 characters)",
                source_file=supp.file, line=line, participant_id=record["participant_id"],
                column="QNAM")
        return
    qnam = str(record["QNAM"])
    qlabel = record.get("QLABEL")
    for raw_table, row in targets:
        column = supp_column(raw_table.name, qnam, None if qlabel is None else str(qlabel))
        if raw_table.set(row, column, record["QVAL"], (supp.file, line)):
            continue
        first = raw_table.cell_source(row, column)
        log.add(supp.table, "duplicate_record",
                f"{location(record)}: {column} (QNAM {qnam}) already has a value from "
                f"{first[0]} line {first[1]}; keep one of the two",
                source_file=supp.file, line=line, participant_id=record["participant_id"],
                column="QNAM", value=qnam)
