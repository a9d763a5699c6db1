# Laplace (nAGQ = 1) GLMM references for the families with a dispersion (issue 11: "every family"):
# the dispersion is estimated by maximum likelihood with the covariance parameters, as glmmTMB does
# (lme4's glmer evaluates Gamma and inverse Gaussian models at a plug-in dispersion dev / n instead,
# not the maximum of a likelihood; its glmer.nb maximises the same Laplace likelihood as glmmTMB's
# nbinom2, which is recorded as a cross-check).
#
#   grouseticks_nb: TICKS ~ YEAR + HEIGHT_s + (1 | LOCATION), glmmTMB(family = nbinom2), lme4's
#                   grouseticks (tests/reference/r/grouseticks.csv); and lme4::glmer.nb
#   gamma_log:      y ~ x + (1 | g), glmmTMB(family = Gamma(link = "log")), simulated here
#   gaussian_log:   y ~ x + (1 | g), glmmTMB(family = gaussian(link = "log")), simulated here
#   gamma_slopes:   y ~ x + (x | g), glmmTMB(family = Gamma(link = "log")), simulated here
#
# The simulated data are written to tests/reference/r/glmm_dispersion.csv (columns g, x,
# y_gamma, y_gauss, y_slopes), so that the tests read exactly the rows fitted here.
#
# Conventions (what the JSON holds, and how bayesglm's numbers relate to it):
#   fixef, se: glmmTMB's fixef(fit)$cond and sqrt(diag(vcov(fit)$cond)) (TMB's Hessian in all
#     parameters jointly, dispersion included; the beta block of its inverse, as glmer's vcov)
#   sd, cor: the group sd's (attr(VarCorr(fit)$cond[[g]], "stddev")) and correlations
#   sigma: glmmTMB's sigma(fit), whose meaning depends on the family:
#     nbinom2:  sigma = theta, Var = mu + mu^2 / theta        -> bayesglm's alpha = 1 / sigma
#     Gamma:    sigma^2 = 1 / shape, Var = sigma^2 mu^2       -> bayesglm's phi = sigma^2, shape = 1 / sigma^2
#     gaussian: sigma = the residual sd, Var = sigma^2        -> bayesglm's sigma = sigma
#   phi: the dispersion on bayesglm's variance scale (alpha, 1 / shape, sigma^2), computed from
#     sigma by the lines above; checked here against the family's variance at one mean
#   logLik: logLik(fit) (normalising constants included, as bayesglm's llf), df its df
#   modes: ranef(fit)$cond, the conditional modes, by level (sorted as R sorts the level names)
# Fits with rel.tol = 1e-12 (nlminb; 1e-14 ends in "singular convergence" on the simulated data);
# "max_abs_gradient" is the AD gradient at the estimate, and "newton_logLik_gain" what Newton
# steps on glmmTMB's objective from there (AD gradient, optimHess) still gain: how far the
# estimate is from the top.
# Run from the repository root:  Rscript tests/reference/r/glmm_dispersion.R   (under a minute)
suppressMessages(library(lme4))
suppressMessages(library(glmmTMB))
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")
vec <- function(x) I(unname(x))

## ---- data ----------------------------------------------------------------------------------
gr <- read.csv(file.path(out_dir, "grouseticks.csv"), colClasses = "character")
grouse_d <- data.frame(TICKS = as.numeric(gr$TICKS), YEAR = factor(gr$YEAR, c("95", "96", "97")),
                       HEIGHT_s = as.numeric(gr$HEIGHT_s), LOCATION = factor(gr$LOCATION))

set.seed(20261202)
n_g <- 30; per <- 12
g <- rep(sprintf("g%02d", 1:n_g), each = per)
x <- round(rnorm(n_g * per), 6)
b0 <- rnorm(n_g, 0, 0.5)[as.integer(factor(g))]
b1 <- rnorm(n_g, 0, 0.3)[as.integer(factor(g))]
mu_gamma <- exp(1 + 0.4 * x + b0)
y_gamma <- signif(rgamma(n_g * per, shape = 3, rate = 3 / mu_gamma), 10)          # phi = 1/3
mu_gauss <- exp(2 + 0.3 * x + 0.6 * b0)
y_gauss <- signif(rnorm(n_g * per, mu_gauss, 0.8), 10)                             # sigma = 0.8
mu_slopes <- exp(1 + 0.4 * x + b0 + b1 * x)
y_slopes <- signif(rgamma(n_g * per, shape = 4, rate = 4 / mu_slopes), 10)         # phi = 1/4
sim <- data.frame(g = g, x = x, y_gamma = y_gamma, y_gauss = y_gauss, y_slopes = y_slopes)
write.csv(sim, file.path(out_dir, "glmm_dispersion.csv"), row.names = FALSE)
sim <- read.csv(file.path(out_dir, "glmm_dispersion.csv"))   # exactly the rows the tests read
sim$g <- factor(sim$g)

## ---- fits ----------------------------------------------------------------------------------
ctrl <- glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4, rel.tol = 1e-12))
phi_of <- function(family, sigma) switch(family, nbinom2 = 1 / sigma, Gamma = sigma^2,
                                         gaussian = sigma^2)
record <- function(fit, family, formula) {
  vc <- VarCorr(fit)$cond
  re <- ranef(fit)$cond
  sds <- list(); cors <- list(); modes <- list()
  for (grp in names(vc)) {
    v <- vc[[grp]]
    s <- attr(v, "stddev")
    for (t in names(s)) sds[[paste0("sd_", grp, "__", t)]] <- unname(s[[t]])
    cm <- attr(v, "correlation")
    if (length(s) > 1) for (j in 1:(length(s) - 1)) for (i in (j + 1):length(s))
      cors[[paste0("cor_", grp, "__", names(s)[j], "__", names(s)[i])]] <- cm[i, j]
    modes[[grp]] <- list(levels = vec(rownames(re[[grp]])),
                         values = setNames(lapply(colnames(re[[grp]]), function(t) vec(re[[grp]][[t]])),
                                           colnames(re[[grp]])))
  }
  V <- as.matrix(vcov(fit)$cond)
  ll <- logLik(fit)
  sig <- sigma(fit)
  par <- fit$fit$par; nll <- fit$obj$fn(par); nll0 <- nll
  for (k in 1:5) {
    step <- -solve(optimHess(par, fit$obj$fn, fit$obj$gr), as.vector(fit$obj$gr(par)))
    new <- fit$obj$fn(par + step)
    if (!is.finite(new) || new > nll) break
    par <- par + step; nll <- new
  }
  list(formula = formula, family = family, link = family(fit)$link,
       newton_logLik_gain = nll0 - nll,
       fixef_names = vec(names(fixef(fit)$cond)), fixef = vec(fixef(fit)$cond),
       se = vec(sqrt(diag(V))), sd = sds, cor = cors, sigma = sig, phi = phi_of(family, sig),
       logLik = as.numeric(ll), logLik_df = attr(ll, "df"), nobs = nobs(fit), modes = modes,
       convergence = fit$fit$convergence, pdHess = fit$sdr$pdHess,
       max_abs_gradient = max(abs(fit$sdr$gradient.fixed)))
}
fit_tmb <- function(formula, data, family) {
  fam <- switch(family, nbinom2 = nbinom2(), Gamma = Gamma(link = "log"),
                gaussian = gaussian(link = "log"))
  glmmTMB(as.formula(formula), data = data, family = fam, control = ctrl)
}

res <- list()
cases <- list(
  grouseticks_nb = list(formula = "TICKS ~ YEAR + HEIGHT_s + (1 | LOCATION)", family = "nbinom2", data = grouse_d),
  gamma_log = list(formula = "y_gamma ~ x + (1 | g)", family = "Gamma", data = sim),
  gaussian_log = list(formula = "y_gauss ~ x + (1 | g)", family = "gaussian", data = sim),
  gamma_slopes = list(formula = "y_slopes ~ x + (x | g)", family = "Gamma", data = sim)
)
for (nm in names(cases)) {
  cs <- cases[[nm]]
  fit <- fit_tmb(cs$formula, cs$data, cs$family)
  res[[nm]] <- record(fit, cs$family, cs$formula)
  cat(sprintf("%-15s logLik %.10f sigma %.8g phi %.8g conv %d grad %.2g newton gain %.2g\n", nm,
              res[[nm]]$logLik, res[[nm]]$sigma, res[[nm]]$phi, res[[nm]]$convergence,
              res[[nm]]$max_abs_gradient, res[[nm]]$newton_logLik_gain))
}

# the conventions above, checked: Var(y) at mu = 2 from glmmTMB's own family objects
v_nb <- nbinom2()$variance(2, res$grouseticks_nb$sigma)
stopifnot(abs(v_nb - (2 + res$grouseticks_nb$phi * 4)) < 1e-12)

# lme4's glmer.nb on the same model: the same Laplace likelihood, theta = 1 / alpha
nb <- glmer.nb(TICKS ~ YEAR + HEIGHT_s + (1 | LOCATION), data = grouse_d)
res$grouseticks_nb$glmer_nb <- list(
  fixef = vec(fixef(nb)), se = vec(sqrt(diag(as.matrix(vcov(nb))))),
  theta = getME(nb, "glmer.nb.theta"), alpha = 1 / getME(nb, "glmer.nb.theta"),
  sd = unname(attr(VarCorr(nb)$LOCATION, "stddev")), logLik = as.numeric(logLik(nb)),
  note = "lme4::glmer.nb with its defaults (tolPwrss 1e-10 or 1e-13 with bobyqa fail: pwrssUpdate did not converge): alternates glmer fits and theta's optimisation")

res$simulation <- list(seed = 20261202, groups = n_g, per_group = per,
                       gamma = "mu = exp(1 + 0.4 x + b0), shape 3; b0 ~ N(0, 0.5^2)",
                       gaussian = "mu = exp(2 + 0.3 x + 0.6 b0), sd 0.8",
                       slopes = "mu = exp(1 + 0.4 x + b0 + b1 x), shape 4; b1 ~ N(0, 0.3^2), independent of b0",
                       file = "glmm_dispersion.csv")
res$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     glmmTMB = as.character(packageVersion("glmmTMB")),
                     TMB = as.character(packageVersion("TMB")),
                     jsonlite = as.character(packageVersion("jsonlite")))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(out_dir, "glmm_dispersion.json"))
