# Reference values for the multiplicity-adjusted treatment-vs-control contrasts
# (MMRMResult.contrast(..., method = "trt_vs_ctrl", adjust = ...)): R's mmrm + emmeans on
# multiarm_data.csv (written by make_data.py).
#
#   CHG ~ BASE + ARM * AVISIT + us(AVISIT | USUBJID), REML, Satterthwaite
#   emm <- emmeans(fit, ~ ARM | AVISIT)
#   contrast(emm, "trt.vs.ctrl", ref = "CTRL", adjust = "mvt")    # Dunnett
#   contrast(emm, "trt.vs.ctrl", ref = "CTRL", adjust = "holm")
#   contrast(emm, "trt.vs.ctrl", ref = "CTRL", adjust = "bonferroni")
#
# for the three-arm trial (CTRL, KET, KET_AEX: two contrasts per visit) and the four-arm
# one (MID_AEX too: three). emmeans's "mvt" calls mvtnorm::pmvt / qmvt with its default
# GenzBretz(abseps = 1e-3) and each contrast's own df made an integer (emmeans:::.fix.df);
# to have numbers accurate beyond that, the script also recomputes the same probabilities
# with mvtnorm at abseps = 3e-7 (maxpts = 5e6; column p_mvt_precise), and the critical
# values (column cv_mvt_precise) as the root of the quadratic through the same precise
# probability at three points, emmeans's critical value and -+ 0.01 from it (an
# interpolation error near 1e-6 in probability; qmvt itself cannot be asked for a root
# finer than its probabilities' Monte Carlo noise). For two contrasts mvtnorm's MVTDST is
# deterministic (the bivariate t by the Dunnett-Sobel / Genz BVTL formula), so emmeans's
# values and these agree to rounding.
#
# mmrm is not a Debian package: build it from its public source into a library
# (R CMD INSTALL -l <lib> <source>) and run, in this folder,
#   R_LIBS_USER=<lib> Rscript reference_multiarm.R
# which writes multiarm_reference.json.
suppressPackageStartupMessages({
  library(mmrm)
  library(emmeans)
  library(mvtnorm)
  library(jsonlite)
})

all_rows <- read.csv("multiarm_data.csv", stringsAsFactors = FALSE)
visits <- unique(all_rows[order(all_rows$AVISITN), "AVISIT"])

fix_df <- emmeans:::.fix.df

reference <- function(arms) {
  d <- all_rows[all_rows$ARM %in% arms, ]
  d$AVISIT <- factor(d$AVISIT, levels = visits)
  d$ARM <- factor(d$ARM, levels = arms)
  d$USUBJID <- factor(d$USUBJID)
  n_rows <- nrow(d)
  d <- d[!is.na(d$CHG), ]
  fit <- mmrm(CHG ~ BASE + ARM * AVISIT + us(AVISIT | USUBJID), data = d, reml = TRUE,
              method = "Satterthwaite")
  emm <- emmeans(fit, ~ ARM | AVISIT)
  one <- function(adjust) {
    con <- contrast(emm, "trt.vs.ctrl", ref = "CTRL", adjust = adjust)
    s <- as.data.frame(summary(con, infer = c(TRUE, TRUE), adjust = adjust))
    s$AVISIT <- as.character(s$AVISIT)
    s$contrast <- as.character(s$contrast)
    list(con = con, table = s)
  }
  mvt <- one("mvt")
  # high-precision recomputation of the same quantities, family = one visit
  corr <- cov2cor(vcov(mvt$con))
  s <- mvt$table
  s$p_mvt_precise <- NA_real_
  s$cv_mvt_precise <- NA_real_
  algorithm <- GenzBretz(maxpts = 5e6, abseps = 3e-7, releps = 0)
  set.seed(1)
  for (v in unique(s$AVISIT)) {
    rows <- which(s$AVISIT == v)
    k <- length(rows)
    r <- corr[rows, rows]
    box <- function(q, nu) pmvt(rep(-q, k), rep(q, k), df = nu, corr = r,
                                algorithm = algorithm)
    for (i in rows) {
      s$p_mvt_precise[i] <- 1 - box(abs(s$t.ratio[i]), fix_df(s$df[i]))
    }
    for (nu in unique(fix_df(s$df[rows]))) {
      same <- rows[fix_df(s$df[rows]) == nu]
      start <- (s$upper.CL[same[1]] - s$estimate[same[1]]) / s$SE[same[1]]
      q <- start + c(-0.01, 0, 0.01)
      f <- sapply(q, box, nu = nu) - 0.95
      fit_q <- lm(f ~ I(q - start) + I((q - start)^2))$coefficients  # exact through 3 points
      roots <- Re(polyroot(fit_q))
      s$cv_mvt_precise[same] <- start + roots[which.min(abs(roots))]
    }
  }
  cols <- c("AVISIT", "contrast", "estimate", "SE", "df", "t.ratio", "p.value",
            "lower.CL", "upper.CL")
  list(
    arms = arms, n_rows = n_rows, n_obs = nrow(d),
    converged = fit$opt_details$convergence == 0,
    minus2loglik = -2 * as.numeric(logLik(fit)),
    correlation = unname(corr),
    mvt = s[, c(cols, "p_mvt_precise", "cv_mvt_precise")],
    holm = one("holm")$table[, cols],
    bonferroni = one("bonferroni")$table[, cols],
    none = one("none")$table[, cols]
  )
}

out <- list(
  generated_by = paste0(R.version.string, "; mmrm ", packageVersion("mmrm"), "; emmeans ",
                        packageVersion("emmeans"), "; mvtnorm ", packageVersion("mvtnorm"),
                        "; TMB ", packageVersion("TMB")),
  model = "CHG ~ BASE + ARM * AVISIT + us(AVISIT | USUBJID), reml, Satterthwaite",
  three_arm = reference(c("CTRL", "KET", "KET_AEX")),
  four_arm = reference(c("CTRL", "KET", "KET_AEX", "MID_AEX"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "multiarm_reference.json")
