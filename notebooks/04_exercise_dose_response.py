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
# The exercise dose achieved is measured as KKW (kcal per kg per week, 0.0175 x
# MET-minutes per week; DOSE study, Dunn et al. 2005). Dose was not randomised, so this is
# an observational question within the trial: participants who exercise more may differ
# in other ways. We look at (a) MADRS change at week 12 against KKW and (b) sustained
# response against KKW, adjusting for arm and baseline MADRS.

# %%
import statsmodels.formula.api as smf

import ketex
from ketex.report.analysis import dose_outcome_data
from ketex.report.figures import plot_adherence_heatmap, plot_dose_response
from ketex.report.tables import adherence_table

trial = ketex.load_trial(ketex.sample_study_path())
adherence_table(trial).display

# %%
plot_adherence_heatmap(ketex.exercise_dose(trial, by="week"), order=["SINGLE", "SERIES"]);

# %%
data = dose_outcome_data(trial)
plot_dose_response(data);

# %%
change = smf.ols("CHG ~ kkw + BASE + C(arm)", data=data.dropna(subset=["CHG"])).fit()
change.summary().tables[1]

# %%
sustained = data.dropna(subset=["sustained_response"]).assign(
    sustained=lambda d: d["sustained_response"].astype(int))
logistic = smf.logit("sustained ~ kkw + BASE + C(arm)", data=sustained).fit(disp=False)
logistic.summary().tables[1]

# %% [markdown]
# **Result in words.**

# %%
slope, (low, high) = change.params["kkw"], change.conf_int().loc["kkw"]
print(f"Each additional KKW was associated with a change of {slope:.2f} MADRS points at "
      f"week 12 (95% CI {low:.2f} to {high:.2f}), adjusting for arm and baseline.")
