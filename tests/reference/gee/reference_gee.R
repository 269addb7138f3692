# Reference values for ketex.gee: geepack::geeglm, small-sample sandwich estimators by
# hand (Mancl-DeRouen, Kauermann-Carroll), clubSandwich (CR3, CR2) on the independence
# fit, and emmeans predicted probabilities.
#
# Run in this folder:  Rscript reference_gee.R   (writes gee_reference.json)
# Data: remission.csv, made by make_gee_data.py (fixed seed).
#
# geeglm is run with a tight convergence criterion (geese.control(epsilon = 1e-12)):
# its default (1e-4 on the largest change of any parameter) would leave estimates
# 1e-5 or so from the solution of the estimating equations, too loose for 1e-6
# comparisons.

suppressPackageStartupMessages({
  library(geepack)
  library(clubSandwich)
  library(emmeans)
  library(jsonlite)
})

raw <- read.csv("remission.csv", stringsAsFactors = FALSE)
raw$arm <- factor(raw$arm, levels = c("control", "exercise"))
raw$visit <- factor(raw$visit, levels = c("W02", "W04", "W08", "W12"))
raw$id <- factor(raw$participant_id, levels = unique(raw$participant_id))
raw$wave <- as.integer(raw$visit)
raw <- raw[order(raw$id, raw$wave), ]

tight <- geese.control(epsilon = 1e-12, maxit = 200)

# ------------------------------------------------------------ by-hand sandwiches
working_correlation <- function(fit, corstr, n_waves) {
  alpha <- fit$geese$alpha
  lag <- abs(outer(seq_len(n_waves), seq_len(n_waves), "-"))
  if (corstr == "independence") return(diag(n_waves))
  if (corstr == "exchangeable") {
    r <- matrix(alpha, n_waves, n_waves); diag(r) <- 1; return(r)
  }
  if (corstr == "ar1") return(alpha^lag)
  # unstructured: alpha in geepack's pair order 1:2, 1:3, ..., 2:3, ...
  r <- diag(n_waves); k <- 1
  for (j in 1:(n_waves - 1)) for (l in (j + 1):n_waves) {
    r[j, l] <- r[l, j] <- alpha[k]; k <- k + 1
  }
  r
}

sym_power <- function(m, power) {
  e <- eigen((m + t(m)) / 2, symmetric = TRUE)
  e$vectors %*% diag(e$values^power, length(e$values)) %*% t(e$vectors)
}

# Robust (Liang-Zeger), Mancl-DeRouen and Kauermann-Carroll from the definitions:
#   B = sum D_i' V_i^-1 D_i,  H_ii = D_i B^-1 D_i' V_i^-1,
#   MD meat: D_i' V_i^-1 (I - H_ii)^-1 r_i r_i' (I - H_ii)^-T V_i^-1 D_i
#   KC meat: the same with (I - H*_ii)^-1/2 in the standardised scale
#            (tilde D = V^-1/2 D, tilde r = V^-1/2 r, H* = tilde D B^-1 tilde D')
by_hand <- function(fit, data, corstr, family_name) {
  x <- model.matrix(fit)
  beta <- coef(fit)
  eta <- drop(x %*% beta)
  fam <- fit$family
  mu <- fam$linkinv(eta)
  mu_eta <- fam$mu.eta(eta)
  variance <- fam$variance(mu)
  phi <- fit$geese$gamma[[1]]
  r_full <- working_correlation(fit, corstr, nlevels(data$visit))
  ids <- split(seq_len(nrow(data)), data$id)
  ids <- ids[lengths(ids) > 0]
  pieces <- lapply(ids, function(rows) {
    d <- mu_eta[rows] * x[rows, , drop = FALSE]
    a_half <- diag(sqrt(variance[rows]), length(rows))
    v <- phi * a_half %*% r_full[data$wave[rows], data$wave[rows], drop = FALSE] %*% a_half
    list(d = d, v = v, vinv = solve(v), r = data$y[rows] - mu[rows])
  })
  bread <- Reduce(`+`, lapply(pieces, function(p) t(p$d) %*% p$vinv %*% p$d))
  binv <- solve(bread)
  meat <- function(kind) {
    Reduce(`+`, lapply(pieces, function(p) {
      n <- nrow(p$d)
      if (kind == "robust") {
        u <- t(p$d) %*% p$vinv %*% p$r
      } else if (kind == "md") {
        h <- p$d %*% binv %*% t(p$d) %*% p$vinv
        u <- t(p$d) %*% p$vinv %*% solve(diag(n) - h, p$r)
      } else if (kind == "kc_principal") {
        # geesmv's form: the principal square root of the non-symmetric (I - H_ii)^-1
        h <- p$d %*% binv %*% t(p$d) %*% p$vinv
        e <- eigen(solve(diag(n) - h))
        root <- Re(e$vectors %*% diag(sqrt(e$values), n) %*% solve(e$vectors))
        u <- t(p$d) %*% p$vinv %*% root %*% p$r
      } else {
        v_half_inv <- sym_power(p$v, -0.5)
        d_std <- v_half_inv %*% p$d
        r_std <- v_half_inv %*% p$r
        h_star <- d_std %*% binv %*% t(d_std)
        u <- t(d_std) %*% sym_power(diag(n) - h_star, -0.5) %*% r_std
      }
      u %*% t(u)
    }))
  }
  list(
    robust = binv %*% meat("robust") %*% binv,
    mancl_derouen = binv %*% meat("md") %*% binv,
    kauermann_carroll = binv %*% meat("kc") %*% binv,
    kauermann_carroll_principal = binv %*% meat("kc_principal") %*% binv,
    model = binv
  )
}

# ------------------------------------------------------------------- fits
specs <- list(
  list(name = "binomial_exchangeable", family = "binomial", outcome = "remission",
       rhs = "arm * visit + madrs_baseline", corstr = "exchangeable"),
  list(name = "binomial_ar1", family = "binomial", outcome = "remission",
       rhs = "arm * visit + madrs_baseline", corstr = "ar1"),
  list(name = "binomial_unstructured", family = "binomial", outcome = "remission",
       rhs = "arm * visit + madrs_baseline", corstr = "unstructured"),
  list(name = "binomial_independence", family = "binomial", outcome = "remission",
       rhs = "arm * visit + madrs_baseline", corstr = "independence"),
  list(name = "binomial_exchangeable_additive", family = "binomial", outcome = "remission",
       rhs = "arm + week + site", corstr = "exchangeable"),
  list(name = "gaussian_exchangeable", family = "gaussian", outcome = "madrs",
       rhs = "arm + visit + madrs_baseline", corstr = "exchangeable"),
  list(name = "gaussian_ar1", family = "gaussian", outcome = "madrs",
       rhs = "arm + visit + madrs_baseline", corstr = "ar1"),
  list(name = "poisson_exchangeable", family = "poisson", outcome = "sessions",
       rhs = "arm + week", corstr = "exchangeable")
)

as_matrix_list <- function(m) unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ])))

results <- list()
for (spec in specs) {
  d <- raw[!is.na(raw[[spec$outcome]]), ]
  d$y <- d[[spec$outcome]]
  form <- as.formula(paste("y ~", spec$rhs))
  if (spec$corstr == "unstructured") {
    # geepack 1.3 indexes each cluster's own s x s matrix by the wave numbers, which
    # reads outside it (a segfault) when a cluster misses an intermediate visit. The
    # same model without that bug: the pair -> parameter map from genZcor with the
    # real waves, and no waves argument (positions within the sorted cluster).
    zcor <- genZcor(clusz = rle(as.integer(d$id))$lengths, waves = d$wave, corstrv = 4)
    fit <- geeglm(form, family = get(spec$family)(), data = d, id = id, zcor = zcor,
                  corstr = "unstructured", control = tight)
  } else {
    fit <- geeglm(form, family = get(spec$family)(), data = d, id = id, waves = wave,
                  corstr = spec$corstr, control = tight)
  }
  hand <- by_hand(fit, d, spec$corstr, spec$family)
  entry <- list(
    name = spec$name, family = spec$family, outcome = spec$outcome, rhs = spec$rhs,
    corstr = spec$corstr,
    call = paste0("geeglm(", spec$outcome, " ~ ", spec$rhs, ", family = ", spec$family,
                  ", data = d, id = id, waves = wave, corstr = \"", spec$corstr,
                  "\", control = geese.control(epsilon = 1e-12, maxit = 200))"),
    terms = names(coef(fit)),
    estimate = unname(coef(fit)),
    se_robust = unname(sqrt(diag(vcov(fit)))),
    vcov_robust = as_matrix_list(vcov(fit)),
    vcov_model = as_matrix_list(fit$geese$vbeta.naiv),
    alpha = unname(fit$geese$alpha),
    alpha_names = names(fit$geese$alpha),
    scale = unname(fit$geese$gamma),
    error = fit$geese$error,
    n_obs = nrow(d), n_clusters = length(unique(d$id)),
    hand_robust = as_matrix_list(hand$robust),
    hand_model = as_matrix_list(hand$model),
    hand_mancl_derouen = as_matrix_list(hand$mancl_derouen),
    hand_kauermann_carroll = as_matrix_list(hand$kauermann_carroll),
    hand_kauermann_carroll_principal = as_matrix_list(hand$kauermann_carroll_principal)
  )
  if (spec$corstr == "independence") {
    # clubSandwich on the equivalent glm (its working weights are the independence
    # working model): CR0 is the Liang-Zeger sandwich, CR3 uses (I - H_ii)^-1, the
    # Mancl-DeRouen correction. (Its CR2 is Bell-McCaffrey's root, built on the Cholesky
    # factor of the working variance; it is not Kauermann-Carroll's symmetric root
    # unless the working variances are equal, so it is not compared.)
    g <- glm(form, family = get(spec$family)(), data = d,
             control = glm.control(epsilon = 1e-14, maxit = 100))
    entry$glm_estimate <- unname(coef(g))
    entry$club_cr3 <- as_matrix_list(as.matrix(vcovCR(g, cluster = d$id, type = "CR3")))
    entry$club_cr0 <- as_matrix_list(as.matrix(vcovCR(g, cluster = d$id, type = "CR0")))
  }
  if (spec$name == "binomial_exchangeable") {
    emm <- summary(emmeans(fit, ~ arm | visit, type = "response"))
    entry$emmeans <- list(arm = as.character(emm$arm), visit = as.character(emm$visit),
                          prob = emm$prob, se = emm$SE,
                          lower = emm$asymp.LCL, upper = emm$asymp.UCL)
    con <- summary(pairs(emmeans(fit, ~ arm | visit), reverse = TRUE), infer = TRUE)
    entry$emmeans_contrast <- list(visit = as.character(con$visit),
                                   estimate = con$estimate, se = con$SE,
                                   lower = con$asymp.LCL, upper = con$asymp.UCL,
                                   p = con$p.value)
    diff <- summary(pairs(regrid(emmeans(fit, ~ arm | visit)), reverse = TRUE), infer = TRUE)
    entry$emmeans_difference <- list(visit = as.character(diff$visit),
                                     estimate = diff$estimate, se = diff$SE,
                                     lower = diff$asymp.LCL, upper = diff$asymp.UCL,
                                     p = diff$p.value)
    joint <- joint_tests(fit)
    entry$joint_tests <- list(term = as.character(joint$`model term`), df1 = joint$df1,
                              f = joint$F.ratio, p = joint$p.value,
                              # F.ratio is printed to 3 decimals; the exact value from p:
                              f_exact = qchisq(joint$p.value, joint$df1, lower.tail = FALSE) / joint$df1)
  }
  results[[length(results) + 1]] <- entry
}

out <- list(
  r_version = R.version.string,
  geepack = as.character(packageVersion("geepack")),
  clubSandwich = as.character(packageVersion("clubSandwich")),
  emmeans = as.character(packageVersion("emmeans")),
  results = results
)
writeLines(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE), "gee_reference.json")
