# Side-by-side timing of R's MMRM fitters on bcva_data replicated to n subjects.
# Usage: Rscript bench_mmrm.R <bcva_data.csv> <n_subjects> <mmrm|gls|glmmTMB> <out.json>
# The mmrm package is not on Debian: build it from its public source into a library and
# point R_LIBS at it (see docs/benchmarks.md). Never committed.
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]; n <- as.integer(args[2]); engine <- args[3]; out <- args[4]
d <- read.csv(path, stringsAsFactors = FALSE)
reps <- max(1L, n %/% 1000L)
parts <- lapply(seq_len(reps), function(r) transform(d, USUBJID = paste0(USUBJID, "_", r)))
d <- do.call(rbind, parts)
if (n < 1000) d <- d[d$USUBJID %in% unique(d$USUBJID)[seq_len(n)], ]
d$USUBJID <- factor(d$USUBJID)
d$AVISIT <- factor(d$AVISIT)
d$ARMCD <- factor(d$ARMCD, levels = c("CTL", "TRT"))
d$RACE <- factor(d$RACE)
d$VISITN <- as.integer(d$AVISIT)
form <- BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT
start <- proc.time()[["elapsed"]]
if (engine == "mmrm") {
  suppressPackageStartupMessages(library(mmrm))
  fit <- mmrm(BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT + us(AVISIT | USUBJID), data = d,
              method = "Satterthwaite")
  est <- coef(fit); se <- sqrt(diag(vcov(fit))); ll <- -2 * as.numeric(logLik(fit))
} else if (engine == "gls") {
  suppressPackageStartupMessages(library(nlme))
  fit <- gls(form, data = d, correlation = corSymm(form = ~ VISITN | USUBJID),
             weights = varIdent(form = ~ 1 | AVISIT), method = "REML")
  est <- coef(fit); se <- sqrt(diag(vcov(fit))); ll <- -2 * as.numeric(logLik(fit))
} else {
  suppressPackageStartupMessages(library(glmmTMB))
  fit <- glmmTMB(BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT + us(0 + AVISIT | USUBJID),
                 data = d, dispformula = ~ 0, REML = TRUE)
  est <- fixef(fit)$cond; se <- sqrt(diag(vcov(fit)$cond)); ll <- -2 * as.numeric(logLik(fit))
}
elapsed <- proc.time()[["elapsed"]] - start
write_json(list(engine = engine, n_subjects = nlevels(d$USUBJID), seconds = elapsed,
                minus2loglik = ll, terms = names(est), estimate = unname(est), se = unname(se)),
           out, digits = NA, auto_unbox = TRUE)
