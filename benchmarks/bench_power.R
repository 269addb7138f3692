# The R side of benchmarks/bench_power.py: the primary MMRM of each simulated trial with
# nlme::gls (unstructured: corSymm + varIdent, REML) and the treatment - control
# difference at the last visit, one trial after another.
# Usage: Rscript bench_power.R <changes.csv> <out.json>
# changes.csv: sim, USUBJID, ARM, AVISIT, BASE, CHG (the trials ketex simulated).
suppressPackageStartupMessages({library(nlme); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
visits <- unique(d$AVISIT)              # in protocol order, as written
arms <- unique(d$ARM[order(d$ARM_ORDER)])  # control first
last <- visits[length(visits)]
sims <- unique(d$sim)
seconds <- estimate <- se <- numeric(length(sims))
for (k in seq_along(sims)) {
  start <- proc.time()[["elapsed"]]
  x <- d[d$sim == sims[k] & !is.na(d$CHG), ]
  x$ARM <- factor(x$ARM, levels = arms)
  x$AVISIT <- factor(x$AVISIT, levels = visits)
  x$VISITN <- as.integer(x$AVISIT)
  fit <- gls(CHG ~ BASE + ARM * AVISIT, data = x, method = "REML",
             correlation = corSymm(form = ~ VISITN | USUBJID),
             weights = varIdent(form = ~ 1 | AVISIT))
  b <- coef(fit)
  L <- setNames(numeric(length(b)), names(b))
  L[paste0("ARM", arms[2])] <- 1
  L[paste0("ARM", arms[2], ":AVISIT", last)] <- 1
  estimate[k] <- sum(L * b)
  se[k] <- sqrt(drop(L %*% vcov(fit) %*% L))
  seconds[k] <- proc.time()[["elapsed"]] - start
}
write_json(list(sim = sims, seconds = seconds, estimate = estimate, se = se,
                r_version = R.version.string,
                nlme = as.character(packageVersion("nlme"))),
           args[2], digits = NA, auto_unbox = TRUE)
