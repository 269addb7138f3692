# Reference values for ketex.survival on the CSVs made by make_data.py.
# Run from this folder:  Rscript reference_survival.R   (writes survival_reference.json)
# R 4.2.2, survival 3.5.3, jsonlite. Non-finite numbers are written as the strings
# "NA", "NaN", "Inf"; the tests read them back as nan / inf.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

relapse <- read.csv("relapse.csv", stringsAsFactors = FALSE)
relapse$arm <- factor(relapse$arm, levels = c("single", "series"))
relapse$severity <- factor(relapse$severity, levels = c("mild", "moderate", "severe"))
weekly <- read.csv("relapse_weekly.csv", stringsAsFactors = FALSE)
weekly$arm <- factor(weekly$arm, levels = c("single", "series"))
tiny <- read.csv("tiny.csv", stringsAsFactors = FALSE)

# ---------------------------------------------------------------- Kaplan-Meier
km_times <- c(7, 14, 28, 56, 84)
describe_km <- function(name, data, formula, conf.type, conf.int = 0.95) {
  fit <- survfit(formula, data = data, conf.type = conf.type, conf.int = conf.int)
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub("^[^=]*=", "", names(fit$strata)), fit$strata)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  qmat <- function(m) if (is.matrix(m)) m else matrix(m, nrow = 1)
  s <- summary(fit, times = km_times, extend = TRUE)
  s_strata <- if (is.null(s$strata)) rep("all", length(s$time)) else
    sub("^[^=]*=", "", as.character(s$strata))
  list(
    name = name, formula = deparse(formula), conf_type = conf.type, conf_level = conf.int,
    table = list(group = strata, time = fit$time, n_risk = fit$n.risk,
                 n_event = fit$n.event, n_censor = fit$n.censor, survival = fit$surv,
                 std_err_log = fit$std.err, lower = fit$lower, upper = fit$upper),
    quantiles = list(group = if (is.null(fit$strata)) "all" else
                       sub("^[^=]*=", "", names(fit$strata)),
                     probs = c(0.25, 0.5, 0.75), quantile = qmat(q$quantile),
                     lower = qmat(q$lower), upper = qmat(q$upper)),
    at_times = list(group = s_strata, time = s$time, n_risk = s$n.risk,
                    survival = s$surv, std_err = s$std.err, lower = s$lower,
                    upper = s$upper)
  )
}
km <- list()
for (ct in c("log-log", "log", "plain")) {
  km[[length(km) + 1]] <- describe_km("relapse_by_arm", relapse, Surv(days, relapsed) ~ arm, ct)
  km[[length(km) + 1]] <- describe_km("relapse_all", relapse, Surv(days, relapsed) ~ 1, ct)
  km[[length(km) + 1]] <- describe_km("tiny_by_arm", tiny, Surv(days, relapsed) ~ arm, ct)
}
km[[length(km) + 1]] <- describe_km("relapse_by_arm", relapse, Surv(days, relapsed) ~ arm,
                                    "log-log", 0.9)

# ---------------------------------------------------------------- log-rank
describe_sd <- function(name, data, formula, rho) {
  fit <- survdiff(formula, data = data, rho = rho)
  obs <- fit$obs; exp <- fit$exp
  if (is.matrix(obs)) { obs <- rowSums(obs); exp <- rowSums(exp) }
  list(name = name, formula = deparse(formula), rho = rho,
       groups = sub("^[^=]*=", "", names(fit$n)), n = as.vector(fit$n),
       observed = as.vector(obs), expected = as.vector(exp), var = fit$var,
       chisq = fit$chisq, df = length(fit$n) - 1, p_value = fit$pvalue)
}
logrank <- list()
for (rho in c(0, 1, 0.5)) {
  logrank[[length(logrank) + 1]] <- describe_sd("arm", relapse, Surv(days, relapsed) ~ arm, rho)
  logrank[[length(logrank) + 1]] <- describe_sd("severity", relapse,
                                                Surv(days, relapsed) ~ severity, rho)
  logrank[[length(logrank) + 1]] <- describe_sd("arm_strata_site", relapse,
                                                Surv(days, relapsed) ~ arm + strata(site), rho)
  logrank[[length(logrank) + 1]] <- describe_sd("tiny", tiny, Surv(days, relapsed) ~ arm, rho)
}

# ---------------------------------------------------------------- Cox
ctl <- coxph.control(eps = 1e-10, iter.max = 50)  # tighter than the default 1e-9
describe_cox <- function(name, fit, zph_transforms = c("km")) {
  s <- summary(fit)
  robust <- !is.null(fit$naive.var)
  zph <- lapply(zph_transforms, function(tr) {
    z <- cox.zph(fit, transform = tr)
    list(transform = tr, terms = rownames(z$table), chisq = z$table[, "chisq"],
         df = z$table[, "df"], p = z$table[, "p"], x = z$x, time = z$time,
         y = unname(z$y), y_terms = colnames(z$y),
         strata = if (is.null(z$strata)) NULL else as.character(z$strata))
  })
  list(
    name = name, call = paste(deparse(fit$call), collapse = " "), ties = fit$method,
    terms = names(coef(fit)), estimate = unname(coef(fit)),
    se_model = unname(sqrt(diag(if (robust) fit$naive.var else fit$var))),
    se = unname(sqrt(diag(fit$var))), vcov = unname(fit$var),
    loglik = fit$loglik, score_test = unname(fit$score),
    wald_test = unname(fit$wald.test), robust = robust,
    robust_score_test = if (robust) unname(fit$rscore) else NULL,
    n = fit$n, n_event = fit$nevent, iterations = fit$iter,
    concordance = unname(fit$concordance["concordance"]),
    concordance_counts = unname(fit$concordance[c("concordant", "discordant", "tied.x",
                                                    "tied.y", "tied.xy")]),
    zph = zph
  )
}
cox <- list(
  describe_cox("efron", coxph(Surv(days, relapsed) ~ arm + age + severity, data = relapse,
                              ties = "efron", control = ctl), c("km", "identity", "rank", "log")),
  describe_cox("breslow", coxph(Surv(days, relapsed) ~ arm + age + severity, data = relapse,
                                ties = "breslow", control = ctl)),
  describe_cox("efron_strata", coxph(Surv(days, relapsed) ~ arm + age + strata(site),
                                     data = relapse, ties = "efron", control = ctl)),
  describe_cox("efron_robust", coxph(Surv(days, relapsed) ~ arm + age + severity,
                                     data = relapse, ties = "efron", control = ctl,
                                     cluster = participant_id)),
  describe_cox("breslow_cluster_site", coxph(Surv(days, relapsed) ~ arm + age, data = relapse,
                                             ties = "breslow", control = ctl, cluster = site)),
  describe_cox("counting_efron_cluster", coxph(Surv(start, stop, relapsed) ~ arm + kkw,
                                               data = weekly, ties = "efron", control = ctl,
                                               cluster = participant_id)),
  describe_cox("counting_breslow", coxph(Surv(start, stop, relapsed) ~ arm + kkw,
                                         data = weekly, ties = "breslow", control = ctl),
               c("km", "identity")),
  describe_cox("counting_efron_strata", coxph(Surv(start, stop, relapsed) ~ arm + kkw +
                                                strata(site), data = weekly,
                                              ties = "efron", control = ctl))
)

write_json(
  list(
    generated_by = "reference_survival.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    kaplan_meier = km, logrank = logrank, cox = cox
  ),
  "survival_reference.json", digits = NA, auto_unbox = TRUE, pretty = FALSE
)
