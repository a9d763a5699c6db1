# MASS::glm.nb with the identity link, theta estimated (issue 9, item 5).
# Run from the repository root:  Rscript tests/reference/r/nb_identity.R
# Simulates two data sets (counts from a negative binomial with theta = 1/alpha = 1 and a
# positive identity-link mean), writes each as tests/reference/r/nb_identity_<case>.csv and the fits to
# tests/reference/r/nb_identity.json.
#   seed2: glm.nb fits it from R's own start (mustart = y + 1/6, no warnings);
#   seed1: glm.nb's own start fails ("no valid set of coefficients has been found: please
#          supply starting values", recorded as default_start_error); from the intercept-only
#          start, start = c(mean(y), 0, 0), it fits without a warning.
library(MASS)
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")
simulate <- function(s) {
  set.seed(s)
  n <- 100
  x1 <- rnorm(n)
  x2 <- rnorm(n)
  b <- rnorm(2) * 2
  lin <- b[1] * x1 + b[2] * x2
  mu <- -min(lin) + runif(1, 0.3, 1.5) + lin  # smallest mean between 0.3 and 1.5
  data.frame(x1 = x1, x2 = x2, y = rnbinom(n, size = 1, mu = mu))
}
strict <- function(expr) withCallingHandlers(expr, warning = function(w) stop(w))
record <- function(f) list(
  coefficients = unname(coef(f)), names = names(coef(f)),
  bse = unname(sqrt(diag(vcov(f)))), theta = f$theta, SE_theta = f$SE.theta,
  twologlik = f$twologlik, deviance = deviance(f), min_fitted = min(fitted(f))
)
tight <- glm.control(epsilon = 1e-15, maxit = 200)
res <- list()
for (case in list(list(name = "seed2", seed = 2, start = FALSE),
                  list(name = "seed1", seed = 1, start = TRUE))) {
  d <- simulate(case$seed)
  write.csv(d, file.path(out_dir, sprintf("nb_identity_%s.csv", case$name)), row.names = FALSE)
  err <- tryCatch({glm.nb(y ~ x1 + x2, data = d, link = identity); NULL},
                  error = function(e) conditionMessage(e))
  st <- if (case$start) c(mean(d$y), 0, 0) else NULL
  res[[case$name]] <- list(
    call = if (case$start) "glm.nb(y ~ x1 + x2, data, link = identity, start = c(mean(y), 0, 0))"
           else "glm.nb(y ~ x1 + x2, data, link = identity)",
    default_start_error = err,
    default = record(strict(glm.nb(y ~ x1 + x2, data = d, link = identity, start = st))),
    tight = record(strict(glm.nb(y ~ x1 + x2, data = d, link = identity, start = st,
                                 control = tight)))
  )
}
res$versions <- list(R = R.version.string, MASS = as.character(packageVersion("MASS")))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null"),
           file.path(out_dir, "nb_identity.json"))
