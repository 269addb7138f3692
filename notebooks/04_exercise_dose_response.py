# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Does the exercise dose predict the outcome?
#
# **Exposure.** The exercise dose each participant achieved is measured as KKW: kcal per
# kg of body weight per week, 0.0175 x MET-minutes per week, the dose measure of the DOSE
# study (Dunn et al. 2005), whose public-health dose of 16.1 KKW is the protocol's
# target. MET values come from the session's measured power (ACSM leg-cycling equation)
# or from the 2011 Compendium of Physical Activities. Attendance is the share of
# prescribed sessions attended; dose adherence the achieved KKW as a share of the target.
#
# **Questions.** Among all randomised participants, is a higher achieved dose associated
# with (a) a larger MADRS improvement at week 12 (linear regression of the change from
# baseline on KKW, adjusted for arm and baseline MADRS, in those assessed at week 12), and
# (b) sustained response (logistic regression on the same covariates)?
#
# **A caution.** The dose was not randomised: it is what each participant chose to do,
# so participants who exercised more may differ in ways that also affect their
# depression (and feeling better may make exercising easier). These are associations
# within the trial, not effects of exercise.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import ketex
from ketex.report.analysis import dose_outcome_data
from ketex.report.figures import plot_adherence_heatmap, plot_dose_response
from ketex.report.tables import adherence_table

trial = ketex.load_trial(ketex.sample_study_path())
adherence = adherence_table(trial)
adherence.display

# %% [markdown]
# Attendance week by week: one row per participant, sorted within arm by mean attendance
# (highest first); grey where no session was prescribed (after discontinuation):

# %%
plot_adherence_heatmap(ketex.exercise_dose(trial, by="week"), order=["SINGLE", "SERIES"]);

# %% [markdown]
# **Result in words.**

# %%
target = trial.protocol.exercise.target_kkw
a = adherence.data.set_index(["variable", "group"])
print(f"Participants attended {a.loc[('attendance_pct', 'Overall'), 'mean']:.0f}% of the "
      f"prescribed sessions on average ({a.loc[('attendance_pct', 'SINGLE'), 'mean']:.0f}% "
      f"with a single infusion, {a.loc[('attendance_pct', 'SERIES'), 'mean']:.0f}% with six) "
      f"and achieved a mean of {a.loc[('kkw', 'Overall'), 'mean']:.1f} KKW "
      f"(SD {a.loc[('kkw', 'Overall'), 'sd']:.1f}), {a.loc[('dose_adherence_pct', 'Overall'), 'mean']:.0f}% "
      f"of the {target} KKW target.")

# %% [markdown]
# ## Dose and outcome

# %%
data = dose_outcome_data(trial)
plot_dose_response(data);

# %%
change = smf.ols("CHG ~ kkw + BASE + C(arm)", data=data.dropna(subset=["CHG"])).fit()
sustained = data.dropna(subset=["sustained_response"]).assign(
    sustained=lambda d: d["sustained_response"].astype(int))
logistic = smf.logit("sustained ~ kkw + BASE + C(arm)", data=sustained).fit(disp=False)


def kkw_effect(model, outcome, transform=lambda v: v):
    low, high = model.conf_int().loc["kkw"]
    return {"outcome": outcome, "n": int(model.nobs), "estimate": transform(model.params["kkw"]),
            "ci_low": transform(low), "ci_high": transform(high), "p": model.pvalues["kkw"]}


effects = pd.DataFrame([
    kkw_effect(change, "MADRS change at week 12, points per KKW"),
    kkw_effect(logistic, "Sustained response, odds ratio per KKW", np.exp),
]).round(3)
effects

# %% [markdown]
# **Result in words.** (Both models are adjusted for arm and baseline MADRS.)

# %%
slope, odds = effects.iloc[0], effects.iloc[1]
q1, q3 = data["kkw"].quantile([0.25, 0.75])
events = int(sustained["sustained"].sum())
per_covariate = events / (len(logistic.params) - 1)
words = (
    f"(a) Each additional KKW of exercise was associated with a change of "
    f"{slope['estimate']:.2f} MADRS points at week 12 (95% CI {slope['ci_low']:.2f} to "
    f"{slope['ci_high']:.2f}, p = {slope['p']:.2f}; {slope['n']} participants); across the "
    f"interquartile range of dose ({q1:.1f} to {q3:.1f} KKW) that is "
    f"{slope['estimate'] * (q3 - q1):.1f} points.\n"
    f"(b) The odds of sustained response changed by a factor of {odds['estimate']:.2f} per "
    f"KKW (95% CI {odds['ci_low']:.2f} to {odds['ci_high']:.2f}, p = {odds['p']:.2f}); "
    f"{events} of {odds['n']} participants had a sustained response."
)
if per_covariate < 10:
    words += (f" With {per_covariate:.1f} events per covariate (fewer than ten) the estimate "
              "is imprecise and may be biased away from 1.")
if slope["ci_low"] < 0 < slope["ci_high"] and odds["ci_low"] < 1 < odds["ci_high"]:
    words += (" In this sample neither outcome was clearly related to the exercise dose "
              "achieved; the intervals are compatible with no association and with modest "
              "associations in either direction.")
print(words)

# %% [markdown]
# ## What the devices recorded
#
# The sample's `streams/` folder holds per-second heart rate and power of the sessions of
# programme weeks 1-4 of eight participants (Parquet, and two `.fit` files), simulated to
# agree with their rows of `exercise.csv`. `ketex.stream_dose` puts each recorded second
# below, inside or above the participant's prescribed Karvonen zone and computes the
# training load (Banister and Edwards TRIMP, work); where a session has both a recording
# and a summary row, the recording wins and the difference is kept. Here is P001, whose
# zone is 40-59 % of heart-rate reserve:

# %%
import matplotlib.pyplot as plt

sessions = ketex.stream_dose(trial, by="session")
p001 = sessions[(sessions["participant_id"] == "P001") & (sessions["source"] == "stream")]
p001[["day", "duration_min", "avg_hr", "mean_hr_bpm_stream", "minutes_in_zone_summary",
      "minutes_in_zone", "trimp_banister", "trimp_edwards", "work_kj"]].round(1)

# %% [markdown]
# Three of P001's sessions second by second, with the prescribed zone shaded: the mean
# heart rate of each lies inside the zone, but the warm-up and cool-down do not.

# %%
zone = p001[["zone_low_bpm", "zone_high_bpm"]].iloc[0]
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
for ax, (_, row) in zip(axes, p001.head(3).iterrows(), strict=True):
    stream = trial.streams.read("P001", row["stream_session_id"])
    ax.axhspan(zone["zone_low_bpm"], zone["zone_high_bpm"], color="tab:green", alpha=0.15)
    ax.plot(stream["elapsed_s"] / 60, stream["heart_rate_bpm"], lw=0.6, color="black")
    ax.set_title(f"day {row['day']}: {row['minutes_in_zone']:.0f} of "
                 f"{row['minutes_monitored']:.0f} min in zone", fontsize=9)
    ax.set_xlabel("minutes")
axes[0].set_ylabel("heart rate, bpm")
fig.tight_layout()

# %% [markdown]
# Week by week, the intensity fidelity from the recordings beside the one the session means
# give, and the weekly Banister TRIMP:

# %%
weeks = ketex.stream_dose(trial, by="week")
weeks[(weeks["participant_id"] == "P001") & (weeks["sessions_streamed"] > 0)][
    ["week", "sessions_attended", "sessions_streamed", "intensity_fidelity_summary",
     "intensity_fidelity", "minutes_in_zone_difference", "trimp_banister",
     "trimp_edwards"]].round(2)

# %% [markdown]
# **Result in words.**

# %%
recorded = sessions[(sessions["source"] == "stream") & sessions["counted"]]
share = recorded["minutes_in_zone"].sum() / recorded["minutes_monitored"].sum()
by_mean = (recorded["minutes_in_zone_summary"].sum()
           / recorded.loc[recorded["minutes_in_zone_summary"].notna(), "duration_min_summary"].sum())
print(f"{len(recorded)} sessions of {recorded['participant_id'].nunique()} participants were "
      f"recorded. Second by second, {100 * share:.0f}% of their minutes were inside the "
      f"prescribed zone; judged by each session's mean heart rate, {100 * by_mean:.0f}% were. "
      f"The mean Banister TRIMP was {recorded['trimp_banister'].mean():.0f} per session "
      f"(SD {recorded['trimp_banister'].std():.0f}).")
