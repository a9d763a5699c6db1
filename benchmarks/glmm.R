# Worker for benchmarks/glmm.py: lme4's glmer and rstanarm's stan_glmer on a CSV, timed in R.
#
#   Rscript benchmarks/glmm.R TOOL DATA.csv FORMULA SEED OUT_PREFIX [REPEATS]
#
# TOOL "glmer": lme4::glmer(FORMULA, data, family = binomial) with lme4's defaults (nAGQ = 1,
#   bobyqa then Nelder-Mead), run REPEATS times in this process; writes OUT_PREFIX.json with the
#   wall time of every repeat (the first includes lme4's own first-call costs), logLik, the fixed
#   effects and the sd's (VarCorr).
# TOOL "stan_glmer": rstanarm::stan_glmer(FORMULA, data, family = binomial, seed = SEED) with
#   rstanarm's defaults (4 chains x 2000 iterations, 1000 warmup; priors: normal(0, 2.5)
#   autoscaled, decov(1, 1, 1, 1)), chains on all cores (options(mc.cores =
#   parallel::detectCores()), as rstanarm's documentation recommends); writes OUT_PREFIX.json
#   (the wall time of the call: its compiled model ships with rstanarm, so it is sampling and
#   set-up) and OUT_PREFIX.csv, the kept draws of the fixed effects and of every group sd
#   (sqrt of the Sigma[...] variance draws) with their chain and iteration.
# The timed region starts after the data are read. Grouping columns are read as factors.
suppressMessages({
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
tool <- args[1]; data_path <- args[2]; formula <- as.formula(args[3])
seed <- as.integer(args[4]); out <- args[5]
repeats <- if (length(args) >= 6) as.integer(args[6]) else 1L
d <- read.csv(data_path)
for (v in all.vars(formula)) if (is.character(d[[v]])) d[[v]] <- factor(d[[v]])
groups <- unique(unlist(lapply(lme4::findbars(formula), function(b) all.vars(b[[3]]))))
for (g in groups) d[[g]] <- factor(d[[g]])

if (tool == "glmer") {
  suppressMessages(library(lme4))
  walls <- numeric(0)
  for (r in seq_len(repeats)) {
    t0 <- proc.time()[["elapsed"]]
    fit <- glmer(formula, data = d, family = binomial)
    walls <- c(walls, proc.time()[["elapsed"]] - t0)
  }
  vc <- as.data.frame(VarCorr(fit))
  vc <- vc[is.na(vc$var2), ]
  write_json(list(tool = tool, walls = I(walls), logLik = as.numeric(logLik(fit)),
                  fixef = as.list(fixef(fit)),
                  sd = setNames(as.list(vc$sdcor), paste0(vc$grp, "__", vc$var1)),
                  version = as.character(packageVersion("lme4")),
                  R = R.version.string),
             paste0(out, ".json"), digits = NA, auto_unbox = TRUE)
} else if (tool == "stan_glmer") {
  suppressMessages(library(rstanarm))
  options(mc.cores = parallel::detectCores())
  t0 <- proc.time()[["elapsed"]]
  fit <- stan_glmer(formula, data = d, family = binomial, seed = seed, refresh = 0)
  wall <- proc.time()[["elapsed"]] - t0
  arr <- as.array(fit)  # iterations x chains x parameters (kept draws)
  pars <- dimnames(arr)[[3]]
  fixed <- names(fixef(fit))
  sig <- grep("^Sigma\\[", pars, value = TRUE)
  sig <- sig[sapply(sig, function(s) {  # the variances: Sigma[g:(Intercept),(Intercept)]
    inner <- sub("^Sigma\\[[^:]*:", "", sub("\\]$", "", s))
    parts <- strsplit(inner, ",")[[1]]
    length(parts) == 2 && parts[1] == parts[2]
  })]
  rows <- list()
  for (ch in seq_len(dim(arr)[2])) {
    block <- data.frame(chain = ch - 1L, draw = seq_len(dim(arr)[1]) - 1L)
    for (p in fixed) block[[p]] <- arr[, ch, p]
    for (s in sig) {
      g <- sub("^Sigma\\[", "", sub(":.*$", "", s))
      term <- sub(",.*$", "", sub("^Sigma\\[[^:]*:", "", s))
      block[[paste0("sd_", g, "__", term)]] <- sqrt(arr[, ch, s])
    }
    rows[[ch]] <- block
  }
  write.csv(do.call(rbind, rows), paste0(out, ".csv"), row.names = FALSE)
  steps <- sum(sapply(rstan::get_sampler_params(fit$stanfit, inc_warmup = TRUE),
                      function(m) sum(m[, "n_leapfrog__"])))
  div <- sum(sapply(rstan::get_sampler_params(fit$stanfit, inc_warmup = FALSE),
                    function(m) sum(m[, "divergent__"])))
  write_json(list(tool = tool, wall = wall, leapfrog = steps, divergences = div,
                  version = as.character(packageVersion("rstanarm")), R = R.version.string),
             paste0(out, ".json"), digits = NA, auto_unbox = TRUE)
} else {
  stop("unknown tool ", tool)
}
