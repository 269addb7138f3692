# Additive interaction (DID, RERI, S) in base R, for tests/test_factorial.py.
# Run in this folder: Rscript reference_interaction.R  (writes interaction_reference.json)
# Independent of ketex's code: Wilson limits from prop.test(correct = FALSE), delta-method
# gradients from symbolic differentiation (deriv), relative-risk MOVER-R limits by solving
# the defining equation with uniroot, not the closed form.
library(jsonlite)
data <- read.csv("factorial_trials.csv")
z <- qnorm(0.975)

wilson <- function(x, n) as.numeric(prop.test(x, n, correct = FALSE)$conf.int)

# MOVER-R (Donner & Zou 2012): L solves p1 - L p0 - sqrt((p1 - l1)^2 + L^2 (u0 - p0)^2) = 0,
# U solves p1 - U p0 + sqrt((u1 - p1)^2 + U^2 (p0 - l0)^2) = 0.
ratio_mover <- function(p1, w1, p0, w0) {
  f_low <- function(L) p1 - L * p0 - sqrt((p1 - w1[1])^2 + L^2 * (w0[2] - p0)^2)
  f_high <- function(U) p1 - U * p0 + sqrt((w1[2] - p1)^2 + U^2 * (p0 - w0[1])^2)
  r <- p1 / p0
  low <- if (w1[1] == 0) 0 else uniroot(f_low, c(0, r), tol = 1e-14)$root
  high <- uniroot(f_high, c(r, 1e3 * r), tol = 1e-14)$root
  c(low, high)
}

one_trial <- function(d) {
  d <- d[!is.na(d$response), ]
  cell <- function(a, b) {
    y <- d$response[d$ketamine == a & d$exercise == b]
    c(x = sum(y), n = length(y))
  }
  k <- list(`00` = cell("no", "no"), `10` = cell("yes", "no"),
            `01` = cell("no", "yes"), `11` = cell("yes", "yes"))
  p <- sapply(k, function(v) v[["x"]] / v[["n"]])
  n <- sapply(k, function(v) v[["n"]])
  v <- p * (1 - p) / n
  w <- lapply(k, function(v) wilson(v[["x"]], v[["n"]]))
  env <- list(p00 = p[["00"]], p10 = p[["10"]], p01 = p[["01"]], p11 = p[["11"]])
  vars <- c("p00", "p10", "p01", "p11")
  delta <- function(expr) {
    g <- deriv(expr, vars)
    value <- eval(g, env)
    grad <- attr(value, "gradient")[1, ]
    c(estimate = as.numeric(value), se = sqrt(sum(grad^2 * v)))
  }
  did <- delta(~ p11 - p10 - p01 + p00)
  reri <- delta(~ p11 / p00 - p10 / p00 - p01 / p00 + 1)
  log_s <- delta(~ log((p11 / p00 - 1) / ((p10 / p00 - 1) + (p01 / p00 - 1))))
  wald <- function(e) list(estimate = e[["estimate"]], se = e[["se"]],
                           ci_low = e[["estimate"]] - z * e[["se"]],
                           ci_high = e[["estimate"]] + z * e[["se"]],
                           p_value = 2 * pnorm(-abs(e[["estimate"]] / e[["se"]])))
  s <- wald(log_s)
  s$estimate <- exp(s$estimate); s$ci_low <- exp(s$ci_low); s$ci_high <- exp(s$ci_high)

  lo <- sapply(w, `[`, 1); hi <- sapply(w, `[`, 2)
  did_mover <- c(
    did[["estimate"]] - sqrt((p[["11"]] - lo[["11"]])^2 + (p[["00"]] - lo[["00"]])^2 +
                             (hi[["10"]] - p[["10"]])^2 + (hi[["01"]] - p[["01"]])^2),
    did[["estimate"]] + sqrt((hi[["11"]] - p[["11"]])^2 + (hi[["00"]] - p[["00"]])^2 +
                             (p[["10"]] - lo[["10"]])^2 + (p[["01"]] - lo[["01"]])^2))
  rr <- p[c("10", "01", "11")] / p[["00"]]
  lim <- lapply(c("10", "01", "11"), function(c) ratio_mover(p[[c]], w[[c]], p[["00"]], w[["00"]]))
  names(lim) <- c("10", "01", "11")
  lv <- (1 - p) / (n * p)  # variance of log p
  r <- function(a, b) lv[["00"]] / sqrt((lv[[a]] + lv[["00"]]) * (lv[[b]] + lv[["00"]]))
  d3l <- rr[["11"]] - lim$`11`[1]; d3u <- lim$`11`[2] - rr[["11"]]
  d1l <- rr[["10"]] - lim$`10`[1]; d1u <- lim$`10`[2] - rr[["10"]]
  d2l <- rr[["01"]] - lim$`01`[1]; d2u <- lim$`01`[2] - rr[["01"]]
  reri_mover <- c(
    reri[["estimate"]] - sqrt(d3l^2 + d1u^2 + d2u^2 - 2 * r("10", "11") * d3l * d1u -
                              2 * r("01", "11") * d3l * d2u + 2 * r("10", "01") * d1u * d2u),
    reri[["estimate"]] + sqrt(d3u^2 + d1l^2 + d2l^2 - 2 * r("10", "11") * d3u * d1l -
                              2 * r("01", "11") * d3u * d2l + 2 * r("10", "01") * d1l * d2l))
  list(
    cells = list(n = as.list(n), events = as.list(sapply(k, `[[`, "x")),
                 wilson_low = as.list(lo), wilson_high = as.list(hi)),
    delta = list(risk_difference_interaction = wald(did), reri = wald(reri), synergy_index = s),
    mover = list(risk_difference_interaction = as.list(setNames(did_mover, c("ci_low", "ci_high"))),
                 reri = as.list(setNames(reri_mover, c("ci_low", "ci_high")))),
    n_missing_outcome = sum(is.na(data$response[data$trial == d$trial[1]]))
  )
}

out <- lapply(split(data, data$trial), one_trial)
out$generated_by <- paste("reference_interaction.R,", R.version.string)
writeLines(toJSON(out, auto_unbox = TRUE, digits = 15, pretty = TRUE), "interaction_reference.json")
