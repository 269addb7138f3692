# Time rbmi's conditional mean imputation + jackknife on the antidepressant trial, per
# strategy: draws(method_condmean(type = "jackknife")) + impute + analyse(ancova) + pool,
# rbmi as shipped (mmrm's default optimiser).  Called by bench_estimands.py:
#   R_LIBS_USER=/work/rlib Rscript benchmarks/bench_estimands.R <data dir> <out.json> <repeats>
suppressPackageStartupMessages({
    library(rbmi)
    library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- args[1]
out_file <- args[2]
repeats <- as.integer(args[3])

dat <- read.csv(file.path(data_dir, "antidepressant.csv"), colClasses = c(PATIENT = "character",
                VISIT = "character"))
dat$PATIENT <- factor(dat$PATIENT)
dat$VISIT <- factor(dat$VISIT, levels = c("4", "5", "6", "7"))
dat$THERAPY <- factor(dat$THERAPY, levels = c("PLACEBO", "DRUG"))
ice <- read.csv(file.path(data_dir, "antidepressant_ice.csv"), colClasses = "character")
ice$VISIT <- factor(ice$VISIT, levels = levels(dat$VISIT))
vars <- set_vars(
    outcome = "CHANGE", visit = "VISIT", subjid = "PATIENT", group = "THERAPY",
    covariates = c("BASVAL*VISIT", "THERAPY*VISIT")
)
vars_an <- vars
vars_an$covariates <- "BASVAL"
references <- c("DRUG" = "PLACEBO", "PLACEBO" = "PLACEBO")

out <- list()
for (s in c("MAR", "JR", "CR", "CIR")) {
    ice_s <- ice
    ice_s$strategy <- s
    seconds <- c()
    cpu <- c()
    for (r in seq_len(repeats)) {
        t0 <- Sys.time()
        c0 <- proc.time()
        d <- draws(data = dat, data_ice = ice_s, vars = vars,
                   method = method_condmean(type = "jackknife"), quiet = TRUE)
        imp <- impute(d, references = references)
        pooled <- pool(analyse(imp, ancova, vars = vars_an))
        seconds <- c(seconds, as.numeric(difftime(Sys.time(), t0, units = "secs")))
        used <- proc.time() - c0
        cpu <- c(cpu, as.numeric(used[["user.self"]] + used[["sys.self"]]))
    }
    week6 <- pooled$pars[["trt_7"]]
    out[[s]] <- list(seconds = seconds, cpu_seconds = cpu, estimate = week6$est, se = week6$se)
}
out[["versions"]] <- list(R = R.version.string, rbmi = as.character(packageVersion("rbmi")),
                          mmrm = as.character(packageVersion("mmrm")))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), out_file)
