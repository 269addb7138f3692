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
# # 3. Response, sustained response and relapse
#
# **Binary endpoints.** *Response* is a reduction of at least 50 % from baseline in MADRS
# total score, *remission* a MADRS total of 10 or less, both at week 12 among the
# participants assessed then. *Sustained response* is response at week 12 maintained at
# weeks 16 and 24, in all randomised participants; a missed visit counts as failure, so
# that it cannot make the endpoint easier to reach. Each arm's rate has a Wilson 95%
# confidence interval, the difference between arms a Newcombe hybrid-score interval,
# and the number needed to treat (NNT) follows Altman (1998), including intervals that
# pass through infinity.
#
# **Response at every visit.** The week-12 rates use one visit. A logistic mixed model
# (GLMM) uses every visit from week 2 to week 24: response at each visit on arm, visit,
# arm x visit and baseline MADRS, with a random intercept per participant for the
# correlation of repeated outcomes (25-point adaptive Gauss-Hermite quadrature). Missed
# visits are assumed missing at random. We report the population-averaged probability of
# response by arm and visit, the quantity a trial reports; the model's odds ratios are
# subject-specific and grow with the between-participant variation, so they are not.
#
# **Relapse** follows SUSTAIN-1 (Daly et al., JAMA Psychiatry 2019): MADRS >= 22 at two
# consecutive assessments 5 to 15 days apart, or hospitalisation for worsening depression
# or a suicide-related event. Participants are at risk from the first visit, up to
# week 12, at which they met the response criterion; time runs from that day. We
# estimate relapse-free survival by Kaplan-Meier, compare the arms with the log-rank test
# and estimate the hazard ratio with a Cox model (Efron ties).
#
# **A caution.** Who enters the relapse analysis depends on what happened after
# randomisation (responding), and more infusions bring more early assessments and more
# early responses. The relapse comparison is therefore between groups that are no longer
# randomised: it describes the course of response, it does not estimate a causal effect
# of the arm.

# %%
# %matplotlib inline
import ketex
from ketex.report.figures import plot_kaplan_meier
from ketex.report.tables import endpoint_table, survival_table

trial = ketex.load_trial(ketex.sample_study_path())
endpoints = endpoint_table(trial)
endpoints.display

# %% [markdown]
# **Result in words.**

# %%
rates = endpoints.data[endpoints.data["kind"] == "rate"].set_index(["endpoint", "group"])
differences = endpoints.data[endpoints.data["kind"] == "risk difference"].set_index("endpoint")
for name, d in differences.iterrows():
    single, series = rates.loc[(name, "SINGLE")], rates.loc[(name, "SERIES")]
    print(f"{name}: {single['events']}/{single['n']} ({single['estimate']:.1%}) with a "
          f"single infusion vs {series['events']}/{series['n']} ({series['estimate']:.1%}) "
          f"with six; difference {100 * d['estimate']:.1f} percentage points "
          f"(95% CI {100 * d['ci_low']:.1f} to {100 * d['ci_high']:.1f}).")

# %% [markdown]
# ## Response at every visit: logistic GLMM

# %%
import numpy as np
import pandas as pd

visits = ["WEEK2", "WEEK4", "WEEK8", "WEEK12", "WEEK16", "WEEK24"]
adqs = ketex.analysis_dataset(trial)
repeated = adqs[(adqs["ANL01FL"] == "Y") & adqs["AVISIT"].isin(visits)].copy()
repeated["AVISIT"] = pd.Categorical(repeated["AVISIT"].astype(str), categories=visits)
# CRIT1FL: response (>= 50% reduction from baseline); missing when the visit was missed
repeated["response"] = repeated["CRIT1FL"].eq("Y").astype("Float64").mask(
    repeated["CRIT1FL"].isna())
repeated["BASE_C"] = repeated["BASE"] - repeated["BASE"].mean()
response_glmm = ketex.glmm(repeated, "response ~ C(ARM, Treatment('SINGLE')) * AVISIT + BASE_C",
                           subject="USUBJID", nagq=25)
probabilities = response_glmm.predicted_probabilities("ARM", by="AVISIT")  # population-averaged
probabilities.pivot(index="AVISIT", columns="ARM", values="probability").reindex(
    index=visits, columns=["SINGLE", "SERIES"]).round(2)

# %% [markdown]
# **Result in words.**

# %%
p = probabilities.set_index(["AVISIT", "ARM"])
sd = response_glmm.variance_components["estimate"].iloc[0]
icc = sd**2 / (sd**2 + np.pi**2 / 3)  # latent-scale intraclass correlation (logit link)


def in_words(visit):
    single, series = p.loc[(visit, "SINGLE")], p.loc[(visit, "SERIES")]
    return (f"{series['probability']:.0%} (95% CI {series['ci_low']:.0%} to "
            f"{series['ci_high']:.0%}) with six infusions and {single['probability']:.0%} "
            f"({single['ci_low']:.0%} to {single['ci_high']:.0%}) with one")


print(f"{response_glmm.n_subjects} participants contributed {response_glmm.n_obs} observed "
      f"visits. The model-based probability of response was {in_words('WEEK2')} at week 2, "
      f"and {in_words('WEEK12')} at week 12. The between-participant SD on the log-odds "
      f"scale was {sd:.1f} (latent intraclass correlation {icc:.2f}): a participant's "
      "response at one visit strongly predicts their response at the next.")

# %% [markdown]
# ## Time to relapse among responders

# %%
relapse = ketex.time_to_event(trial, "SUSTAIN-1")
entered = relapse.table["ARM"].astype(str).value_counts()
print(f"{len(relapse.table)} participants responded by week 12 and are at risk of relapse "
      f"({entered.get('SINGLE', 0)} single, {entered.get('SERIES', 0)} series); "
      f"{len(relapse.excluded)} never responded.")
survival = survival_table(relapse.table, order=["SINGLE", "SERIES"])
survival.display

# %%
plot_kaplan_meier(relapse.table, order=["SINGLE", "SERIES"], xlabel="Days since response");

# %% [markdown]
# **Result in words.**

# %%
s = survival.data
medians = s[s["kind"] == "median"].set_index("group")
hr = s[s["kind"] == "hazard ratio"].iloc[0]
logrank = s[s["kind"] == "log-rank"].iloc[0]


def median_text(arm):
    days = medians.loc[arm, "estimate"]
    return "not reached" if days != days else f"{days:.0f} days"  # NaN: S(t) stayed > 0.5


if median_text("SINGLE") == median_text("SERIES") == "not reached":
    medians_in_words = "the median time to relapse was not reached in either arm"
else:
    medians_in_words = (f"the median time to relapse was {median_text('SINGLE')} and "
                        f"{median_text('SERIES')}")
print(
    f"{medians.loc['SINGLE', 'events']} of {medians.loc['SINGLE', 'n']} responders relapsed "
    f"after a single infusion and {medians.loc['SERIES', 'events']} of "
    f"{medians.loc['SERIES', 'n']} after six; {medians_in_words}. The hazard ratio of "
    f"relapse, six infusions vs one, was {hr['estimate']:.2f} (95% CI {hr['ci_low']:.2f} to "
    f"{hr['ci_high']:.2f}; log-rank p = {logrank['p_value']:.2f}): "
    + ("with so few relapses the interval is wide and compatible with no difference."
       if hr["ci_low"] < 1 < hr["ci_high"] else "the interval excludes 1.")
)
