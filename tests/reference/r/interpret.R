# "marginaleffects-style" interpretation quantities of GLMs (average predictions, comparisons,
# slopes, predictions on a grid), computed BY HAND in base R from glm fits (the marginaleffects
# package is not used), with an emmeans cross-check; reference numbers for bayesglm's tests.
#
# Models (R's glm, IRLS to its defaults; "call" in the JSON):
#   logistic:         glm(y_bin ~ x1 * treat + I(x2^2), family = binomial, data = d)
#   poisson_offset:   glm(claims ~ age + vehicle + region + offset(log(holders)), family = poisson,
#                         data = claims)        on bayesglm/datasets/claims.csv
#   weighted_poisson: glm(y_cnt ~ x1 + treat, family = poisson, data = d, weights = w)
#
# Data:
#   d: simulated here, written to tests/reference/r/interpret.csv (columns x1, x2, treat, grp, w,
#     y_bin, y_cnt) and read back: the fits use exactly the rows the tests read. R's default RNG
#     (Mersenne-Twister, Inversion, Rejection sampling), set.seed(20261204), n = 300, drawn in this
#     order:
#       x1    <- round(rnorm(n), 6)                                   # N(0, 1)
#       x2    <- round(rnorm(n, 1, 0.5), 6)                           # N(1, 0.5^2)
#       treat <- sample(c("a", "b", "c"), n, TRUE, prob = c(.4, .3, .3))
#       grp   <- sample(c("g1", "g2"), n, TRUE)
#       w     <- sample(1:3, n, TRUE)                                 # integer frequency weights
#       y_bin <- rbinom(n, 1, plogis(-0.3 + 0.8 x1 + 0.5 [treat == b] - 0.4 [treat == c]
#                                    + 0.6 x1 [treat == b] + 0.3 x2^2))
#       y_cnt <- rpois(n, exp(0.2 + 0.3 x1 + 0.4 [treat == c]))
#     (the rounded x1, x2 enter the linear predictors). Read back with treat = factor(levels a, b, c),
#     grp = factor(levels g1, g2); treatment (dummy) coding, reference level "a".
#   claims: columns claims, holders, age, vehicle, region; age, vehicle, region made factors with
#     factor(), i.e. levels sorted as R sorts strings (age 17-24, 25-39, 40-59, 60+; vehicle A-D;
#     region east, north, south, west), treatment coding with the first level as reference.
#
# Conventions (for every quantity):
#   mu_i(beta, data'): the response-scale prediction of row i on a modified data set data' (for
#     poisson_offset the expected count of that row, offset log(holders) included, as
#     predict(type = "response") on newdata); eta_i the link-scale one. Computed as
#     X' beta + offset', X' = model.matrix of the fit's terms on data' with the fit's xlevels and
#     contrasts (the factor coding is that of the fit); checked against predict() below.
#   Standard errors: delta method, SE = sqrt(diag(J V J')), V = vcov(fit) (dispersion 1 for both
#     families), J the Jacobian in beta of the function beta -> quantity, by
#     numDeriv::jacobian(method = "Richardson") at beta = coef(fit). Checked against the analytic
#     Jacobian for the average predictions ("jacobian_check").
#   avg_predictions: mean_i mu_i over the rows (observed data); "_by_<var>": mean over each level's
#     rows (levels in R's order). avg_predictions_link: mean_i eta_i.
#   avg_comparisons of x1 (numeric):
#     difference: mean_i [mu_i(x1 + 1) - mu_i(x1)]  (x1 shifted by +1 in every row, forward)
#     ratio:      mean_i mu_i(x1 + 1) / mean_i mu_i(x1)   (marginaleffects' "ratioavg": the ratio of
#                 the averages, not the average of the ratios)
#     lnratio:    log(ratio)                             (marginaleffects' "lnratioavg")
#     difference_centered (extra): mean_i [mu_i(x1 + 1/2) - mu_i(x1 - 1/2)]; recorded because the
#                 direction of marginaleffects' default numeric contrast (forward vs centred) has
#                 differed between its versions (not checked here against marginaleffects).
#     custom_0_10: every row's x1 set to 0 and to 10: mean_i [mu_i(x1 = 10) - mu_i(x1 = 0)]
#                 (marginaleffects' variables = list(x1 = c(0, 10)))
#     sd:     x1 = mean(x1) - sd(x1)/2 vs mean(x1) + sd(x1)/2 in every row (sd with n - 1)
#     iqr:    x1 = quantile(x1, .25) vs quantile(x1, .75) (type 7, R's default)
#     minmax: x1 = min(x1) vs max(x1)
#     each "later minus earlier": mean_i mu_i(hi) - mean_i mu_i(lo); "values" = c(lo, hi).
#   avg_comparisons of a factor: the factor set to a level in every row;
#     reference: "b - a", "c - a" (each level vs the first); pairwise: "b - a", "c - a", "c - b";
#     difference = mean_i [mu_i(level) - mu_i(other)], ratio = mean_i mu_i(level) / mean_i mu_i(other)
#     ("b / a" ...). by grp: the counterfactual predictions on all rows, averaged over the rows of
#     grp = g1 and grp = g2 separately (grp is not in the model; marginaleffects' by = "grp").
#   avg_slopes of x1: mean_i d mu_i / d x1, per row dmu/deta(eta_i) * deta_i/dx1 with
#     deta_i/dx1 = (X(x1 + h) - X(x1 - h))_i beta / (2h), h = 1e-4; eta is linear in x1 in these
#     models, so the central difference is exact up to rounding ("deta_dx1_max_abs_error" against the
#     analytic derivative). dmu/deta = family(fit)$mu.eta: mu (1 - mu) for logit, mu for log.
#     (marginaleffects itself differentiates mu numerically with its own step; not reproduced.)
#     SE by the Jacobian in beta of the averaged slope. slopes_head: the per-row slopes of the first
#     5 rows of d (logistic), with their SEs.
#   weighted (weighted_poisson, marginaleffects' wts = "w"): sum_i w_i q_i / sum_i w_i in place of
#     the plain mean; ratio = sum w mu(x1+1) / sum w mu(x1). These equal the plain averages over the
#     expanded data (each row repeated w_i times), checked below.
#   frequency weights: for Poisson, R's prior weights act as frequency weights: coef and vcov equal
#     those of glm(y_cnt ~ x1 + treat, poisson) on the expanded rows (rep(1:n, w)); the max abs
#     differences are recorded ("frequency_weight_check"). nobs(fit) counts the 300 rows (nonzero
#     weights), the expanded fit sum(w) rows.
#   predictions_grid (logistic): rows of expand.grid(x1 = c(-1, 0, 1), treat = c("a", "b")), x1
#     varying fastest, i.e. (x1, treat) = (-1,a), (0,a), (1,a), (-1,b), (0,b), (1,b); x2 = mean(x2)
#     in every row (datagrid: numerics at their means, factors at their modes; grp is not in the
#     model). Per row: estimate and std_error on the response scale (delta method), estimate_link
#     and std_error_link (X V X'), and two 95% intervals, z = qnorm(0.975):
#       conf_response_wald: estimate -/+ z std_error
#       conf_link_backtransformed: plogis(estimate_link -/+ z std_error_link)
#   emmeans: emmeans(fit, ~ treat, type = "response") (prob, SE, asymp.LCL/UCL) and
#     emmeans(fit, ~ treat) (emmean, SE on the logit scale), against the hand predictions at x1 =
#     mean(x1) with I(x2^2) evaluated two ways: (i) at mean(x2), then squared (mean(x2)^2) and
#     (ii) at mean(x2^2); "matches" says which the emmeans numbers reproduce (to 1e-10).
#   sandwich_HC0, sandwich_HC3 (logistic): avg_predictions, avg_comparisons of x1 (difference) and
#     avg_slopes of x1 as above with V = sandwich::vcovHC(fit, type = "HC0" | "HC3") (and that V).
# Run from the repository root:  Rscript tests/reference/r/interpret.R   (a few seconds)
library(jsonlite)
library(numDeriv)
suppressMessages(library(emmeans))
library(sandwich)
out_dir <- file.path("tests", "reference", "r")
vec <- function(x) I(unname(x))
rows <- function(M) lapply(seq_len(nrow(M)), function(i) vec(M[i, ]))

## ---- data ----------------------------------------------------------------------------------
set.seed(20261204)
n <- 300
x1 <- round(rnorm(n), 6)
x2 <- round(rnorm(n, 1, 0.5), 6)
treat <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(.4, .3, .3))
grp <- sample(c("g1", "g2"), n, replace = TRUE)
w <- sample(1:3, n, replace = TRUE)
y_bin <- rbinom(n, 1, plogis(-0.3 + 0.8 * x1 + 0.5 * (treat == "b") - 0.4 * (treat == "c") +
                               0.6 * x1 * (treat == "b") + 0.3 * x2^2))
y_cnt <- rpois(n, exp(0.2 + 0.3 * x1 + 0.4 * (treat == "c")))
sim <- data.frame(x1 = x1, x2 = x2, treat = treat, grp = grp, w = w, y_bin = y_bin, y_cnt = y_cnt)
write.csv(sim, file.path(out_dir, "interpret.csv"), row.names = FALSE)
d <- read.csv(file.path(out_dir, "interpret.csv"))   # exactly the rows the tests read
d$treat <- factor(d$treat, levels = c("a", "b", "c"))
d$grp <- factor(d$grp, levels = c("g1", "g2"))
stopifnot(nrow(d) == n, max(abs(d$x1 - x1)) == 0, max(abs(d$x2 - x2)) == 0)

cl <- read.csv(file.path("bayesglm", "datasets", "claims.csv"), colClasses = "character")
claims <- data.frame(claims = as.numeric(cl$claims), holders = as.numeric(cl$holders),
                     age = factor(cl$age), vehicle = factor(cl$vehicle), region = factor(cl$region))

## ---- machinery -----------------------------------------------------------------------------
design <- function(fit, newdata) {
  tt <- delete.response(terms(fit))
  mf <- model.frame(tt, newdata, xlev = fit$xlevels, na.action = na.pass)
  X <- model.matrix(tt, mf, contrasts.arg = fit$contrasts)
  off <- model.offset(mf)
  if (is.null(off)) off <- rep(0, nrow(X))
  stopifnot(identical(colnames(X), names(coef(fit))))
  list(X = X, off = off)
}
eta_of <- function(D) function(b) drop(D$X %*% b + D$off)
mu_of <- function(fit, D) { inv <- family(fit)$linkinv; function(b) inv(drop(D$X %*% b + D$off)) }
delta <- function(f, b, V) {
  J <- jacobian(f, b, method = "Richardson")
  list(estimate = f(b), std_error = sqrt(diag(J %*% V %*% t(J))), J = J)
}
es <- function(r) list(estimate = vec(r$estimate), std_error = vec(r$std_error))
es1 <- function(r) list(estimate = r$estimate, std_error = r$std_error)
setv <- function(data, var, value) {
  nd <- data
  if (is.factor(data[[var]])) nd[[var]] <- factor(rep(value, nrow(data)), levels = levels(data[[var]]))
  else nd[[var]] <- if (length(value) == 1) rep(value, nrow(data)) else value
  nd
}
wmean <- function(x, wt) sum(wt * x) / sum(wt)
model_info <- function(fit, call, data_file) {
  V <- vcov(fit)
  list(call = call, data = data_file, coef_names = vec(names(coef(fit))), coef = vec(coef(fit)),
       vcov = rows(V), se = vec(sqrt(diag(V))), nobs = nobs(fit), deviance = deviance(fit),
       converged = fit$converged, iter = fit$iter)
}
# check the hand predictions against predict() on a modified data set
check_predict <- function(fit, nd) {
  D <- design(fit, nd)
  e1 <- max(abs(mu_of(fit, D)(coef(fit)) - predict(fit, newdata = nd, type = "response")))
  e2 <- max(abs(eta_of(D)(coef(fit)) - predict(fit, newdata = nd, type = "link")))
  stopifnot(e1 < 1e-10, e2 < 1e-10)
  max(e1, e2)
}
# analytic Jacobian of the average prediction: mean_i mu.eta(eta_i) x_i
jacobian_check <- function(fit, D, wt = NULL) {
  b <- coef(fit); if (is.null(wt)) wt <- rep(1, nrow(D$X))
  eta <- eta_of(D)(b)
  Ja <- colSums(wt * family(fit)$mu.eta(eta) * D$X) / sum(wt)
  Jn <- jacobian(function(bb) wmean(mu_of(fit, D)(bb), wt), b, method = "Richardson")
  max(abs(Ja - Jn))
}
# numeric contrast helpers
comp_num <- function(fit, data, var, lo_data, hi_data, V, wt = NULL) {
  if (is.null(wt)) wt <- rep(1, nrow(data))
  mlo <- mu_of(fit, design(fit, lo_data)); mhi <- mu_of(fit, design(fit, hi_data))
  b <- coef(fit)
  list(difference = es1(delta(function(bb) wmean(mhi(bb) - mlo(bb), wt), b, V)),
       ratio = es1(delta(function(bb) wmean(mhi(bb), wt) / wmean(mlo(bb), wt), b, V)),
       lnratio = es1(delta(function(bb) log(wmean(mhi(bb), wt) / wmean(mlo(bb), wt)), b, V)))
}
comp_values <- function(fit, data, var, lo, hi, V) {
  mlo <- mu_of(fit, design(fit, setv(data, var, lo)))
  mhi <- mu_of(fit, design(fit, setv(data, var, hi)))
  r <- es1(delta(function(bb) mean(mhi(bb)) - mean(mlo(bb)), coef(fit), V))
  c(list(values = vec(c(lo, hi))), r)
}
comp_factor <- function(fit, data, var, pairs, V, rows_idx = NULL) {
  if (is.null(rows_idx)) rows_idx <- seq_len(nrow(data))
  lv <- levels(data[[var]])
  mus <- lapply(setNames(lv, lv), function(l) mu_of(fit, design(fit, setv(data, var, l))))
  b <- coef(fit)
  avg <- function(bb, l) mean(mus[[l]](bb)[rows_idx])
  fd <- function(bb) sapply(pairs, function(p) avg(bb, p[1]) - avg(bb, p[2]))
  fr <- function(bb) sapply(pairs, function(p) avg(bb, p[1]) / avg(bb, p[2]))
  rd <- delta(fd, b, V); rr <- delta(fr, b, V)
  list(contrast = vec(sapply(pairs, function(p) paste(p[1], "-", p[2]))),
       estimate = vec(rd$estimate), std_error = vec(rd$std_error),
       ratio = list(contrast = vec(sapply(pairs, function(p) paste(p[1], "/", p[2]))),
                    estimate = vec(rr$estimate), std_error = vec(rr$std_error)))
}
by_avg <- function(fit, data, var, V, link = FALSE) {
  D <- design(fit, data)
  f0 <- if (link) eta_of(D) else mu_of(fit, D)
  lv <- levels(data[[var]])
  r <- delta(function(bb) { m <- f0(bb); sapply(lv, function(l) mean(m[data[[var]] == l])) },
             coef(fit), V)
  setNames(list(vec(lv), vec(r$estimate), vec(r$std_error), vec(as.numeric(table(data[[var]])))),
           c(var, "estimate", "std_error", "n"))
}
# slopes of x1: per-row dmu/deta * deta/dx1 (central difference of the model-matrix rows)
h <- 1e-4
slope_fun <- function(fit, data, wt = NULL) {
  Dp <- design(fit, setv(data, "x1", data$x1 + h)); Dm <- design(fit, setv(data, "x1", data$x1 - h))
  D <- design(fit, data); dX <- (Dp$X - Dm$X) / (2 * h); me <- family(fit)$mu.eta
  list(rowwise = function(bb) me(eta_of(D)(bb)) * drop(dX %*% bb),
       deta = function(bb) drop(dX %*% bb))
}

pairs_ref <- list(c("b", "a"), c("c", "a"))
pairs_all <- list(c("b", "a"), c("c", "a"), c("c", "b"))
z <- qnorm(0.975)
res <- list()

## ---- A: logistic ---------------------------------------------------------------------------
callA <- "glm(y_bin ~ x1 * treat + I(x2^2), family = binomial, data = d)"
fitA <- glm(y_bin ~ x1 * treat + I(x2^2), family = binomial, data = d)
bA <- coef(fitA); VA <- vcov(fitA)
DA <- design(fitA, d)
stopifnot(max(abs(DA$X - model.matrix(fitA))) == 0)
A <- model_info(fitA, callA, "tests/reference/r/interpret.csv")
A$predict_check <- max(check_predict(fitA, d), check_predict(fitA, setv(d, "treat", "b")),
                       check_predict(fitA, setv(d, "x1", d$x1 + 1)))
A$avg_predictions <- es1(delta(function(bb) mean(mu_of(fitA, DA)(bb)), bA, VA))
A$jacobian_check <- jacobian_check(fitA, DA)
A$avg_predictions_by_treat <- by_avg(fitA, d, "treat", VA)
A$avg_predictions_link <- es1(delta(function(bb) mean(eta_of(DA)(bb)), bA, VA))

A$avg_comparisons_x1 <- comp_num(fitA, d, "x1", d, setv(d, "x1", d$x1 + 1), VA)
A$avg_comparisons_x1$difference_centered <-
  comp_num(fitA, d, "x1", setv(d, "x1", d$x1 - 0.5), setv(d, "x1", d$x1 + 0.5), VA)$difference
A$avg_comparisons_x1_custom_0_10 <- comp_values(fitA, d, "x1", 0, 10, VA)
A$avg_comparisons_x1_sd <- comp_values(fitA, d, "x1", mean(d$x1) - sd(d$x1) / 2,
                                       mean(d$x1) + sd(d$x1) / 2, VA)
q <- unname(quantile(d$x1, c(.25, .75)))
A$avg_comparisons_x1_iqr <- comp_values(fitA, d, "x1", q[1], q[2], VA)
A$avg_comparisons_x1_minmax <- comp_values(fitA, d, "x1", min(d$x1), max(d$x1), VA)
A$x1_summary <- list(mean = mean(d$x1), sd = sd(d$x1), q25 = q[1], q75 = q[2],
                     min = min(d$x1), max = max(d$x1))

A$avg_comparisons_treat_reference <- comp_factor(fitA, d, "treat", pairs_ref, VA)
A$avg_comparisons_treat_pairwise <- comp_factor(fitA, d, "treat", pairs_all, VA)
bygrp <- lapply(levels(d$grp), function(g)
  comp_factor(fitA, d, "treat", list(c("b", "a")), VA, rows_idx = which(d$grp == g)))
A$avg_comparisons_treat_b_a_by_grp <- list(
  grp = vec(levels(d$grp)), n = vec(as.numeric(table(d$grp))), contrast = "b - a",
  estimate = vec(sapply(bygrp, `[[`, "estimate")), std_error = vec(sapply(bygrp, `[[`, "std_error")),
  ratio = list(contrast = "b / a", estimate = vec(sapply(bygrp, function(r) r$ratio$estimate)),
               std_error = vec(sapply(bygrp, function(r) r$ratio$std_error))))

sA <- slope_fun(fitA, d)
deta_exact <- bA["x1"] + bA["x1:treatb"] * (d$treat == "b") + bA["x1:treatc"] * (d$treat == "c")
A$avg_slopes_x1 <- c(es1(delta(function(bb) mean(sA$rowwise(bb)), bA, VA)),
                     list(h = h, deta_dx1_max_abs_error = max(abs(sA$deta(bA) - deta_exact))))
rs <- delta(function(bb) sA$rowwise(bb)[1:5], bA, VA)
A$slopes_head <- list(row = vec(1:5), x1 = vec(d$x1[1:5]), treat = vec(as.character(d$treat[1:5])),
                      x2 = vec(d$x2[1:5]), estimate = vec(rs$estimate), std_error = vec(rs$std_error))

# the same quantities with sandwich covariances, sandwich::vcovHC(fit, type = "HC0" | "HC3") in
# place of vcov(fit) (bayesglm's fit_mle(cov_type = "HC0" | "HC3")), from the fit iterated to
# glm.control(epsilon = 1e-14): vcovHC reads the working weights glm.fit stores, those of the
# start of its last iteration, and at the default epsilon (1e-8) they are ~1e-5 (relative)
# from the weights at the estimate, which the sandwich's bread and meat are formulas of
fitT <- update(fitA, control = glm.control(epsilon = 1e-14, maxit = 100))
bT <- coef(fitT)
for (type in c("HC0", "HC3")) {
  VH <- vcovHC(fitT, type = type)
  mA1 <- mu_of(fitT, design(fitT, setv(d, "x1", d$x1 + 1))); mA <- mu_of(fitT, DA)
  A[[paste0("sandwich_", type)]] <- list(
    call = paste0("vcovHC(update(fit, control = glm.control(epsilon = 1e-14, maxit = 100)), ",
                  "type = \"", type, "\")"),
    coef = vec(bT), vcov = rows(VH),
    avg_predictions = es1(delta(function(bb) mean(mA(bb)), bT, VH)),
    avg_comparisons_x1 = es1(delta(function(bb) mean(mA1(bb) - mA(bb)), bT, VH)),
    avg_slopes_x1 = es1(delta(function(bb) mean(sA$rowwise(bb)), bT, VH)))
}

grid <- expand.grid(x1 = c(-1, 0, 1), treat = c("a", "b"), stringsAsFactors = FALSE)
grid$treat <- factor(grid$treat, levels = levels(d$treat))
grid$x2 <- mean(d$x2)
DG <- design(fitA, grid)
gl <- delta(eta_of(DG), bA, VA); gr <- delta(mu_of(fitA, DG), bA, VA)
se_link_exact <- sqrt(diag(DG$X %*% VA %*% t(DG$X)))
A$predictions_grid <- list(
  row_order = "expand.grid(x1 = c(-1, 0, 1), treat = c('a', 'b')): x1 varies fastest",
  x2_value = mean(d$x2), x2_rule = "mean(x2) in every row (datagrid's mean for numerics)",
  x1 = vec(grid$x1), treat = vec(as.character(grid$treat)), x2 = vec(grid$x2),
  estimate = vec(gr$estimate), std_error = vec(gr$std_error),
  estimate_link = vec(gl$estimate), std_error_link = vec(gl$std_error),
  conf_response_wald = list(conf_low = vec(gr$estimate - z * gr$std_error),
                            conf_high = vec(gr$estimate + z * gr$std_error)),
  conf_link_backtransformed = list(conf_low = vec(plogis(gl$estimate - z * gl$std_error)),
                                   conf_high = vec(plogis(gl$estimate + z * gl$std_error))),
  z = z, std_error_link_max_abs_vs_analytic = max(abs(gl$std_error - se_link_exact)))

# emmeans cross-check
em_r <- suppressMessages(as.data.frame(summary(emmeans(fitA, ~ treat, type = "response"))))
em_l <- suppressMessages(as.data.frame(summary(emmeans(fitA, ~ treat))))
rg <- suppressMessages(ref_grid(fitA))
hand <- function(x2sq) {
  gd <- data.frame(x1 = mean(d$x1), treat = factor(levels(d$treat), levels = levels(d$treat)),
                   x2 = mean(d$x2))
  D <- design(fitA, gd); D$X[, "I(x2^2)"] <- x2sq
  l <- delta(eta_of(D), bA, VA); r <- delta(mu_of(fitA, D), bA, VA)
  list(x2sq = x2sq, prob = vec(r$estimate), SE = vec(r$std_error),
       emmean = vec(l$estimate), SE_link = vec(l$std_error))
}
h_sq <- hand(mean(d$x2)^2); h_ms <- hand(mean(d$x2^2))
dif <- function(hh) c(prob = max(abs(hh$prob - em_r$prob)), SE = max(abs(hh$SE - em_r$SE)),
                      emmean = max(abs(hh$emmean - em_l$emmean)),
                      SE_link = max(abs(hh$SE_link - em_l$SE)))
d_sq <- dif(h_sq); d_ms <- dif(h_ms)
matches <- if (all(d_sq < 1e-10)) "square_of_mean" else if (all(d_ms < 1e-10)) "mean_of_square" else "neither"
A$emmeans <- list(
  calls = vec(c("emmeans::emmeans(fitA, ~ treat, type = 'response')", "emmeans::emmeans(fitA, ~ treat)")),
  ref_grid_x1 = unique(rg@grid$x1), ref_grid_x2 = unique(rg@grid$x2),
  response = list(treat = vec(as.character(em_r$treat)), prob = vec(em_r$prob), SE = vec(em_r$SE),
                  asymp_LCL = vec(em_r$asymp.LCL), asymp_UCL = vec(em_r$asymp.UCL)),
  link = list(treat = vec(as.character(em_l$treat)), emmean = vec(em_l$emmean), SE = vec(em_l$SE),
              asymp_LCL = vec(em_l$asymp.LCL), asymp_UCL = vec(em_l$asymp.UCL)),
  hand_square_of_mean = c(h_sq, list(max_abs_diff_vs_emmeans = as.list(d_sq))),
  hand_mean_of_square = c(h_ms, list(max_abs_diff_vs_emmeans = as.list(d_ms))),
  matches = matches,
  conf_rule = paste("emmeans' response-scale limits vs plogis(link limits): max abs diff",
                    format(max(abs(em_r$asymp.LCL - plogis(em_l$asymp.LCL)),
                               abs(em_r$asymp.UCL - plogis(em_l$asymp.UCL))), digits = 3)),
  note = "x1 interacts with treat: emmeans evaluates at x1 = mean(x1) (its message 'Results may be misleading due to involvement in interactions' suppressed)")
res$logistic <- A

## ---- B: Poisson with an offset -------------------------------------------------------------
callB <- "glm(claims ~ age + vehicle + region + offset(log(holders)), family = poisson, data = claims)"
fitB <- glm(claims ~ age + vehicle + region + offset(log(holders)), family = poisson, data = claims)
bB <- coef(fitB); VB <- vcov(fitB)
DB <- design(fitB, claims)
stopifnot(max(abs(DB$off - log(claims$holders))) == 0)
B <- model_info(fitB, callB, "bayesglm/datasets/claims.csv")
B$levels <- list(age = vec(levels(claims$age)), vehicle = vec(levels(claims$vehicle)),
                 region = vec(levels(claims$region)))
B$predict_check <- max(check_predict(fitB, claims), check_predict(fitB, setv(claims, "vehicle", "C")))
B$avg_predictions <- es1(delta(function(bb) mean(mu_of(fitB, DB)(bb)), bB, VB))
B$jacobian_check <- jacobian_check(fitB, DB)
B$avg_predictions_by_region <- by_avg(fitB, claims, "region", VB)
B$avg_comparisons_vehicle_reference <- comp_factor(
  fitB, claims, "vehicle", list(c("B", "A"), c("C", "A"), c("D", "A")), VB)
res$poisson_offset <- B

## ---- C: frequency-weighted Poisson ---------------------------------------------------------
callC <- "glm(y_cnt ~ x1 + treat, family = poisson, data = d, weights = w)"
fitC <- glm(y_cnt ~ x1 + treat, family = poisson, data = d, weights = w)
bC <- coef(fitC); VC <- vcov(fitC)
DC <- design(fitC, d)
C <- model_info(fitC, callC, "tests/reference/r/interpret.csv")
C$sum_w <- sum(d$w)
de <- d[rep(seq_len(n), d$w), ]
fitE <- glm(y_cnt ~ x1 + treat, family = poisson, data = de)
C$frequency_weight_check <- list(
  call = "glm(y_cnt ~ x1 + treat, family = poisson, data = d[rep(seq_len(n), d$w), ])",
  nobs_expanded = nobs(fitE),
  coef_max_abs_diff = max(abs(coef(fitE) - bC)), vcov_max_abs_diff = max(abs(vcov(fitE) - VC)),
  deviance_diff = deviance(fitE) - deviance(fitC))
C$predict_check <- max(check_predict(fitC, d), check_predict(fitC, setv(d, "x1", d$x1 + 1)))
C$avg_predictions <- es1(delta(function(bb) mean(mu_of(fitC, DC)(bb)), bC, VC))
C$jacobian_check <- jacobian_check(fitC, DC)
C$avg_predictions_by_treat <- by_avg(fitC, d, "treat", VC)
C$avg_comparisons_x1 <- comp_num(fitC, d, "x1", d, setv(d, "x1", d$x1 + 1), VC)
C$avg_comparisons_x1$difference_centered <-
  comp_num(fitC, d, "x1", setv(d, "x1", d$x1 - 0.5), setv(d, "x1", d$x1 + 0.5), VC)$difference
sC <- slope_fun(fitC, d)
C$avg_slopes_x1 <- c(es1(delta(function(bb) mean(sC$rowwise(bb)), bC, VC)),
                     list(h = h, deta_dx1_max_abs_error = max(abs(sC$deta(bC) - bC["x1"]))))
# weighted by w
C$avg_predictions_weighted <- es1(delta(function(bb) wmean(mu_of(fitC, DC)(bb), d$w), bC, VC))
C$jacobian_check_weighted <- jacobian_check(fitC, DC, d$w)
wc <- comp_num(fitC, d, "x1", d, setv(d, "x1", d$x1 + 1), VC, wt = d$w)
C$avg_comparisons_x1_weighted <- list(difference = wc$difference, ratio = wc$ratio)
C$avg_slopes_x1_weighted <- es1(delta(function(bb) wmean(sC$rowwise(bb), d$w), bC, VC))
# the weighted averages are the plain averages over the expanded rows (same fit, see above)
DE <- design(fitC, de); DE1 <- design(fitC, setv(de, "x1", de$x1 + 1))
C$weighted_equals_expanded <- list(
  avg_predictions = mean(mu_of(fitC, DE)(bC)) - C$avg_predictions_weighted$estimate,
  avg_comparisons_x1_difference = mean(mu_of(fitC, DE1)(bC) - mu_of(fitC, DE)(bC)) -
    wc$difference$estimate)
res$weighted_poisson <- C

## ---- print, write --------------------------------------------------------------------------
pr <- function(label, r) cat(sprintf("%-44s %s  (se %s)\n", label,
                                     paste(format(unclass(r$estimate), digits = 8), collapse = " "),
                                     paste(format(unclass(r$std_error), digits = 6), collapse = " ")))
pr("A avg_predictions", A$avg_predictions)
pr("A avg_predictions_link", A$avg_predictions_link)
pr("A by treat", A$avg_predictions_by_treat)
for (k in names(A$avg_comparisons_x1)) pr(paste("A x1 +1", k), A$avg_comparisons_x1[[k]])
for (k in c("custom_0_10", "sd", "iqr", "minmax"))
  pr(paste("A x1", k), A[[paste0("avg_comparisons_x1_", k)]])
pr("A treat pairwise diff", A$avg_comparisons_treat_pairwise)
pr("A treat pairwise ratio", A$avg_comparisons_treat_pairwise$ratio)
pr("A treat b - a by grp", A$avg_comparisons_treat_b_a_by_grp)
pr("A avg_slopes_x1", A$avg_slopes_x1)
pr("A slopes_head", A$slopes_head)
pr("A grid response", A$predictions_grid)
cat("A emmeans matches:", matches, " diffs sq-of-mean", format(d_sq, digits = 3),
    " mean-of-sq", format(d_ms, digits = 3), "\n")
pr("B avg_predictions", B$avg_predictions)
pr("B by region", B$avg_predictions_by_region)
pr("B vehicle vs A", B$avg_comparisons_vehicle_reference)
pr("C avg_predictions", C$avg_predictions)
pr("C avg_predictions_weighted", C$avg_predictions_weighted)
pr("C x1 +1 difference", C$avg_comparisons_x1$difference)
pr("C x1 +1 difference weighted", C$avg_comparisons_x1_weighted$difference)
pr("C avg_slopes_x1", C$avg_slopes_x1)
pr("C avg_slopes_x1_weighted", C$avg_slopes_x1_weighted)
cat("C frequency-weight check: coef", C$frequency_weight_check$coef_max_abs_diff,
    " vcov", C$frequency_weight_check$vcov_max_abs_diff, "\n")
cat("jacobian checks:", A$jacobian_check, B$jacobian_check, C$jacobian_check,
    C$jacobian_check_weighted, "\n")

res$simulation <- list(seed = 20261204, n = n, file = "interpret.csv",
                       y_bin = "Bernoulli(plogis(-0.3 + 0.8 x1 + 0.5 [b] - 0.4 [c] + 0.6 x1 [b] + 0.3 x2^2))",
                       y_cnt = "Poisson(exp(0.2 + 0.3 x1 + 0.4 [c]))")
res$versions <- list(R = R.version.string, numDeriv = as.character(packageVersion("numDeriv")),
                     emmeans = as.character(packageVersion("emmeans")),
                     sandwich = as.character(packageVersion("sandwich")),
                     jsonlite = as.character(packageVersion("jsonlite")))
write_json(res, file.path(out_dir, "interpret.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
