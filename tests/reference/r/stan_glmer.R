# rstanarm::stan_glmer with its default priors on lme4's cbpp and sleepstudy: the posterior
# references of the group-level-effects (GLMM) sampler tests.
# Run from the repository root:  Rscript tests/reference/r/stan_glmer.R
# (about a minute on 2 cores). Writes tests/reference/r/stan_glmer.json; the data are the CSVs
# written by glmer_lme4.R (cbpp.csv, sleepstudy.csv), which hold lme4's cbpp and sleepstudy as is.
# R 4.2.2, rstanarm 2.21.3, rstan 2.21.7, lme4 1.1-31, jsonlite 1.8.4: see the "versions" field.
# Every run: seed = 1234, chains = 4, cores = 2, iter = 2000 (1000 warmup, 1000 kept per chain).
#
# Per parameter (the fixed effects, the Sigma[...] covariance entries, sigma for the Gaussian model)
# the JSON holds rstan's summary of the kept draws: mean, sd, se_mean (the MCSE of the mean,
# sd / sqrt(n_eff)), n_eff, Rhat (rstan 2.21's summary(): the split-chain n_eff and Rhat, not the
# rank-normalised ones) and the 2.5/50/97.5% quantiles. The group sd's and correlations are computed
# per draw from the Sigma draws (sd_<g>__<term> = sqrt(Sigma[<g>:<term>,<term>]),
# cor_<g>__<t1>__<t2> = Sigma[<g>:<t2>,<t1>] / (sd_<g>__<t1> * sd_<g>__<t2>)) and summarised by the
# same rstan summary(): they are appended to the stanfit's draws before summary() is called.
suppressMessages(library(rstanarm))
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")
data(cbpp, package = "lme4")
data(sleepstudy, package = "lme4")

cases <- list(
  cbpp = list(
    call = "stan_glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp, seed = 1234, chains = 4, cores = 2, iter = 2000)",
    formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)",
    family = "binomial", data = cbpp, data_file = "cbpp.csv"),
  sleepstudy = list(
    call = "stan_glmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, seed = 1234, chains = 4, cores = 2, iter = 2000)",
    formula = "Reaction ~ Days + (Days | Subject)",
    family = "gaussian", data = sleepstudy, data_file = "sleepstudy.csv")
)

# The group sd's and correlations, per draw, from the Sigma[<g>:<t_i>,<t_j>] draws.
derived_draws <- function(draws, fnames) {
  sig <- grep("^Sigma\\[", fnames, value = TRUE)
  parts <- regmatches(sig, regexec("^Sigma\\[(.*):(.*),(.*)\\]$", sig))
  g <- sapply(parts, `[`, 2); ti <- sapply(parts, `[`, 3); tj <- sapply(parts, `[`, 4)
  out <- list()
  for (k in which(ti == tj))
    out[[sprintf("sd_%s__%s", g[k], ti[k])]] <- sqrt(draws[[sig[k]]])
  for (k in which(ti != tj)) {
    s1 <- sqrt(draws[[sprintf("Sigma[%s:%s,%s]", g[k], tj[k], tj[k])]])
    s2 <- sqrt(draws[[sprintf("Sigma[%s:%s,%s]", g[k], ti[k], ti[k])]])
    out[[sprintf("cor_%s__%s__%s", g[k], tj[k], ti[k])]] <- draws[[sig[k]]] / (s1 * s2)
  }
  out
}

# Append the derived quantities to the stanfit's draws (as one more parameter, "derived"), so that
# rstan's own summary() gives their n_eff, Rhat and se_mean exactly as for the model's parameters.
augment <- function(sf) {
  sim <- sf@sim
  fn <- sim$fnames_oi
  new_names <- NULL
  for (c in seq_len(sim$chains)) {
    s <- sim$samples[[c]]
    draws <- setNames(lapply(seq_along(fn), function(i) s[[i]]), fn)
    d <- derived_draws(draws, fn)
    new_names <- names(d)
    a <- attributes(s)
    s <- c(unclass(s), setNames(d, paste0("derived[", seq_along(d), "]")))
    a$names <- names(s)
    attributes(s) <- a
    sim$samples[[c]] <- s
  }
  sim$pars_oi <- c(sim$pars_oi, "derived")
  sim$dims_oi$derived <- length(new_names)
  sim$fnames_oi <- c(fn, new_names)
  sim$n_flatnames <- length(sim$fnames_oi)
  sf@sim <- sim
  sf@.MISC <- new.env(parent = emptyenv())   # not the original's cache of its summary
  sf@model_pars <- c(sf@model_pars, "derived")
  sf@par_dims$derived <- length(new_names)
  list(stanfit = sf, derived = new_names)
}

jsonable <- function(x) {                 # prior_summary's lists: drop attributes, keep NULLs
  if (is.list(x)) lapply(x, jsonable)
  else if (is.null(x)) NULL
  else as.vector(x)
}

# prior_summary(fit) as data. The coefficients' location/scale/adjusted_scale are always arrays
# (one entry per coefficient). rstanarm's conventions: the intercept's prior is on the intercept
# of the centred predictors; for the exponential aux prior adjusted_scale is 1 / the adjusted rate
# (rate / sd(y) for the Gaussian; adjusted_rate below).
prior_data <- function(ps) {
  out <- jsonable(unclass(ps))
  for (k in c("location", "scale", "adjusted_scale"))
    if (!is.null(out$prior[[k]])) out$prior[[k]] <- I(out$prior[[k]])
  if (!is.null(out$prior_aux) && identical(out$prior_aux$dist, "exponential") &&
      !is.null(out$prior_aux$adjusted_scale))
    out$prior_aux$adjusted_rate <- 1 / out$prior_aux$adjusted_scale
  out
}

record <- function(case) {
  warns <- character(0)
  t <- system.time(fit <- withCallingHandlers(
    stan_glmer(as.formula(case$formula), family = get(case$family), data = case$data,
               seed = 1234, chains = 4, cores = 2, iter = 2000, refresh = 0),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") }))
  aug <- augment(fit$stanfit)
  sm <- rstan::summary(aug$stanfit, probs = c(0.025, 0.5, 0.975), use_cache = FALSE)$summary
  fixed <- names(fixef(fit))
  pars <- c(fixed, grep("^Sigma\\[", rownames(sm), value = TRUE),
            if (case$family == "gaussian") "sigma", aug$derived)
  # the model parameters' summary must be the one rstan gives the unaugmented fit
  sm0 <- rstan::summary(fit$stanfit, probs = c(0.025, 0.5, 0.975))$summary  # cached
  common <- intersect(pars, rownames(sm0))
  stopifnot(isTRUE(all.equal(sm[common, ], sm0[common, ], tolerance = 1e-14)))
  # the derived means, directly from the draws
  dm <- sapply(derived_draws(as.data.frame(as.matrix(fit)), colnames(as.matrix(fit))), mean)
  stopifnot(isTRUE(all.equal(unname(sm[aug$derived, "mean"]), unname(dm[aug$derived]), tolerance = 1e-12)))
  params <- lapply(pars, function(p) list(
    mean = sm[p, "mean"], sd = sm[p, "sd"], se_mean = sm[p, "se_mean"], n_eff = sm[p, "n_eff"],
    Rhat = sm[p, "Rhat"], q2.5 = sm[p, "2.5%"], q50 = sm[p, "50%"], q97.5 = sm[p, "97.5%"]))
  names(params) <- pars
  ps <- prior_summary(fit)
  sf <- fit$stanfit
  el <- rstan::get_elapsed_time(sf)
  list(
    call = case$call,
    formula = case$formula,
    family = case$family,
    data_file = case$data_file,
    nobs = nobs(fit),
    parameter_names = I(pars),
    parameters = params,
    prior_summary_text = I(capture.output(print(ps))),
    prior_summary = prior_data(ps),
    draws_kept = nrow(as.matrix(fit)),
    adapt_delta = sf@stan_args[[1]]$control$adapt_delta,
    divergent = rstan::get_num_divergent(sf),
    max_treedepth_hits = rstan::get_num_max_treedepth(sf),
    warnings = if (length(warns)) I(warns) else NULL,
    seconds = t[["elapsed"]],          # elapsed of the stan_glmer call (one run)
    chain_seconds = list(warmup = I(unname(el[, "warmup"])), sample = I(unname(el[, "sample"])))
  )
}

res <- lapply(cases, record)
for (nm in names(res)) {
  cat(nm, sprintf("%.1f s", res[[nm]]$seconds), "\n")
  for (p in res[[nm]]$parameter_names)
    with(res[[nm]]$parameters[[p]],
         cat(sprintf("  %-42s mean %10.4f sd %8.4f n_eff %6.0f Rhat %.4f\n", p, mean, sd, n_eff, Rhat)))
}
res$settings <- list(seed = 1234, chains = 4, cores = 2, iter = 2000, warmup = 1000,
                     priors = "rstanarm's defaults (prior_summary)")
res$versions <- list(R = R.version.string, rstanarm = as.character(packageVersion("rstanarm")),
                     rstan = as.character(packageVersion("rstan")),
                     StanHeaders = as.character(packageVersion("StanHeaders")),
                     lme4 = as.character(packageVersion("lme4")),
                     jsonlite = as.character(packageVersion("jsonlite")),
                     platform = R.version$platform)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(out_dir, "stan_glmer.json"))
