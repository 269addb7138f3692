"""The report's safety section: the tables and figures beyond the three standard tables,
each made when the data allow it.

:func:`ketex.report.run.write_report` calls :func:`extra_safety_tables` with its ``keep``
(after the TEAE and vital-sign tables) and :func:`safety_figures` with its ``save``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ketex.derive.peri_infusion import timed_ratings
from ketex.report.applicability import Skipped, not_analysed
from ketex.report.figures.safety import (
    infusion_vitals_course,
    peri_infusion_course,
    plot_infusion_vitals,
    plot_peri_infusion,
)
from ketex.report.safety_listing import serious_event_listing
from ketex.report.safety_peri_infusion import peri_infusion_table
from ketex.study.trial import Trial

__all__ = ["BLOOD_PRESSURE_FIGURE", "PERI_INFUSION_FIGURE", "extra_safety_tables",
           "safety_figures", "shown_infusions"]

BLOOD_PRESSURE_FIGURE = "figure_safety_blood_pressure"
PERI_INFUSION_FIGURE = "figure_safety_peri_infusion"


def extra_safety_tables(trial: Trial, keep: Callable, labels: dict[str, str]) -> list[Skipped]:
    """The serious-event listing (when there are serious events) and the peri-infusion
    ratings table (when ratings are timed from an infusion); nothing is listed as not
    analysed when the data have neither, which is the usual case.

    Examples
    --------
    >>> import ketex
    >>> made = []
    >>> extra_safety_tables(ketex.load_trial(ketex.sample_study_path()), made.append, {})
    []
    >>> made
    []
    """
    if len(trial.adverse_events):
        try:
            listing = serious_event_listing(trial, group_labels=labels)
        except ValueError:  # no treatment records: the TEAE tables say so
            listing = None
        if listing is not None and len(listing.data):
            keep(listing)
    if len(timed_ratings(trial)):
        keep(peri_infusion_table(trial, group_labels=labels))
    return []


def shown_infusions(numbers: Sequence[int]) -> list[int]:
    """The infusion numbers the figure shows: all up to four, else the first three and
    the last.

    Examples
    --------
    >>> shown_infusions([1, 2, 3]), shown_infusions([1, 2, 3, 4, 5, 6])
    ([1, 2, 3], [1, 2, 3, 6])
    """
    numbers = sorted(numbers)
    return numbers if len(numbers) <= 4 else [*numbers[:3], numbers[-1]]


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
    if len(trial.vitals):  # else "Not analysed" already says: no vital signs table
        _blood_pressure(trial, save, arms, labels, skipped)
    ratings = timed_ratings(trial)
    if len(ratings):
        with not_analysed(skipped, "Ratings around infusions (figure)"):
            numbers = shown_infusions(ratings["infusion_number"].dropna().unique().tolist())
            course = peri_infusion_course(trial, infusion_numbers=numbers)
            fig = plot_peri_infusion(course, order=arms, labels=labels)
            scales = " and ".join(dict.fromkeys(
                {"CADSS": "CADSS", "BPRS-POSITIVE": "BPRS positive symptoms"}[i]
                for i in course["instrument"]))
            save(fig, PERI_INFUSION_FIGURE,
                 f"{scales} over the minutes from the start of the infusion, by infusion "
                 f"number ({', '.join(map(str, numbers))}) and arm: mean with 95% CI over "
                 "the participants rated. Points are offset slightly to avoid overlap.")
    return skipped


def _blood_pressure(trial: Trial, save: Callable, arms: Sequence[str],
                    labels: dict[str, str], skipped: list[Skipped]) -> None:
    part = "Blood pressure around infusions (figure)"
    with not_analysed(skipped, part):
        course = infusion_vitals_course(trial, ("SBP", "DBP"), change=True)
        if course.empty:
            skipped.append(Skipped(part, "the data hold no vital signs with minutes from "
                                         "the start of an infusion"))
            return
        fig = plot_infusion_vitals(course, order=arms, labels=labels, change=True)
        shown = list(dict.fromkeys(course["test"].astype(str)))
        names = {"SBP": "systolic", "DBP": "diastolic"}
        what = " and ".join(f"{names[t]} ({'ab'[k]})" for k, t in enumerate(shown))
        save(fig, BLOOD_PRESSURE_FIGURE,
             f"{what[0].upper()}{what[1:]} blood pressure around infusions: change from the "
             "pre-infusion value (the last at or before the start) by minute from the start "
             "of the infusion, mean with 95% CI over participants, each participant's "
             "infusions averaged first. Points are offset slightly to avoid overlap.")
