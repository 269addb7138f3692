"""What a trial has for each part of the report, and why a part is left out.

A report is written for any trial: a part (an endpoint, the exercise section, the
infusion markers, a subgroup) appears when the protocol and the data have what it needs,
and is otherwise listed in the report's "Not analysed" section with the reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ketex.errors import KetexError
from ketex.study.protocol import ProtocolError
from ketex.study.trial import Trial

__all__ = [
    "Skipped",
    "endpoint_reason",
    "is_input_error",
    "not_analysed",
    "rated_scales",
    "rule_scales",
    "subgroup_reason",
]


@dataclass(frozen=True)
class Skipped:
    """A part of the report left out, and why (one line of "Not analysed")."""

    part: str
    reason: str

    def __str__(self) -> str:
        return f"{self.part}: {self.reason}"


def rated_scales(trial: Trial) -> set[str]:
    """Scales a protocol visit rates and the assessments hold at least one rating of.

    Examples
    --------
    >>> import ketex
    >>> sorted(rated_scales(ketex.load_trial(ketex.sample_study_path())))
    ['MADRS', 'QIDS-SR16']
    """
    protocol = trial.protocol
    scheduled = {s for v in protocol.visits for s in v.instruments}
    if any(not v.instruments for v in protocol.visits):
        scheduled.add(protocol.primary_scale)
    observed = set(trial.assessments["instrument"].astype(str)) if len(trial.assessments) \
        else set()
    return scheduled & observed


def rule_scales(rule, primary_scale: str) -> set[str]:
    """The scales an endpoint rule reads (a rule without a scale reads ``primary_scale``).

    Examples
    --------
    >>> from ketex.derive.endpoints import endpoint_preset, Response
    >>> sorted(rule_scales(endpoint_preset("SUSTAIN-1"), "HAM-D17"))  # entry: response
    ['HAM-D17', 'MADRS']
    >>> rule_scales(Response(), "HAM-D17")
    {'HAM-D17'}
    """
    found: set[str] = set()
    stated = False
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        if f.name == "scale":
            stated = True
            found.add(value or primary_scale)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            found |= rule_scales(value, primary_scale)
    if not stated and not found:
        found.add(primary_scale)
    return found


def endpoint_reason(trial: Trial, rule, label: str) -> str | None:
    """Why the endpoint ``rule`` cannot be evaluated on ``trial`` (None when it can)."""
    protocol = trial.protocol
    missing = sorted(rule_scales(rule, protocol.primary_scale) - rated_scales(trial))
    if missing:
        return (f"{label} reads {', '.join(missing)}, which the trial does not rate (its "
                f"scales: {', '.join(sorted(rated_scales(trial))) or 'none'})")
    for name in ("through_visit", "from_visit"):
        visit = getattr(rule, name, None)
        if visit is not None and visit not in protocol.visit_names:
            return f"{label}: visit {visit} is not a protocol visit"
    return None


def subgroup_reason(trial: Trial, name: str) -> str | None:
    """Why the forest plot cannot show subgroup ``name`` (None when it can)."""
    if name == "baseline":
        return None
    columns = [c for c in trial.participants.columns if trial.participants[c].notna().any()]
    if name not in columns:
        return (f"subgroup {name!r}: the participants table has no such column with values "
                f"(columns: {', '.join(columns)})")
    return None


def is_input_error(error: BaseException) -> bool:
    """An error of the study's input (its protocol and plan), not of one analysis.

    ``ProtocolError``, and errors naming a ``study.toml`` key (the plan names a column the
    data lack): the report cannot be what the protocol asks for, so ``ketex report``
    stops with exit status 1 instead of leaving a section out.
    """
    return isinstance(error, ProtocolError) or str(error).startswith("study.toml")


def _reason(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(error, (KetexError, ValueError)):
        # the part names the model already: "Primary analysis (MMRM): The design ..."
        text = re.sub(r"^Cannot fit the [A-Z]+: (\w)", lambda m: m[1].upper(), text)
        return text or type(error).__name__
    return (f"{type(error).__name__}: {text} (an error inside ketex, not in the data; please "
            "report it)")


@contextmanager
def not_analysed(skipped: list[Skipped], part: str) -> Iterator[None]:
    """Run one part of the report; if it fails, list it in "Not analysed" with the reason.

    An analysis that cannot run on a valid study (a model that does not converge, a
    design the data cannot estimate) leaves its part out and the rest of the report
    is written; errors of the input itself (:func:`is_input_error`) propagate.

    Examples
    --------
    >>> from ketex.errors import ConvergenceError
    >>> skipped = []
    >>> with not_analysed(skipped, "Figure 4: subgroups"):
    ...     raise ConvergenceError("the MMRM did not converge")
    >>> print(skipped[0])
    Figure 4: subgroups: the MMRM did not converge
    """
    try:
        yield
    except Exception as error:  # noqa: BLE001 - one part fails, the report goes on
        if is_input_error(error):
            raise
        skipped.append(Skipped(part, _reason(error)))
