# Reference values from R's mmrm package on sim_mmrm.csv: every covariance structure,
# grouped and weighted fits, ML, and each df / vcov method.
# mmrm is not a Debian package: build it from its public source into a library
# (R CMD INSTALL --library=<lib> <source>) and run  R_LIBS=<lib> Rscript reference_rmmrm.R
# in this folder; writes rmmrm_reference.json.
suppressPackageStartupMessages({
  library(mmrm)
  library(emmeans)
  library(jsonlite)
})

d <- read.csv("sim_mmrm.csv", stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("PBO", "KET"))
d$visit <- factor(d$visit, levels = c("W1", "W2", "W3", "W4"))
d$subject <- factor(d$subject)
d <- d[!is.na(d$change), ]

one <- function(label, cov_term, reml = TRUE, method = "Satterthwaite", vcov = NULL,
                weighted = FALSE, emm = FALSE) {
  form <- as.formula(paste("change ~ arm * visit + baseline +", cov_term))
  args <- list(formula = form, data = d, reml = reml, method = method)
  if (!is.null(vcov)) args$vcov <- vcov
  if (weighted) args$weights <- d$weight
  fit <- do.call(mmrm, args)
  s <- summary(fit)$coefficients
  out <- list(
    label = label, covariance_term = cov_term, reml = reml, method = method,
    vcov = if (is.null(vcov)) "default" else vcov, weighted = weighted,
    minus2loglik = -2 * as.numeric(logLik(fit)),
    terms = rownames(s), estimate = unname(s[, "Estimate"]), se = unname(s[, "Std. Error"]),
    df = unname(s[, "df"]),
    covariance_matrix = lapply(if (is.list(fit$cov)) fit$cov else list(fit$cov), unclass)
  )
  if (emm) {
    em <- emmeans(fit, ~ arm | visit)
    sm <- as.data.frame(summary(em))
    out$lsmeans <- sm[, c("visit", "arm", "emmean", "SE", "df")]
    p <- as.data.frame(summary(pairs(em, reverse = TRUE)))
    out$differences <- p[, c("visit", "contrast", "estimate", "SE", "df")]
  }
  out
}

results <- list(
  one("us", "us(visit | subject)", emm = TRUE),
  one("cs", "cs(visit | subject)"),
  one("csh", "csh(visit | subject)"),
  one("ar1", "ar1(visit | subject)"),
  one("ar1h", "ar1h(visit | subject)", emm = TRUE),
  one("toep", "toep(visit | subject)"),
  one("toeph", "toeph(visit | subject)"),
  one("ad", "ad(visit | subject)"),
  one("adh", "adh(visit | subject)"),
  one("sp_exp", "sp_exp(week | subject)"),
  one("us-grouped", "us(visit | arm / subject)"),
  one("ar1h-grouped", "ar1h(visit | arm / subject)"),
  one("us-weighted", "us(visit | subject)", weighted = TRUE),
  one("us-ml", "us(visit | subject)", reml = FALSE),
  one("toeph-ml", "toeph(visit | subject)", reml = FALSE),
  one("us-kr", "us(visit | subject)", method = "Kenward-Roger"),
  one("us-kr-linear", "us(visit | subject)", method = "Kenward-Roger",
      vcov = "Kenward-Roger-Linear"),
  one("ar1-kr", "ar1(visit | subject)", method = "Kenward-Roger"),
  one("us-residual", "us(visit | subject)", method = "Residual", vcov = "Asymptotic"),
  one("us-between-within", "us(visit | subject)", method = "Between-Within"),
  one("us-empirical", "us(visit | subject)", method = "Residual", vcov = "Empirical")
)
meta <- list(
  what = "R mmrm fits of change ~ arm * visit + baseline on sim_mmrm.csv",
  r_version = R.version.string,
  packages = lapply(c(mmrm = "mmrm", emmeans = "emmeans"),
                    function(p) as.character(packageVersion(p))),
  mmrm_source = "openpharma/mmrm at commit ec290b2695b25057b31bc98e27c39d3f498cd0d6"
)
write_json(list(meta = meta, results = results), "rmmrm_reference.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
