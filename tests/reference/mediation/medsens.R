# Sensitivity of the mediated effect to sequential ignorability (Imai, Keele, Yamamoto
# 2010), for tests/mediation/test_sensitivity_reference.py.
# Run in this folder: Rscript medsens.R  (reads mediation_trial.csv, writes
# medsens_reference.json). Needs R mediation (4.5.1 built from its public source,
# github.com/kosukeimai/mediation, installed with R CMD INSTALL -l /work/rlib; set
# MEDIATION_LIB to the library folder).
# Three independent computations:
#  1. mediation::medsens on the linear mediator and outcome models, with eps = 1e-22 so
#     its feasible GLS iteration reaches its fixed point to about 1e-12;
#  2. the closed form of Imai, Keele and Yamamoto (2010, Theorem 2) without interaction,
#     and the rho at which it is zero (rho tilde, the correlation of the residuals of
#     M ~ T + X and Y ~ T + X);
#  3. a by-hand feasible GLS loop (medsens's algorithm written out again), checked
#     against medsens on its grid, and uniroot on it for the rho at which each mediated
#     effect is zero with interaction.
suppressMessages(library(mediation, lib.loc = Sys.getenv("MEDIATION_LIB", "/work/rlib")))
library(jsonlite)
d <- read.csv("mediation_trial.csv")
d <- d[complete.cases(d[, c("exercise", "vo2_change", "madrs_change", "age",
                             "madrs_base")]), ]
n <- nrow(d)
fm <- lm(vo2_change ~ exercise + age + madrs_base, data = d)

fgls <- function(rho, Xm, Xy, m, y, tol = 1e-22) {
  km <- ncol(Xm)
  b <- c(qr.coef(qr(Xm), m), qr.coef(qr(Xy), y))
  for (iter in 1:5000) {
    e1 <- m - Xm %*% b[1:km]; e2 <- y - Xy %*% b[-(1:km)]
    O <- matrix(c(sum(e1^2), rho * sd(e1) * sd(e2) * (n - 1),
                  rho * sd(e1) * sd(e2) * (n - 1), sum(e2^2)), 2) / (n - 1)
    W <- solve(O)
    A <- rbind(cbind(W[1, 1] * crossprod(Xm), W[1, 2] * crossprod(Xm, Xy)),
               cbind(W[2, 1] * crossprod(Xy, Xm), W[2, 2] * crossprod(Xy)))
    r <- c(W[1, 1] * crossprod(Xm, m) + W[1, 2] * crossprod(Xm, y),
           W[2, 1] * crossprod(Xy, m) + W[2, 2] * crossprod(Xy, y))
    new <- drop(solve(A, r))
    done <- sum((new - b)^2) < tol
    b <- new
    if (done) break
    if (iter == 5000) stop("feasible GLS did not converge at rho = ", rho)
  }
  list(b1 = b[2], t2 = b[km + 3], t3 = if (ncol(Xy) > km + 1) b[km + 4] else 0)
}

one_case <- function(interaction) {
  fy <- if (interaction) {
    lm(madrs_change ~ exercise + vo2_change + exercise:vo2_change + age + madrs_base, data = d)
  } else {
    lm(madrs_change ~ exercise + vo2_change + age + madrs_base, data = d)
  }
  set.seed(20261203)
  med <- mediate(fm, fy, treat = "exercise", mediator = "vo2_change", sims = 100)
  s <- medsens(med, rho.by = 0.1, eps = 1e-22, effect.type = "indirect")
  Xm <- cbind(1, d$exercise, d$age, d$madrs_base)
  Xy <- if (interaction) {
    cbind(1, d$exercise, d$vo2_change, d$exercise * d$vo2_change, d$age, d$madrs_base)
  } else {
    cbind(1, d$exercise, d$vo2_change, d$age, d$madrs_base)
  }
  acme <- function(rho, a) {
    f <- fgls(rho, Xm, Xy, d$vo2_change, d$madrs_change)
    f$b1 * (f$t2 + f$t3 * a)
  }
  by_hand <- sapply(s$rho, acme, a = 0)
  stopifnot(max(abs(by_hand - s$d0) / abs(s$d0)) < 1e-8)
  root <- function(a) uniroot(acme, c(-0.99, 0.99), a = a, tol = 1e-13)$root
  out <- list(interaction = interaction, rho = s$rho, d0 = drop(s$d0), d1 = drop(s$d1),
              lower_d0 = drop(s$lower.d0), upper_d0 = drop(s$upper.d0),
              lower_d1 = drop(s$lower.d1), upper_d1 = drop(s$upper.d1),
              r2star_prod = s$R2star.prod, r2tilde_prod = s$R2tilde.prod,
              r_square_m = s$r.square.m, r_square_y = s$r.square.y,
              err_cr_d = s$err.cr.d, rho_at_zero_fgls = c(root(0), root(1)))
  if (!interaction) {
    e2 <- resid(fm)
    e1 <- resid(lm(madrs_change ~ exercise + age + madrs_base, data = d))
    rt <- cor(e1, e2)
    b2 <- unname(coef(fm)["exercise"])
    out$closed_form <- b2 * sd(e1) / sd(e2) * (rt - s$rho * sqrt((1 - rt^2) / (1 - s$rho^2)))
    out$rho_tilde <- rt
  }
  out
}

ref <- list(no_interaction = one_case(FALSE), interaction = one_case(TRUE),
            generated_by = paste(R.version.string, "; mediation", packageVersion("mediation"),
                                 "(built from github.com/kosukeimai/mediation); jsonlite",
                                 packageVersion("jsonlite")))
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE), "medsens_reference.json")
