# Worker for benchmarks/coldstart.py: rstanarm's stan_glm on the claims data, a whole R process.
#
#   Rscript benchmarks/coldstart.R CLAIMS.csv SEED OUT.json
#
# What a user runs: library(rstanarm), then
#   stan_glm(claims ~ age + vehicle + region, offset = log(holders), family = poisson, data = d,
#            seed = SEED, refresh = 0)
# with rstanarm's defaults (4 chains x 2000 iterations, 1000 warmup: 4 x 1000 kept draws, as
# bayesglm's fit(); priors normal(0, 2.5) autoscaled, rstanarm's and bayesglm's priors="auto"),
# chains on all cores (options(mc.cores = parallel::detectCores()), as rstanarm's startup
# message recommends), and summary(fit). Its Stan model ships compiled with rstanarm. Writes the
# seconds of each stage (library, reading the CSV, stan_glm, summary) to OUT.json; the whole
# process's wall time is measured by coldstart.py.
t0 <- proc.time()[["elapsed"]]
suppressMessages(library(rstanarm))
options(mc.cores = parallel::detectCores())
t1 <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
t2 <- proc.time()[["elapsed"]]
fit <- stan_glm(claims ~ age + vehicle + region, offset = log(holders), family = poisson,
                data = d, seed = as.integer(args[2]), refresh = 0)
t3 <- proc.time()[["elapsed"]]
s <- summary(fit)
t4 <- proc.time()[["elapsed"]]
cat(sprintf('{"import_s": %.6f, "read_s": %.6f, "fit_s": %.6f, "summary_s": %.6f, "n_eff_min": %.1f, "rhat_max": %.6f, "version": "%s"}\n',
            t1 - t0, t2 - t1, t3 - t2, t4 - t3,
            min(s[, "n_eff"], na.rm = TRUE), max(s[, "Rhat"], na.rm = TRUE),
            as.character(packageVersion("rstanarm"))),
    file = args[3])
