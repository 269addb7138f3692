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
# # 2. Primary analysis: MADRS change from baseline by arm
#
# **Estimand.** The difference between arms (six infusions minus a single infusion) in
# the mean change from baseline in MADRS total score at week 12, in all randomised
# participants, had they all been assessed at week 12 (missing assessments are assumed
# missing at random given the earlier scores and the arm). A negative difference favours
# the series of six infusions.
#
# **Why a mixed model for repeated measures (MMRM).** Participants who miss later visits
# still contribute every score they have, without imputation and without carrying the
# last observation forward; the estimate is unbiased when data are missing at random.
# The unstructured covariance makes no assumption about how scores at different visits
# are correlated, and Satterthwaite degrees of freedom keep the tests honest in a trial of
# this size.
#
# **Model.** Change from baseline at each post-baseline visit that both arms have
# (24 hours after the first infusion, weeks 2 to 12, and follow-up weeks 16 and 24) on
# baseline MADRS, arm, visit and arm x visit; unstructured covariance across visits,
# REML, Satterthwaite degrees of freedom. The treatment effect at each visit is the
# difference of least-squares (LS) means. The same model in SAS:
#
# ```sas
# PROC MIXED DATA=adqs METHOD=REML;
#   CLASS USUBJID ARM(REF='SINGLE') AVISIT;
#   MODEL CHG = BASE ARM AVISIT ARM*AVISIT / DDFM=SATTERTHWAITE SOLUTION CL;
#   REPEATED AVISIT / SUBJECT=USUBJID TYPE=UN;
#   LSMEANS ARM*AVISIT / DIFF CL SLICE=AVISIT;
# RUN;
# ```

# %%
# %matplotlib inline
import ketex
from ketex.report.analysis import mmrm_dataset, primary_mmrm
from ketex.report.tables import mmrm_table

trial = ketex.load_trial(ketex.sample_study_path())
data = mmrm_dataset(trial)
fit = primary_mmrm(trial)
print(fit.summary())

# %% [markdown]
# **Observed data.** Scores observed at each visit, by arm (participants still assessed):

# %%
data.pivot_table(index="AVISIT", columns="ARM", values="CHG", aggfunc="count", observed=True)

# %% [markdown]
# **LS-means and differences by visit** (week 12, the primary visit, is starred):

# %%
table = mmrm_table(fit, primary_visit="WEEK12")
table.display

# %% [markdown]
# **Result in words.**

# %%
rows = table.data
diff = rows[rows["kind"] == "difference"].set_index("visit")
lsm = rows[rows["kind"] == "lsmean"].set_index(["visit", "arm"])
week12 = diff.loc["WEEK12"]
excludes_zero = diff[(diff["ci_high"] < 0) | (diff["ci_low"] > 0)]
largest = diff.loc[diff["estimate"].abs().idxmax()]
verdict = ("favoured the series arm" if week12["ci_high"] < 0
           else "favoured the single-infusion arm" if week12["ci_low"] > 0
           else "was compatible with no difference between arms")
words = (
    f"{fit.n_subjects} participants contributed {fit.n_obs} post-baseline scores. At week 12 "
    f"the LS-mean change from baseline was {lsm.loc[('WEEK12', 'SINGLE'), 'estimate']:.1f} "
    f"points with a single infusion and {lsm.loc[('WEEK12', 'SERIES'), 'estimate']:.1f} with "
    f"six; the difference, {week12['estimate']:.1f} points (95% CI {week12['ci_low']:.1f} to "
    f"{week12['ci_high']:.1f}, p = {week12['p_value']:.3f}), {verdict}. The largest "
    f"difference was at {largest.name} ({largest['estimate']:.1f} points, 95% CI "
    f"{largest['ci_low']:.1f} to {largest['ci_high']:.1f}); the 95% CI excluded zero at "
    f"{', '.join(excludes_zero.index) or 'no visit'}."
)
if len(excludes_zero) and "WEEK12" not in excludes_zero.index:
    words += (" The larger improvement with six infusions seen at those visits was not "
              "maintained to week 12.")
print(words)

# %% [markdown]
# **Figure.** Observed mean change (points, with 95% CI) and model-based LS-means (lines)
# by arm over time:

# %%
from ketex.report.figures import plot_trajectory

plot_trajectory(data, value="CHG", fit=fit);
