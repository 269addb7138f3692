# Reference values for ketex's MMRM on sim_mmrm.csv (made by make_data.py).
# Run from this folder:  Rscript reference_nlme.R   (writes nlme_reference.json)
# R packages (Debian r-cran-*): nlme, emmeans, glmmTMB, jsonlite.
suppressPackageStartupMessages({
  library(nlme)
  library(emmeans)
  library(glmmTMB)
  library(jsonlite)
})

d <- read.csv("sim_mmrm.csv", stringsAsFactors = FALSE)
d$arm <- factor(d$arm, levels = c("PBO", "KET"))
d$visit <- factor(d$visit, levels = c("W1", "W2", "W3", "W4"))
d$inv_weight <- 1 / d$weight
d <- d[!is.na(d$change), ]
complete_id <- names(which(table(d$subject) == 4))[1]
form <- change ~ arm * visit + baseline

fit_gls <- function(structure, method, weighted = FALSE) {
  hetero <- varIdent(form = ~ 1 | visit)
  cor <- switch(structure,
    us = corSymm(form = ~ visit_index | subject),
    cs = corCompSymm(form = ~ 1 | subject),
    csh = corCompSymm(form = ~ 1 | subject),
    ar1 = corAR1(form = ~ visit_index | subject),
    ar1h = corAR1(form = ~ visit_index | subject),
    sp_exp = corExp(form = ~ week | subject)
  )
  var <- if (structure %in% c("us", "csh", "ar1h")) hetero else NULL
  if (weighted) var <- varComb(hetero, varFixed(~ inv_weight))
  gls(form, data = d, correlation = cor, weights = var, method = method,
      control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
}

describe <- function(fit, structure, method, weighted = FALSE, emm = FALSE) {
  out <- list(
    covariance = structure, method = tolower(method), weighted = weighted,
    minus2loglik = -2 * as.numeric(logLik(fit)),
    n_obs = nrow(d),
    terms = names(coef(fit)),
    estimate = unname(coef(fit)),
    se = unname(sqrt(diag(vcov(fit))))
  )
  if (!weighted) out$covariance_matrix <- unclass(getVarCov(fit, individual = complete_id))
  if (emm) {
    # LS-means and differences (estimates and SEs; emmeans has no Satterthwaite df for gls)
    em <- emmeans(fit, ~ arm | visit, mode = "df.error", data = d)
    s <- as.data.frame(summary(em))
    out$lsmeans <- s[, c("visit", "arm", "emmean", "SE")]
    p <- as.data.frame(summary(pairs(em, reverse = TRUE)))
    out$differences <- p[, c("visit", "contrast", "estimate", "SE")]
  }
  out
}

results <- list()
for (s in c("us", "cs", "csh", "ar1", "ar1h", "sp_exp")) {
  results[[length(results) + 1]] <- describe(fit_gls(s, "REML"), s, "REML",
                                             emm = s %in% c("us", "ar1h"))
}
for (s in c("us", "ar1")) {
  results[[length(results) + 1]] <- describe(fit_gls(s, "ML"), s, "ML")
}
results[[length(results) + 1]] <- describe(fit_gls("us", "REML", TRUE), "us", "REML", TRUE)

# heterogeneous Toeplitz: glmmTMB's toep() with the residual variance fixed near zero
tmb <- glmmTMB(change ~ arm * visit + baseline + toep(0 + visit | subject), data = d,
               dispformula = ~ 0, REML = TRUE)
vc <- VarCorr(tmb)$cond$subject
results[[length(results) + 1]] <- list(
  covariance = "toeph", method = "reml", weighted = FALSE, source = "glmmTMB",
  minus2loglik = -2 * as.numeric(logLik(tmb)),
  terms = names(fixef(tmb)$cond), estimate = unname(fixef(tmb)$cond),
  se = unname(sqrt(diag(vcov(tmb)$cond))),
  covariance_matrix = unclass(matrix(vc, 4, 4))
)

meta <- list(
  what = "nlme::gls (and glmmTMB for toeph) fits of change ~ arm * visit + baseline on sim_mmrm.csv",
  r_version = R.version.string,
  packages = lapply(c(nlme = "nlme", emmeans = "emmeans", glmmTMB = "glmmTMB"),
                    function(p) as.character(packageVersion(p))),
  complete_subject = complete_id
)
write_json(list(meta = meta, results = results), "nlme_reference.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE)
