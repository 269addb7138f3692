"""Simulate a whole trial: participants, infusions, exercise, assessments, events, truth."""

from __future__ import annotations

import dataclasses
import datetime

import numpy as np
import pandas as pd

from ketex.simulate.design import TrialDesign
from ketex.simulate.exercise import exercise_kkw, simulate_sessions
from ketex.simulate.items import blank_items, madrs_items, qids_items
from ketex.simulate.safety import simulate_safety
from ketex.simulate.trajectories import MADRS_MAX, Course, latent_course
from ketex.study.protocol import Protocol, Visit
from ketex.study.trial import Trial
from ketex.study.validation import build_trial

__all__ = ["TRUTH_COLUMNS", "simulate_trial"]

QIDS_MAX = 27.0
DAYS_PER_YEAR = 365.25
_MAX_SCREENING_ROUNDS = 200
# a new stream goes last: the children of a seed are drawn by position, so the others
# (and every trial simulated without safety data) stay the same
_STREAMS = ("population", "baseline", "effects", "exercise", "visits", "items", "dropout",
            "hospitalisation", "safety")

#: Columns of ``trial.truth`` (besides one ``true_madrs_<VISIT>`` per protocol visit).
TRUTH_COLUMNS = {
    "participant_id": "participant identifier",
    "arm": "arm code",
    "site": "site code",
    "baseline_madrs": "latent baseline MADRS (before rating noise)",
    "intercept_madrs": "participant random intercept after randomisation",
    "site_effect_madrs": "site random effect after randomisation",
    "untreated_madrs": "level after randomisation without any treatment benefit",
    "adherence": "probability of attending each exercise session (Beta draw)",
    "kkw": "achieved exercise dose, KKW, from the recorded sessions (before dropout)",
    "kkw_full_course": "exercise dose had the participant not dropped out; drives the model",
    "half_life_days": "half-life of the ketamine effect for this participant",
    "response_day": "first day of true response (MADRS <= (1 - reduction) x baseline)",
    "relapsed": "whether a relapse started within the follow-up",
    "relapse_day": "day the relapse started (NaN: none)",
    "dropout_day": "day of the discontinuation event (NaN: completed)",
    "hospitalisation_day": "day of the hospitalisation (NaN: none)",
    "true_response": "true response at the primary visit",
    "true_remission": "true remission at the primary visit",
}


def simulate_trial(design: TrialDesign | None = None, seed: int = 0) -> Trial:
    """Simulate a trial from a design, with the latent truth attached.

    Parameters
    ----------
    design : TrialDesign, optional
        What to simulate; None gives the Yale-style sample design, ``TrialDesign()``.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same design and seed give the same
        trial.

    Returns
    -------
    Trial
        Validated and canonical, as the readers return it (the raw tables pass through
        :func:`ketex.study.validation.build_trial`), following ``design.protocol()``.
        ``trial.truth`` has one row per participant: the columns of
        :data:`TRUTH_COLUMNS` and ``true_madrs_<VISIT>``, the true MADRS on the day of
        each protocol visit (for visits after dropout, the course had the participant
        stayed; NaN for visits not scheduled for the arm). The model is described in
        :mod:`ketex.simulate.trajectories`.

    Raises
    ------
    ValueError
        When ``seed`` is not a non-negative integer, or the eligibility cut-off leaves too
        few candidates.

    Examples
    --------
    >>> from ketex.simulate import simulate_trial
    >>> trial = simulate_trial(seed=1)
    >>> trial
    Trial('KETEX-SAMPLE', participants=80, infusions=280, exercise=2083, assessments=1426,
          events=14, errors=0, warnings=1)
    >>> trial.participants.groupby("arm").size().to_dict()
    {'SERIES': 40, 'SINGLE': 40}
    >>> trial.truth.loc[0, ["participant_id", "arm", "baseline_madrs", "kkw"]].to_dict()
    {'participant_id': 'P001', 'arm': 'SINGLE', 'baseline_madrs': 41.94..., 'kkw': 8.62...}

    The warning is a QIDS-SR16 rating with too many blank items to prorate.
    """
    design = TrialDesign() if design is None else design
    if not isinstance(design, TrialDesign):
        raise ValueError(f"design must be a TrialDesign, got {type(design).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rngs = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    return _Simulation(design, rngs).run()


@dataclasses.dataclass
class _Simulation:
    """One run of the simulator; each step fills attributes used by the next."""

    design: TrialDesign
    rngs: dict[str, np.random.Generator]

    def run(self) -> Trial:
        protocol = self.latent()
        self._hospitalisation()
        raw = {
            "participants": self.participants,
            "infusions": self._infusions(),
            "exercise": self._exercise_table(),
            "assessments": self._assessments(),
            "events": self._events(),
        }
        if self.design.safety is not None:
            active = {arm.code for arm in self.design.arms if arm.active}
            raw.update(simulate_safety(self.design.safety, self.participants, active,
                                       raw["infusions"], raw["exercise"], self.dropout_day,
                                       self.rngs["safety"]))
            timed = raw.pop("timed_ratings", None)
            if timed is not None:
                raw["assessments"] = pd.concat([raw["assessments"], timed], ignore_index=True)
        trial = build_trial(protocol, raw, source=f"simulated {self.design.study_id}")
        return dataclasses.replace(trial, truth=self._truth())

    def latent(self, arm: str | None = None) -> Protocol:
        """Participants, visit days, true course, observed totals and dropout; no tables.

        ``arm`` puts every participant in that arm (counterfactual truth, see
        :mod:`ketex.simulate.fast`); the draws do not depend on it. Returns the protocol.
        """
        protocol = self.design.protocol()
        self.visits: tuple[Visit, ...] = protocol.visits
        self._population()
        if arm is not None:
            self.arm = np.full(self.n, arm)
        self._visit_days()
        self._baseline()
        self._exercise()
        self._course()
        self._residuals()
        self._dropout()
        return protocol

    # -- participants -----------------------------------------------------------------

    def _population(self) -> None:
        design, rng = self.design, self.rngs["population"]
        pop = design.population
        n = self.n = design.n_participants
        offsets = np.sort(rng.integers(0, design.randomization_period_days + 1, n))
        dates = [design.first_randomization_date + datetime.timedelta(days=int(k))
                 for k in offsets]
        # move back to the weekday that puts the first session (start_day) on a Monday
        weekday = (-design.exercise.start_day) % 7
        dates = [d - datetime.timedelta(days=(d.weekday() - weekday) % 7) for d in dates]
        self.arm = self._randomise(rng)
        self.site = rng.choice(np.array(design.site_codes), n)
        female = rng.random(n) < pop.female_fraction
        sex = np.where(female, 0, 1)
        low, high = pop.age_range_years
        age = np.clip(np.round(pop.age_mean_years + pop.age_sd_years * rng.standard_normal(n)),
                      np.ceil(low), np.floor(high))
        weight: np.ndarray = (np.asarray(pop.weight_mean_kg)[sex]
                              + pop.weight_sd_kg * rng.standard_normal(n))
        weight = np.round(np.clip(weight, 45.0, 160.0), 1)
        height: np.ndarray = (np.asarray(pop.height_mean_cm)[sex]
                              + pop.height_sd_cm * rng.standard_normal(n))
        height = np.round(np.clip(height, 145.0, 205.0))
        # weight and height are drawn apart: keep the pair a plausible body (BMI 16-45, inside
        # the 15-50 that validation accepts without a warning)
        square_m = (height / 100.0) ** 2
        weight = np.round(np.clip(weight, 16.0 * square_m, 45.0 * square_m), 1)
        beta_blocker = rng.random(n) < pop.beta_blocker_fraction
        resting = pop.resting_hr_mean + pop.resting_hr_sd * rng.standard_normal(n)
        resting = np.round(np.clip(resting - 8.0 * beta_blocker, 48.0, 100.0))
        self.ids = np.array([f"P{k + 1:03d}" for k in range(n)])
        self.age, self.weight, self.resting_hr = age, weight, resting
        self.beta_blocker = beta_blocker
        self.participants = pd.DataFrame({
            "participant_id": self.ids,
            "arm": self.arm,
            "site": self.site,
            "age": age,
            "sex": np.where(female, "F", "M"),
            "weight_kg": weight,
            "height_cm": height,
            "resting_hr": resting,
            "beta_blocker": beta_blocker,
            "randomization_date": [d.isoformat() for d in dates],
        })

    def _randomise(self, rng: np.random.Generator) -> np.ndarray:
        """Permuted blocks of two per arm, in order of randomisation; arms end up equal."""
        codes = self.design.arm_codes
        left = self.design.n_per_arm
        order = []
        while left > 0:
            per_arm = min(2, left)
            order.extend(rng.permutation(np.repeat(np.array(codes), per_arm)).tolist())
            left -= per_arm
        return np.array(order)

    # -- visits -----------------------------------------------------------------------

    def _visit_days(self) -> None:
        """Day of every visit for every participant, ``(n, V)``; NaN if not for the arm."""
        rng = self.rngs["visits"]
        jitter_sd = self.design.measurement.visit_jitter_sd_days
        baseline = self.design.endpoints.baseline_visit
        infusion_visits = {v.name for v in self.design.post_infusion_visits()}
        days = np.full((self.n, len(self.visits)), np.nan)
        for k, visit in enumerate(self.visits):
            low, high = visit.window
            if visit.name == baseline:
                day = rng.integers(low, high + 1, self.n).astype(float)
            elif visit.name in infusion_visits:
                day = np.full(self.n, float(visit.day))
            else:
                day = np.clip(np.round(visit.day + jitter_sd * rng.standard_normal(self.n)),
                              low, high)
            scheduled = np.ones(self.n, bool) if not visit.arms else np.isin(self.arm, visit.arms)
            days[:, k] = np.where(scheduled, day, np.nan)
        self.visit_day = days
        self.last_visit_day = np.nanmax(days, axis=1)
        first = min(v.window[0] for v in self.visits)
        last = max(v.window[1] for v in self.visits)
        sessions_end = max(self.design.arm_exercise(a.code).session_days[-1]
                           for a in self.design.arms)
        self.grid = np.arange(min(first, 0), max(last, sessions_end) + 1)

    # -- baseline, random effects, exercise, latent course ----------------------------

    def _baseline(self) -> None:
        """Latent baseline and its rating noise; candidates rated below the cut-off are
        replaced by new ones (screen failures)."""
        rng = self.rngs["baseline"]
        base = self.design.baseline
        sd = self.design.measurement.residual_sd_madrs
        latent = np.full(self.n, np.nan)
        noise = np.full(self.n, np.nan)
        for _ in range(_MAX_SCREENING_ROUNDS):
            pending = np.flatnonzero(np.isnan(latent))
            if not len(pending):
                break
            b = np.clip(base.mean_madrs + base.sd_madrs * rng.standard_normal(len(pending)),
                        0, MADRS_MAX)
            e = sd * rng.standard_normal(len(pending))
            eligible = np.clip(np.round(b + e), 0, MADRS_MAX) >= base.eligibility_min_madrs
            latent[pending[eligible]] = b[eligible]
            noise[pending[eligible]] = e[eligible]
        else:
            raise ValueError(
                "BaselineDesign.eligibility_min_madrs: too few candidates are eligible; "
                "lower the cut-off or raise mean_madrs"
            )
        self.baseline_madrs, self.baseline_noise = latent, noise

    def _exercise(self) -> None:
        """Sessions of every participant's arm's programme.

        With one programme for all arms, one set of draws; with several (a stretching
        control, dose arms), each programme is simulated for every participant from its own
        spawned stream and each participant keeps their arm's, so the draws do not depend
        on the arm (counterfactual twins, :mod:`ketex.simulate.fast`).
        """
        rng = self.rngs["exercise"]
        programmes = {a.code: self.design.arm_exercise(a.code) for a in self.design.arms}
        mine = [programmes[a] for a in self.arm]
        self.ex_weeks = np.array([ex.weeks for ex in mine], dtype=float)
        self.ex_modality = np.array([ex.modality for ex in mine], dtype=object)
        distinct = list(dict.fromkeys(programmes.values()))
        people = {"age_years": self.age, "weight_kg": self.weight,
                  "resting_hr": self.resting_hr, "beta_blocker": self.beta_blocker}
        if len(distinct) == 1:
            ex = distinct[0]
            self.adherence = rng.beta(ex.adherence_alpha, ex.adherence_beta, self.n)
            self.sessions = simulate_sessions(ex, **people, adherence=self.adherence, rng=rng)
            self.kkw_full_course = exercise_kkw(self.sessions, self.n, ex.weeks)
            return
        self.adherence = np.full(self.n, np.nan)
        parts = []
        for ex, stream in zip(distinct, rng.spawn(len(distinct)), strict=True):
            rows = np.array([m == ex for m in mine])
            adherence = stream.beta(ex.adherence_alpha, ex.adherence_beta, self.n)
            sessions = simulate_sessions(ex, **people, adherence=adherence, rng=stream)
            self.adherence[rows] = adherence[rows]
            parts.append(sessions[rows[sessions["participant"].to_numpy()]])
        self.sessions = (pd.concat(parts).sort_values(["participant", "day"], kind="stable")
                         .reset_index(drop=True))
        self.kkw_full_course = exercise_kkw(self.sessions, self.n, self.ex_weeks)

    def _course(self) -> None:
        rng = self.rngs["effects"]
        course = self.design.course
        self.intercept = course.intercept_sd_madrs * rng.standard_normal(self.n)
        site_effects = course.site_sd_madrs * rng.standard_normal(self.design.n_sites)
        position = {code: k for k, code in enumerate(self.design.site_codes)}
        self.site_effect = site_effects[[position[s] for s in self.site]]
        plans = {arm.code: arm.infusion_days for arm in self.design.arms}
        self.course: Course = latent_course(
            self.design, self.grid,
            baseline_madrs=self.baseline_madrs,
            intercept_madrs=self.intercept,
            site_effect_madrs=self.site_effect,
            infusion_days=[plans[a] for a in self.arm],
            exercise_kkw=self.kkw_full_course,
            relapse_draw=rng.standard_exponential(self.n),
            added_madrs=self._added_effects(),
            arms=self.arm,
        )
        self.true_madrs = self.course.at(self.visit_day)

    def _added_effects(self) -> np.ndarray | None:
        if not self.design.added_effects:
            return None
        added = np.zeros((self.n, len(self.grid)))
        for effect in self.design.added_effects:
            rows = self.arm == effect.arm
            added[rows] = self.design.added_effect_madrs(effect.arm, self.grid)[None, :]
        return added

    def _residuals(self) -> None:
        """Observed totals: true score plus AR(1) residuals over each participant's visits."""
        rng = self.rngs["visits"]
        m = self.design.measurement
        instruments = [v.instruments or ("MADRS",) for v in self.visits]
        madrs_days = np.where([("MADRS" in i) for i in instruments], self.visit_day, np.nan)
        qids_days = np.where([("QIDS-SR16" in i) for i in instruments], self.visit_day, np.nan)
        e_madrs = _ar1(madrs_days, m.residual_sd_madrs, m.residual_ar1_per_week, rng,
                       first=self.baseline_noise)
        e_qids = _ar1(qids_days, m.residual_sd_qids, m.residual_ar1_per_week, rng)
        self.madrs_total = np.clip(np.round(self.true_madrs + e_madrs), 0, MADRS_MAX)
        self.qids_total = np.clip(
            np.round(m.qids_per_madrs * self.true_madrs + e_qids), 0, QIDS_MAX)

    # -- attrition --------------------------------------------------------------------

    def _dropout(self) -> None:
        """Day of dropout from the MCAR, MAR and MNAR hazards (NaN: completed)."""
        rng = self.rngs["dropout"]
        drop = self.design.dropout
        days = self.grid
        planned_end = max(v.day for v in self.visits)
        active = (days[None, :] >= 1) & (days[None, :] <= self.last_visit_day[:, None])
        last_seen = _last_observed(self.visit_day, self.madrs_total, days)
        true_now = self.course.madrs
        per_day = {
            name: -np.log1p(-p) / planned_end
            for name, p in (("mcar", drop.mcar_probability), ("mar", drop.mar_probability),
                            ("mnar", drop.mnar_probability))
        }
        slope, ref = drop.log_hazard_per_madrs, drop.reference_madrs
        hazard = (per_day["mcar"]
                  + per_day["mar"] * np.exp(slope * (np.nan_to_num(last_seen, nan=ref) - ref))
                  + per_day["mnar"] * np.exp(slope * (true_now - ref)))
        self.dropout_day = _first_event(np.where(active, hazard, 0.0), days,
                                        rng.standard_exponential(self.n))

    def _hospitalisation(self) -> None:
        rng = self.rngs["hospitalisation"]
        h = self.design.hospitalisation
        days = self.grid
        end = np.fmin(self.last_visit_day, self.dropout_day - 1)
        active = (days[None, :] >= 1) & (days[None, :] <= end[:, None])
        hazard = (h.rate_per_year_at_reference / DAYS_PER_YEAR
                  * np.exp(h.log_hazard_per_madrs * (self.course.madrs - h.reference_madrs)))
        self.hospitalisation_day = _first_event(np.where(active, hazard, 0.0), days,
                                                rng.standard_exponential(self.n))

    def _on_study(self, participant: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether the participant was still in the study on that day (before dropout)."""
        dropout = self.dropout_day[participant]
        return np.isnan(dropout) | (day < dropout)

    # -- tables -----------------------------------------------------------------------

    def _infusions(self) -> pd.DataFrame:
        rows = [pd.DataFrame(columns=["participant_id", "day", "drug", "dose", "dose_unit",
                                      "route", "duration_min"])]
        for arm in self.design.arms:
            who = np.flatnonzero(self.arm == arm.code)
            for day in arm.infusion_days:
                kept = who[self._on_study(who, np.full(len(who), day))]
                rows.append(pd.DataFrame({
                    "participant_id": self.ids[kept], "day": day, "drug": arm.drug,
                    "dose": arm.dose_mg_per_kg, "dose_unit": "mg/kg", "route": arm.route,
                    "duration_min": arm.infusion_duration_min,
                }))
        return pd.concat(rows, ignore_index=True)

    def _exercise_table(self) -> pd.DataFrame:
        s = self.sessions
        kept = s[self._on_study(s["participant"].to_numpy(), s["day"].to_numpy())]
        self.kkw = exercise_kkw(kept, self.n, self.ex_weeks)
        table = kept.drop(columns="participant")
        table.insert(0, "participant_id", self.ids[kept["participant"].to_numpy()])
        table.insert(3, "modality", self.ex_modality[kept["participant"].to_numpy()])
        return table.reset_index(drop=True)

    def _assessments(self) -> pd.DataFrame:
        rng = self.rngs["items"]
        p_blank = self.design.measurement.missing_item_probability
        frames = []
        for instrument, totals, make, width in (("MADRS", self.madrs_total, madrs_items, 10),
                                                ("QIDS-SR16", self.qids_total, qids_items, 16)):
            participant, visit = np.nonzero(~np.isnan(totals))
            day = self.visit_day[participant, visit]
            keep = self._on_study(participant, day)
            participant, visit, day = participant[keep], visit[keep], day[keep]
            items = blank_items(make(totals[participant, visit], rng), p_blank, rng)
            frame = pd.DataFrame(items, columns=[f"item_{k}" for k in range(1, width + 1)])
            frame.insert(0, "participant_id", self.ids[participant])
            frame.insert(1, "day", day.astype(int))
            frame.insert(2, "visit", np.array([v.name for v in self.visits])[visit])
            frame.insert(3, "instrument", instrument)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _events(self) -> pd.DataFrame:
        dropped = np.flatnonzero(~np.isnan(self.dropout_day))
        admitted = np.flatnonzero(~np.isnan(self.hospitalisation_day))
        return pd.DataFrame({
            "participant_id": np.concatenate([self.ids[dropped], self.ids[admitted]]),
            "day": np.concatenate([self.dropout_day[dropped],
                                   self.hospitalisation_day[admitted]]).astype(int),
            "event": ["discontinuation"] * len(dropped) + ["hospitalisation"] * len(admitted),
            "description": ["withdrew from the study"] * len(dropped)
            + ["admitted for worsening depression"] * len(admitted),
        })

    def _truth(self) -> pd.DataFrame:
        ends = self.design.endpoints
        names = [v.name for v in self.visits]
        primary = self.true_madrs[:, names.index(ends.primary_visit)]
        truth = pd.DataFrame({
            "participant_id": pd.array(self.ids, dtype="string"),
            "arm": pd.array(self.arm, dtype="string"),
            "site": pd.array(self.site, dtype="string"),
            "baseline_madrs": self.baseline_madrs,
            "intercept_madrs": self.intercept,
            "site_effect_madrs": self.site_effect,
            "untreated_madrs": self.course.untreated_madrs,
            "adherence": self.adherence,
            "kkw": self.kkw,
            "kkw_full_course": self.kkw_full_course,
            "half_life_days": self.course.half_life_days,
            "response_day": self.course.response_day,
            "relapsed": ~np.isnan(self.course.relapse_day),
            "relapse_day": self.course.relapse_day,
            "dropout_day": self.dropout_day,
            "hospitalisation_day": self.hospitalisation_day,
            "true_response": primary <= (1 - ends.response_reduction) * self.baseline_madrs,
            "true_remission": primary <= ends.remission_max_madrs,
        })
        visits = pd.DataFrame(self.true_madrs, columns=[f"true_madrs_{n}" for n in names])
        return pd.concat([truth, visits], axis=1)


def _ar1(days: np.ndarray, sd: float, rho_per_week: float, rng: np.random.Generator,
         first: np.ndarray | None = None) -> np.ndarray:
    """Residuals with correlation ``rho_per_week ** (gap_days / 7)`` along each row.

    ``days`` is ``(n, V)`` with NaN where there is no rating; columns are in time order
    within each row. ``first`` gives the residual of each row's first rating.
    """
    n: int
    width: int
    n, width = days.shape
    out = np.full((n, width), np.nan)
    previous = np.full(n, np.nan)
    previous_day = np.full(n, np.nan)
    for k in range(width):
        here = ~np.isnan(days[:, k])
        fresh = sd * rng.standard_normal(n)
        starting = np.isnan(previous)
        if first is not None:
            fresh = np.where(starting, first, fresh)
        gap = np.abs(days[:, k] - previous_day)
        phi = np.where(starting, 0.0, rho_per_week ** (np.nan_to_num(gap) / 7.0))
        value = np.where(starting, fresh,
                         phi * np.nan_to_num(previous) + np.sqrt(1 - phi**2) * fresh)
        out[:, k] = np.where(here, value, np.nan)
        previous = np.where(here, value, previous)
        previous_day = np.where(here, days[:, k], previous_day)
    return out


def _last_observed(visit_day: np.ndarray, values: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``(n, T)``: on each grid day, the value of the latest visit held before that day."""
    n = visit_day.shape[0]
    grid = np.full((n, len(days)), np.nan)
    for k in range(visit_day.shape[1]):
        ok = ~np.isnan(visit_day[:, k]) & ~np.isnan(values[:, k])
        position = np.nan_to_num(visit_day[:, k]).astype(int) + 1 - int(days[0])
        ok &= position < len(days)
        grid[np.flatnonzero(ok), position[ok]] = values[ok, k]
    seen = ~np.isnan(grid)
    latest = np.maximum.accumulate(np.where(seen, np.arange(len(days))[None, :], 0), axis=1)
    result = grid[np.arange(n)[:, None], latest]
    return np.where(np.maximum.accumulate(seen, axis=1), result, np.nan)


def _first_event(hazard: np.ndarray, days: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Day the cumulative daily hazard first reaches the exponential draw (NaN: never)."""
    cumulative = np.cumsum(hazard, axis=1)
    reached = cumulative >= draw[:, None]
    return np.where(reached.any(axis=1), days[np.argmax(reached, axis=1)], np.nan).astype(float)

