# Reference values for ketex.glmm on sim_remission.csv and sim_relapse.csv (make_data.py).
# Run from this folder:  Rscript reference_glmm.R   (writes glmm_reference.json)
# R 4 with lme4 1.1-31, glmmTMB 1.1.5, emmeans 1.8.4, jsonlite.
#
# lme4's default PIRLS tolerance (tolPwrss = 1e-7) leaves the log-determinant of its
# Laplace approximation off by about 5e-4 on these data (estimates off by ~3e-4
# relative); the fits below tighten it to 1e-12 and the optimiser to rhoend = 1e-12 so
# that they are the maximum of the approximation, not a point near it.
suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(emmeans)
  library(jsonlite)
})

tight <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12,
                      optCtrl = list(rhoend = 1e-12, maxfun = 1e5))

rem <- read.csv("sim_remission.csv", stringsAsFactors = FALSE)
rem$arm <- factor(rem$arm, levels = c("SINGLE", "SERIES"))
rem$visit <- factor(rem$visit, levels = c("W2", "W4", "W8", "W12"))
rem <- rem[!is.na(rem$remission), ]
rel <- read.csv("sim_relapse.csv", stringsAsFactors = FALSE)
rel$arm <- factor(rel$arm, levels = c("SINGLE", "SERIES"))

lme4_fit <- function(name, formula, data, link, nagq, group, emm = FALSE) {
  fit <- glmer(formula, data = data, family = binomial(link = link), nAGQ = nagq,
               control = tight)
  re <- ranef(fit, condVar = TRUE)[[group]]
  out <- list(
    name = name, source = "lme4", link = link, nagq = nagq,
    formula = deparse(formula(fit), width.cutoff = 500L),
    n_obs = nobs(fit), n_groups = unname(ngrps(fit)),
    terms = names(fixef(fit)), estimate = unname(fixef(fit)),
    se = unname(sqrt(diag(as.matrix(vcov(fit, use.hessian = TRUE))))),
    se_rx = unname(sqrt(diag(as.matrix(vcov(fit, use.hessian = FALSE))))),
    sd = unname(getME(fit, "theta")),
    loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
    singular = isSingular(fit, tol = 1e-4),
    ranef_group = rownames(re), ranef_mode = unname(re[, 1]),
    ranef_sd = sqrt(unname(attr(re, "postVar")[1, 1, ]))
  )
  if (emm) out <- c(out, describe_emmeans(fit, link))
  out
}

describe_emmeans <- function(fit, link) {
  em <- emmeans(fit, ~ arm | visit)
  s <- as.data.frame(summary(em, type = "response"))
  # the population-averaged probability of each cell: integrate over the random intercept
  sigma <- getME(fit, "theta")[[1]]
  inverse <- binomial(link = link)$linkinv
  eta <- as.data.frame(summary(em))$emmean
  marginal <- vapply(eta, function(e) integrate(
    function(z) inverse(e + sigma * z) * dnorm(z), -Inf, Inf, rel.tol = 1e-12)$value, 0)
  p <- as.data.frame(summary(pairs(em, reverse = TRUE)))
  pr <- as.data.frame(summary(pairs(em, reverse = TRUE), type = "response"))
  list(
    emm_visit = as.character(s$visit), emm_arm = as.character(s$arm),
    emm_prob = s$prob, emm_se = s$SE, emm_low = s$asymp.LCL, emm_high = s$asymp.UCL,
    marginal_prob = marginal,
    diff_visit = as.character(p$visit), diff_contrast = as.character(p$contrast),
    diff_estimate = p$estimate, diff_se = p$SE, odds_ratio = pr$odds.ratio
  )
}

tmb_fit <- function(name, formula, data, link, group) {
  fit <- glmmTMB(formula, data = data, family = binomial(link = link),
                 control = glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4,
                                                         rel.tol = 1e-12)))
  fixed <- summary(fit$sdr, "fixed")
  re <- ranef(fit, condVar = TRUE)$cond[[group]]
  list(
    name = name, source = "glmmTMB", link = link, nagq = 1,
    formula = deparse(formula, width.cutoff = 500L),
    n_obs = nobs(fit), terms = names(fixef(fit)$cond), estimate = unname(fixef(fit)$cond),
    se = unname(sqrt(diag(vcov(fit)$cond))),
    sd = exp(unname(fixed["theta", "Estimate"])),
    log_sd_se = unname(fixed["theta", "Std. Error"]),
    loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
    ranef_group = rownames(re), ranef_mode = unname(re[, 1]),
    pdHess = fit$sdr$pdHess
  )
}

f_rem <- remission ~ arm * visit + madrs_baseline + (1 | participant_id)
f_probit <- remission ~ arm + week + madrs_baseline + (1 | participant_id)
f_rel <- relapse ~ arm + week + kkw + days_since_infusion + offset(log_exposure) + (1 | site)
f_rel_logit <- relapse ~ arm + week + kkw + (1 | site)
f_cohort <- remission ~ arm + visit + (1 | cohort)  # 10 groups, small SD

results <- list(
  lme4_fit("remission-laplace", f_rem, rem, "logit", 1, "participant_id", emm = TRUE),
  lme4_fit("remission-agq15", f_rem, rem, "logit", 15, "participant_id", emm = TRUE),
  lme4_fit("remission-agq25", f_rem, rem, "logit", 25, "participant_id"),
  tmb_fit("remission-tmb", f_rem, rem, "logit", "participant_id"),
  lme4_fit("probit-agq25", f_probit, rem, "probit", 25, "participant_id"),
  tmb_fit("probit-tmb", f_probit, rem, "probit", "participant_id"),
  lme4_fit("relapse-cloglog-agq15", f_rel, rel, "cloglog", 15, "site"),
  tmb_fit("relapse-cloglog-tmb", f_rel, rel, "cloglog", "site"),
  lme4_fit("relapse-logit-laplace", f_rel_logit, rel, "logit", 1, "site"),
  lme4_fit("cohort-laplace", f_cohort, rem, "logit", 1, "cohort"),
  tmb_fit("cohort-tmb", f_cohort, rem, "logit", "cohort")
)
write_json(list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                glmmTMB = as.character(packageVersion("glmmTMB")), results = results),
           "glmm_reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
