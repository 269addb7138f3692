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
# # 1. Loading and validating the trial
#
# **Design.** The bundled sample is a simulated Yale-style trial (`ketex/data/sample/`, written
# by `data/make_sample.py` with a fixed seed). Adults in a major depressive episode were
# randomised 1:1 to a single intravenous ketamine infusion (0.5 mg/kg over 40 minutes,
# day 1) or to six infusions over two weeks (days 1, 3, 5, 8, 10 and 12). Both arms were
# prescribed 12 weeks of supervised moderate cycling: three 45-minute sessions a week at
# 40-59 % of heart-rate reserve. The MADRS was rated at baseline, 24 hours after each
# infusion, at weeks 2, 3, 4, 6, 8, 10 and 12, and at follow-up weeks 16 and 24; the
# QIDS-SR16 at baseline and weeks 4, 8, 12 and 24. All of this is the protocol in
# `study.toml`, which every later step reads.
#
# **Data checks.** The analysis uses only data that pass every rule of the study-folder
# format: value ranges, references between tables (each infusion, session and rating
# belongs to a randomised participant), doses and infusion days against the protocol,
# visit windows, duplicate records, and the scoring of each scale from its items. An
# error stops loading; a warning is kept and listed with its file and line, so that a
# data manager can check it. All problems are collected in one pass rather than stopping
# at the first.

# %%
import ketex

trial = ketex.load_trial(ketex.sample_study_path())
print(ketex.summarize(trial))

# %% [markdown]
# The warnings that did not stop loading, one row each with file, line and rule:

# %%
trial.warnings[["table", "line", "participant_id", "rule", "message"]]

# %% [markdown]
# **Result in words.**

# %%
counts = trial.participants["arm"].value_counts()
errors = int((trial.report["severity"] == "error").sum())
print(f"{len(trial.participants)} participants were loaded "
      f"({', '.join(f'{n} {arm}' for arm, n in counts.items())}) from "
      f"{trial.participants['site'].nunique()} sites, with {errors} errors and "
      f"{len(trial.warnings)} warning(s): "
      + "; ".join(trial.warnings["message"].str.split(": ", n=1).str[-1]) + ".")

# %% [markdown]
# ## Table 1: baseline characteristics
#
# Table 1 describes the randomised participants at baseline, by arm and overall.
# Continuous characteristics are shown as mean (SD), or as median [IQR] when skewed;
# categorical ones as n (%). Balance between arms is shown by the standardised mean
# difference (SMD) rather than by p-values: with randomisation, any difference at
# baseline is due to chance, so a test of it answers no useful question (CONSORT 2010,
# item 15).

# %%
from ketex.report.tables import table_one

t1 = table_one(trial)
t1.display

# %% [markdown]
# **Result in words.** With 40 participants per arm, the standard error of an SMD under
# randomisation is about sqrt(2/40) = 0.22, so an absolute SMD above 0.44 is expected for
# about one characteristic in twenty by chance alone.

# %%
smd = t1.data.groupby("variable", sort=False)[["label", "smd"]].first()
largest = smd.loc[smd["smd"].abs().idxmax()]
above = smd[smd["smd"].abs().round(2) > 0.2]
print(f"The largest imbalance was in {largest['label']} (SMD {largest['smd']:.2f}); "
      f"{len(above)} of {len(smd)} characteristics had an SMD above 0.2 "
      f"({'; '.join(f'{row.label}: {row.smd:.2f}' for row in above.itertuples())}). "
      "Imbalances of this size are what chance produces in a small randomised trial; the "
      "primary analysis adjusts for baseline MADRS, its pre-specified covariate.")
