# Reference values for ketex.lmm on sim_growth.csv (made by make_data.py).
# Run from this folder:  Rscript reference_lmm.R   (writes lmm_reference.json)
# R 4 with lme4 1.1-31, lmerTest 3.1-3, emmeans 1.8.4, jsonlite.
suppressPackageStartupMessages({
  library(lmerTest)
  library(emmeans)
  library(jsonlite)
})

d <- read.csv("sim_growth.csv", stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("SINGLE", "SERIES"))
d <- d[!is.na(d$madrs), ]
tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))

describe <- function(name, formula, reml) {
  fit <- lmer(formula, data = d, REML = reml, control = tight)
  s <- summary(fit)$coefficients  # Satterthwaite df (lmerTest)
  vc <- as.data.frame(VarCorr(fit))
  re <- ranef(fit, condVar = TRUE)$participant_id
  post <- attr(re, "postVar")
  a <- anova(fit, type = 3)  # Satterthwaite F tests
  em <- emmeans(fit, ~ arm, at = list(week = 8), lmer.df = "satterthwaite")
  es <- as.data.frame(summary(em))
  pr <- as.data.frame(summary(pairs(em, reverse = TRUE)))
  list(
    name = name, reml = reml, formula = deparse(formula, width.cutoff = 500L),
    n_obs = nobs(fit), terms = rownames(s), estimate = unname(s[, "Estimate"]),
    se = unname(s[, "Std. Error"]), df = unname(s[, "df"]), t = unname(s[, "t value"]),
    p = unname(s[, "Pr(>|t|)"]),
    theta = unname(getME(fit, "theta")),
    vc_var1 = vc$var1, vc_var2 = vc$var2, vc_sdcor = vc$sdcor,
    sigma = sigma(fit), loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
    ranef_group = rownames(re)[1:10], ranef = unname(as.matrix(re[1:10, , drop = FALSE])),
    ranef_se = t(vapply(1:10, function(i) sqrt(diag(as.matrix(post[, , i]))),
                        numeric(ncol(re)))),
    anova_term = rownames(a), anova_f = a[["F value"]], anova_numdf = a[["NumDF"]],
    anova_dendf = a[["DenDF"]],
    emm_arm = as.character(es$arm), emm = es$emmean, emm_se = es$SE, emm_df = es$df,
    diff = pr$estimate, diff_se = pr$SE, diff_df = pr$df
  )
}

f_slope <- madrs ~ arm * week + madrs_baseline + (1 + week | participant_id)
f_intercept <- madrs ~ arm * week + madrs_baseline + (1 | participant_id)
results <- list(
  describe("slope-reml", f_slope, TRUE),
  describe("slope-ml", f_slope, FALSE),
  describe("intercept-reml", f_intercept, TRUE)
)
# a boundary (singular) fit: the slope's relative Cholesky entry ends at 0
ds <- read.csv("sim_singular.csv", stringsAsFactors = FALSE)
ds$arm <- factor(ds$arm, levels = c("SINGLE", "SERIES"))
fs <- lmer(madrs ~ arm * week + (1 + week | participant_id), data = ds, control = tight)
ss <- summary(fs)$coefficients
singular <- list(name = "singular-reml", singular = isSingular(fs), terms = rownames(ss),
                 estimate = unname(ss[, "Estimate"]), se = unname(ss[, "Std. Error"]),
                 df = unname(ss[, "df"]), theta = unname(getME(fs, "theta")),
                 loglik = as.numeric(logLik(fs)))

write_json(list(R = R.version.string, singular = singular, lme4 = as.character(packageVersion("lme4")),
                lmerTest = as.character(packageVersion("lmerTest")), results = results),
           "lmm_reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
