# Regression-based mediation (Valeri and VanderWeele 2013; VanderWeele 2015) by hand in
# base R, for tests/mediation/test_mediation_reference.py.
# Run in this folder: Rscript vanderweele.R  (reads mediation_trial.csv, writes
# vanderweele_reference.json). Independent of ketex's code: the fits are lm/glm, the
# effects are the published closed forms, and the delta-method gradients (the papers'
# Gamma vectors) are written out by hand, not differentiated numerically.
library(jsonlite)
data <- read.csv("mediation_trial.csv")
z <- qnorm(0.975)
expit <- function(x) 1 / (1 + exp(-x))

# vcov() of a glm is the inverse information at the weights of the last IRLS step, which
# were computed at the previous iterate (about 1e-8 relative away at convergence); the
# inverse information at the final estimates is X' W X with W = p (1 - p) at the fitted
# values, which glm.fit does evaluate at the final coefficients.
information_inverse <- function(fit) {
  if (!inherits(fit, "glm")) return(unname(vcov(fit)))
  X <- model.matrix(fit)
  p <- fitted(fit)
  unname(solve(crossprod(X, X * (p * (1 - p)))))
}

one_case <- function(exposure, mediator, outcome, covariates, interaction, mreg, yreg,
                     a0 = 0, a1 = 1, cvals = NULL, mval = NULL) {
  d <- data[complete.cases(data[, c(exposure, mediator, outcome, covariates)]), ]
  n <- nrow(d)
  a <- d[[exposure]]; m <- d[[mediator]]; y <- d[[outcome]]
  C <- as.matrix(d[, covariates, drop = FALSE])
  k <- length(covariates)
  am <- a * m
  rhs_m <- paste(c("a", covariates), collapse = " + ")
  rhs_y <- paste(c("a", "m", if (interaction) "am", covariates), collapse = " + ")
  fd <- cbind(data.frame(a = a, m = m, y = y, am = am), d[, covariates, drop = FALSE])
  tight <- glm.control(epsilon = 1e-15, maxit = 100)
  fm <- if (mreg == "linear") lm(as.formula(paste("m ~", rhs_m)), data = fd) else
    glm(as.formula(paste("m ~", rhs_m)), family = binomial, data = fd, control = tight)
  fy <- if (yreg == "linear") lm(as.formula(paste("y ~", rhs_y)), data = fd) else
    glm(as.formula(paste("y ~", rhs_y)), family = binomial, data = fd, control = tight)
  beta <- unname(coef(fm)); Vb <- information_inverse(fm)
  theta_fit <- unname(coef(fy)); Vt_fit <- information_inverse(fy)
  # theta = (t0, t1, t2, t3, t4[1..k]); without interaction t3 = 0 with no variance
  if (interaction) {
    theta <- theta_fit; Vt <- Vt_fit
  } else {
    theta <- c(theta_fit[1:3], 0, theta_fit[-(1:3)])
    Vt <- matrix(0, k + 4, k + 4)
    keep <- c(1:3, 4 + seq_len(k))
    Vt[keep, keep] <- Vt_fit
  }
  if (mreg == "linear") {
    s2 <- summary(fm)$sigma^2
    Vs2 <- 2 * s2^2 / fm$df.residual
  } else {
    s2 <- 0; Vs2 <- 0
  }
  if (is.null(cvals)) cvals <- colMeans(C) else cvals <- unlist(cvals[covariates])
  if (is.null(mval)) mval <- if (mreg == "linear") mean(m) else 0
  b0 <- beta[1]; b1 <- beta[2]; b2 <- beta[2 + seq_len(k)]
  t1 <- theta[2]; t2 <- theta[3]; t3 <- theta[4]
  dd <- a1 - a0
  bc <- sum(b2 * cvals)
  zb <- rep(0, k + 2); zt <- rep(0, k + 4)
  # gradient rows: c(d/d beta (k + 2), d/d theta (k + 4), d/d sigma^2)
  g <- list()
  est <- list()
  est$cde <- (t1 + t3 * mval) * dd
  g$cde <- c(zb, c(0, dd, 0, mval * dd, rep(0, k)), 0)
  if (mreg == "linear") {
    mu0 <- b0 + b1 * a0 + bc; mu1 <- b0 + b1 * a1 + bc
    if (yreg == "linear") {
      est$pnde <- (t1 + t3 * mu0) * dd
      est$tnde <- (t1 + t3 * mu1) * dd
      g$pnde <- c(t3 * dd * c(1, a0, cvals), c(0, dd, 0, mu0 * dd, rep(0, k)), 0)
      g$tnde <- c(t3 * dd * c(1, a1, cvals), c(0, dd, 0, mu1 * dd, rep(0, k)), 0)
    } else {
      sq <- 0.5 * t3^2 * s2 * (a1^2 - a0^2)
      est$pnde <- (t1 + t3 * (mu0 + t2 * s2)) * dd + sq
      est$tnde <- (t1 + t3 * (mu1 + t2 * s2)) * dd + sq
      for (nm in c("pnde", "tnde")) {
        mu <- if (nm == "pnde") mu0 else mu1
        aa <- if (nm == "pnde") a0 else a1
        g[[nm]] <- c(t3 * dd * c(1, aa, cvals),
                     c(0, dd, t3 * s2 * dd,
                       (mu + t2 * s2) * dd + t3 * s2 * (a1^2 - a0^2), rep(0, k)),
                     t3 * t2 * dd + 0.5 * t3^2 * (a1^2 - a0^2))
      }
    }
    est$tnie <- b1 * (t2 + t3 * a1) * dd
    est$pnie <- b1 * (t2 + t3 * a0) * dd
    g$tnie <- c(c(0, (t2 + t3 * a1) * dd, rep(0, k)), c(0, 0, b1 * dd, b1 * a1 * dd, rep(0, k)), 0)
    g$pnie <- c(c(0, (t2 + t3 * a0) * dd, rep(0, k)), c(0, 0, b1 * dd, b1 * a0 * dd, rep(0, k)), 0)
  } else {  # logistic mediator, linear outcome
    e0 <- expit(b0 + b1 * a0 + bc); e1 <- expit(b0 + b1 * a1 + bc)
    de0 <- e0 * (1 - e0) * c(1, a0, cvals); de1 <- e1 * (1 - e1) * c(1, a1, cvals)
    est$pnde <- (t1 + t3 * e0) * dd
    est$tnde <- (t1 + t3 * e1) * dd
    g$pnde <- c(t3 * dd * de0, c(0, dd, 0, e0 * dd, rep(0, k)), 0)
    g$tnde <- c(t3 * dd * de1, c(0, dd, 0, e1 * dd, rep(0, k)), 0)
    est$tnie <- (t2 + t3 * a1) * (e1 - e0)
    est$pnie <- (t2 + t3 * a0) * (e1 - e0)
    g$tnie <- c((t2 + t3 * a1) * (de1 - de0), c(0, 0, e1 - e0, a1 * (e1 - e0), rep(0, k)), 0)
    g$pnie <- c((t2 + t3 * a0) * (de1 - de0), c(0, 0, e1 - e0, a0 * (e1 - e0), rep(0, k)), 0)
  }
  est$te <- est$pnde + est$tnie
  g$te <- g$pnde + g$tnie
  if (yreg == "linear") {
    est$pm <- est$tnie / est$te
    g$pm <- (g$tnie * est$te - est$tnie * g$te) / est$te^2
  } else {  # PM = OR_pnde (OR_tnie - 1) / (OR_pnde OR_tnie - 1), P, Q the log ORs
    P <- est$pnde; Q <- est$tnie
    den <- (exp(P + Q) - 1)^2
    est$pm <- exp(P) * (exp(Q) - 1) / (exp(P + Q) - 1)
    g$pm <- (-exp(P) * (exp(Q) - 1) / den) * g$pnde + (exp(P + Q) * (exp(P) - 1) / den) * g$tnie
  }
  V <- matrix(0, 2 * k + 7, 2 * k + 7)
  V[1:(k + 2), 1:(k + 2)] <- Vb
  V[(k + 3):(2 * k + 6), (k + 3):(2 * k + 6)] <- Vt
  V[2 * k + 7, 2 * k + 7] <- Vs2
  effects <- c("cde", "pnde", "tnie", "tnde", "pnie", "te", "pm")
  out <- list()
  for (e in effects) {
    x <- est[[e]]
    se <- sqrt(drop(t(g[[e]]) %*% V %*% g[[e]]))
    lo <- x - z * se; hi <- x + z * se
    p <- 2 * pnorm(-abs(x / se))
    if (yreg == "logistic" && e != "pm") {
      x <- exp(x); lo <- exp(lo); hi <- exp(hi)
    }
    out[[e]] <- list(estimate = x, se = se, ci_low = lo, ci_high = hi, p_value = p)
  }
  list(settings = list(exposure = exposure, mediator = mediator, outcome = outcome,
                       covariates = covariates, interaction = interaction,
                       mediator_model = mreg, outcome_model = yreg,
                       exposure_levels = c(a0, a1), covariate_values = as.list(cvals),
                       mediator_value = mval),
       n_obs = n, sigma_sq = s2, mediator_coef = beta, outcome_coef = theta_fit,
       effects = out)
}

cov2 <- c("age", "madrs_base")
cases <- list(
  linear_linear_interaction = one_case("exercise", "vo2_change", "madrs_change", cov2,
                                       TRUE, "linear", "linear"),
  linear_linear_no_interaction = one_case("exercise", "vo2_change", "madrs_change", cov2,
                                          FALSE, "linear", "linear"),
  linear_logistic_interaction = one_case("exercise", "vo2_change", "response", cov2,
                                         TRUE, "linear", "logistic"),
  linear_logistic_no_interaction = one_case("exercise", "vo2_change", "response", cov2,
                                            FALSE, "linear", "logistic"),
  logistic_linear_interaction = one_case("exercise", "fit_gain", "madrs_change", cov2,
                                         TRUE, "logistic", "linear"),
  logistic_linear_no_interaction = one_case("exercise", "fit_gain", "madrs_change", cov2,
                                            FALSE, "logistic", "linear"),
  dose_linear_linear = one_case("dose_kkw", "vo2_change", "madrs_change", cov2, TRUE,
                                "linear", "linear", a0 = 5, a1 = 15,
                                cvals = list(age = 40, madrs_base = 30), mval = 2),
  dose_linear_logistic = one_case("dose_kkw", "vo2_change", "response", cov2, TRUE,
                                  "linear", "logistic", a0 = 5, a1 = 15,
                                  cvals = list(age = 40, madrs_base = 30), mval = 2),
  dose_logistic_linear_no_covariates = one_case("dose_kkw", "fit_gain", "madrs_change",
                                                character(0), TRUE, "logistic", "linear",
                                                a0 = 2, a1 = 12, mval = 1)
)
cases$generated_by <- paste(R.version.string, "base R stats (lm, glm); jsonlite",
                            packageVersion("jsonlite"))
writeLines(toJSON(cases, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "vanderweele_reference.json")
