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
# We read the bundled Yale-style sample study (single ketamine infusion vs six infusions
# over two weeks, both with 12 weeks of supervised cycling) from its study folder. Every
# rule is checked on the way in; problems are collected into one table rather than
# stopping at the first.

# %%
import ketex

trial = ketex.load_trial(ketex.sample_study_path())
print(ketex.summarize(trial))

# %% [markdown]
# The warnings that did not stop loading, one row each with file, line and rule:

# %%
trial.warnings[["table", "line", "participant_id", "rule", "message"]]

# %% [markdown]
# Table 1 describes the randomised participants at baseline. Numbers are mean (SD), or
# median [IQR] when skewed; the standardised mean difference (SMD) shows balance
# between arms (no p-values, as CONSORT advises for randomised trials).

# %%
from ketex.report.tables import table_one

t1 = table_one(trial)
t1.display
