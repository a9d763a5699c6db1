# MASS::glm.nb on MASS's quine data with the sqrt link (issue 9, item 7).
# Run from the repository root:  Rscript tests/reference/r/nb_quine.R
# Writes tests/reference/r/quine.csv (the data, exactly as MASS ships it) and tests/reference/r/nb_quine.json.
# R 4.2.2, MASS 7.3-58.2, jsonlite: see the "versions" field of the JSON.
library(MASS)
library(jsonlite)
out_dir <- file.path("tests", "reference", "r")
write.csv(quine, file.path(out_dir, "quine.csv"), row.names = FALSE)

fits <- list(
  # glm.nb's defaults: control = glm.control(epsilon = 1e-8, maxit = 25)
  default = glm.nb(Days ~ Eth + Sex + Age + Lrn, data = quine, link = sqrt),
  # the same, iterated to (near) machine precision: the joint MLE itself
  tight = glm.nb(Days ~ Eth + Sex + Age + Lrn, data = quine, link = sqrt,
                 control = glm.control(epsilon = 1e-15, maxit = 200))
)
record <- function(f) list(
  coefficients = unname(coef(f)),
  names = names(coef(f)),
  bse = unname(sqrt(diag(vcov(f)))),
  theta = f$theta,
  SE_theta = f$SE.theta,
  twologlik = f$twologlik,
  deviance = deviance(f),
  df_residual = f$df.residual,
  iter = f$iter,
  converged = f$converged
)
res <- lapply(fits, record)
res$call <- "glm.nb(Days ~ Eth + Sex + Age + Lrn, data = quine, link = sqrt)"
res$versions <- list(R = R.version.string, MASS = as.character(packageVersion("MASS")))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(out_dir, "nb_quine.json"))
