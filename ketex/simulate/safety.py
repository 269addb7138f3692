"""Simulated safety data: adverse events, vital signs around infusions, medications.

A :class:`SafetyDesign` (the optional ``safety`` part of a
:class:`~ketex.simulate.TrialDesign`; None, the default, simulates no safety data) gives

- **adverse events**: each infusion a participant received may bring each event of
  :attr:`SafetyDesign.adverse_events` with its own probability, higher for an active drug
  (ketamine) than for a placebo or active placebo; each exercise session may bring the
  exercise-related events. Onset is the day of the infusion or session, coded with the
  MedDRA preferred term and system organ class the safety rules accept;
- **vital signs** (SBP, DBP, HR) on every infusion day at :attr:`SafetyDesign.vital_times_min`
  (before the start, at the end of the 40-minute infusion, 40 minutes later): the
  participant's level, plus a rise that grows over the infusion and fades after it
  (0.5 mg/kg IV ketamine raises systolic pressure by roughly 10-20 mmHg, peaking near
  the end of the infusion; Riva-Posse et al. 2018, J Affect Disord 236:291), plus
  measurement noise;
- **medications**: an ongoing antidepressant started before randomisation for a share
  of participants, and lorazepam as rescue medication for another share;
- **timed ratings** (with ``timed_ratings=True``): CADSS and BPRS positive symptoms at
  :attr:`SafetyDesign.rating_times_min` of every infusion day, peaking at the end of the
  infusion (40 min) and back to about baseline by 120-240 min, larger for an active drug,
  smaller at later infusions (:mod:`ketex.simulate.ratings`). They are drawn from a stream
  of their own, so turning them on changes no other table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ketex.simulate._checks import positive, probability, require
from ketex.simulate.ratings import simulate_peri_infusion_ratings

__all__ = ["AdverseEventDesign", "SafetyDesign", "simulate_safety"]

_INFUSION_END_MIN = 40.0  # the rise peaks at the end of a standard infusion


@dataclass(frozen=True)
class AdverseEventDesign:
    """One kind of adverse event and how often it follows an infusion or a session.

    Parameters
    ----------
    term : str
        The verbatim term written to ``adverse_events.term``.
    pt, soc : str
        MedDRA preferred term and system organ class (as MedDRA spells them).
    per_infusion_active, per_infusion_placebo : float
        Probability of the event after each infusion of an active drug, and of a placebo
        or active placebo (:attr:`ArmDesign.role <ketex.simulate.ArmDesign>`).
    per_session : float
        Probability after each exercise session attended (related to exercise).
    duration_days : int
        ``end_day - start_day``.
    """

    term: str
    pt: str
    soc: str
    per_infusion_active: float = 0.0
    per_infusion_placebo: float = 0.0
    per_session: float = 0.0
    duration_days: int = 0

    def __post_init__(self) -> None:
        where = f"AdverseEventDesign {self.term!r}:"
        for name in ("per_infusion_active", "per_infusion_placebo", "per_session"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, f"{where} {name}", f"must lie in [0, 1], got {value}")
        require(self.duration_days >= 0, f"{where} duration_days",
               f"must be >= 0, got {self.duration_days}")
        require(self.per_session == 0.0 or (self.per_infusion_active == 0.0
                                           and self.per_infusion_placebo == 0.0),
               where, "follows either infusions or exercise sessions, not both")


def _default_events() -> tuple[AdverseEventDesign, ...]:
    # illustrative per-infusion rates of 0.5 mg/kg IV ketamine vs saline or midazolam, of
    # the order reviewed by Short et al. 2018 (Lancet Psychiatry 5:65); not estimates
    return (
        AdverseEventDesign("feeling spaced out", "Dissociation", "Psychiatric disorders",
                           0.30, 0.04),
        AdverseEventDesign("nausea", "Nausea", "Gastrointestinal disorders", 0.10, 0.04),
        AdverseEventDesign("headache", "Headache", "Nervous system disorders", 0.12, 0.07,
                           duration_days=1),
        AdverseEventDesign("dizzy", "Dizziness", "Nervous system disorders", 0.15, 0.05),
        AdverseEventDesign("sore muscles after cycling", "Myalgia",
                           "Musculoskeletal and connective tissue disorders",
                           per_session=0.004, duration_days=2),
    )


@dataclass(frozen=True)
class SafetyDesign:
    """Adverse events, vital signs on infusion days and medications of a simulated trial.

    Parameters
    ----------
    adverse_events : tuple of AdverseEventDesign
        The kinds of events; the defaults are the common ketamine events (dissociation,
        nausea, headache, dizziness) and exercise myalgia.
    severity_probabilities : (float, float, float)
        Shares of mild, moderate and severe events. A severe drug-related event
        interrupts the infusion (``action`` drug_interrupted), a severe exercise event
        pauses the exercise; others change nothing.
    vital_times_min : tuple of float
        Minutes from the infusion start of the SBP, DBP and HR measurements.
    sbp_mean_mmhg, sbp_sd_mmhg, dbp_mean_mmhg, dbp_sd_mmhg : float
        Between-participant distribution of the resting blood pressure; heart rate is
        the participant's ``resting_hr``.
    sbp_rise_mmhg, dbp_rise_mmhg, hr_rise_bpm : float
        Mean rise at the end of an infusion of an active drug.
    placebo_rise_fraction : float
        The rise of a placebo or active-placebo infusion, as a share of the active rise.
    rise_sd_fraction : float
        Between-infusion SD of the rise, as a share of its mean.
    remaining_after_40_min : float
        Share of the rise left 40 minutes after the end of the infusion (it fades
        exponentially).
    sbp_noise_mmhg, dbp_noise_mmhg, hr_noise_bpm : float
        SD of each measurement around the true value.
    antidepressant_fraction, rescue_fraction : float
        Shares of participants on an ongoing antidepressant, and given rescue lorazepam.
    timed_ratings : bool
        Rate CADSS and BPRS-POSITIVE at :attr:`rating_times_min` of every infusion day
        (rows of ``assessments`` with ``time_min``; visit ``INF<n>``). Off by default.
    rating_times_min : tuple of float
        Minutes from the infusion start of the timed ratings.
    cadss_baseline_mean, bprs_positive_baseline_mean : float
        Mean pre-infusion totals (CADSS 0-92, BPRS positive 4-28); participants' levels
        lie above the scale's floor, exponentially distributed.
    cadss_rise_first, bprs_positive_rise_first : float
        Mean rise of the total at the end (40 min) of the first active infusion; CADSS
        of the order of 10-20 points for 0.5 mg/kg IV ketamine (Luckenbaugh et al. 2014,
        J Affect Disord 155:123).
    rating_placebo_fraction : float
        The rise of a placebo or active-placebo infusion, as a share of the active rise.
    rating_attenuation_per_infusion : float
        Factor on the rise at each later infusion of a participant (the n-th infusion has
        ``factor ** (n - 1)`` of the first's rise): dissociation lessens with repeated
        infusions (Singh et al. 2016, Am J Psychiatry 173:816).
    rating_rise_sd_fraction : float
        Between-infusion SD of the rise (log-normal), as a share of its mean.
    dissociation_half_life_min : float
        Half-life of the rise after the end of the infusion.

    Examples
    --------
    >>> import dataclasses
    >>> from ketex.simulate import SafetyDesign, TrialDesign, simulate_trial
    >>> design = dataclasses.replace(TrialDesign(), n_per_arm=4, safety=SafetyDesign())
    >>> trial = simulate_trial(design, seed=1)
    >>> trial
    Trial('KETEX-SAMPLE', participants=8, infusions=28, exercise=239, assessments=148,
          events=2, adverse_events=14, vitals=252, medications=3, errors=0, warnings=0)
    >>> sorted(trial.adverse_events["pt"].unique())
    ['Dissociation', 'Dizziness', 'Myalgia', 'Nausea']
    >>> trial.vitals[["participant_id", "day", "time_min", "test", "value", "unit"]].head(3)
      participant_id  day  time_min test  value       unit
    0           P001    1     -10.0  DBP   78.0       mmHg
    1           P001    1     -10.0   HR   82.0  beats/min
    2           P001    1     -10.0  SBP  110.0       mmHg
    """

    adverse_events: tuple[AdverseEventDesign, ...] = field(default_factory=_default_events)
    severity_probabilities: tuple[float, float, float] = (0.70, 0.25, 0.05)
    vital_times_min: tuple[float, ...] = (-10.0, 40.0, 80.0)
    sbp_mean_mmhg: float = 122.0
    sbp_sd_mmhg: float = 12.0
    dbp_mean_mmhg: float = 78.0
    dbp_sd_mmhg: float = 8.0
    sbp_rise_mmhg: float = 15.0
    dbp_rise_mmhg: float = 8.0
    hr_rise_bpm: float = 6.0
    placebo_rise_fraction: float = 0.15
    rise_sd_fraction: float = 0.4
    remaining_after_40_min: float = 0.3
    sbp_noise_mmhg: float = 5.0
    dbp_noise_mmhg: float = 4.0
    hr_noise_bpm: float = 4.0
    antidepressant_fraction: float = 0.4
    rescue_fraction: float = 0.1
    timed_ratings: bool = False
    rating_times_min: tuple[float, ...] = (0.0, 40.0, 120.0, 240.0)
    cadss_baseline_mean: float = 1.0
    bprs_positive_baseline_mean: float = 4.5
    cadss_rise_first: float = 15.0
    bprs_positive_rise_first: float = 3.0
    rating_placebo_fraction: float = 0.15
    rating_attenuation_per_infusion: float = 0.85
    rating_rise_sd_fraction: float = 0.5
    dissociation_half_life_min: float = 20.0

    def __post_init__(self) -> None:
        shares = self.severity_probabilities
        require(len(shares) == 3 and min(shares) >= 0 and abs(sum(shares) - 1) < 1e-9,
               "SafetyDesign.severity_probabilities",
               f"must be three shares (mild, moderate, severe) adding up to 1, got {shares}")
        times = self.vital_times_min
        require(len(times) > 0 and list(times) == sorted(set(times)) and times[0] <= 0,
               "SafetyDesign.vital_times_min", "must be increasing, the first at or before "
               f"the infusion start (<= 0), got {times}")
        probability(self, "placebo_rise_fraction", "remaining_after_40_min",
                     "antidepressant_fraction", "rescue_fraction")
        positive(self, "sbp_sd_mmhg", "dbp_sd_mmhg", "rise_sd_fraction", "sbp_noise_mmhg",
                  "dbp_noise_mmhg", "hr_noise_bpm", allow_zero=True)
        minutes = self.rating_times_min
        require(len(minutes) > 0 and list(minutes) == sorted(set(minutes))
                and -1440 <= minutes[0] and minutes[-1] <= 1440,
                "SafetyDesign.rating_times_min", "must be increasing minutes within a day "
                f"of the infusion start (-1440 to 1440), got {minutes}")
        require(0.0 <= self.cadss_baseline_mean <= 92.0, "SafetyDesign.cadss_baseline_mean",
                f"must lie in 0-92, got {self.cadss_baseline_mean}")
        require(4.0 <= self.bprs_positive_baseline_mean <= 28.0,
                "SafetyDesign.bprs_positive_baseline_mean",
                f"must lie in 4-28, got {self.bprs_positive_baseline_mean}")
        probability(self, "rating_placebo_fraction", "rating_attenuation_per_infusion")
        positive(self, "cadss_rise_first", "bprs_positive_rise_first",
                 "rating_rise_sd_fraction", allow_zero=True)
        positive(self, "dissociation_half_life_min")

    def rise_share(self, time_min: np.ndarray) -> np.ndarray:
        """Share of the end-of-infusion rise present ``time_min`` after the start.

        Examples
        --------
        >>> SafetyDesign().rise_share(np.array([-10.0, 20.0, 40.0, 80.0])).round(2).tolist()
        [0.0, 0.5, 1.0, 0.3]
        """
        t = np.asarray(time_min, dtype=float)
        rising = np.clip(t / _INFUSION_END_MIN, 0.0, 1.0)
        after = (t - _INFUSION_END_MIN) / 40.0
        fading = np.power(self.remaining_after_40_min, np.clip(after, 0.0, None))
        return np.where(t > _INFUSION_END_MIN, fading, rising)


def simulate_safety(safety: SafetyDesign, participants: pd.DataFrame, active_arms: set[str],
                    infusions: pd.DataFrame, sessions: pd.DataFrame, dropout_day: np.ndarray,
                    rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The raw adverse_events, vitals and medications tables of a simulated trial.

    With :attr:`SafetyDesign.timed_ratings` also ``timed_ratings``: assessments rows of
    CADSS and BPRS-POSITIVE, drawn from a child stream of ``rng`` (spawned, so the other
    tables' draws are the same with the ratings on or off).

    ``participants`` has ``participant_id``, ``arm`` and ``resting_hr``; ``infusions``
    and ``sessions`` are the infusions given and sessions attended (``participant_id``,
    ``day``); ``dropout_day`` (one per participant, NaN: completed) ends the days on
    which rescue medication can start. So nothing happens after a participant dropped out.
    """
    arm = participants.set_index("participant_id")["arm"]
    active = infusions["participant_id"].map(arm).isin(active_arms).to_numpy()
    events = _adverse_events(safety, infusions, active, sessions, rng)
    vitals = _vitals(safety, participants, infusions, active, rng)
    medications = _medications(safety, participants, np.asarray(dropout_day, float), rng)
    tables = {"adverse_events": events, "vitals": vitals, "medications": medications}
    if safety.timed_ratings:
        tables["timed_ratings"] = simulate_peri_infusion_ratings(
            safety, participants, active, infusions, rng.spawn(1)[0])
    return tables


def _adverse_events(safety: SafetyDesign, infusions: pd.DataFrame, active: np.ndarray,
                    sessions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    parts = []
    for kind in safety.adverse_events:
        if kind.per_session > 0:
            source, chance, related = sessions, np.full(len(sessions), kind.per_session), "exercise"
        else:
            source, related = infusions, "drug"
            chance = np.where(active, kind.per_infusion_active, kind.per_infusion_placebo)
        hit = rng.random(len(source)) < chance
        rows = source.loc[hit, ["participant_id", "day"]]
        parts.append(pd.DataFrame({
            "participant_id": rows["participant_id"].to_numpy(), "term": kind.term,
            "pt": kind.pt, "soc": kind.soc, "start_day": rows["day"].to_numpy(),
            "end_day": rows["day"].to_numpy() + kind.duration_days, "related": related,
        }))
    events = pd.concat(parts, ignore_index=True)
    severity = rng.choice(np.array(["mild", "moderate", "severe"]), len(events),
                          p=list(safety.severity_probabilities))
    severe = severity == "severe"
    by_drug = (events["related"] == "drug").to_numpy()
    events["severity"] = severity
    events["serious"] = False
    events["action"] = np.where(severe & by_drug, "drug_interrupted",
                                np.where(severe, "exercise_paused", "none"))
    events["outcome"] = "recovered"
    return events.sort_values(["participant_id", "start_day", "term"],
                              kind="stable").reset_index(drop=True)


def _vitals(safety: SafetyDesign, participants: pd.DataFrame, infusions: pd.DataFrame,
            active: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    people = participants.set_index("participant_id")
    n = len(people)
    levels = {
        "SBP": safety.sbp_mean_mmhg + safety.sbp_sd_mmhg * rng.standard_normal(n),
        "DBP": safety.dbp_mean_mmhg + safety.dbp_sd_mmhg * rng.standard_normal(n),
        "HR": people["resting_hr"].to_numpy(dtype=float),
    }
    tests = (("DBP", safety.dbp_rise_mmhg, safety.dbp_noise_mmhg, "mmHg"),
             ("HR", safety.hr_rise_bpm, safety.hr_noise_bpm, "beats/min"),
             ("SBP", safety.sbp_rise_mmhg, safety.sbp_noise_mmhg, "mmHg"))
    who = people.index.get_indexer(pd.Index(infusions["participant_id"]))
    times = np.asarray(safety.vital_times_min, dtype=float)
    share = safety.rise_share(times)
    scale = np.where(active, 1.0, safety.placebo_rise_fraction)
    parts = []
    for test, rise, noise, unit in tests:
        level = pd.Series(levels[test], index=people.index)
        drawn = rise * (1 + safety.rise_sd_fraction * rng.standard_normal(len(infusions)))
        true = level.to_numpy()[who][:, None] + (scale * drawn)[:, None] * share[None, :]
        measured = np.round(true + noise * rng.standard_normal(true.shape))
        parts.append(pd.DataFrame({
            "participant_id": np.repeat(infusions["participant_id"].to_numpy(), len(times)),
            "day": np.repeat(infusions["day"].to_numpy(), len(times)),
            "time_min": np.tile(times, len(infusions)), "test": test,
            "value": np.clip(measured.ravel(), 40.0, 250.0), "unit": unit,
        }))
    vitals = pd.concat(parts, ignore_index=True)
    return vitals.sort_values(["participant_id", "day", "time_min", "test"],
                              kind="stable").reset_index(drop=True)


_ANTIDEPRESSANTS = (("sertraline", "SSRI"), ("escitalopram", "SSRI"),
                    ("venlafaxine", "SNRI"), ("bupropion", "NDRI"))


def _medications(safety: SafetyDesign, participants: pd.DataFrame, dropout_day: np.ndarray,
                 rng: np.random.Generator) -> pd.DataFrame:
    ids = participants["participant_id"].to_numpy()
    n = len(ids)
    on_drug = rng.random(n) < safety.antidepressant_fraction
    which = rng.integers(0, len(_ANTIDEPRESSANTS), n)
    since = -rng.integers(30, 366, n)  # validation allows a year before randomisation
    rescued = rng.random(n) < safety.rescue_fraction
    rescue_day = rng.integers(2, 28, n)
    rescue_days = rng.integers(0, 4, n)
    rescued &= ~(rescue_day >= dropout_day)  # NaN: completed the study
    ongoing = pd.DataFrame({
        "participant_id": ids[on_drug],
        "name": [_ANTIDEPRESSANTS[k][0] for k in which[on_drug]],
        "class": [_ANTIDEPRESSANTS[k][1] for k in which[on_drug]],
        "start_day": since[on_drug], "end_day": np.nan, "indication": "depression",
        "rescue": False,
    })
    rescue = pd.DataFrame({
        "participant_id": ids[rescued], "name": "lorazepam", "class": "benzodiazepine",
        "start_day": rescue_day[rescued], "end_day": rescue_day[rescued] + rescue_days[rescued],
        "indication": "anxiety", "rescue": True,
    })
    medications = pd.concat([ongoing, rescue], ignore_index=True)
    return medications.sort_values(["participant_id", "start_day"],
                                   kind="stable").reset_index(drop=True)
