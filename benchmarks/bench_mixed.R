# Timing of lme4::lmer and glmer on the data bench_mixed.py writes.
# Usage: Rscript bench_mixed.R <lmm.csv> <glmm.csv> <n_subjects> <out.json>
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$ARMCD <- factor(d$ARMCD, levels = c("CTL", "TRT")); d$RACE <- factor(d$RACE)
start <- proc.time()[["elapsed"]]
fit <- lmer(BCVA_CHG ~ BCVA_BL + RACE + ARMCD * VISITN + (1 + VISITN | USUBJID), data = d)
lmm_seconds <- proc.time()[["elapsed"]] - start
b <- read.csv(args[2])
start <- proc.time()[["elapsed"]]
gfit <- glmer(y ~ arm + visit + (1 | id), data = b, family = binomial)
glmm_seconds <- proc.time()[["elapsed"]] - start
n <- as.integer(args[3])
write_json(list(
  list(model = "lmm", engine = "lme4", subjects = n, seconds = lmm_seconds,
       loglik = as.numeric(logLik(fit))),
  list(model = "glmm", engine = "lme4", subjects = n, seconds = glmm_seconds,
       loglik = as.numeric(logLik(gfit)))), args[4], auto_unbox = TRUE, digits = NA)
