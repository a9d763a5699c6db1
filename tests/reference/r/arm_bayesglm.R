# arm::bayesglm with its default arguments (Cauchy(0, 2.5) slopes, Cauchy(0, 10) intercept,
# scaled = TRUE, maxit = 100, epsilon = 1e-8), the reference of fit_map(method = "arm")
# (issue 9, item 8). Run from the repository root:  Rscript tests/reference/r/arm_bayesglm.R
# Writes the data sets bayesglm does not bundle (iris, MASS::birthwt, mtcars) as CSV and the fits
# to tests/reference/r/arm_bayesglm.json. Dobson's counts are bundled (bayesglm.datasets "dobson").
suppressMessages(library(arm))
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")

iris2 <- data.frame(setosa = as.integer(iris$Species == "setosa"),
                    Sepal.Length = iris$Sepal.Length, Sepal.Width = iris$Sepal.Width)
write.csv(iris2, file.path(out_dir, "iris_setosa.csv"), row.names = FALSE)
write.csv(MASS::birthwt, file.path(out_dir, "birthwt.csv"), row.names = FALSE)
write.csv(mtcars, file.path(out_dir, "mtcars.csv"), row.names = FALSE)
dobson <- data.frame(counts = c(18, 17, 15, 20, 10, 20, 25, 13, 12),
                     outcome = gl(3, 1, 9), treatment = gl(3, 3))

cases <- list(
  # setosa is separated by the sepal measures: glm's MLE does not exist
  iris_setosa = list(call = "bayesglm(setosa ~ Sepal.Length + Sepal.Width, family = binomial, data = iris2)",
                     fit = bayesglm(setosa ~ Sepal.Length + Sepal.Width, family = binomial,
                                    data = iris2)),
  birthwt = list(call = "bayesglm(low ~ age + lwt + factor(race) + smoke + ptl + ht + ui + ftv, family = binomial, data = MASS::birthwt)",
                 fit = bayesglm(low ~ age + lwt + factor(race) + smoke + ptl + ht + ui + ftv,
                                family = binomial, data = MASS::birthwt)),
  birthwt_probit = list(call = "bayesglm(low ~ age + lwt + factor(race) + smoke + ptl + ht + ui + ftv, family = binomial(link = probit), data = MASS::birthwt)",
                        fit = bayesglm(low ~ age + lwt + factor(race) + smoke + ptl + ht + ui + ftv,
                                       family = binomial(link = "probit"), data = MASS::birthwt)),
  dobson = list(call = "bayesglm(counts ~ outcome + treatment, family = poisson, data = dobson)",
                fit = bayesglm(counts ~ outcome + treatment, family = poisson, data = dobson)),
  mtcars = list(call = "bayesglm(mpg ~ wt + hp + am, family = gaussian, data = mtcars)",
                fit = bayesglm(mpg ~ wt + hp + am, family = gaussian, data = mtcars)),
  mtcars_gamma = list(call = "bayesglm(mpg ~ wt + hp + am, family = Gamma(link = log), data = mtcars)",
                      fit = bayesglm(mpg ~ wt + hp + am, family = Gamma(link = "log"),
                                     data = mtcars))
)
record <- function(case) {
  f <- case$fit
  s <- summary(f)
  list(call = case$call,
       names = names(coef(f)),
       coefficients = unname(coef(f)),
       se = unname(se.coef(f)),            # sqrt(diag(vcov(f))): summary.glm's cov.scaled
       prior_scale = unname(f$prior.scale),
       prior_sd = unname(f$prior.sd),
       dispersion_fit = f$dispersion,      # arm's running estimate (its last iteration)
       dispersion_summary = s$dispersion,  # summary.glm's, which scales se
       sigma_hat = sigma.hat(f),
       deviance = deviance(f),
       iter = f$iter,
       converged = f$converged)
}
res <- lapply(cases, record)
res$versions <- list(R = R.version.string, arm = as.character(packageVersion("arm")))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "arm_bayesglm.json"))
