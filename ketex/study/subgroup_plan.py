"""``[analysis.subgroups]`` of ``study.toml``: the subgroups of the report's forest plot.

```toml
[analysis.subgroups]
columns = ["sex", "age", "site"]   # participants columns, or "baseline" (baseline score)
age = [40, 60]                     # cut points: < 40, 40 to < 60, >= 60
baseline = "median"                # the default of a numeric column
```

Without the table the forest plot shows :data:`DEFAULT_COLUMNS`, leaving out (and
listing in the report's "Not analysed") those the data lack; a column the plan names
must exist: :func:`subgroup_problems` says which do not, naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ketex.study.protocol import _Reader

__all__ = ["DEFAULT_COLUMNS", "MEDIAN", "SubgroupPlan", "read_subgroups", "subgroup_levels",
           "subgroup_problems"]

#: Subgroups of the forest plot when the plan names none.
DEFAULT_COLUMNS = ("sex", "age", "baseline", "site")
#: The cut of a numeric subgroup column when the plan gives no cut points.
MEDIAN = "median"
#: Subgroup names that are not participants columns: the baseline score of the scale.
BASELINE = "baseline"

Cut = str | tuple[float, ...]


@dataclass(frozen=True)
class SubgroupPlan:
    """The subgroups of the forest plot and the cut points of numeric ones.

    Parameters
    ----------
    columns : tuple of str, optional
        Participants columns, or ``"baseline"`` (the baseline score of the primary
        scale), in the order of the plot. None: :data:`DEFAULT_COLUMNS`, those the data
        lack left out; given: each must exist (:func:`subgroup_problems`); empty: no
        forest plot.
    cuts : mapping of str to "median" or sequence of float
        Cut points of numeric columns: ``{"age": (40, 60)}`` gives ``< 40``,
        ``40 to < 60`` and ``>= 60``. A numeric column without cut points is split at
        its median. Kept as a tuple of ``(column, cut)`` pairs.

    Examples
    --------
    >>> plan = SubgroupPlan(columns=("sex", "age"), cuts={"age": [40, 60]})
    >>> plan.names, plan.cut("age"), plan.cut("baseline")
    (('sex', 'age'), (40.0, 60.0), 'median')
    >>> SubgroupPlan().names
    ('sex', 'age', 'baseline', 'site')
    >>> plan.to_dict()
    {'columns': ['sex', 'age'], 'age': [40.0, 60.0]}
    """

    columns: tuple[str, ...] | None = None
    cuts: tuple[tuple[str, Cut], ...] = ()

    def __post_init__(self) -> None:
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
        pairs = self.cuts.items() if isinstance(self.cuts, Mapping) else self.cuts
        object.__setattr__(self, "cuts", tuple(
            (str(name), cut if isinstance(cut, str) else tuple(float(c) for c in cut))
            for name, cut in pairs))

    @property
    def explicit(self) -> bool:
        """Whether the plan names its columns (each must then exist in the data)."""
        return self.columns is not None

    @property
    def names(self) -> tuple[str, ...]:
        """The subgroup columns of the forest plot (:data:`DEFAULT_COLUMNS` when none given)."""
        return DEFAULT_COLUMNS if self.columns is None else self.columns

    def cut(self, name: str) -> Cut:
        """The cut points of column ``name``; ``"median"`` when the plan gives none."""
        return dict(self.cuts).get(name, MEDIAN)

    def to_dict(self) -> dict[str, Any]:
        """The table as ``study.toml`` holds it (empty: nothing to write)."""
        out: dict[str, Any] = {} if self.columns is None else {"columns": list(self.columns)}
        out.update({name: cut if isinstance(cut, str) else list(cut) for name, cut in self.cuts})
        return out


def read_subgroups(reader: _Reader, data: Any, key: str = "analysis.subgroups"
                   ) -> SubgroupPlan | None:
    """``[analysis.subgroups]`` from TOML data (None: problems recorded in ``reader``)."""
    if data is None:
        return SubgroupPlan()
    if not isinstance(data, Mapping):
        reader.problem(key, f"must be a table ([{key}]), got {type(data).__name__}")
        return None
    before = len(reader.problems)
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            reader.problem(f"{key}.columns", f"must be an array of column names, e.g. "
                           f'["sex", "age", "site"], got {columns!r}')
        else:
            duplicated = sorted({c for c in columns if columns.count(c) > 1})
            if duplicated:
                reader.problem(f"{key}.columns", f"duplicated column(s) {', '.join(duplicated)}")
    cuts = {}
    for name, cut in data.items():
        if name == "columns":
            continue
        problem = _cut_problem(cut)
        if problem:
            reader.problem(f"{key}.{name}", problem)
        else:
            cuts[name] = cut
    if len(reader.problems) > before:
        return None
    return SubgroupPlan(None if columns is None else tuple(columns), tuple(cuts.items()))


def _cut_problem(cut: Any) -> str | None:
    if cut == MEDIAN:
        return None
    numbers = isinstance(cut, list) and cut and all(
        isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in cut)
    if not numbers:
        return (f"cut points must be \"median\" or an array of increasing numbers such as "
                f"[40, 60], got {cut!r}")
    if any(b <= a for a, b in zip(cut, cut[1:], strict=False)):
        return f"cut points {cut!r} must increase"
    return None


def subgroup_problems(plan: SubgroupPlan, participants: pd.DataFrame,
                      key: str = "analysis.subgroups") -> list[tuple[str, str]]:
    """``(key, what to do)`` for every column the plan names that the data cannot split by.

    A named column must be ``"baseline"`` or a participants column with values; cut
    points need a numeric column.

    Examples
    --------
    >>> import pandas as pd
    >>> participants = pd.DataFrame({"participant_id": ["P1"], "sex": ["F"], "age": [40]})
    >>> for key, what in subgroup_problems(SubgroupPlan(("sex", "site")), participants):
    ...     print(key, what)
    analysis.subgroups.columns[1] 'site' is neither 'baseline' nor a participants column
    with values (columns: participant_id, sex, age)
    """
    filled = [c for c in participants.columns if participants[c].notna().any()]
    listing = ", ".join(map(str, filled))
    out = []
    for k, name in enumerate(plan.columns or ()):
        if name != BASELINE and name not in filled:
            out.append((f"{key}.columns[{k}]", f"{name!r} is neither 'baseline' nor a "
                        f"participants column with values (columns: {listing})"))
    for name, cut in plan.cuts:
        if name == BASELINE:
            continue
        if name not in filled:
            out.append((f"{key}.{name}", f"cut points for {name!r}, which is neither "
                        f"'baseline' nor a participants column with values (columns: {listing})"))
        elif cut != MEDIAN and not _numeric(participants[name]):
            out.append((f"{key}.{name}", f"cut points for {name!r}, whose values are not "
                        "numbers; leave the cut points out to split by its values"))
    return out


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def subgroup_levels(name: str, cut: Cut, values: pd.Series) -> tuple[pd.Series, list[str]]:
    """The level of each value and the levels in order (``"< 40"``, ``"40 to < 60"``, ...).

    A numeric column (and ``age``) is split at ``cut``: its median or the cut points;
    a boolean column gives ``yes`` / ``no``; any other column its values.

    Examples
    --------
    >>> import pandas as pd
    >>> levels, order = subgroup_levels("age", (40, 60), pd.Series([35, 40, 59, 60, None]))
    >>> levels.fillna("missing").tolist()
    ['< 40', '40 to < 60', '40 to < 60', '\u2265 60', 'missing']
    >>> order
    ['< 40', '40 to < 60', '\u2265 60']
    """
    if name == "age" or _numeric(values):
        values = pd.to_numeric(values)
        points = ((float(values.median()),) if cut == MEDIAN
                  else tuple(float(c) for c in cut))
        order = ([f"< {points[0]:g}"]
                 + [f"{a:g} to < {b:g}" for a, b in zip(points, points[1:], strict=False)]
                 + [f"\u2265 {points[-1]:g}"])

        def level(v: float):
            if pd.isna(v):
                return pd.NA
            return order[sum(v >= p for p in points)]

        return values.map(level), order
    if pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: pd.NA if pd.isna(v) else ("yes" if v else "no")), \
            ["no", "yes"]
    levels = values.astype("string")
    return levels, sorted(levels.dropna().unique())
