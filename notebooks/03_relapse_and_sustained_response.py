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
# # 3. Relapse and sustained response
#
# **Relapse** follows SUSTAIN-1 (Daly et al. 2019): MADRS >= 22 at two consecutive
# assessments 5 to 15 days apart, or hospitalisation for worsening depression or a
# suicide-related event, among participants who responded (>= 50 % reduction) by week 12.
# Time runs from the response. We estimate relapse-free curves by Kaplan-Meier, compare
# arms with the log-rank test and estimate the hazard ratio with a Cox model.
#
# **Sustained response**: response at week 12 maintained at weeks 16 and 24 (a missed
# visit counts as failure).

# %%
import ketex
from ketex.report.figures import plot_kaplan_meier
from ketex.report.tables import endpoint_table, survival_table

trial = ketex.load_trial(ketex.sample_study_path())
relapse = ketex.time_to_event(trial, "SUSTAIN-1")
print(f"{len(relapse.table)} responders at risk; {len(relapse.excluded)} never responded.")
survival = survival_table(relapse.table, order=["SINGLE", "SERIES"])
survival.display

# %%
plot_kaplan_meier(relapse.table, order=["SINGLE", "SERIES"], xlabel="Days since response");

# %%
endpoints = endpoint_table(trial)
endpoints.display

# %% [markdown]
# **Result in words.**

# %%
hr = survival.data.query("kind == 'hazard ratio'").iloc[0]
print(f"Hazard ratio of relapse, series vs single: {hr['estimate']:.2f} "
      f"(95% CI {hr['ci_low']:.2f} to {hr['ci_high']:.2f}); with so few relapses the "
      "interval is wide and compatible with no difference.")
