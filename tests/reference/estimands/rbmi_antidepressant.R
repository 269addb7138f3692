# Reference numbers for ketex.estimands from R rbmi (conditional mean imputation with the
# jackknife, deterministic) on rbmi's antidepressant trial data.
#
# Software: R 4.2.2, rbmi 1.5.2 (insightsengineering/rbmi @ c872d4ac) on mmrm
# (openpharma/mmrm @ ec290b26), both built from source into /work/rlib.
# Run from the repository root:
#   R_LIBS=/work/rlib Rscript tests/reference/estimands/rbmi_antidepressant.R
#
# Data: rbmi::antidepressant_data (HAMD-17 change from baseline at weeks 1, 2, 4, 6 of an
# antidepressant trial, 172 participants; a version of the data of Goldstein et al. 2004
# made public by the DIA Missing Data Working Group, https://www.lshtm.ac.uk/research/
# centres-projects-groups/missing-data). Written out expanded (one row per patient and
# visit) together with the ICE table exactly as in rbmi's quickstart vignette.
suppressPackageStartupMessages({
    library(rbmi)
    library(dplyr)
    library(jsonlite)
})
out_dir <- "tests/reference/estimands"

dat <- antidepressant_data
dat$THERAPY <- factor(dat$THERAPY, levels = c("PLACEBO", "DRUG"))
dat <- expand_locf(
    dat,
    PATIENT = levels(dat$PATIENT),
    VISIT = levels(dat$VISIT),
    vars = c("BASVAL", "THERAPY"),
    group = c("PATIENT"),
    order = c("PATIENT", "VISIT")
)
dat_ice <- dat %>%
    arrange(PATIENT, VISIT) %>%
    filter(is.na(CHANGE)) %>%
    group_by(PATIENT) %>%
    slice(1) %>%
    ungroup() %>%
    select(PATIENT, VISIT) %>%
    mutate(strategy = "JR")
# 3618 has an intermittent missing value, not a discontinuation (rbmi vignette): MAR
dat_ice <- dat_ice[dat_ice$PATIENT != 3618, ]

write.csv(
    dat[, c("PATIENT", "THERAPY", "VISIT", "BASVAL", "CHANGE")],
    file.path(out_dir, "antidepressant.csv"), row.names = FALSE, na = ""
)
write.csv(as.data.frame(dat_ice), file.path(out_dir, "antidepressant_ice.csv"), row.names = FALSE)

vars <- set_vars(
    outcome = "CHANGE", visit = "VISIT", subjid = "PATIENT", group = "THERAPY",
    covariates = c("BASVAL*VISIT", "THERAPY*VISIT")
)
vars_an <- vars
vars_an$covariates <- "BASVAL"
method <- method_condmean(type = "jackknife")
references <- c("DRUG" = "PLACEBO", "PLACEBO" = "PLACEBO")

tidy <- function(pooled, label) {
    rows <- lapply(names(pooled$pars), function(name) {
        p <- pooled$pars[[name]]
        data.frame(
            analysis = label, parameter = name, est = p$est, se = p$se,
            ci_low = p$ci[1], ci_high = p$ci[2], p_value = p$pvalue
        )
    })
    do.call(rbind, rows)
}

# rbmi fits the imputation MMRM with mmrm's default optimiser (L-BFGS-B, factr 1e7),
# which stops about 1e-5 short of the REML maximum on these data (log-likelihood
# -1747.1014281 against -1747.1014250).  For a reference good to 1e-6 the same rbmi code
# is run a second time with mmrm's BFGS optimiser at reltol 1e-14 (nlminb stops with
# "singular convergence" on some jackknife samples), patched into mmrm's namespace
# (rbmi itself is unchanged); both outputs are written.
default_control <- mmrm::mmrm_control
tight_control <- function(...) {
    args <- list(...)
    args$optimizer <- "BFGS"
    args$optimizer_control <- list(reltol = 1e-14, maxit = 1000)
    do.call(default_control, args)
}
run_all <- function() {
    results <- list()
    timings <- list()
    # MAR: every ICE handled under MAR (post-ICE data kept in the imputation model)
    ice_mar <- dat_ice
    ice_mar$strategy <- "MAR"
    t0 <- Sys.time()
    draws_mar <- draws(data = dat, data_ice = ice_mar, vars = vars, method = method, quiet = TRUE)
    imp_mar <- impute(draws_mar, references = references)
    results[["MAR"]] <- tidy(pool(analyse(imp_mar, ancova, vars = vars_an)), "MAR")
    timings[["MAR"]] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))

    # JR, CR, CIR, LMCF: one non-MAR fit, strategies updated at imputation (as rbmi allows)
    t0 <- Sys.time()
    draws_nmar <- draws(data = dat, data_ice = dat_ice, vars = vars, method = method, quiet = TRUE)
    timings[["draws_nonMAR"]] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
    for (s in c("JR", "CR", "CIR", "LMCF")) {
        t0 <- Sys.time()
        ice_s <- dat_ice
        ice_s$strategy <- s
        imp <- impute(draws_nmar, references = references, update_strategy = ice_s)
        results[[s]] <- tidy(pool(analyse(imp, ancova, vars = vars_an)), s)
        timings[[s]] <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
    }

    # MAR with a delta adjustment: +2 points on every imputed value in the DRUG arm
    delta_df <- delta_template(imp_mar) %>%
        mutate(delta = is_missing * ifelse(THERAPY == "DRUG", 2, 0))
    results[["MAR_delta2"]] <- tidy(
        pool(analyse(imp_mar, ancova, vars = vars_an, delta = delta_df)), "MAR_delta2"
    )
    # tipping-point grid under MAR, DRUG arm only
    for (d in c(0, 1, 2, 3, 4, 5, 6)) {
        delta_df <- delta_template(imp_mar) %>%
            mutate(delta = is_missing * ifelse(THERAPY == "DRUG", d, 0))
        label <- sprintf("MAR_tipping_%g", d)
        results[[label]] <- tidy(
            pool(analyse(imp_mar, ancova, vars = vars_an, delta = delta_df)), label
        )
    }
    list(results = do.call(rbind, results), timings = timings)
}

default_run <- run_all()
write.csv(default_run$results, file.path(out_dir, "rbmi_condmean_jackknife_default_control.csv"),
          row.names = FALSE)
utils::assignInNamespace("mmrm_control", tight_control, ns = "mmrm")
tight_run <- run_all()
write.csv(tight_run$results, file.path(out_dir, "rbmi_condmean_jackknife.csv"), row.names = FALSE)
utils::assignInNamespace("mmrm_control", default_control, ns = "mmrm")

# pooling rules on fixed numbers (deterministic)
ests <- c(1.2, 0.8, 1.5, 1.1, 0.9)
ses <- c(0.50, 0.55, 0.48, 0.52, 0.51)
rubin <- rbmi:::rubin_rules(ests, ses, v_com = 100)
rubin_inf <- rbmi:::rubin_rules(ests, ses, v_com = Inf)
boot_est <- c(1.0, 1.3, 0.7, 1.1, 0.4, 1.6, 0.9, 1.2, -0.2, 0.8, 1.4)
perc <- rbmi:::pool_bootstrap_percentile(boot_est, 0.95, "two.sided")
norm <- rbmi:::pool_bootstrap_normal(boot_est, 0.95, "two.sided")

writeLines(toJSON(list(
    rubin = list(ests = ests, ses = ses, v_com = 100, est = rubin$est_point, var_t = rubin$var_t, df = rubin$df),
    rubin_inf = list(est = rubin_inf$est_point, var_t = rubin_inf$var_t, df = rubin_inf$df),
    bootstrap = list(est = boot_est, percentile_ci = perc$ci, percentile_p = perc$pvalue,
                     normal_se = norm$se, normal_ci = norm$ci, normal_p = norm$pvalue),
    timings_sec_default_control = default_run$timings,
    timings_sec_tight_control = tight_run$timings,
    versions = list(R = R.version.string, rbmi = as.character(packageVersion("rbmi")),
                    mmrm = as.character(packageVersion("mmrm")))
), digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "rbmi_pooling.json"))
