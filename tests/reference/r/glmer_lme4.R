# lme4's lmer/glmer on lme4's own data sets: the references of the group-level-effects (GLMM)
# tests and the lme4 timings of the GLMM benchmark.
# Run from the repository root:  Rscript tests/reference/r/glmer_lme4.R
# Writes the data (only the columns the models use; factors as their labels) to
# tests/reference/r/{cbpp,sleepstudy,grouseticks,verbagg,pastes}.csv and the fits to
# tests/reference/r/glmer_lme4.json.
# R 4.2.2, lme4 1.1-31, Matrix 1.5-3, jsonlite 1.8.4: see the "versions" field of the JSON.
# Data notes (also in the JSON's "data" field):
#   grouseticks.csv: HEIGHT_s = (HEIGHT - mean(HEIGHT)) / sd(HEIGHT), i.e. scale(HEIGHT), rounded to
#     15 significant digits (what write.csv writes); the fit uses HEIGHT_s, so it is exactly the
#     data in the CSV and Python needs no scale().
#   verbagg.csv: r2 is 0/1 with 1 = "Y" (the success: glmer's binomial models P(r2 = "Y"), the
#     factor's second level).
#   lme4 names the nested term of (1 | batch/cask) "cask:batch"; its levels are "a:A", ... .
suppressMessages(library(lme4))
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")

## ---- the data, as the CSVs hold them ------------------------------------------------------
cbpp_d <- cbpp[, c("incidence", "size", "period", "herd")]
sleep_d <- sleepstudy[, c("Reaction", "Days", "Subject")]
height_center <- mean(grouseticks$HEIGHT)
height_scale <- sd(grouseticks$HEIGHT)
grouse_d <- data.frame(TICKS = grouseticks$TICKS, YEAR = grouseticks$YEAR,
                       HEIGHT = grouseticks$HEIGHT,
                       HEIGHT_s = as.numeric(sprintf("%.15g",
                                                     (grouseticks$HEIGHT - height_center) / height_scale)),
                       BROOD = grouseticks$BROOD, LOCATION = grouseticks$LOCATION)
stopifnot(max(abs(grouse_d$HEIGHT_s - as.vector(scale(grouseticks$HEIGHT)))) < 1e-13)
verb_d <- data.frame(r2 = as.integer(VerbAgg$r2 == "Y"), Anger = VerbAgg$Anger,
                     Gender = VerbAgg$Gender, btype = VerbAgg$btype, situ = VerbAgg$situ,
                     id = VerbAgg$id, item = VerbAgg$item)
pastes_d <- Pastes[, c("strength", "batch", "cask")]

write.csv(cbpp_d, file.path(out_dir, "cbpp.csv"), row.names = FALSE)
write.csv(sleep_d, file.path(out_dir, "sleepstudy.csv"), row.names = FALSE)
write.csv(grouse_d, file.path(out_dir, "grouseticks.csv"), row.names = FALSE)
write.csv(verb_d, file.path(out_dir, "verbagg.csv"), row.names = FALSE)
write.csv(pastes_d, file.path(out_dir, "pastes.csv"), row.names = FALSE)

## ---- the cases ----------------------------------------------------------------------------
# call: R's call as the brief states it (on lme4's data); formula: the formula fitted here, on the
# CSV's data frame (the same model; for grouseticks HEIGHT_s replaces scale(HEIGHT)).
cases <- list(
  cbpp = list(
    call = "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp)",
    formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)",
    fun = "glmer", family = "binomial", data = cbpp_d, args = list()),
  cbpp_agq25 = list(
    call = "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), family = binomial, data = cbpp, nAGQ = 25)",
    formula = "cbind(incidence, size - incidence) ~ period + (1 | herd)",
    fun = "glmer", family = "binomial", data = cbpp_d, args = list(nAGQ = 25)),
  sleepstudy_ml = list(
    call = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)",
    formula = "Reaction ~ Days + (Days | Subject)",
    fun = "lmer", family = "gaussian", data = sleep_d, args = list(REML = FALSE)),
  sleepstudy_reml = list(
    call = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)",
    formula = "Reaction ~ Days + (Days | Subject)",
    fun = "lmer", family = "gaussian", data = sleep_d, args = list(REML = TRUE)),
  sleepstudy_uncorr = list(
    call = "lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = FALSE)",
    formula = "Reaction ~ Days + (Days || Subject)",
    fun = "lmer", family = "gaussian", data = sleep_d, args = list(REML = FALSE)),
  grouseticks_nested = list(
    call = "glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), family = poisson, data = grouseticks)",
    formula = "TICKS ~ YEAR + HEIGHT_s + (1 | BROOD) + (1 | LOCATION)",
    fun = "glmer", family = "poisson", data = grouse_d, args = list()),
  verbagg = list(
    call = "glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), family = binomial, data = VerbAgg)",
    formula = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    fun = "glmer", family = "binomial", data = verb_d, args = list()),
  pastes_ml = list(
    call = "lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = FALSE)",
    formula = "strength ~ 1 + (1 | batch/cask)",
    fun = "lmer", family = "gaussian", data = pastes_d, args = list(REML = FALSE)),
  pastes_reml = list(
    call = "lmer(strength ~ 1 + (1 | batch/cask), Pastes, REML = TRUE)",
    formula = "strength ~ 1 + (1 | batch/cask)",
    fun = "lmer", family = "gaussian", data = pastes_d, args = list(REML = TRUE))
)

fit_case <- function(case) {
  args <- c(list(formula = as.formula(case$formula), data = case$data), case$args)
  if (case$fun == "glmer") args$family <- get(case$family)
  do.call(case$fun, args)
}

## ---- what is stored ------------------------------------------------------------------------
rows <- function(m) unname(m)          # a matrix: toJSON writes it as a list of rows
vec <- function(x) I(unname(x))        # always a JSON array, even of length 1

conditional_sds <- function(re) {
  pv <- attr(re, "postVar")
  terms <- colnames(re)
  if (is.list(pv)) {                   # several terms of one factor, e.g. (Days || Subject)
    out <- lapply(terms, function(t) vec(sqrt(pv[[t]][1, 1, ])))
  } else {                             # one p x p x levels array
    out <- lapply(seq_along(terms), function(j) vec(sqrt(pv[j, j, ])))
  }
  names(out) <- terms
  out
}

saturated_binomial <- function(d) with(d, sum(dbinom(incidence, size, incidence / size, log = TRUE)))

record <- function(case, fit, seconds) {
  reml <- isREML(fit)
  vc <- VarCorr(fit)
  gnames <- names(fit@cnms)            # the grouping factor of each term (repeats for ||)
  varcorr <- lapply(seq_along(vc), function(k) {
    v <- vc[[k]]
    list(name = names(vc)[k], group = gnames[k], terms = vec(colnames(v)),
         sd = vec(attr(v, "stddev")), cor = rows(attr(v, "correlation")), cov = rows(matrix(as.vector(v), nrow(v))))
  })
  re <- ranef(fit, condVar = TRUE)
  ranefs <- lapply(names(re), function(g) {
    d <- re[[g]]
    list(group = g, levels = vec(rownames(d)), terms = vec(colnames(d)),
         modes = setNames(lapply(colnames(d), function(t) vec(d[[t]])), colnames(d)),
         cond_sd = conditional_sds(d))
  })
  names(ranefs) <- names(re)
  ll <- logLik(fit)
  th <- getME(fit, "theta")
  V <- as.matrix(vcov(fit))
  oi <- fit@optinfo
  out <- list(
    call = case$call,
    formula = case$formula,
    fun = case$fun,
    family = case$family,
    REML = reml,
    nAGQ = if (case$fun == "glmer") fit@devcomp$dims[["nAGQ"]] else NULL,
    fixef_names = vec(names(fixef(fit))),
    fixef = vec(fixef(fit)),
    se = vec(sqrt(diag(V))),
    vcov = rows(V),
    theta_names = vec(names(th)),
    theta = vec(th),
    varcorr = varcorr,
    sigma = if (case$fun == "lmer") sigma(fit) else NULL,   # residual sd (Gaussian only)
    logLik = as.numeric(ll),           # the REML log likelihood for REML fits
    logLik_df = attr(ll, "df"),
    AIC = AIC(fit),
    BIC = BIC(fit),
    # lmer: the ML deviance -2 log L; for REML fits evaluated at the REML estimates
    # (deviance(fit, REML = FALSE)). glmer: deviance(fit), lme4's relative conditional deviance
    # (the sum of squared deviance residuals at the conditional modes, see ?merMod, "Deviance and
    # log-likelihood of GLMMs"), not -2 log L; minus_2_logLik is -2 * logLik(fit), as summary()
    # prints it.
    deviance = if (reml) deviance(fit, REML = FALSE) else deviance(fit),
    minus_2_logLik = -2 * as.numeric(ll),
    REMLcrit = if (reml) REMLcrit(fit) else NULL,
    # With nAGQ > 1, lme4's logLik(fit) is "only proportional to" the log likelihood (?merMod): it
    # leaves out the saturated model's log likelihood, sum(dbinom(y, n, y/n, log = TRUE)).
    # logLik_absolute = logLik + logLik_saturated is comparable with the Laplace fit's logLik.
    logLik_saturated = if (identical(case$args$nAGQ, 25)) saturated_binomial(case$data) else NULL,
    logLik_absolute = if (identical(case$args$nAGQ, 25))
                        as.numeric(ll) + saturated_binomial(case$data) else NULL,
    ranef = ranefs,
    ngroups = as.list(ngrps(fit)),
    nobs = nobs(fit),
    isSingular = isSingular(fit),
    optimizer = oi$optimizer,
    optimizer_control = if (case$fun == "glmer") eval(formals(glmerControl)$optimizer)
                        else eval(formals(lmerControl)$optimizer),
    opt_code = oi$conv$opt,
    feval = oi$feval,
    optimizer_message = if (is.null(oi$message)) NULL else oi$message,
    optimizer_warnings = if (length(oi$warnings)) vec(unlist(oi$warnings)) else NULL,
    conv_messages = if (length(oi$conv$lme4$messages)) vec(oi$conv$lme4$messages) else NULL,
    seconds = seconds,                 # median elapsed of 3 runs of the call
    seconds_runs = vec(attr(seconds, "runs"))
  )
  attr(out$seconds, "runs") <- NULL
  out
}

res <- list()
for (nm in names(cases)) {
  case <- cases[[nm]]
  runs <- numeric(3)
  for (i in 1:3) {
    t <- system.time(fit <- fit_case(case))
    runs[i] <- t[["elapsed"]]
  }
  seconds <- median(runs)
  attr(seconds, "runs") <- runs
  res[[nm]] <- record(case, fit, seconds)
  cat(sprintf("%-20s %8.3f s  logLik %.6f  fixef %s\n", nm, seconds, res[[nm]]$logLik,
              paste(format(fixef(fit), digits = 6), collapse = " ")))
  if (nm == "grouseticks_nested") {
    # the same model with scale(HEIGHT) on lme4's data: the fit the call describes
    fit0 <- glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), family = poisson,
                  data = grouseticks)
    res[[nm]]$check_scale_call <- list(
      fixef = vec(fixef(fit0)), theta = vec(getME(fit0, "theta")), logLik = as.numeric(logLik(fit0)),
      max_abs_diff_fixef = max(abs(fixef(fit0) - fixef(fit))),
      max_abs_diff_theta = max(abs(getME(fit0, "theta") - getME(fit, "theta"))))
  }
}

res$data <- list(
  cbpp = list(file = "cbpp.csv", source = "lme4::cbpp", columns = vec(names(cbpp_d))),
  sleepstudy = list(file = "sleepstudy.csv", source = "lme4::sleepstudy", columns = vec(names(sleep_d))),
  grouseticks = list(file = "grouseticks.csv", source = "lme4::grouseticks", columns = vec(names(grouse_d)),
                     HEIGHT_s = "(HEIGHT - HEIGHT_center) / HEIGHT_scale, as scale(HEIGHT), rounded to 15 significant digits",
                     HEIGHT_center = height_center, HEIGHT_scale = height_scale),
  verbagg = list(file = "verbagg.csv", source = "lme4::VerbAgg", columns = vec(names(verb_d)),
                 r2 = "1 = \"Y\" (the success), 0 = \"N\""),
  pastes = list(file = "pastes.csv", source = "lme4::Pastes", columns = vec(names(pastes_d)),
                note = "(1 | batch/cask) = (1 | batch) + (1 | batch:cask); lme4 names the second factor \"cask:batch\"")
)
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     Matrix = as.character(packageVersion("Matrix")),
                     jsonlite = as.character(packageVersion("jsonlite")),
                     platform = R.version$platform,
                     BLAS = extSoftVersion()[["BLAS"]])
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(out_dir, "glmer_lme4.json"))
