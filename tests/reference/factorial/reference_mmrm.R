# Reference values for ketex.factorial_contrasts: R's mmrm + emmeans on the factorial
# sample's primary analysis rows (mmrm_factorial_data.csv, written by make_mmrm_data.py).
#
#   CHG ~ BASE + DRUG * EXERCISE * AVISIT + us(AVISIT | USUBJID), REML, Satterthwaite
#
# with emmeans cell means per visit, the interaction contrast (contrast(emm, interaction =
# trt.vs.ctrl)), the simple effects inside the table and the main effects at the margins,
# each with mmrm's Satterthwaite df for that contrast; and the same averaged over the
# visits (by = NULL). The controls are the reference levels: midazolam, stretching.
#
# mmrm is not a Debian package: build it from its public source into a library
# (R CMD INSTALL -l <lib> <source>) and run, in this folder,
#   R_LIBS_USER=<lib> Rscript reference_mmrm.R
# which writes mmrm_reference.json.
suppressPackageStartupMessages({
  library(mmrm)
  library(emmeans)
  library(jsonlite)
})

d <- read.csv("mmrm_factorial_data.csv", stringsAsFactors = FALSE)
visits <- unique(d[order(d$AVISITN), "AVISIT"])
d$AVISIT <- factor(d$AVISIT, levels = visits)
d$DRUG <- factor(d$DRUG, levels = c("midazolam", "ketamine"))
d$EXERCISE <- factor(d$EXERCISE, levels = c("stretching", "aerobic"))
d$USUBJID <- factor(d$USUBJID)
n_rows <- nrow(d)
d <- d[!is.na(d$CHG), ]

fit <- mmrm(CHG ~ BASE + DRUG * EXERCISE * AVISIT + us(AVISIT | USUBJID), data = d,
            reml = TRUE, method = "Satterthwaite")
s <- summary(fit)$coefficients

tidy <- function(x, keep) {
  x <- as.data.frame(summary(x, infer = c(TRUE, TRUE), adjust = "none"))
  names(x)[names(x) %in% c("emmean", "estimate")] <- "estimate"
  x <- x[, c(keep, "estimate", "SE", "df", "lower.CL", "upper.CL")]
  for (k in keep) x[[k]] <- as.character(x[[k]])
  x
}

contrasts_of <- function(by) {
  # by: "AVISIT" (one table per visit) or NULL (averaged over visits, equal weights)
  over <- if (is.null(by)) NULL else by
  cells <- emmeans(fit, c("DRUG", "EXERCISE", over))
  inter <- contrast(cells, interaction = c("trt.vs.ctrl", "trt.vs.ctrl"), by = over,
                    adjust = "none")
  drug_in <- contrast(cells, "trt.vs.ctrl", by = c(over, "EXERCISE"), adjust = "none")
  exer_in <- contrast(cells, "trt.vs.ctrl", by = c(over, "DRUG"), adjust = "none")
  drug_main <- contrast(emmeans(fit, c("DRUG", over)), "trt.vs.ctrl", by = over,
                        adjust = "none")
  exer_main <- contrast(emmeans(fit, c("EXERCISE", over)), "trt.vs.ctrl", by = over,
                        adjust = "none")
  list(
    cells = tidy(cells, c(over, "DRUG", "EXERCISE")),
    interaction = tidy(inter, c(over, "DRUG_trt.vs.ctrl", "EXERCISE_trt.vs.ctrl")),
    drug_simple = tidy(drug_in, c(over, "EXERCISE", "contrast")),
    exercise_simple = tidy(exer_in, c(over, "DRUG", "contrast")),
    drug_main = tidy(drug_main, c(over, "contrast")),
    exercise_main = tidy(exer_main, c(over, "contrast"))
  )
}

out <- list(
  generated_by = paste0(R.version.string, "; mmrm ", packageVersion("mmrm"), "; emmeans ",
                        packageVersion("emmeans"), "; TMB ", packageVersion("TMB")),
  model = "CHG ~ BASE + DRUG * EXERCISE * AVISIT + us(AVISIT | USUBJID), reml, Satterthwaite",
  n_rows = n_rows, n_obs = nrow(d), converged = fit$opt_details$convergence == 0,
  minus2loglik = -2 * as.numeric(logLik(fit)),
  coefficients = list(terms = rownames(s), estimate = unname(s[, "Estimate"]),
                      se = unname(s[, "Std. Error"]), df = unname(s[, "df"])),
  by_visit = contrasts_of("AVISIT"),
  overall = contrasts_of(NULL)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "mmrm_reference.json")
