"""An analysis plan in a file of its own: a TOML file holding an ``[analysis]`` table
(``primary``, ``derivation``, ``secondary``, ``subgroups``) that replaces the plan of
``study.toml`` for one run (``ketex report --plan PATH``).

It is read and checked exactly as ``study.toml``'s ``[analysis]`` is (the same reader,
the same checks against the protocol), every problem collected and named by the plan
file and its key.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ketex.study.plan import AnalysisPlan, plan_problems, read_plan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover
    from ketex.study.protocol import Protocol
    from ketex.study.trial import Trial

__all__ = ["read_analysis_plan", "with_analysis_plan"]


def read_analysis_plan(path: str | Path, protocol: Protocol) -> AnalysisPlan:
    """The ``[analysis]`` table of a plan file, checked against ``protocol``.

    Parameters
    ----------
    path : str or Path
        A TOML file with one ``[analysis]`` table, as ``study.toml`` holds it (keys left
        out take their defaults, as there). Nothing else may be in it.
    protocol : ketex.Protocol
        The study's protocol: the arms, visits and scales the plan may name.

    Returns
    -------
    ketex.AnalysisPlan
        With ``source`` the file, as the report's methods name it.

    Raises
    ------
    OSError
        When the file cannot be read.
    ketex.study.protocol.ProtocolError
        Listing every problem (not valid TOML, no ``[analysis]``, unknown tables or keys,
        a visit, scale, arm or covariance structure that does not exist, ...), each as
        ``<path>: <key>: <what to do>``.

    Examples
    --------
    >>> import ketex, pathlib, tempfile
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "plan.toml"
    >>> _ = path.write_text('[analysis.primary]\\nprimary_visit = "WEEK8"\\n'
    ...                     '[analysis.subgroups]\\ncolumns = ["sex"]\\n')
    >>> plan = read_analysis_plan(path, protocol)
    >>> plan.primary.primary_visit, plan.subgroups.names, plan.source == str(path)
    ('WEEK8', ('sex',), True)
    >>> _ = path.write_text('[analysis.primary]\\nvisits = ["WEEK2", "WEEK99"]\\n'
    ...                     'covariance = ["us", "banded"]\\n')
    >>> read_analysis_plan(path, protocol)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ketex.study.protocol.ProtocolError: ...plan.toml: 3 problems; fix each of them:
      ...plan.toml: analysis.primary.covariance[1]: 'banded' is not a covariance structure; ...
      ...plan.toml: analysis.primary.visits[1]: visit 'WEEK99' is not among [[visits]] (...)
      ...plan.toml: endpoints.primary_visit: visit 'WEEK12' is not among the analysed visits
    (WEEK2, WEEK99) (endpoints is a table of study.toml; the plan file can set
    analysis.primary.primary_visit)
    """
    from ketex.study.derivation_plan import derivation_problems
    from ketex.study.protocol import ProtocolError, _Reader
    from ketex.study.secondary_plan import secondary_problems

    path = Path(path)
    source = str(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{source}: not valid TOML ({exc}); fix the syntax") from None
    reader = _Reader(source)
    unknown = sorted(set(data) - {"analysis"})
    if unknown:
        reader.problem("(top level)", f"unknown table(s) {', '.join(unknown)}; a plan file "
                       "holds only [analysis] (the rest of the protocol stays in study.toml)")
    if "analysis" not in data:
        reader.problem("analysis", "missing; add an [analysis] table ([analysis.primary], "
                       "[analysis.derivation], [analysis.secondary], [analysis.subgroups])")
        reader.raise_if_any()
    plan = read_plan(reader, data["analysis"])
    if plan is None:  # read_plan gives None only with a problem recorded
        reader.raise_if_any()
        raise ProtocolError(f"{source}: the [analysis] table cannot be read")
    # the checks reading study.toml makes, against this protocol
    candidate = dataclasses.replace(protocol, analysis=plan)
    for key, what in [*plan_problems(plan.primary, candidate),
                      *secondary_problems(plan.secondary, candidate),
                      *derivation_problems(plan.derivation)]:
        reader.problem(key, _where(key, what))
    reader.raise_if_any()
    candidate = dataclasses.replace(protocol, analysis=plan)
    for key, what in plan_problems(plan.primary, candidate, complete=True):
        reader.problem(key, _where(key, what))
    reader.raise_if_any()
    return dataclasses.replace(plan, source=source)


def _where(key: str, what: str) -> str:
    """A problem of a key outside ``[analysis]`` says that the key is in study.toml."""
    if key.startswith("analysis"):
        return what
    table = key.split(".")[0]
    hint = {"endpoints.primary_visit": "; the plan file can set "
            "analysis.primary.primary_visit"}.get(key, "")
    return f"{what} ({table} is a table of study.toml{hint})"


def with_analysis_plan(trial: Trial, path: str | Path) -> Trial:
    """``trial`` with the plan of the file ``path`` in place of its protocol's
    (:func:`read_analysis_plan`); the data are unchanged.

    Examples
    --------
    >>> import ketex, pathlib, tempfile
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "plan.toml"
    >>> _ = path.write_text('[analysis.primary]\\ncovariance = ["ar1h"]\\n')
    >>> with_analysis_plan(trial, path).protocol.analysis.primary.covariance
    ('ar1h',)
    """
    plan = read_analysis_plan(path, trial.protocol)
    return dataclasses.replace(trial, protocol=dataclasses.replace(trial.protocol,
                                                                   analysis=plan))
