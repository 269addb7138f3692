"""The figures of the report's safety section, each made when the data allow it.

:func:`safety_figures` is called once by :func:`ketex.report.run.write_report` with its
``save``; the safety tables are made with the other tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ketex.report.applicability import Skipped, not_analysed
from ketex.report.figures.safety import infusion_vitals_course, plot_infusion_vitals
from ketex.study.trial import Trial

__all__ = ["BLOOD_PRESSURE_FIGURE", "safety_figures"]

BLOOD_PRESSURE_FIGURE = "figure_safety_blood_pressure"


def safety_figures(trial: Trial, save: Callable, arms: Sequence[str],
                   labels: dict[str, str]) -> list[Skipped]:
    """Draw the safety figures the data allow; return the ones left out, and why.

    Examples
    --------
    >>> import dataclasses, ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> untimed = dataclasses.replace(trial, vitals=trial.vitals.assign(time_min=float("nan")))
    >>> print(safety_figures(untimed, lambda fig, name, caption: None, [], {})[0])
    Blood pressure around infusions (figure): the data hold no vital signs with minutes \
from the start of an infusion
    """
    skipped: list[Skipped] = []
    part = "Blood pressure around infusions (figure)"
    if not len(trial.vitals):
        return skipped  # "Not analysed" already says: no vital signs table
    with not_analysed(skipped, part):
        course = infusion_vitals_course(trial, ("SBP", "DBP"), change=True)
        if course.empty:
            skipped.append(Skipped(part, "the data hold no vital signs with minutes from "
                                         "the start of an infusion"))
        else:
            fig = plot_infusion_vitals(course, order=arms, labels=labels, change=True)
            shown = list(dict.fromkeys(course["test"].astype(str)))
            names = {"SBP": "systolic", "DBP": "diastolic"}
            what = " and ".join(f"{names[t]} ({'ab'[k]})" for k, t in enumerate(shown))
            save(fig, BLOOD_PRESSURE_FIGURE,
                 f"{what[0].upper()}{what[1:]} blood pressure around infusions: change "
                 "from the pre-infusion value (the last at or before the start) by minute "
                 "from the start of the infusion, mean with 95% CI over participants, "
                 "each participant's infusions averaged first. Points are offset slightly "
                 "to avoid overlap.")
    return skipped
